"""``explain --window``'s feature map, computed again by the executor's real forward pass."""

from __future__ import annotations

import numpy as np

from ..summary import Summary
from ..window import WindowWorking
from .executor import forward


def executor_map(summary: Summary, working: WindowWorking) -> np.ndarray:
    """The first layer's output (its first channel) on the worked image, by the NumPy executor,
    with the worked kernel as the first filter's weights (the other filters' are zero)."""
    row = summary.layers[0]
    layer = row.layer
    image = np.array(working.image, dtype=np.float64)
    channels_first = summary.data_format.value == "channels_first"
    x = image[None, None] if channels_first else image[None, :, :, None]
    weights: dict[str, np.ndarray] = {}
    if working.weights is not None:
        shapes = layer.weight_shapes(row.input_shape, summary.context)
        kernel = np.zeros(shapes["kernel"])
        kernel[:, :, 0, 0] = np.array(working.weights)
        weights["kernel"] = kernel
        if "bias" in shapes:
            bias = np.zeros(shapes["bias"])
            bias[0] = working.bias
            weights["bias"] = bias
    y = forward(layer, x, weights, summary.context)
    return np.asarray(y[0, 0] if channels_first else y[0, :, :, 0])


def agrees(summary: Summary, working: WindowWorking) -> bool:
    """True when the executor's map equals the worked one everywhere."""
    return bool(np.allclose(executor_map(summary, working), np.array(working.feature_map), atol=1e-9))

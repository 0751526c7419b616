"""PyTorch's spelling of the kinds: ``nn.Conv2d(in_channels, out_channels, kernel_size, ...)``.

The names the readers import; they live in :mod:`cnncalc.layers.faces` now. A
:class:`TorchSignature` per kind, declared with the kind as part of its PyTorch face: the
constructor's positional order, how each PyTorch argument maps to cnncalc's (Keras) argument,
value conversions (BatchNorm's momentum is the complement of Keras's, :func:`torch_momentum`)
and PyTorch's defaults where they differ from Keras's. Under the pytorch convention a kind
spelled with its PyTorch class name (``conv2d:3,64,7,2,3``, ``BatchNorm2d:64``,
``Linear:512,1000``) takes PyTorch's order and names.

``in_channels``, ``in_features`` and ``num_features`` map onto the kinds' own check arguments:
the layer compares them with its incoming shape and says what the value must be.
"""

from __future__ import annotations

from .faces import TorchSignature, torch_momentum, torch_signature

__all__ = ["TorchSignature", "torch_momentum", "torch_signature"]

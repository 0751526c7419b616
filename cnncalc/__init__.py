"""cnncalc: output shapes, parameter counts and costs of CNN layers, Keras and PyTorch rules.

The library API (stable):

    >>> import cnncalc
    >>> s = cnncalc.summarize(["conv:16,2,2,valid", "conv:32,3,padding=same"], input_shape=(200, 200, 1))
    >>> s.output_shape, s.total_params
    ((100, 100, 32), 4720)

Nothing here imports numpy, click or rich; :mod:`cnncalc.numeric` (the executor and verify)
imports numpy, :mod:`cnncalc.render` imports rich. This module is the facade over the layers
of the package (``docs/architecture.md``).
"""

# Nothing here imports anything when it runs (not even typing or __future__): the console script
# imports this package before its Ctrl-C guard (cnncalc/_launch.py) is in place, so the package's
# own code must be a few assignments, too short for an interrupt to land in. Annotations are
# strings; their names are imported for type checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .enums import Convention, DataFormat
    from .errors import CnncalcError, ShapeError, SpecError
    from .io import Spec, parse
    from .summary import LayerRow, Summary

__version__ = "0.1.0"

__all__ = [
    "CnncalcError",
    "Convention",
    "DataFormat",
    "LayerRow",
    "ModelSource",
    "ShapeError",
    "Spec",
    "SpecError",
    "Summary",
    "parse",
    "summarize",
]

#: Where each public name lives. Loaded on first use (PEP 562): importing the package costs
#: nothing, so the console script (cnncalc/_launch.py) loads everything inside its Ctrl-C guard.
_WHERE = {
    "CnncalcError": "errors",
    "ShapeError": "errors",
    "SpecError": "errors",
    "Convention": "enums",
    "DataFormat": "enums",
    "Spec": "io",
    "ModelSource": "io.model_source",
    "parse": "io",
    "LayerRow": "summary",
    "Summary": "summary",
}


def _display_hooks() -> None:
    """A Summary renders itself in Rich and Jupyter. The core never imports the renderers; the
    facade gives the plain-data class its display hooks (which load Rich only when used)."""
    from . import render
    from .summary import Summary

    Summary.__rich__ = render.rich_display  # type: ignore[attr-defined]
    Summary._repr_html_ = render.html_display  # type: ignore[attr-defined]
    Summary._repr_markdown_ = render.markdown_display  # type: ignore[attr-defined]


def __getattr__(name: str) -> "Any":
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'cnncalc' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    if name == "Summary":
        _display_hooks()
    globals()[name] = value
    return value


def summarize(
    source: "Any",
    *,
    input_shape: "Any" = None,
    convention: "Convention | str | None" = None,
    data_format: "DataFormat | str | None" = None,
    dtype: "str | None" = None,
    expand: bool = False,
    hints: bool = True,
    input: "Any" = None,
    depth: "int | None" = None,
) -> "Summary":
    """Summarize any spec form (see :func:`cnncalc.io.parse`); ``input_shape`` as a tuple or ``"200x200x1"``;
    ``dtype`` (float32, float16, bfloat16, int8) sets the element size of the memory figures;
    ``expand`` shows the layers of nested models instead of one row each. A :class:`ShapeError`
    carries a computed ``hint`` (the input sizes that work, the padding that does); ``hints=False``
    skips computing it (for loops that expect failures).

    A live ``torch.nn.Module`` or Keras model is traced (:mod:`cnncalc.trace`: one forward pass on
    a meta or fake input of ``input`` (= ``input_shape``), batch 1; its weights stay where they
    are); ``depth`` folds its modules deeper than that into one row each."""
    from .engine import summarize as _summarize
    from .io import parse
    from .layers.args import shape as _shape

    _display_hooks()
    if input is not None:
        if input_shape is not None:
            from .errors import SpecError

            raise SpecError("give input or input_shape, not both")
        input_shape = input
    given = (
        None
        if input_shape is None
        else _shape(input_shape if isinstance(input_shape, str) else list(input_shape))
    )
    from .trace import live_spec

    spec = live_spec(source, given, depth)
    return _summarize(
        spec if spec is not None else parse(source),
        input_shape=given,
        convention=convention,
        data_format=data_format,
        dtype=dtype,
        expand=expand,
        hints=hints,
    )

"""Where a model comes from: exactly one of layer texts, a file (or standard input) or a zoo name.

The command line's LAYER arguments / ``-f`` / ``--model`` choice as library API, so a script or a
notebook picks a source with the same rules (and the same messages) as ``cnncalc summary``.
Messages name the settings as :class:`~cnncalc.errors.Option` s (the CLI shows its flags).
"""

from __future__ import annotations

import os
from dataclasses import replace

from ..enums import Convention, SourceFormat
from ..errors import Option, SpecError
from ..records import record
from .spec import Spec


@record(frozen=True)
class ModelSource:
    """One model source and the settings that decide how it is read.

    ``layers``: compact or call-syntax layer texts (``conv:16,3``); ``file``: a path, or ``-``
    for standard input (JSON spec, Keras ``.keras``/``.h5``, ONNX, Python model code);
    ``model``: a zoo name. ``input_shape`` overrides the file's input where a reader needs one;
    ``convention`` decides how PyTorch-named layer texts read; ``source_format`` forces the
    file's format; ``model_name`` picks one model of a Python file with several; ``inputs``
    gives named inputs their shapes (an ONNX graph with several: ``(("image", (3, 224, 224)), ...)``).
    """

    layers: tuple[str, ...] = ()
    file: str | None = None
    model: str | None = None
    input_shape: tuple[int, ...] | None = None
    convention: str | Convention | None = None
    source_format: str | SourceFormat | None = None
    model_name: str | None = None
    inputs: tuple[tuple[str, tuple[int, ...]], ...] = ()

    def spec(self) -> Spec:
        """The Spec from exactly one source; a missing, doubled or misplaced setting is a SpecError.

        A lone layer text that names an existing model file (``net.py``, ``model.keras``, ...) is
        read as that file: ``cnncalc summary net.py`` means what ``-f net.py`` means.
        """
        if len(self.layers) == 1 and not self.file and _model_file(self.layers[0], exists=True):
            return replace(self, layers=(), file=self.layers[0]).spec()
        from . import from_layers, loads
        from .sources import read_spec

        sources = (
            (Option("layers"), self.layers),
            (Option("file"), self.file),
            (Option("model"), self.model),
        )
        given = [option for option, value in sources if value]
        if len(given) > 1:
            named: list[str | Option] = []
            for i, option in enumerate(given):
                named += [" and " if i else "", option]
            raise SpecError(
                "give one of ",
                Option("layers"),
                ", ",
                Option("file"),
                " SPEC or ",
                Option("model"),
                " NAME, not ",
                *named,
            )
        if self.source_format and not self.file:
            raise SpecError(Option("source_format"), " goes with ", Option("file"), " FILE")
        if self.model_name and not self.file:
            raise SpecError(Option("model_name"), " goes with ", Option("file"), " FILE.py")
        if self.file:
            fmt = self.source_format
            if fmt is not None and not isinstance(fmt, SourceFormat):
                fmt = SourceFormat.parse(fmt, "--from")
            return read_spec(self.file, fmt, self.input_shape, self.model_name, self.inputs)
        if self.model:
            from .. import zoo

            return loads(zoo.load(self.model, self.convention), f"model {self.model}")
        if self.layers:
            # under the pytorch convention, Conv2d/Linear/BatchNorm2d take PyTorch's order and names
            convention = self.convention
            if convention is not None and not isinstance(convention, Convention):
                convention = Convention.parse(convention, "--convention")
            try:
                return from_layers(self.layers, convention)
            except SpecError as err:
                path = next((text for text in self.layers if _model_file(text, exists=False)), None)
                if path is None or err.hint is not None:
                    raise
                where = "" if os.path.isfile(path) else f" (there is no file {path} here)"
                raise err.with_hint(
                    ("a model file is read with ", Option("file"), f" {path}{where}")
                ) from None
        raise SpecError(
            "no layers: give ",
            Option("layers"),
            " (e.g. conv:16,3), ",
            Option("file"),
            " SPEC.json or ",
            Option("model"),
            " NAME",
        )


#: Endings of the files ``-f`` reads (a layer text never ends so).
MODEL_FILE_ENDINGS = (".json", ".keras", ".h5", ".hdf5", ".onnx", ".py")


def _model_file(text: str, *, exists: bool) -> bool:
    """True when ``text`` names a model file by its ending (and, with ``exists``, is one)."""
    if not text.lower().endswith(MODEL_FILE_ENDINGS):
        return False
    return os.path.isfile(text) if exists else True

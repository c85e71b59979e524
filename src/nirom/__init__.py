"""nirom: nonintrusive reduced-order and surrogate modelling for parametrized simulations.

The data flow is ``ParameterSpace --sample--> parameter sets --Solver--> Dataset``,
then ``Dataset --fit--> Surrogate --predict(mu)--> fields``; see ARCHITECTURE.md.

The names below are imported on first use (module ``__getattr__``): ``import nirom``
and the ``nirom`` command start without loading zarr, SciPy or the solvers until a
name that needs them is asked for. ``from nirom import Dataset`` works as before.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from nirom._version import __version__
from nirom.errors import (
    DatasetError,
    FieldError,
    MeshError,
    NiromError,
    ParameterError,
    SampleExistsError,
    SchemaError,
)

if TYPE_CHECKING:
    from nirom.dataset import Dataset, FieldSpec, export_sample, import_folder
    from nirom.generation import GenerationReport, generate
    from nirom.mesh import Mesh
    from nirom.parameters import FieldInput, LogUniform, ParameterSpace, Uniform

#: public name -> the module that defines it, imported when the name is first used
_LAZY: dict[str, str] = {
    "Dataset": "nirom.dataset",
    "FieldSpec": "nirom.dataset",
    "export_sample": "nirom.dataset",
    "import_folder": "nirom.dataset",
    "GenerationReport": "nirom.generation",
    "generate": "nirom.generation",
    "Mesh": "nirom.mesh",
    "FieldInput": "nirom.parameters",
    "LogUniform": "nirom.parameters",
    "ParameterSpace": "nirom.parameters",
    "Uniform": "nirom.parameters",
}

__all__ = [
    "Dataset",
    "DatasetError",
    "FieldError",
    "FieldInput",
    "FieldSpec",
    "GenerationReport",
    "LogUniform",
    "Mesh",
    "MeshError",
    "NiromError",
    "ParameterError",
    "ParameterSpace",
    "SampleExistsError",
    "SchemaError",
    "Uniform",
    "__version__",
    "export_sample",
    "generate",
    "import_folder",
]


def __getattr__(name: str) -> Any:
    """The public name ``name``, imported from its module on first use (then cached)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nirom' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """Module attributes plus the public names not imported yet."""
    return sorted(set(globals()) | set(__all__))

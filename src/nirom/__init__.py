"""nirom: nonintrusive reduced-order and surrogate modelling for parametrized simulations.

The data flow is ``ParameterSpace --sample--> parameter sets --Solver--> Dataset``,
then ``Dataset --fit--> Surrogate --predict(mu)--> fields``; see ARCHITECTURE.md.
"""

from nirom.dataset import Dataset, FieldSpec, export_sample, import_folder
from nirom.errors import (
    DatasetError,
    FieldError,
    MeshError,
    NiromError,
    ParameterError,
    SampleExistsError,
    SchemaError,
)
from nirom.generation import GenerationReport, generate
from nirom.mesh import Mesh
from nirom.parameters import FieldInput, LogUniform, ParameterSpace, Uniform

__version__ = "0.1.0"

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

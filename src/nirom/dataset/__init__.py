"""The on-disk dataset of samples, and its import/export through meshio."""

from nirom.dataset.quadrature import QuadratureRule, quadrature_points, quadrature_weights
from nirom.dataset.schema import FORMAT_VERSION, FieldSpec
from nirom.dataset.store import Dataset, Sample
from nirom.dataset.transfer import export_sample, import_folder, write_fields

__all__ = [
    "FORMAT_VERSION",
    "Dataset",
    "FieldSpec",
    "QuadratureRule",
    "Sample",
    "export_sample",
    "import_folder",
    "quadrature_points",
    "quadrature_weights",
    "write_fields",
]

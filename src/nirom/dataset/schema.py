"""What a dataset holds: field specifications and the on-disk format stamp."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Literal

import numpy as np

from nirom.errors import FieldError

FORMAT_NAME = "nirom-dataset"
# Bump on any change a reader of the previous version would misread.
# Version 2 added quadrature-point fields and the dataset's quadrature rule. A dataset
# without them is still written as version 1, so older nirom versions keep reading it;
# this version reads both.
FORMAT_VERSION = 2
QUADRATURE_FORMAT_VERSION = 2
BASE_FORMAT_VERSION = 1
READABLE_VERSIONS: tuple[int, ...] = (1, 2)

Location = Literal["point", "cell", "quadrature", "global"]
LOCATIONS: tuple[str, ...] = ("point", "cell", "quadrature", "global")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class FieldSpec:
    """An output field every sample of a dataset carries.

    Parameters
    ----------
    name : str
        Field name, e.g. ``"u"`` or ``"von_mises"``.
    location : {"point", "cell", "quadrature", "global"}
        Values per mesh node, per cell, per quadrature point of every cell
        (cell-major: point q of cell c is entry ``c * n_q + q``, with the rule
        the dataset records, see :mod:`nirom.dataset.quadrature`), or one value
        per sample (a scalar output such as a compliance or a peak stress).
    components : int
        1 for a scalar field, the vector/tensor size otherwise.
    times : tuple of float or None
        Output times (in the solver's time unit) of a time series; ``None``
        for a steady field.
    unit : str
        Physical unit, for people reading reports.

    A sample's array has shape ``([n_times,] n_entities[, components])``,
    where ``n_entities`` is the number of points, cells or quadrature points
    (absent for "global") and the components axis is absent for scalars.
    """

    name: str
    location: Location = "point"
    components: int = 1
    times: tuple[float, ...] | None = None
    unit: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise FieldError(f"invalid field name {self.name!r}")
        if self.location not in LOCATIONS:
            raise FieldError(
                f"field {self.name!r}: location must be one of {', '.join(LOCATIONS)}, "
                f"got {self.location!r}"
            )
        if int(self.components) < 1:
            raise FieldError(f"field {self.name!r}: components must be >= 1")
        object.__setattr__(self, "components", int(self.components))
        if self.times is not None:
            times = tuple(float(t) for t in self.times)
            if not times or any(b <= a for a, b in pairwise(times)):
                raise FieldError(f"field {self.name!r}: times must be non-empty and increasing")
            object.__setattr__(self, "times", times)

    @property
    def n_times(self) -> int | None:
        return None if self.times is None else len(self.times)

    def shape(self, n_points: int, n_cells: int, n_quadrature: int = 0) -> tuple[int, ...]:
        """Shape of one sample's array of this field on a mesh of the given size.

        ``n_quadrature`` is the number of quadrature points of the whole mesh
        (cells times points per cell).
        """
        shape: tuple[int, ...] = ()
        if self.times is not None:
            shape += (len(self.times),)
        if self.location == "point":
            shape += (n_points,)
        elif self.location == "cell":
            shape += (n_cells,)
        elif self.location == "quadrature":
            shape += (n_quadrature,)
        if self.components > 1:
            shape += (self.components,)
        return shape

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "location": self.location,
            "components": self.components,
            "times": None if self.times is None else list(self.times),
            "unit": self.unit,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FieldSpec:
        return cls(**dict(data))


def validate_fields(
    specs: Mapping[str, FieldSpec],
    fields: Mapping[str, np.ndarray],
    entities: tuple[int, int, int],
    sample_id: int | None = None,
) -> dict[str, np.ndarray]:
    """``fields`` as float arrays, checked against ``specs``: every field present, none
    unknown, shapes for ``entities`` (points, cells, quadrature points), all values finite.

    Raises a :class:`~nirom.errors.FieldError` naming the sample and the field.
    """
    where = "" if sample_id is None else f"sample {sample_id}: "
    unknown = sorted(set(fields) - set(specs))
    if unknown:
        raise FieldError(f"{where}unknown field(s) {unknown}; dataset fields: {list(specs)}")
    missing = [name for name in specs if name not in fields]
    if missing:
        raise FieldError(f"{where}missing field(s) {missing}")
    n_points, n_cells, n_quadrature = entities
    out = {}
    for name, spec in specs.items():
        try:
            arr = np.asarray(fields[name], dtype=float)
        except (TypeError, ValueError):
            raise FieldError(f"{where}field {name!r}: values must be numbers") from None
        expected = spec.shape(n_points, n_cells, n_quadrature)
        if arr.shape != expected:
            raise FieldError(f"{where}field {name!r}: expected shape {expected}, got {arr.shape}")
        n_bad = int(np.count_nonzero(~np.isfinite(arr)))
        if n_bad:
            raise FieldError(f"{where}field {name!r}: {n_bad} NaN or infinite value(s)")
        out[name] = arr
    return out

"""Predicted fields to mesh files (VTU for ParaView, or any meshio format)."""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from nirom.dataset import FieldSpec, write_fields
from nirom.errors import ModelError, ParameterError
from nirom.mesh import Mesh, read
from nirom.surrogates.base import Surrogate


def write_prediction(
    model: Surrogate,
    path: str | os.PathLike[str],
    mean: Mapping[str, np.ndarray],
    std: Mapping[str, np.ndarray] | None = None,
    scalars: Mapping[str, Any] | None = None,
    *,
    what: str = "write_prediction",
) -> list[Path]:
    """Write one prediction of ``model`` on its training mesh; return the files written.

    ``mean`` (and ``std``, written as ``NAME_std``) are what ``model.predict``
    returned for one parameter set; ``scalars`` (e.g. the scalar parameters)
    become field data. ``what`` names the caller in errors (``"--out"`` for
    the command line). A model without a mesh raises :class:`ModelError`; a
    prediction on another grid than the training one (an FNO asked at a finer
    resolution) raises :class:`ParameterError`.
    """
    mesh = model.mesh_
    if mesh is None:
        raise ModelError("the model has no mesh to write fields on")
    n_values = {len(v) for name, v in mean.items() if model.fields_[name].location == "point"}
    if n_values - {mesh.n_points}:
        raise ParameterError(
            f"{what} writes on the training grid only: the prediction has {sorted(n_values)} "
            f"values per field, the model's mesh {mesh.n_points} points"
        )
    specs = list(model.fields_.values())
    values = dict(mean)
    if std is not None:
        specs += [FieldSpec(f"{s.name}_std", s.location, s.components, s.times) for s in specs]
        values.update({f"{k}_std": v for k, v in std.items()})
    scalars = {k: v for k, v in (scalars or {}).items() if np.ndim(v) == 0}
    return write_fields(path, mesh, specs, values, scalars=scalars)


def read_geometry(model: Surrogate, path: str | os.PathLike[str]) -> Mesh:
    """The mesh in file ``path`` for a model that predicts on a given mesh (mmgp).

    A model that predicts on its training mesh only raises :class:`ModelError`.
    """
    if "mesh" not in inspect.signature(model.predict).parameters:
        raise ModelError(
            f"a {model.kind} model predicts on its training mesh; --mesh is for models of "
            "varying geometry (mmgp)"
        )
    return read(path)[0]


def write_prediction_on(
    model: Surrogate,
    mesh: Mesh,
    path: str | os.PathLike[str],
    mean: Mapping[str, np.ndarray],
    std: Mapping[str, np.ndarray] | None = None,
    scalars: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write one prediction made on ``mesh`` (``model.predict(mu, mesh=mesh)``) to ``path``."""
    specs = list(model.fields_.values())
    values = dict(mean)
    if std is not None:
        specs += [FieldSpec(f"{s.name}_std", s.location, s.components, s.times) for s in specs]
        values.update({f"{k}_std": v for k, v in std.items()})
    scalars = {k: v for k, v in (scalars or {}).items() if np.ndim(v) == 0}
    return write_fields(path, mesh, specs, values, scalars=scalars)

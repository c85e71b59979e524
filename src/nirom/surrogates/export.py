"""Predicted fields to mesh files (VTU for ParaView, or any meshio format)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nirom.dataset import FieldSpec, write_fields
from nirom.errors import ModelError, ParameterError
from nirom.mesh import Mesh, read
from nirom.surrogates.base import Surrogate

if TYPE_CHECKING:
    from nirom.mesh_matching import MeshMatch


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


def takes_mesh(model: Surrogate) -> bool:
    """Whether ``model`` predicts on any given mesh (``predict(mu, mesh=...)``: mmgp)."""
    return "mesh" in model.capabilities.needs


def read_geometry(model: Surrogate, path: str | os.PathLike[str]) -> Mesh:
    """The mesh in file ``path`` to predict on.

    Any mesh for a model that predicts on a given mesh (mmgp); for the others
    their training mesh, its points and cells possibly in another order
    (:func:`match_geometry` says how they map). A model without a mesh raises
    :class:`ModelError`.
    """
    if not takes_mesh(model) and model.mesh_ is None:
        raise ModelError(f"a {model.kind} model has no mesh to predict on another mesh's points")
    return read(path)[0]


def match_geometry(model: Surrogate, mesh: Mesh, what: str = "--mesh") -> MeshMatch:
    """How the training mesh of a model that predicts on it maps onto ``mesh``: the same
    points and cells in any order (predictions then go to ``mesh``'s order with
    ``MeshMatch.to_target(..., batch=False)``); another mesh raises a one-line
    :class:`~nirom.errors.MeshError` naming both meshes' sizes."""
    from nirom.mesh_matching import match_meshes

    if model.mesh_ is None:
        raise ModelError(f"a {model.kind} model has no mesh to predict on another mesh's points")
    return match_meshes(model.mesh_, mesh, what=f"{what} does not match the model's mesh")


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

"""Snapshots of a mechanics dataset: displacement time series, and stresses replayed by the law.

A hyper-reduced model needs, per training sample, the displacement at every
output time and the stress and internal state at every integration point.
Only the displacements are required (a nonintrusive model can read them from
any code): :func:`replay` integrates the material law along each point's
strain history ``eps_n = B u_n`` over the output steps, which gives the stress
the high-fidelity solver converged to (to round-off when it took no sub-steps;
to the law's time-discretisation error otherwise).

Conventions: displacements node-major ``(n_times, n_dofs)`` in the dataset's
length unit (mm); stresses Mandel ``(n_times, n_qp, 6)`` in MPa; quadrature
points cell-major, as :mod:`nirom.mechanics` numbers them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from nirom.dataset import Dataset
from nirom.errors import DatasetError, MeshError, ParameterError
from nirom.mechanics.laws import MaterialLaw
from nirom.mechanics.strain import StrainOperator
from nirom.mesh import match_points
from nirom.solvers.base import Solver, recorded_solver, resolve_solver
from nirom.solvers.mechanics_case import MechanicsCase


def check_displacements(dataset: Dataset) -> int:
    """Number of output times of the dataset's displacement series ``u``; DatasetError if absent."""
    spec = dataset.fields.get("u")
    if spec is None or spec.location != "point" or spec.times is None:
        raise DatasetError(
            f"{dataset.path}: a hyper-reduced model needs a displacement time series 'u' "
            "(point field with output times)"
        )
    return len(spec.times)


def mechanics_case(dataset: Dataset, case: Solver | str | None = None) -> MechanicsCase:
    """The mechanics case of ``dataset``: ``case`` (a solver, a built-in case's name or a
    case file ``.toml``), or the solver its generation recorded; checked against the
    dataset's mesh and times (MeshError / DatasetError naming what differs)."""
    check_displacements(dataset)
    if case is None:
        case = recorded_solver(dataset, "a hyper-reduced model (or give the case: --case)")
    elif isinstance(case, str):
        case = resolve_solver(case)
    if not isinstance(case, MechanicsCase):
        raise ParameterError(
            f"case {getattr(case, 'name', case)!r} is not a mechanics case (plate-hole, "
            "thick-cylinder or a case file with [law], [mesh] and [[loads]])"
        )
    check_case(dataset, case)
    return case


@dataclass(frozen=True)
class SnapshotLayout:
    """How a dataset's displacement series lie against its case's dofs.

    ``order`` (n_nodes,): the dataset's node of each case node (``dataset points[order]
    == case points``), None when they are in the same order; ``components``: the
    dataset's displacement components (the case's dimension, or 3 for a 2D case whose
    files carry a zero z component, as dolfinx writes them); ``dim`` the case's.
    """

    order: np.ndarray | None
    components: int
    dim: int

    @property
    def identity(self) -> bool:
        return self.order is None and self.components == self.dim

    def to_case(self, u: Any) -> Any:
        """Dataset displacements (..., n_nodes, components), NumPy or Dask, as case dofs
        (..., n_nodes * dim), node-major in the case's order."""
        order = slice(None) if self.order is None else self.order
        if hasattr(u, "map_blocks"):  # Dask: nodes are one chunk; reorder inside each block
            dim = self.dim
            chunks = (*u.chunks[:-1], (dim,))
            u = u.map_blocks(lambda b: b[..., order, :dim], chunks=chunks, dtype=u.dtype)
        else:
            u = u[..., order, : self.dim]
        return u.reshape(*u.shape[:-2], -1)

    def to_dataset(self, values: np.ndarray) -> np.ndarray:
        """A point field of one history in the case's order (n_times, n_nodes[, c]) in
        the dataset's order."""
        if self.order is None:
            return values
        inverse = np.empty_like(self.order)
        inverse[self.order] = np.arange(self.order.size)
        return values[:, inverse]

    def pad(self, u: np.ndarray) -> np.ndarray:
        """Displacements (..., dim) with the dataset's extra zero components."""
        if self.components == self.dim:
            return u
        zeros = np.zeros((*u.shape[:-1], self.components - self.dim))
        return np.concatenate([u, zeros], axis=-1)

    def to_json(self) -> dict[str, Any]:
        return {"components": self.components, "dim": self.dim, "reordered": self.order is not None}

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {} if self.order is None else {"node_order": self.order}

    @classmethod
    def from_saved(
        cls, state: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
    ) -> SnapshotLayout:
        order = arrays.get("node_order") if state.get("reordered") else None
        return cls(
            None if order is None else np.asarray(order),
            int(state["components"]),
            int(state["dim"]),
        )


def snapshot_layout(dataset: Dataset, case: MechanicsCase) -> SnapshotLayout:
    """The dataset's displacements against the case: the same points in any order (matched
    by coordinates, a permutation checked to 1e-9 of the mesh size), with the case's
    components or, for a 2D case, three with z = 0 everywhere (checked on a sample)."""
    mesh = dataset.mesh
    points = case.fe_space.mesh.points
    if mesh is None:
        raise MeshError(f"{dataset.path}: the dataset has no mesh; the case {_label(case)!r} has "
                        f"{points.shape[0]} points")  # fmt: skip
    what = f"{dataset.path} against the case {_label(case)!r}"
    order = match_points(points, mesh.points, rtol=1e-9, what=what)
    if np.array_equal(order, np.arange(order.size)):
        order = None
    dim = case.fe_space.dim
    components = dataset.fields["u"].components
    if components != dim:
        ids = dataset.sample_ids()
        if (
            dim != 2
            or components != 3
            or (ids and np.any(dataset.sample(ids[0]).fields["u"][..., 2]))
        ):
            raise DatasetError(
                f"{dataset.path}: 'u' has {components} components, the {dim}-D case "
                f"{_label(case)!r} {dim}"
            )
    return SnapshotLayout(order, components, dim)


def _label(case: Any) -> str:
    return str(getattr(case, "label", None) or case.name)


def check_case(dataset: Dataset, case: MechanicsCase) -> None:
    """The case's mesh (the same points, in any order) and output times must be the
    dataset's, and the law its samples record."""
    n_times = check_displacements(dataset)
    snapshot_layout(dataset, case)
    times = np.asarray(dataset.fields["u"].times)
    if n_times != len(case.times) or not np.allclose(times, case.times):
        raise DatasetError(
            f"{dataset.path}: {n_times} output times ({times[0]:g} to {times[-1]:g} s), the "
            f"case {_label(case)!r} {len(case.times)} ({case.times[0]:g} to {case.times[-1]:g} s)"
        )
    check_law(dataset, case)


def check_law(dataset: Dataset, case: MechanicsCase) -> None:
    """The law a sample records (generation keeps it) must be the case's for its parameters."""
    ids = dataset.sample_ids()
    if not ids:
        return
    meta = dataset.read_meta(ids[0])
    recorded = dict(meta.get("info") or {}).get("law")
    if not recorded:
        return  # an imported dataset records no law; the case says it
    expected = case.law(case.values(meta["mu"])).to_dict()
    same = recorded.get("name") == expected["name"] and all(
        np.isclose(float(recorded["parameters"].get(k, np.nan)), v)
        for k, v in expected["parameters"].items()
    )
    if not same:
        raise ParameterError(
            f"{dataset.path}: sample {ids[0]} was solved with law {recorded}, "
            f"the case {case.name!r} gives {expected}"
        )


def displacements(
    dataset: Dataset, sample_id: int, layout: SnapshotLayout | None = None
) -> np.ndarray:
    """Displacement series of one done sample, shape (n_times, n_dofs), node-major dofs
    (in the case's order through ``layout``)."""
    check_displacements(dataset)
    u = dataset.sample(sample_id).fields["u"]
    if layout is not None:
        return layout.to_case(u)
    return u.reshape(u.shape[0], -1)


def replay(
    strain: StrainOperator,
    law: MaterialLaw,
    u: np.ndarray,
    times: np.ndarray,
    points: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Stresses and plastic strains along a displacement history, by the material law.

    Parameters
    ----------
    strain : StrainOperator
    law : MaterialLaw
    u : ndarray of shape (n_times, n_dofs)
        Displacements at ``times``; ``u[0]`` is the virgin state at ``times[0]``.
    times : ndarray of shape (n_times,)
        Output times (s); the law steps from each to the next.
    points : ndarray of int, optional
        Integration points to replay (all by default).

    Returns
    -------
    stress : ndarray of shape (n_times, n_points, 6)
        Mandel stresses (MPa); zero at ``times[0]``.
    p : ndarray of shape (n_times, n_points)
        Cumulated plastic strain.
    """
    times = np.asarray(times, dtype=float)
    if u.ndim != 2 or u.shape[0] != times.size:
        raise ParameterError(f"u has shape {u.shape}; expected ({times.size}, n_dofs)")
    B = strain.matrix()
    k = strain.n_active
    if points is not None:
        rows = (np.asarray(points)[:, None] * k + np.arange(k)).ravel()
        B = B[rows]
    eps = (B @ u.T).T.reshape(times.size, -1, k)
    n = eps.shape[1]
    state = law.initial_state(n)
    stress = np.zeros((times.size, n, 6))
    p = np.zeros((times.size, n))
    for i in range(1, times.size):
        update = law.integrate(strain.full(eps[i]), state, times[i] - times[i - 1])
        state = update.state
        stress[i], p[i] = update.stress, state["p"]
    return stress, p


def stored_duals(dataset: Dataset, sample_id: int) -> Mapping[str, Any] | None:
    """``{"sigma_qp", "p_qp"}`` of a sample when the dataset stores them, else None."""
    if not {"sigma_qp", "p_qp"} <= set(dataset.fields):
        return None
    sample = dataset.sample(sample_id)
    return {k: sample.fields[k] for k in ("sigma_qp", "p_qp")}

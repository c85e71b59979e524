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
from typing import Any

import numpy as np

from nirom.dataset import Dataset
from nirom.errors import DatasetError, MeshError, ParameterError
from nirom.mechanics.laws import MaterialLaw
from nirom.mechanics.strain import StrainOperator
from nirom.solvers.base import Solver, make_solver, recorded_solver
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
    """The mechanics case of ``dataset`` (its generation recipe unless ``case`` is given),
    checked against the dataset's mesh and times (MeshError / DatasetError naming the mismatch)."""
    check_displacements(dataset)
    if case is None:
        case = recorded_solver(dataset, "a hyper-reduced model (or give the case: --case)")
    elif isinstance(case, str):
        case = make_solver(case)
    if not isinstance(case, MechanicsCase):
        raise ParameterError(
            f"case {getattr(case, 'name', case)!r} is not a mechanics case (plate-hole, ...)"
        )
    check_case(dataset, case)
    return case


def check_case(dataset: Dataset, case: MechanicsCase) -> None:
    """The case's mesh and output times must be the dataset's."""
    n_times = check_displacements(dataset)
    mesh = dataset.mesh
    points = case.fe_space.mesh.points
    if mesh is None or mesh.points.shape != points.shape:
        found = None if mesh is None else mesh.points.shape
        raise MeshError(
            f"{dataset.path}: the mesh has points {found}, the case {case.name!r} {points.shape}"
        )
    scale = max(float(np.abs(points).max()), 1.0)
    if np.abs(mesh.points - points).max() > 1e-9 * scale:
        raise MeshError(f"{dataset.path}: the mesh's points differ from the case {case.name!r}'s")
    times = np.asarray(dataset.fields["u"].times)
    if n_times != len(case.times) or not np.allclose(times, case.times):
        raise DatasetError(
            f"{dataset.path}: {n_times} output times, the case {case.name!r} {len(case.times)}"
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


def displacements(dataset: Dataset, sample_id: int) -> np.ndarray:
    """Displacement series of one done sample, shape (n_times, n_dofs), node-major dofs."""
    check_displacements(dataset)
    u = dataset.sample(sample_id).fields["u"]
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

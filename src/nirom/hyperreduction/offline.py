"""The offline stage: from displacement snapshots to a :class:`ReducedModel`.

::

    dataset u (n_samples x n_times x n_dofs) -- lifting removed --> Dask array
      -> POD, method of snapshots (Gram matrix blockwise by Dask), L2 or Euclidean product
    per sample, a Dask task: stresses (stored, or replayed by the law), then
      integrand block sigma(x_l) : eps(psi_k)(x_l)  (n_qp, n_times * k) -> compressed SVD factor
      stress and plastic-strain snapshots -> compressed SVD rows
    -> ECM (greedy + NNLS on the stacked factors), dual POD modes, Gappy points
    -> reduced operators at the reduced points, reduced loads, nodal dual modes

Parallelism comes from :func:`nirom.distributed.dask_client` (a local cluster
of ``workers`` processes, or a scheduler's address); with ``workers=0`` the
same tasks run in this process. Workers rebuild the case from its recipe once
per process and read the dataset themselves, so only the basis travels.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp

from nirom.dataset import Dataset
from nirom.errors import ParameterError
from nirom.hyperreduction.ecm import Cubature, compress, greedy_cubature, integrand_basis
from nirom.hyperreduction.gappy import select_points
from nirom.hyperreduction.loading import ParametricLoading, ReducedLoads, reduce_loads
from nirom.hyperreduction.model import DualBasis, ReducedModel
from nirom.hyperreduction.sizing import STRICTEST, CheckHistory, choose_cubature, history_errors
from nirom.hyperreduction.snapshots import (
    SnapshotLayout,
    check_displacements,
    displacements,
    replay,
    snapshot_layout,
    stored_duals,
)
from nirom.mechanics.assembly import Assembler
from nirom.mechanics.loads import assemble_loads
from nirom.mechanics.output import NodalProjection, voigt_stress
from nirom.mechanics.strain import StrainOperator
from nirom.mechanics.tensors import mandel_stress
from nirom.reduction.algorithms import pod_snapshots
from nirom.reduction.inner_product import check_product
from nirom.reduction.numerics import compress_rows, energy_rank, svd
from nirom.solvers.base import resolve_solver
from nirom.solvers.mechanics_case import MechanicsCase

_CASES: dict[str, Any] = {}


@contextlib.contextmanager
def _client(workers: int, scheduler: str | None) -> Iterator[Any]:
    """A Dask client (None: in this process); a dying cluster becomes one NiromError line."""
    if workers == 0 and scheduler is None:
        yield None
        return
    from nirom.distributed import dask_client, worker_failures

    again = "nothing was saved; the fit can be repeated (run the command again)"
    with (
        dask_client(workers=max(workers, 1), scheduler=scheduler) as client,
        worker_failures("the hyper-reduced model's offline stage", again),
    ):
        yield client


def build(
    dataset: Dataset,
    case: MechanicsCase,
    ids: list[int],
    *,
    tolerance: float = 1e-5,
    ecm_tolerance: float | str = "auto",
    accuracy: float = 1e-4,
    dual_tolerance: float = 1e-4,
    product: str = "l2",
    workers: int = 0,
    scheduler: str | None = None,
) -> ReducedModel:
    """The hyper-reduced model of ``case`` from the done samples ``ids`` of ``dataset``.

    ``tolerance``: relative POD truncation of the displacements (discarded energy
    ``tolerance**2``); ``ecm_tolerance``: relative integration error of the reduced
    internal forces asked of the cubature, or "auto" (:mod:`~nirom.hyperreduction.sizing`:
    the loosest candidate whose reproduction errors on training histories meet
    ``accuracy`` on the displacement and stay near the every-point model's on the plastic
    strain); ``dual_tolerance``: POD truncation of stresses and plastic strains;
    ``product``: "l2" (mass matrix) or "euclidean".
    """
    if product not in ("l2", "euclidean"):
        raise ParameterError(f"product must be 'l2' or 'euclidean', got {product!r}")
    check_displacements(dataset)
    layout = snapshot_layout(dataset, case)
    auto = ecm_tolerance == "auto"
    clock = {"start": time.perf_counter()}
    space = case.fe_space
    strain = StrainOperator(space)
    weights = space.quadrature_weights()
    mus = [case.values(m) for m in dataset.parameter_sets(ids)]
    loading = ParametricLoading.of_case(case, mus)
    matrix = product_matrix(space, product)
    rtol = STRICTEST if auto else float(ecm_tolerance)
    with _client(workers, scheduler) as client:
        clock["client"] = time.perf_counter()
        basis = _displacement_basis(dataset, case, ids, mus, tolerance, matrix, layout)
        clock["pod"] = time.perf_counter()
        blocks = _sample_blocks(
            client, dataset, case, ids, mus, basis, rtol, dual_tolerance, layout
        )
        clock["blocks"] = time.perf_counter()
    c_sigma = voigt_stress(np.zeros((1, 6)), space.dim).shape[-1]
    projection = NodalProjection(space)
    sigma_modes = _modes([b["sigma"] for b in blocks], dual_tolerance)
    p_modes = _modes([b["p"] for b in blocks], dual_tolerance)
    duals = (
        DualBasis(sigma_modes, nodal_modes(projection, sigma_modes, c_sigma), c_sigma),
        DualBasis(p_modes, nodal_modes(projection, p_modes, 1), 1),
    )
    factors = [b["factor"] for b in blocks]
    sizing = None
    if auto:
        peaks = [b["p_peak"] for b in blocks]
        checks = _check_histories(dataset, case, ids, mus, peaks, layout)

        def errors_of(cubature: Cubature) -> np.ndarray:
            model = assemble(case, basis, cubature, duals, loading)
            return history_errors(
                lambda mu: model.simulate(mu, fields=("u", "p_qp")), checks, matrix
            )

        cubature, sizing = choose_cubature(factors, weights, errors_of, accuracy)
    else:
        basis_g = integrand_basis(factors, weights, rtol)
        cubature = greedy_cubature(basis_g, weights, rtol)
    clock["cubature"] = time.perf_counter()
    model = assemble(case, basis, cubature, duals, loading)
    end = time.perf_counter()
    model.info = {
        "training_samples": [int(i) for i in ids],
        "cubature_basis_error": cubature.error,
        "ecm_tolerance": sizing["tolerance"] if sizing else rtol,
        "force_error": force_error(model, blocks[0]["check"], strain, weights),
        "seconds": {
            "cluster_start": clock["client"] - clock["start"],
            "pod": clock["pod"] - clock["client"],
            "samples": clock["blocks"] - clock["pod"],
            "cubature": clock["cubature"] - clock["blocks"],
            "total": end - clock["start"],
        },
        "workers": 0 if client is None else int(workers),
    }
    if sizing:
        model.info["cubature_sizing"] = sizing
    return model


def assemble(
    case: MechanicsCase,
    basis: np.ndarray,
    cubature: Any,
    duals: tuple[DualBasis, DualBasis],
    loading: ParametricLoading,
) -> ReducedModel:
    """The reduced model of a basis, a cubature and the dual bases (stresses, plastic
    strain): Gappy points join the cubature's (weight 0), reduced operators and loads at
    the reduced points."""
    space = case.fe_space
    strain = StrainOperator(space)
    sigma, p = duals
    points = np.union1d(
        cubature.points,
        np.union1d(select_points(sigma.modes, sigma.components), select_points(p.modes, 1)),
    )
    z = np.zeros(points.size)
    z[np.searchsorted(points, cubature.points)] = cubature.weights
    k_active = strain.n_active
    rows = (points[:, None] * k_active + np.arange(k_active)).ravel()
    mode_strains = (strain.matrix()[rows] @ basis).reshape(points.size, k_active, -1)
    forces, lifts = reduce_loads(space, strain, basis, points, loading.history(case.values({})))
    return ReducedModel(
        basis=basis,
        points=points,
        weights=z,
        strains=mode_strains,
        components=tuple(strain.components),
        loads=ReducedLoads(forces, lifts, space.n_dofs),
        sigma=sigma,
        p=p,
        law_name=case.law_name,
        law_parameters=tuple(case.law_parameters),
        nominal=case.values({}),
        loading=loading,
        times=np.asarray(case.times),
        dim=space.dim,
    )


def product_matrix(space: Any, product: str) -> sp.csr_matrix | None:
    """The displacement POD's inner product on the case's dofs: ``kron(M, I_dim)`` for
    "l2", None (Euclidean)."""
    if product != "l2":
        return None
    return sp.kron(space.mesh.mass_matrix(), sp.eye(space.dim), format="csr")


def _check_histories(
    dataset: Dataset,
    case: MechanicsCase,
    ids: list[int],
    mus: list[dict[str, float]],
    peaks: list[float],
    layout: SnapshotLayout,
) -> list[CheckHistory]:
    """The training histories the cubature is sized on: every one when there are at most
    five, else the most, the median and the least plastic (by peak p); their displacements
    and plastic strain at every point."""
    order = np.argsort(peaks)
    chosen = sorted({int(order[-1]), int(order[len(order) // 2]), int(order[0])})
    if len(ids) <= 5:
        chosen = list(range(len(ids)))
    strain = StrainOperator(case.fe_space)
    checks = []
    for j in chosen:
        u = displacements(dataset, ids[j], layout)
        stored = stored_duals(dataset, ids[j]) if layout.identity else None
        if stored is None:
            p = replay(strain, case.law(mus[j]), u, case.times)[1]
        else:
            p = np.asarray(stored["p_qp"], dtype=float)
        checks.append(CheckHistory(mus[j], u, p))
    return checks


# -- displacements ------------------------------------------------------------------------
def _displacement_basis(
    dataset: Dataset,
    case: MechanicsCase,
    ids: list[int],
    mus: list[dict[str, float]],
    tolerance: float,
    matrix: sp.csr_matrix | None,
    layout: SnapshotLayout,
) -> np.ndarray:
    """POD basis (n_dofs, k) of the snapshots less their liftings (zero on constrained dofs),
    orthonormal in the inner product ``matrix`` (None: Euclidean)."""
    import dask.array as da

    space = case.fe_space
    X = layout.to_case(dataset.to_dask("u", ids))
    n_s, n_t = X.shape[:2]
    X = X.reshape(n_s * n_t, space.n_dofs)
    liftings = np.stack([dirichlet_liftings(space, case.history(mu), case.times) for mu in mus])
    if np.any(liftings):
        X = X - da.from_array(liftings.reshape(n_s * n_t, -1), chunks=(n_t, -1))
    result = pod_snapshots(
        X,
        check_product(matrix, space.n_dofs),
        center=False,
        discarded_energy=tolerance**2,
        batch_size=n_t,
    )
    basis = result.modes.T
    constrained = np.setdiff1d(np.arange(space.n_dofs), _free(space, case, mus[0]))
    basis[constrained] = 0.0  # exact zeros (they are zero up to round-off)
    return np.ascontiguousarray(basis)


def _free(space: Any, case: MechanicsCase, mu: Mapping[str, float]) -> np.ndarray:
    return assemble_loads(space, case.history(mu)).dirichlet.free


def dirichlet_liftings(space: Any, history: Any, times: np.ndarray) -> np.ndarray:
    """Imposed displacements at every time as full dof vectors (n_times, n_dofs)."""
    dirichlet = assemble_loads(space, history).dirichlet
    return np.stack([dirichlet.lift(np.zeros(dirichlet.free.size), t) for t in times])


# -- per-sample tasks -----------------------------------------------------------------------
def _sample_blocks(
    client: Any,
    dataset: Dataset,
    case: MechanicsCase,
    ids: list[int],
    mus: list[dict[str, float]],
    basis: np.ndarray,
    rtol: float,
    dual_tolerance: float,
    layout: SnapshotLayout,
) -> list[dict[str, np.ndarray]]:
    """One task per sample (Dask futures on a client, in process otherwise)."""
    path = str(dataset.path)
    if client is None:
        return [
            sample_block(case, path, i, mu, basis, rtol, dual_tolerance, k == 0, layout)
            for k, (i, mu) in enumerate(zip(ids, mus, strict=True))
        ]
    recipe = case.recipe()
    [shared] = client.scatter([basis], broadcast=True)
    futures = [
        client.submit(
            sample_block,
            recipe,
            path,
            i,
            mu,
            shared,
            rtol,
            dual_tolerance,
            k == 0,
            layout,
            pure=False,
        )
        for k, (i, mu) in enumerate(zip(ids, mus, strict=True))
    ]
    return client.gather(futures)


def _case(case: MechanicsCase | Mapping[str, Any]) -> MechanicsCase:
    """The case itself, or rebuilt from its recipe once per process."""
    if isinstance(case, MechanicsCase):
        return case
    key = json.dumps(case, sort_keys=True)
    if key not in _CASES:
        _CASES[key] = resolve_solver(case["name"], case["options"])
    return _CASES[key]


def sample_block(
    case: MechanicsCase | Mapping[str, Any],
    path: str,
    sample_id: int,
    mu: Mapping[str, float],
    basis: np.ndarray,
    rtol: float,
    dual_tolerance: float,
    keep_check: bool = False,
    layout: SnapshotLayout | None = None,
) -> dict[str, Any]:
    """One sample's share of the offline stage (a Dask task).

    Returns ``factor`` (n_qp, r) the compressed integrand block, ``sigma`` and
    ``p`` the compressed dual snapshot rows (r, n_entries), and, when
    ``keep_check``, the sample's active stresses for the force-error check.
    """
    case = _case(case)
    space = case.fe_space
    dataset = Dataset(path)
    strain = StrainOperator(space)
    u = displacements(dataset, sample_id, layout)
    stored = stored_duals(dataset, sample_id) if layout is None or layout.identity else None
    if stored is None:
        stress, p = replay(strain, case.law(mu), u, case.times)
        sigma = voigt_stress(stress, space.dim)
    else:
        sigma, p = stored["sigma_qp"], stored["p_qp"]
        stress = mandel_stress(sigma, space.dim)
    active = stress[..., list(strain.components)]  # (n_t, n_qp, k_active)
    k_active = strain.n_active
    E = (strain.matrix() @ basis).reshape(space.n_qp, k_active, -1)
    integrand = np.einsum("tla,lak->ltk", active, E, optimize=True).reshape(space.n_qp, -1)
    weights = space.quadrature_weights()
    out: dict[str, Any] = {
        "factor": compress(integrand, weights, rtol),
        "sigma": dual_rows(sigma.reshape(len(sigma), -1), dual_tolerance),
        "p": dual_rows(p, dual_tolerance),
        "p_peak": float(np.max(p)) if p.size else 0.0,
    }
    if keep_check:
        out["check"] = active
    return out


def dual_rows(X: np.ndarray, dual_tolerance: float) -> np.ndarray:
    """One sample's dual snapshot rows ``X`` (n_times, d) compressed (r, d) by
    :func:`~nirom.reduction.numerics.compress_rows` at a tenth of the dual tolerance
    (discarded energy ``(dual_tolerance / 10)**2``), so that this compression adds
    little to the truncation of the stacked samples' rows at ``dual_tolerance``
    (:func:`_modes`)."""
    return compress_rows(X, (dual_tolerance / 10) ** 2)


def _modes(rows: list[np.ndarray], rtol: float) -> np.ndarray:
    """POD modes (k, d) of the stacked compressed rows, discarded energy ``rtol**2``."""
    _, s, vt = svd(np.vstack([r for r in rows if r.size]))
    return vt[: energy_rank(s, rtol**2)]


def nodal_modes(projection: NodalProjection, modes: np.ndarray, components: int) -> np.ndarray:
    """Nodal L2 projections of quadrature-point modes (k, n_qp * c): (k, n_nodes * c)."""
    k = modes.shape[0]
    values = modes.reshape(k, -1, components).transpose(1, 0, 2).reshape(-1, k * components)
    nodal = projection(values).reshape(-1, k, components)
    return nodal.transpose(1, 0, 2).reshape(k, -1)


# -- checks ---------------------------------------------------------------------------------
def force_error(
    model: ReducedModel, active: np.ndarray, strain: StrainOperator, weights: np.ndarray
) -> float:
    """Relative error of the cubature's reduced internal forces on one training history:
    ``||F_ecm - F|| / ||F||`` over all its times, ``F = V^T B^T (w sigma)``."""
    assembler = Assembler(strain, weights)
    exact = np.array([model.basis.T @ assembler.internal_force(s) for s in active])
    at = active[:, model.points]  # (n_t, n_points, k_active)
    approx = np.einsum("lak,tla->tk", model.strains, model.weights[None, :, None] * at)
    return float(np.linalg.norm(approx - exact) / max(np.linalg.norm(exact), 1e-300))

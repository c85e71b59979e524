"""Adaptive mode: when the indicator exceeds a tolerance, the high-fidelity solver takes over
up to that time, its snapshots enrich the reduced model, and the reduced solve goes on.

:func:`adaptive_simulate` runs the reduced model; at the first output time ``t_k``
where the indicator exceeds ``tolerance`` it solves the high-fidelity problem
(:class:`~nirom.mechanics.solver.QuasiStaticSolver`, the same law) over the
history up to ``t_k`` (the reduced model holds the internal state at its own
points only, so the high-fidelity solve restarts from the virgin state rather
than from a reconstructed one), :func:`enrich` adds its snapshots to the bases
and recomputes the cubature, and the reduced solve resumes at ``t_k`` from the
high-fidelity state (displacement projected on the new basis, internal state
read at the new reduced points). Enrichment needs the case (mesh, strain
operator), unlike a plain prediction.

:func:`enrich`: the displacement basis gains the POD modes of the new
snapshots' residual off its span; the dual bases likewise; the cubature is
recomputed for the new basis on the span of the stress modes (``sigma_j :
eps(psi_k)`` for every stress mode ``j``, which covers every training and new
snapshot up to the stress truncation) plus the new snapshots' integrands.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nirom.hyperreduction.ecm import compress, greedy_cubature, integrand_basis
from nirom.hyperreduction.model import FIELDS, DualBasis, ReducedModel, _von_mises
from nirom.hyperreduction.newton import run
from nirom.hyperreduction.offline import assemble, dual_rows, nodal_modes
from nirom.mechanics.loads import LoadHistory
from nirom.mechanics.output import NodalProjection, voigt_stress
from nirom.mechanics.solver import QuasiStaticSolver
from nirom.mechanics.strain import StrainOperator
from nirom.mechanics.tensors import mandel_stress
from nirom.reduction.numerics import energy_rank, extend_basis, project_out, svd
from nirom.solvers.mechanics_case import MechanicsCase


def _extend(modes: np.ndarray, rows: np.ndarray, rtol: float) -> np.ndarray:
    """``modes`` (orthonormal rows) followed by the POD modes of ``rows``'s residual off
    their span, orthonormalized against them; the residual modes left out hold at most
    ``rtol**2`` of the energy of ``rows`` (none are added when the residual holds less)."""
    residual, _ = project_out(modes.T, rows.T)
    _, s, vt = svd(residual.T)
    residual_energy = float(s @ s)
    fraction = rtol**2 * float(np.sum(rows**2)) / max(residual_energy, np.finfo(float).tiny)
    k = energy_rank(s, fraction, minimum=0)  # fraction of the residual's own energy
    extended, _ = extend_basis(modes.T, None, vt[:k])
    return extended.T


def enrich(
    model: ReducedModel,
    case: MechanicsCase,
    u: np.ndarray,
    stress: np.ndarray,
    p: np.ndarray,
    *,
    tolerance: float = 1e-6,
    ecm_tolerance: float | None = None,
    dual_tolerance: float = 1e-4,
) -> ReducedModel:
    """A reduced model whose bases and cubature also cover new high-fidelity snapshots:
    ``u`` (n_t, n_dofs) less their lifting, Mandel ``stress`` (n_t, n_qp, 6), ``p`` (n_t, n_qp).
    ``ecm_tolerance`` defaults to the model's own (chosen at fit time)."""
    if ecm_tolerance is None:
        ecm_tolerance = float(model.info.get("ecm_tolerance", 1e-6))
    space = case.fe_space
    strain = StrainOperator(space)
    weights = space.quadrature_weights()
    basis = _extend(model.basis.T, u, tolerance).T
    constrained = np.flatnonzero(np.all(model.basis == 0.0, axis=1))
    basis[constrained] = 0.0
    sigma = voigt_stress(stress, space.dim)
    c = model.sigma.components
    sigma_modes = _extend(
        model.sigma.modes, dual_rows(sigma.reshape(len(sigma), -1), dual_tolerance), dual_tolerance
    )
    p_modes = _extend(model.p.modes, dual_rows(p, dual_tolerance), dual_tolerance)
    E = (strain.matrix() @ basis).reshape(space.n_qp, strain.n_active, -1)
    active = list(strain.components)
    span = mandel_stress(sigma_modes.reshape(len(sigma_modes), -1, c), space.dim)[..., active]
    blocks = [
        np.einsum("jla,lak->ljk", span, E, optimize=True).reshape(space.n_qp, -1),
        np.einsum("tla,lak->ltk", stress[..., active], E, optimize=True).reshape(space.n_qp, -1),
    ]
    factors = [compress(b, weights, ecm_tolerance) for b in blocks]
    cubature = greedy_cubature(
        integrand_basis(factors, weights, ecm_tolerance), weights, ecm_tolerance
    )
    projection = NodalProjection(space)
    duals = (
        DualBasis(sigma_modes, nodal_modes(projection, sigma_modes, c), c),
        DualBasis(p_modes, nodal_modes(projection, p_modes, 1), 1),
    )
    enriched = assemble(case, basis, cubature, duals, model.loading)
    enriched.info = {**model.info, "enrichments": model.info.get("enrichments", 0) + 1}
    return enriched


def adaptive_simulate(
    model: ReducedModel,
    case: MechanicsCase,
    mu: dict[str, float] | None = None,
    *,
    history: LoadHistory | None = None,
    times: Sequence[float] | None = None,
    tolerance: float = 0.05,
    max_enrichments: int = 3,
) -> tuple[dict[str, np.ndarray], ReducedModel, list[float]]:
    """Fields and indicator over ``times`` with enrichment where the indicator exceeds
    ``tolerance``; returns ``(fields, the final model, the enrichment times)``."""
    history = history or model.history(mu)
    times = np.asarray(model.times if times is None else times, dtype=float)
    law = model.law(mu)
    pieces: list[dict[str, np.ndarray]] = []
    enriched_at: list[float] = []
    k0, start = 0, None
    while True:
        loads = model.loads.bind(history)
        result = run(model.operators, law, times[k0:], loads.force, loads.strain, start=start)
        out = model.reconstruct(result, loads, times[k0:])
        over = np.flatnonzero(out["indicator"][1:] > tolerance) + 1  # [0] is the start
        if over.size == 0 or len(enriched_at) >= max_enrichments:
            pieces.append(_slice(out, 0 if not pieces else 1, None))
            break
        k = k0 + int(over[0])
        pieces.append(_slice(out, 0 if not pieces else 1, k - k0))
        hf = QuasiStaticSolver(case.fe_space, law, history).run(times[: k + 1])
        lifted = np.array([loads.displacement(t) for t in times[: k + 1]])
        model = enrich(model, case, hf.u - lifted, hf.stress, hf.p)
        enriched_at.append(float(times[k]))
        pieces.append(_hf_fields(model, hf, k))
        q0 = np.linalg.lstsq(model.basis, hf.u[-1] - lifted[-1], rcond=None)[0]
        state = {key: value[model.points] for key, value in hf.state.items()}
        start, k0 = (q0, state, hf.stress[-1][model.points]), k
    fields = {name: np.concatenate([p[name] for p in pieces]) for name in (*FIELDS, "indicator")}
    return fields, model, enriched_at


def _slice(out: dict[str, np.ndarray], first: int, stop: int | None) -> dict[str, np.ndarray]:
    return {k: v[first:stop] for k, v in out.items()}


def _hf_fields(model: ReducedModel, hf: Any, k: int) -> dict[str, np.ndarray]:
    """The high-fidelity state at output ``k`` as one time step of the model's fields
    (dual quantities through the enriched Gappy bases), indicator 0."""
    sigma = voigt_stress(hf.stress[-1:], model.dim)
    a_s = sigma.reshape(1, -1) @ model.sigma.modes.T
    a_p = hf.p[-1:] @ model.p.modes.T
    c = model.sigma.components
    nodal = (a_s @ model.sigma.nodal).reshape(1, -1, c)
    return {
        "u": hf.u[-1:].reshape(1, -1, model.dim),
        "sigma": nodal,
        "von_mises": _von_mises(nodal),
        "p": a_p @ model.p.nodal,
        "sigma_qp": sigma,
        "p_qp": hf.p[-1:],
        "indicator": np.zeros(1),
    }

"""The reduced Newton with every integration point is the HF Newton's Galerkin projection."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from nirom.hyperreduction.loading import ReducedLoads, reduce_loads
from nirom.hyperreduction.newton import ReducedOperators, newton_step, run
from nirom.reduction.algorithms import pod_exact


def pod_basis(u: np.ndarray, k: int) -> np.ndarray:
    """The first ``k`` POD modes of snapshots ``u`` (n_times, n_dofs), uncentred: (n_dofs, k)."""
    return pod_exact(u, center=False, n_modes=k).modes.T


def _full_operators(plate, V):
    solver = plate.solver
    strain = solver.strain
    k = strain.n_active
    E = (strain.matrix() @ V).reshape(-1, k, V.shape[1])
    ops = ReducedOperators(E, solver.assembler.weights, tuple(strain.components))
    points = np.arange(plate.case.fe_space.n_qp)
    forces, lifts = reduce_loads(plate.case.fe_space, strain, V, points, solver.history)
    return ops, ReducedLoads(forces, lifts, V.shape[0]).bind(solver.history)


def test_all_points_equal_the_galerkin_projection_to_round_off(small_plate) -> None:
    plate = small_plate
    solver = plate.solver
    V = pod_basis(plate.result.u, 6)
    ops, loads = _full_operators(plate, V)
    times = plate.times
    # The projected external force is the reduced one.
    for t in times[1:4]:
        ref = V.T @ solver.loads.external_force(t)
        assert np.allclose(loads.force(t), ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())

    # Galerkin projection of the high-fidelity Newton, computed with the HF operators.
    def galerkin(q, state, dt, t):
        u = V @ q
        f_int, tangent, update = solver.evaluate(u, state, dt)
        r = V.T @ (f_int - solver.loads.external_force(t))
        K = V.T @ (solver.assembler.tangent(tangent) @ V)
        return r, K, update

    law = solver.law
    state = law.initial_state(plate.case.fe_space.n_qp)
    q = np.zeros(V.shape[1])
    q_ref = q.copy()
    for t0, t1 in itertools.pairwise(times):
        dt = t1 - t0
        # one reference Galerkin solve (Newton on V^T R(V q) = 0)
        for _ in range(30):
            r, K, _update = galerkin(q_ref, state, dt, t1)
            if np.linalg.norm(r) <= 1e-12 * np.linalg.norm(V.T @ solver.loads.external_force(t1)):
                break
            q_ref = q_ref - np.linalg.solve(K, r)
        q, _reduced_update, _ = newton_step(
            ops, law, q, state, dt, loads.force(t1), 0.0, rtol=1e-12
        )
        assert np.allclose(q, q_ref, rtol=0, atol=1e-10 * np.abs(q_ref).max())
        state = galerkin(q_ref, state, dt, t1)[2].state
    # And the whole history at once.
    result = run(ops, law, times, loads.force, loads.strain, rtol=1e-12)
    assert np.allclose(result.q[-1], q_ref, rtol=0, atol=1e-10 * np.abs(q_ref).max())
    u_end = plate.result.u[-1]
    assert np.linalg.norm(V @ q_ref - u_end) < 0.05 * np.linalg.norm(u_end)


def test_one_iteration_matches_residual_and_tangent(small_plate) -> None:
    """Residual and tangent of the reduced operators = projected HF ones (round-off)."""
    plate = small_plate
    solver = plate.solver
    V = pod_basis(plate.result.u, 5)
    ops, _ = _full_operators(plate, V)
    q = V.T @ plate.result.u[3]
    state = plate.solver.law.initial_state(plate.case.fe_space.n_qp)
    f_int, tangent, _ = solver.evaluate(V @ q, state, 1.0)
    c = list(ops.components)
    eps = np.einsum("lak,k->la", ops.strains, q)
    update = solver.law.integrate(ops.full(eps), state, 1.0)
    r = np.einsum("lak,la->k", ops.strains, ops.weights[:, None] * update.stress[:, c])
    C = update.tangent[:, c][:, :, c] * ops.weights[:, None, None]
    K = np.einsum("lak,lab,lbm->km", ops.strains, C, ops.strains)
    assert np.allclose(r, V.T @ f_int, rtol=1e-12, atol=1e-12 * np.abs(r).max())
    K_ref = V.T @ (solver.assembler.tangent(tangent) @ V)
    assert np.allclose(K, K_ref, rtol=1e-11, atol=1e-12 * np.abs(K).max())


def _subset_operators(plate, V, n_active: int, n_passive: int, seed: int = 0):
    """Operators on a random subset of the points: ``n_active`` with (rescaled) weights,
    ``n_passive`` with weight 0 (kept only to rebuild dual quantities)."""
    ops, loads = _full_operators(plate, V)
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(ops.weights.size, n_active + n_passive, replace=False))
    weights = ops.weights[chosen] * ops.weights.sum() / ops.weights[chosen[:n_active]].sum()
    weights[rng.permutation(chosen.size)[:n_passive]] = 0.0
    return ReducedOperators(ops.strains[chosen], weights, ops.components), loads


def test_compiled_step_equals_the_numpy_reference(small_plate) -> None:
    """The compiled step (law and assembly compiled, Gappy-only points integrated once per
    converged step) gives the NumPy reference's history to round-off."""
    plate = small_plate
    V = pod_basis(plate.result.u, 6)
    ops, loads = _subset_operators(plate, V, 40, 15)
    law = plate.case.law(plate.mu)
    assert law.compiled_code() is not None
    fast = run(ops, law, plate.times, loads.force, loads.strain, rtol=1e-11)
    law.kernel = "numpy"
    reference = run(ops, law, plate.times, loads.force, loads.strain, rtol=1e-11)
    assert fast.iterations == reference.iterations
    for a, b in ((fast.q, reference.q), (fast.stress, reference.stress), (fast.p, reference.p)):
        assert np.abs(a - b).max() <= 1e-9 * np.abs(b).max()
    assert reference.p.max() > 0  # the history is plastic at some kept points


def test_modified_tangent_converges_to_the_same_history(small_plate) -> None:
    plate = small_plate
    V = pod_basis(plate.result.u, 6)
    ops, loads = _subset_operators(plate, V, 40, 15)
    law = plate.case.law(plate.mu)
    consistent = run(ops, law, plate.times, loads.force, loads.strain, rtol=1e-10)
    modified = run(
        ops, law, plate.times, loads.force, loads.strain, rtol=1e-10, max_iterations=200,
        tangent="modified",
    )  # fmt: skip
    assert consistent.cuts == modified.cuts == 0  # the same steps, so the same history
    assert np.abs(modified.q - consistent.q).max() <= 1e-7 * np.abs(consistent.q).max()
    assert sum(modified.iterations) > sum(consistent.iterations)  # linear, not quadratic


def test_the_tangent_from_the_elastic_stiffness_and_flowing_points_is_the_whole_one(
    small_plate,
) -> None:
    """K = K_e + the flowing points' corrections equals sum_l z_l E_l^T C_l E_l."""
    from nirom.hyperreduction.kernels import ReducedAssembly

    plate = small_plate
    V = pod_basis(plate.result.u, 6)
    ops, _ = _subset_operators(plate, V, 40, 0)
    law = plate.case.law(plate.mu)
    points = ops.compiled_points()
    assembly = ReducedAssembly(points, law.compiled_code())
    n = points.active.size
    state = law.initial_state(n)
    q = 3.0 * (V.T @ plate.result.u[3])  # strained enough that some points flow
    new = (np.empty((n, 6)), np.empty((n, 6)), np.empty((n, 6)), np.empty(n))
    assembly.evaluate(q, np.zeros((n, 3)), (state["eps_p"], state["X"], state["p"]), new, 1.0)
    assert 0 < assembly.flowing < n
    c = list(ops.components)
    C = assembly.tangents[:, c][:, :, c] * points.z[:, None, None]
    expected = np.einsum("lak,lab,lbm->km", points.E_active, C, points.E_active)
    assert np.allclose(assembly.tangent(), expected, rtol=0, atol=1e-12 * np.abs(expected).max())
    reference = law.integrate(ops.full(np.einsum("lak,k->la", points.E_active, q)), state, 1.0)
    assert np.allclose(new[0], reference.stress, rtol=1e-12, atol=1e-9)


def test_the_reduced_kernels_warm_up_with_the_laws_in_hyperreduction() -> None:
    """The law kernels' warm-up (``nirom.mechanics``) compiled the reduced kernels too,
    importing ``nirom.hyperreduction`` from below; hyperreduction warms up both now."""
    from nirom.hyperreduction import kernels
    from nirom.mechanics.laws import compiled

    if not compiled.AVAILABLE:
        pytest.skip("numba is not installed")
    info = kernels.warm_up()
    assert info["available"] and info["seconds"] >= 0 and isinstance(info["compiled"], bool)
    assert all(f.signatures for f in kernels.KERNELS)  # each compiled or loaded

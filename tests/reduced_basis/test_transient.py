"""Transient certified reduced basis (POD-greedy) on heat-transient: the solver's outputs
unchanged, the reduced scheme equal to the high-fidelity one, the trajectory bound, save/load."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse.linalg as spla

from nirom.errors import ModelError
from nirom.reduced_basis.pod_greedy import empty_transient_model, pod_greedy
from nirom.reduced_basis.transient import TransientRBModel
from nirom.solvers import HeatTransient
from nirom.solvers.operators import TransientDecomposition
from nirom.surrogates import Surrogate


def legacy_solve(solver: HeatTransient, mu: dict) -> np.ndarray:
    """The solver's loop as it was before it exposed its trajectory (reference, verbatim)."""
    k, s, q = mu["k"], mu["s"], mu["q"]
    dt, interior = solver.dt, solver.interior

    def load(t: float) -> np.ndarray:
        return (s * solver.source_load(t) + q * solver.flux_load(t))[interior]

    half = 0.5 * dt * k * solver._k_inner
    lu = spla.splu((solver._m_inner + half).tocsc(), permc_spec="MMD_AT_PLUS_A")
    explicit = (solver._m_inner - half).tocsr()
    every = solver.n_steps // (solver.n_outputs - 1)
    out = np.zeros((solver.n_outputs, solver.basis.N))
    u = np.zeros(interior.size)
    f_now = load(0.0)
    for n in range(solver.n_steps):
        t = n * dt
        if n < 2:
            u = lu.solve(solver._m_inner @ u + 0.5 * dt * load(t + 0.5 * dt))
            f_now = load(t + dt)
            u = lu.solve(solver._m_inner @ u + 0.5 * dt * f_now)
        else:
            f_next = load(t + dt)
            u = lu.solve(explicit @ u + 0.5 * dt * (f_now + f_next))
            f_now = f_next
        if (n + 1) % every == 0:
            out[(n + 1) // every, interior] = u
    return out


def reference_march(problem: TransientDecomposition, mu: dict) -> np.ndarray:
    """The scheme the decomposition describes, stepped with dense matrices: (J + 1, N)."""
    (a,) = problem.affine.matrices
    a = mu["k"] * a.toarray()
    f = mu["s"] * problem.affine.vectors[0] + mu["q"] * problem.affine.vectors[1]
    m = problem.mass.toarray()
    states = [problem.initial]
    for tau, th in zip(problem.step_sizes, problem.step_thetas, strict=True):
        rhs = (m - (1 - th) * tau * a) @ states[-1] + tau * f
        states.append(np.linalg.solve(m + th * tau * a, rhs))
    return np.array(states)


@pytest.fixture(scope="module")
def solver() -> HeatTransient:
    return HeatTransient(resolution=6, n_steps=12, t_final=0.6, n_outputs=5)


@pytest.fixture(scope="module")
def params(solver) -> np.ndarray:
    return solver.space.sample(6, design="random", seed=11)


def test_solver_outputs_are_unchanged_bit_for_bit(solver, params):
    for x in params[:3]:
        mu = solver.space.as_dict(x)
        np.testing.assert_array_equal(solver.solve(mu)["u"], legacy_solve(solver, mu))
    hooked = HeatTransient(
        resolution=5, n_steps=8, n_outputs=3, source=lambda x, y, t: np.sin(t + x) * y
    )
    mu = {"k": 0.7, "s": 2.0, "q": 0.3}
    np.testing.assert_array_equal(hooked.solve(mu)["u"], legacy_solve(hooked, mu))
    assert hooked.transient_decomposition() is None  # not separable in space and time


def test_decomposition_describes_the_solver_scheme(solver, params):
    problem = solver.transient_decomposition()
    for x in params[:2]:
        mu = solver.space.as_dict(x)
        states = solver.trajectory(mu)
        np.testing.assert_allclose(states, reference_march(problem, mu), rtol=0, atol=1e-12)
        outputs = solver.solve(mu)["u"][:, solver.interior]
        np.testing.assert_array_equal(states[problem.output_steps], outputs)


def test_full_basis_reproduces_the_trajectory_to_round_off(solver, params):
    problem = solver.transient_decomposition()
    model = empty_transient_model(problem, solver.space)
    assert model.extend(np.eye(solver.interior.size)) == solver.interior.size
    c = model.solve(params)
    for i, x in enumerate(params):
        states = solver.trajectory(solver.space.as_dict(x))
        scale = np.abs(states).max()
        np.testing.assert_allclose(c[i] @ model.basis.T, states, rtol=0, atol=1e-11 * scale)
        reference = solver.solve(solver.space.as_dict(x))["u"]
        np.testing.assert_allclose(model.outputs(c[i : i + 1])[0], reference, atol=1e-11 * scale)
    bounds = model.bound(params, c)
    assert np.all(bounds["l2"] <= 1e-8 * bounds["norm"])


def test_pod_greedy_converges_to_the_solver(solver, params):
    problem = solver.transient_decomposition()
    candidates = solver.space.sample(15, design="random", seed=2)
    result = pod_greedy(
        problem, solver.trajectory, solver.space, candidates, max_basis=solver.interior.size
    )
    assert result.converged and result.max_bounds[-1] < 1e-8
    assert result.max_bounds[0] > 100 * result.max_bounds[-1]
    c = result.model.solve(params)
    out = result.model.outputs(c)
    for i, x in enumerate(params):
        reference = solver.solve(solver.space.as_dict(x))["u"]
        np.testing.assert_allclose(out[i], reference, rtol=0, atol=1e-8 * np.abs(reference).max())


def errors(problem, model, states, c):
    """True L2 error at every substep (J + 1,) and the energy error, L2 in time."""
    e = states - c @ model.basis[:, : c.shape[1]].T
    l2 = np.sqrt(np.einsum("ij,ij->i", e, (problem.mass @ e.T).T))
    th = problem.step_thetas[:, None]
    mid = th * e[1:] + (1 - th) * e[:-1]
    x = model.product
    energy = np.sqrt(np.sum(problem.step_sizes * np.einsum("ij,ij->i", mid, (x @ mid.T).T)))
    return l2, energy


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bound_is_above_the_error_at_every_step(solver, seed):
    rng = np.random.default_rng(seed)
    problem = solver.transient_decomposition()
    # A nonzero initial state too, so the initial projection error enters the bound.
    problem = dataclasses.replace(problem, initial=0.1 * rng.standard_normal(problem.mass.shape[0]))
    model = empty_transient_model(problem, solver.space)
    x = solver.space.sample(5, design="random", seed=seed + 20)
    snapshots = np.vstack([reference_march(problem, solver.space.as_dict(p)) for p in x[:2]])
    model.extend(snapshots[rng.choice(len(snapshots), 1 + seed * 3, replace=False)])
    c = model.solve(x)
    bounds = model.bound(x, c)
    for i, p in enumerate(x):
        l2, energy = errors(problem, model, reference_march(problem, solver.space.as_dict(p)), c[i])
        assert l2[-1] > 1e-8  # a real error to bound
        slack = 1 - 1e-12  # at step 0 the bound is the initial error itself
        assert np.all(bounds["l2_steps"][i] >= slack * l2)
        assert bounds["l2_final"][i] >= l2[-1]
        assert bounds["energy"][i] >= energy
        assert bounds["l2"][i] >= np.sqrt(np.sum(l2[problem.output_steps] ** 2))


def test_bad_step_weight_is_refused(solver):
    problem = solver.transient_decomposition()
    bad = dataclasses.replace(problem, step_thetas=np.full(problem.step_sizes.size, 0.3))
    with pytest.raises(ModelError, match="step weights theta must lie in"):
        empty_transient_model(bad, solver.space)


def test_save_load_identical_in_a_fresh_process(solver, params, tmp_path):
    problem = solver.transient_decomposition()
    candidates = solver.space.sample(10, design="random", seed=4)
    model = pod_greedy(problem, solver.trajectory, solver.space, candidates, max_basis=5).model
    model.finish()
    c = model.solve(params)
    expected = {"u": model.outputs(c), **model.bound(params, c)}
    np.savez(tmp_path / "model.npz", **model.to_arrays())
    import json

    (tmp_path / "model.json").write_text(json.dumps(model.to_json()))
    np.save(tmp_path / "x.npy", params)
    script = (
        "import sys, json, numpy as np\n"
        "from nirom.reduced_basis.transient import TransientRBModel\n"
        "d = sys.argv[1]\n"
        "a = np.load(d + '/model.npz', allow_pickle=False)\n"
        "m = TransientRBModel.from_saved(json.load(open(d + '/model.json')), a)\n"
        "x = np.load(d + '/x.npy'); c = m.solve(x); b = m.bound(x, c)\n"
        "np.savez(d + '/out.npz', u=m.outputs(c), l2=b['l2'], energy=b['energy'])\n"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True)
    out = np.load(tmp_path / "out.npz")
    for key in ("u", "l2", "energy"):
        np.testing.assert_array_equal(out[key], expected[key])
    assert isinstance(model, TransientRBModel)


def test_surrogate_save_load_in_a_fresh_process(tmp_path):
    from nirom.cli import main

    data, model = tmp_path / "train.nirom", tmp_path / "rb"
    opts = ["-s", "resolution=6", "-s", "n_steps=12", "-s", "n_outputs=4"]
    assert main(["generate", "heat-transient", "-n", "6", "-o", str(data), "-w", "0", *opts]) == 0
    assert main(["fit", str(data), "--model", "rb", "-o", str(model), "-O", "n_modes=5"]) == 0
    rb = Surrogate.load(model)
    x = np.array([[0.5, 3.0, -0.2], [4.0, 1.0, 0.9]])
    fields, bounds = rb.predict(x, return_bound=True)
    np.save(tmp_path / "x.npy", x)
    script = (
        "import sys, numpy as np\n"
        "from nirom.surrogates import Surrogate\n"
        "m = Surrogate.load(sys.argv[1]); x = np.load(sys.argv[2])\n"
        "f, b = m.predict(x, return_bound=True)\n"
        "np.savez(sys.argv[3], u=f['u'], l2=b['u']['l2'])\n"
    )
    out = tmp_path / "out.npz"
    subprocess.run(
        [sys.executable, "-c", script, str(model), str(tmp_path / "x.npy"), str(out)], check=True
    )
    saved = np.load(out)
    np.testing.assert_array_equal(saved["u"], fields["u"])
    np.testing.assert_array_equal(saved["l2"], bounds["u"]["l2"])


def test_bound_on_greedy_models_of_the_solver(solver, params):
    """Zero initial state (the solver's): the bound holds at every substep and follows it."""
    problem = solver.transient_decomposition()
    candidates = solver.space.sample(20, design="random", seed=5)
    model = pod_greedy(problem, solver.trajectory, solver.space, candidates, max_basis=7).model
    for size in (2, 4, 7):  # the leading functions of the greedy's basis are its smaller models
        c = model.solve(params, size)
        bounds = model.bound(params, c)
        for i, p in enumerate(params):
            l2, energy = errors(problem, model, solver.trajectory(solver.space.as_dict(p)), c[i])
            assert np.all(bounds["l2_steps"][i] >= l2) and bounds["energy"][i] >= energy
            assert bounds["l2_final"][i] <= 200 * l2[-1]  # effective, not only safe


def test_closed_form_runs_equal_the_substeps_one_by_one(solver, params):
    problem = solver.transient_decomposition()
    candidates = solver.space.sample(10, design="random", seed=6)
    model = pod_greedy(problem, solver.trajectory, solver.space, candidates, max_basis=8).model
    assert model._symmetric(8)
    c = model.solve(params)
    theta, phi = model.coefficients(params)
    stiffness = np.einsum("nq,qij->nij", theta, model.reduced_matrices)
    stepped = model._solve_stepping(stiffness, phi, 8)
    np.testing.assert_allclose(c, stepped, rtol=0, atol=1e-12 * np.abs(stepped).max())

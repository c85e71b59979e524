"""Reduced basis of the L bracket (parameters="lame"): a vector point field, exact affine
decomposition, full-basis exactness, the bound, the command line with save/load."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse.linalg as spla
from rich.console import Console

from nirom import Dataset, generate
from nirom.cli import main
from nirom.dataset.schema import FieldSpec
from nirom.errors import ModelError
from nirom.evaluation.evaluate import evaluate
from nirom.evaluation.metrics import l2_norms
from nirom.reduced_basis import weak_greedy
from nirom.reduced_basis.problem import empty_model, rb_field
from nirom.solvers import make_solver
from nirom.surrogates import Surrogate, make_surrogate
from nirom.surrogates.reduced_basis import RBSurrogate

OPTIONS = {"refine": 2, "parameters": "lame"}  # 65 nodes, 120 unknowns


@pytest.fixture(scope="module")
def solver():
    return make_solver("elasticity", OPTIONS)


@pytest.fixture(scope="module")
def test_set(tmp_path_factory):
    return generate(
        "elasticity",
        tmp_path_factory.mktemp("rb-el") / "test.nirom",
        8,
        design="random",
        seed=5,
        workers=0,
        solver_options=OPTIONS,
        operators=True,
        console=Console(quiet=True),
    ).dataset


def test_affine_decomposition_is_the_solvers_system(solver):
    affine = solver.affine_decomposition()
    assert affine.matrix_coefficients == ["lam", "mu_s"]
    assert affine.vector_coefficients == ["tx", "ty"]
    for row in solver.space.sample(3, design="random", seed=2):
        mu = solver.space.as_dict(row)
        system, exact = solver.system(mu), affine.system(mu)
        assert (system.matrix != exact.matrix).nnz == 0
        np.testing.assert_array_equal(system.rhs, exact.rhs)
        np.testing.assert_array_equal(system.free, exact.free)
        x = spla.spsolve(system.matrix.tocsc(), system.rhs)
        u = solver.solve(mu)["displacement"]
        # unknowns sit on the displacement flattened node-major: entry 2 * node + component
        np.testing.assert_allclose(system.to_nodes(x).reshape(-1, 2), u, atol=1e-12 * abs(u).max())
    centre = solver.space.as_dict(solver.space.from_unit(np.full((1, 4), 0.5))[0])
    product = solver.product_matrix()
    assert spla.norm(product - solver.system(centre).matrix) <= 1e-14 * spla.norm(product)


def test_full_basis_reproduces_the_solver(solver):
    model = empty_model(solver, solver.space)
    n = model.free.size
    assert model.extend(np.eye(n)) == n == 120
    x = solver.space.sample(4, design="random", seed=3)
    c = model.solve(x)
    bound = model.bound(x, c)
    for k, row in enumerate(x):
        exact = solver.solve(solver.space.as_dict(row))["displacement"]
        got = model.reconstruct(c[k : k + 1])[0].reshape(-1, 2)
        np.testing.assert_allclose(got, exact, atol=1e-10 * np.abs(exact).max())
    assert np.all(bound["energy"] <= 1e-8 * bound["norm"])


def test_bound_is_above_the_true_error(tmp_path, solver, test_set):
    result = weak_greedy(
        "elasticity", tmp_path / "g.nirom", max_basis=4, n_candidates=100, solver_options=OPTIONS
    )
    assert result.solved == 5  # the centre (zero traction) adds nothing: one more solve
    model = RBSurrogate.from_greedy(result)
    x = test_set.parameters()
    fields, bound = model.predict_with_bound(x)
    ref = test_set.field("displacement")
    assert fields["displacement"].shape == ref.shape == (8, 65, 2)
    err = l2_norms(fields["displacement"] - ref, solver.mass_matrix())
    assert np.all(err > 1e-6 * l2_norms(ref, solver.mass_matrix()))  # a real error to bound
    assert np.all(bound["l2"] >= err)
    free = result.model.free
    diff = (ref.reshape(len(ref), -1) - fields["displacement"].reshape(len(ref), -1))[:, free]
    product = solver.product_matrix()
    err_x = np.sqrt(np.einsum("ij,ij->i", diff, (product @ diff.T).T))
    assert np.all(bound["energy"] >= err_x)
    report = evaluate(model, test_set, n_timing=2)
    assert report["not_predicted"] == ["von_mises"]
    assert report["fields"]["displacement"]["bound"]["bounded_fraction"] == 1.0


def test_train_fit_evaluate_save_load_on_the_command_line(tmp_path, capsys, test_set):
    greedy, model = tmp_path / "greedy.nirom", tmp_path / "rb"
    lame = ["-s", "parameters=lame", "-s", "refine=2"]
    args = ["train-rb", "elasticity", "-d", str(greedy), "-o", str(model), *lame]
    assert main([*args, "--basis", "6", "--candidates", "100"]) == 0
    out = capsys.readouterr().out
    assert "Greedy: 7 solves" in out and "von_mises not predicted" in out
    assert main(["evaluate", str(model), str(test_set.path)]) == 0
    out = " ".join(capsys.readouterr().out.split())  # the console wraps long lines
    assert "above the error on 100% of samples" in out and "Not predicted" in out
    data = tmp_path / "train.nirom"
    gen = ["generate", "elasticity", "-n", "10", "-o", str(data), "-w", "0", "--operators"]
    assert main([*gen, *lame]) == 0
    fitted = tmp_path / "fitted"
    assert main(["fit", str(data), "--model", "rb", "-o", str(fitted)]) == 0
    loaded = Surrogate.load(fitted)
    direct = make_surrogate("rb").fit(Dataset(data))
    x = test_set.parameters()
    np.testing.assert_array_equal(
        loaded.predict(x)["displacement"], direct.predict(x)["displacement"]
    )
    np.testing.assert_array_equal(
        loaded.predict_with_bound(x)[1]["l2"], direct.predict_with_bound(x)[1]["l2"]
    )
    assert "von_mises not predicted" in loaded.summary()


def test_young_parametrization_has_no_affine_operator(tmp_path):
    ds = generate(
        "elasticity",
        tmp_path / "young.nirom",
        5,
        workers=0,
        solver_options={"refine": 1},
        operators=True,
        console=Console(quiet=True),
    ).dataset
    with pytest.raises(ModelError, match="no affine decomposition") as info:
        make_surrogate("rb").fit(ds)
    assert "\n" not in str(info.value)


def test_one_steady_point_field_is_needed():
    fields = [FieldSpec("a", location="point"), FieldSpec("b", location="point", components=2)]
    with pytest.raises(ModelError, match="exactly one steady point field") as info:
        rb_field(fields, "dataset d")
    assert "\n" not in str(info.value)
    assert rb_field([*fields[1:], FieldSpec("c", location="cell")], "d").name == "b"


def test_greedy_stops_when_a_solve_adds_nothing(tmp_path):
    path = tmp_path / "converged.nirom"
    result = weak_greedy(
        "elasticity", path, max_basis=200, n_candidates=300, solver_options=OPTIONS
    )
    assert result.converged and result.model.n_basis < 120  # far fewer than the unknowns
    assert result.solved == result.model.n_basis + 2  # the zero first solve and the last one
    again = weak_greedy("elasticity", path, max_basis=200, n_candidates=300, solver_options=OPTIONS)
    assert again.converged and again.solved == 0 and again.model.n_basis == result.model.n_basis

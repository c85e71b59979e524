"""Design optimization: multi-start SLSQP, Optuna Pareto fronts, and verification by the solver."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from nirom import Dataset
from nirom.apps.optimization import _non_dominated, optimize, optimize_verified, pareto_front
from nirom.apps.quantities import QuantityError


def _brute_force(model, quantity: str, n: int = 4096) -> np.ndarray:
    from nirom.apps.quantities import parse_quantity

    x = model.space_.sample(n, design="random", seed=9)
    return parse_quantity(quantity, model.fields_, model.mesh_).evaluate(model.predict(x))


def test_minimum_beats_a_dense_random_search(small_block) -> None:
    model = small_block.gp
    result = optimize(model, "max(u)")
    assert result.value <= _brute_force(model, "max(u)").min() + 1e-9
    x = np.array([list(result.mu.values())])
    np.testing.assert_allclose(model.predict(x)["u"].max(), result.value, rtol=1e-12)
    assert result.feasible and len(result.starts) == 8


def test_constraints_and_fixed_parameters_hold(small_block) -> None:
    model = small_block.gp
    result = optimize(
        model, "max(u)", constraints=["mean(u) >= 0.03"], fixed={"k_2": 2.0}, n_starts=4
    )
    assert result.feasible and result.mu["k_2"] == pytest.approx(2.0)
    assert result.constraints["mean(u) >= 0.03"] >= 0.03 - 1e-6
    unconstrained = optimize(model, "max(u)", fixed={"k_2": 2.0}, n_starts=4)
    assert result.value >= unconstrained.value - 1e-12  # the constraint is active
    up = optimize(model, "mean(u, 0:0.5, 0:0.5)", sense="max", n_starts=4)
    assert up.value >= _brute_force(model, "mean(u, 0:0.5, 0:0.5)").max() - 1e-9


def test_pareto_front_is_non_dominated_and_seeded(small_block, tmp_path) -> None:
    objectives = {"max(u)": "min", "mean(u, 0:0.5, 0:0.5)": "max"}
    a = pareto_front(small_block.gp, objectives, n_trials=60, seed=3)
    b = pareto_front(small_block.gp, objectives, n_trials=60, seed=3)
    np.testing.assert_array_equal(a.values, b.values)
    assert len(a.front) >= 2
    front = a.values[a.front]
    for i in range(len(front)):  # nobody on the front is beaten in both objectives
        better = (front[:, 0] <= front[i, 0]) & (front[:, 1] >= front[i, 1])
        strictly = (front[:, 0] < front[i, 0]) | (front[:, 1] > front[i, 1])
        assert not np.any(better & strictly)
    assert {p.name for p in a.save(tmp_path)} >= {"optimize.json", "pareto_front.png"}


def test_non_dominated_on_a_known_set() -> None:
    values = np.array([[1.0, 5.0], [2.0, 3.0], [3.0, 4.0], [4.0, 1.0], [2.0, 3.0]])
    front = _non_dominated(values, np.ones(5, dtype=bool), ["min", "min"])
    assert sorted(front.tolist()) == [0, 1, 3, 4]


def test_the_solver_verifies_the_optimum(small_block, tmp_path) -> None:
    data = Dataset(shutil.copytree(small_block.train.path, tmp_path / "train.nirom"))
    before = len(data)
    result, refitted = optimize_verified(
        data,
        small_block.rbf,
        "max(u)",
        constraints=["mean(u) >= 0.03"],
        tol=0.02,
        max_iterations=2,
        n_starts=2,
    )
    history = result.verification
    assert 1 <= len(history) <= 2 and len(data) == before + len(history)
    last = history[-1]
    solved = small_block.solver.solve(last["mu"])["u"]
    assert last["solver"]["max(u)"] == pytest.approx(solved.max(), rel=1e-12)
    assert len(refitted.training_ids_) == len(data)
    assert last["converged"] == (max(last["relative_gap"].values()) <= 0.02)


@pytest.mark.parametrize(
    ("constraint", "match"),
    [
        ("max(u) < 1", "write QUANTITY <= NUMBER"),
        ("max(q) <= 1", "unknown field 'q'"),
        ("max(u) <= one", "'one' is not a number"),
    ],
)
def test_bad_constraints_are_named(small_block, constraint: str, match: str) -> None:
    with pytest.raises(QuantityError, match=match):
        optimize(small_block.gp, "max(u)", constraints=[constraint])


def test_cli_verify_records_the_refit(small_block, tmp_path) -> None:
    """The refitted model's fit record names the grown dataset and its sample count."""
    from nirom.cli import main
    from nirom.report.card import read_fit_record

    data = shutil.copytree(small_block.train.path, tmp_path / "train.nirom")
    out = tmp_path / "refitted.model"
    args = ["optimize", str(small_block.rbf_path), "--maximize", "max(u)", "-c", "mean(u) >= 0.03"]
    args += ["--verify", str(data), "--max-iterations", "1", "--model-out", str(out)]
    assert main([*args, "-o", str(tmp_path / "opt")]) == 0
    record = read_fit_record(out)
    assert record["training_samples"] == len(Dataset(data)) == len(small_block.train) + 1
    assert record["dataset"] == str(data.resolve()) and record["fit_s"] > 0

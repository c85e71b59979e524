"""A small plate-hole case solved by the real quasi-static solver, shared by the tests."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from nirom.solvers import make_solver

SMALL = {"resolution": 3, "steps_per_cycle": 8, "cycles": 1, "degree": 2}


@pytest.fixture(scope="session")
def small_plate() -> SimpleNamespace:
    """The case, its nominal solver and its high-fidelity result."""
    case = make_solver("plate-hole", SMALL)
    mu = case.values({})
    solver = case.solver(mu)
    result = solver.run(case.times)
    return SimpleNamespace(case=case, mu=mu, solver=solver, result=result, times=case.times)


@pytest.fixture(scope="session")
def plate_dataset(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """5 plate-hole samples (3 parameters) and an hrom fitted on the first 4, saved."""
    from rich.console import Console

    from nirom.generation import generate
    from nirom.surrogates.hrom import HROMSurrogate

    root = tmp_path_factory.mktemp("hrom")
    ds = generate(
        "plate-hole",
        root / "plate.nirom",
        5,
        workers=0,
        solver_options=SMALL,
        console=Console(quiet=True),
    ).dataset
    ids = ds.sample_ids()
    model = HROMSurrogate(tolerance=1e-6).fit(ds, ids[:4])
    model.save(root / "hrom.model")
    return SimpleNamespace(root=root, dataset=ds, ids=ids, model=model)

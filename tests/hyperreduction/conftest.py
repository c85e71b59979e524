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

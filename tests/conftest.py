"""Shared fixtures: a small thermal block solved by the real solver, and surrogates of it."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.console import Console

from nirom import generate
from nirom.report.card import write_fit_record
from nirom.solvers import ThermalBlock
from nirom.surrogates import PODSurrogate

SMALL_BLOCK = {"nx_blocks": 2, "ny_blocks": 2, "resolution": 12}


@pytest.fixture(scope="session")
def small_block(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """2 x 2 thermal block (169 nodes): 64 Sobol training samples, 16 random test samples,
    a pod-gp and a pod-rbf model saved beside them, and the solver."""
    root = tmp_path_factory.mktemp("small-block")
    quiet = Console(quiet=True)
    train = generate(
        "thermal-block",
        root / "train.nirom",
        64,
        workers=0,
        solver_options=SMALL_BLOCK,
        console=quiet,
    ).dataset
    test = generate(
        "thermal-block",
        root / "test.nirom",
        16,
        design="random",
        seed=1,
        workers=0,
        solver_options=SMALL_BLOCK,
        console=quiet,
    ).dataset
    start = time.perf_counter()
    gp = PODSurrogate(regressor="gp", energy=1e-6, regressor_params={"n_restarts": 0}).fit(train)
    gp.save(root / "gp.model")
    write_fit_record(root / "gp.model", time.perf_counter() - start, train.path, len(train))
    rbf = PODSurrogate(regressor="rbf", energy=1e-6).fit(train)
    rbf.save(root / "rbf.model")
    return SimpleNamespace(
        root=root,
        train=train,
        test=test,
        gp=gp,
        rbf=rbf,
        gp_path=Path(root / "gp.model"),
        rbf_path=Path(root / "rbf.model"),
        solver=ThermalBlock(**SMALL_BLOCK),
    )

"""Shared fixtures: a small thermal block solved by the real solver, and surrogates of it."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.console import Console
from threadpoolctl import threadpool_limits

from nirom import generate
from nirom.report.card import write_fit_record
from nirom.solvers import ThermalBlock
from nirom.surrogates import PODSurrogate

SMALL_BLOCK = {"nx_blocks": 2, "ny_blocks": 2, "resolution": 12}


def pytest_configure(config: pytest.Config) -> None:
    """One thread per BLAS / OpenMP / PyTorch pool in every test and in the processes it
    starts (Dask workers and solver subprocesses inherit the environment): the suite's run
    time then does not depend on how many cores are free, and two suites at once do not
    oversubscribe. PyTorch reads OMP_NUM_THREADS when it is first imported (after this)."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"


@pytest.fixture(scope="session", autouse=True)
def one_thread_per_pool() -> Iterator[None]:
    """NumPy's BLAS was loaded before the variables above were set: limit it here too."""
    with threadpool_limits(1):
        yield


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Every test that uses PyTorch (tests/neural, tests/surrogates, the CLI) runs on one thread."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)
    yield


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

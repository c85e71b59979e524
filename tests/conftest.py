"""Shared fixtures: a small thermal block solved by the real solver, and surrogates of it."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import skfem
from rich.console import Console
from threadpoolctl import threadpool_limits

from nirom import Dataset, Mesh, ParameterSpace, Uniform, generate
from nirom.dataset import FieldSpec
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


def load_factor() -> float:
    """How many times slower than on a quiet machine a test may run now: the runnable
    processes per core over the last minute, at least 1."""
    return max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Each test's time limit (its ``timeout`` mark, or the 300 s of pyproject) scaled by
    the machine's load when it starts, so that a loaded machine makes the suite slower,
    not red; the limit still catches a hung test. Runs before pytest-timeout arms its
    timer (``tryfirst``)."""
    marker = item.get_closest_marker("timeout")
    base = None
    if marker is not None:
        base = marker.args[0] if marker.args else marker.kwargs.get("timeout")
    if base is None:
        base = item.config.getoption("timeout", None) or item.config.getini("timeout")
    if base and float(base) > 0:  # in front, so that it is the closest timeout mark
        item.add_marker(pytest.mark.timeout(float(base) * load_factor()), append=False)
    yield


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


def _reordered_mesh(mesh: Mesh, seed: int = 0) -> tuple[Mesh, np.ndarray]:
    """``mesh`` with its points and cells shuffled and each cell's nodes rotated, and the
    map: ``points[perm]`` are the new points (new node k is old node ``perm[k]``)."""
    rng = np.random.default_rng(seed)
    perm = rng.permutation(mesh.n_points)
    renumber = np.argsort(perm)
    ((cell_type, conn),) = mesh.cells
    rotate = {"triangle": [1, 2, 0], "triangle6": [1, 2, 0, 4, 5, 3]}[cell_type]
    shuffled = renumber[conn][rng.permutation(len(conn))][:, rotate]
    return Mesh(mesh.points[perm], [(cell_type, shuffled)]), perm


@pytest.fixture(scope="session")
def reordered(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """A pod-rbf model on a 9 x 9-node triangle mesh (fields u, vector v, cell field s, p zero
    in the samples with a < 0.5, global g), its test set (ids 0 and 2 with p = 0), the same
    test set on the same mesh with points and cells shuffled (``shuffled``), and one on a
    coarser mesh (``coarse``)."""
    root = tmp_path_factory.mktemp("reordered")
    space = ParameterSpace([Uniform("a", 0.0, 1.0), Uniform("b", 0.0, 1.0)])
    specs = [
        FieldSpec("u", "point"),
        FieldSpec("v", "point", components=2),
        FieldSpec("s", "cell"),
        FieldSpec("p", "point"),
        FieldSpec("g", "global"),
    ]

    def build(name: str, mesh: Mesh, mus: np.ndarray) -> Dataset:
        ds = Dataset.create(root / name, space, specs, mesh)
        x, y = mesh.points.T
        middle = mesh.points[mesh.cells[0][1]].mean(axis=1)
        for a, b in mus:
            fields = {
                "u": np.sin(a * x) + b * y**2,
                "v": np.stack([a * x, b * y + a * b], axis=1),
                "s": a * middle[:, 0] + b,
                "p": max(a - 0.5, 0.0) * (1 + x * y),
                "g": np.array(a + b**2),
            }
            ds.append({"a": a, "b": b}, fields, solve_time=0.01)
        return ds

    mesh = Mesh.from_skfem(skfem.MeshTri().refined(3))
    shuffled_mesh, perm = _reordered_mesh(mesh)
    mus = np.array([(0.2, 0.3), (0.7, 0.6), (0.4, 0.9), (0.9, 0.1)])
    train = build("train.nirom", mesh, np.random.default_rng(0).uniform(size=(12, 2)))
    model = PODSurrogate(regressor="rbf", discarded_energy=1e-10).fit(train)
    model.save(root / "rbf.model")
    return SimpleNamespace(
        root=root,
        mesh=mesh,
        shuffled_mesh=shuffled_mesh,
        perm=perm,
        train=train,
        test=build("test.nirom", mesh, mus),
        shuffled=build("shuffled.nirom", shuffled_mesh, mus),
        coarse=build("coarse.nirom", Mesh.from_skfem(skfem.MeshTri().refined(2)), mus),
        model=model,
        model_path=root / "rbf.model",
    )

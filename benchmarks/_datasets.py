"""Datasets the thermal-block benchmarks share: a Sobol training set and a random test set."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from nirom import Dataset, generate


def train_and_test(
    workdir: Path, train_name: str, n_train: int, n_test: int, resolution: int, workers: int
) -> tuple[Dataset, Dataset]:
    """3 x 3 thermal block: ``n_train`` Sobol samples (seed 0), ``n_test`` random (seed 1).

    Both are generated into ``workdir`` and resumed (reused) on later runs.
    """
    quiet = Console(quiet=True)
    options = {"resolution": resolution}
    train = generate(
        "thermal-block",
        workdir / train_name,
        n_train,
        workers=workers,
        solver_options=options,
        console=quiet,
    ).dataset
    test = generate(
        "thermal-block",
        workdir / "test.nirom",
        n_test,
        design="random",
        seed=1,
        workers=workers,
        solver_options=options,
        console=quiet,
    ).dataset
    return train, test

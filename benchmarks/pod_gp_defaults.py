"""Default pod-gp fit time and test error, with and without GP warm starts, beside EZyRB.

3 x 3 thermal block at resolution 96 (9,409 nodes): ``--samples`` Sobol training samples
and 40 random test samples (generated into ``--workdir`` and reused), default
``PODSurrogate(regressor="gp")`` (energy 1e-6, 4 restarts) fitted with
``warm_start=True`` (the default) and ``False``; prints fit time, modes, mean relative L2
test error (finite-element L2 norm, and Euclidean over the nodes) and 95 % coverage.
When EZyRB is installed (``pip install ezyrb``) it also fits EZyRB's default
``ReducedOrderModel(Database, POD("svd"), GPR())`` (one scikit-learn GP, isotropic RBF
kernel shared by all modes, 20 restarts) on the same unit-cube inputs (log conductivities)
and prints the same figures (Euclidean only). Run with one BLAS thread::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/pod_gp_defaults.py --samples 400

Measured here (2 cores shared with other jobs, one BLAS thread): see README, "Default
pod-gp fit times".
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from pathlib import Path

import numpy as np
from _datasets import train_and_test

from nirom import Dataset
from nirom.evaluation import evaluate
from nirom.surrogates import PODSurrogate


def euclidean_error(predicted: np.ndarray, truth: np.ndarray) -> float:
    """Mean over samples of ||predicted - truth||_2 / ||truth||_2 over the nodes."""
    diff = np.linalg.norm(predicted - truth, axis=1)
    return float(np.mean(diff / np.linalg.norm(truth, axis=1)))


def fit_nirom(train: Dataset, test: Dataset, warm: bool, samples: int) -> None:
    start = time.perf_counter()
    model = PODSurrogate(regressor="gp", regressor_params={"warm_start": warm}).fit(train)
    seconds = time.perf_counter() - start
    u = evaluate(model, test)["fields"]["u"]
    truth = test.field("u").reshape(len(test.sample_ids()), -1)
    predicted = model.predict(test.parameters())["u"].reshape(truth.shape)
    print(
        f"nirom warm_start={warm!s:<5} n={samples}: fit {seconds:6.1f} s, "
        f"{u['n_modes']} modes, mean relative L2 {100 * u['relative_l2']['mean']:.2f} % "
        f"(Euclidean {100 * euclidean_error(predicted, truth):.2f} %), "
        f"coverage {u['coverage']:.2f}",
        flush=True,
    )


def fit_ezyrb(train: Dataset, test: Dataset, samples: int) -> None:
    import ezyrb

    x_train = train.space.to_unit(train.parameters())
    x_test = test.space.to_unit(test.parameters())
    y_train = train.field("u").reshape(samples, -1)
    truth = test.field("u").reshape(len(x_test), -1)
    start = time.perf_counter()
    rom = ezyrb.ReducedOrderModel(ezyrb.Database(x_train, y_train), ezyrb.POD("svd"), ezyrb.GPR())
    rom.fit()
    seconds = time.perf_counter() - start
    predicted = np.asarray(rom.predict(x_test))
    print(
        f"EZyRB POD + GPR (defaults)  n={samples}: fit {seconds:6.1f} s, "
        f"mean relative L2 (Euclidean) {100 * euclidean_error(predicted, truth):.2f} %",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--workdir", type=Path, default=Path("pod-gp-defaults-data"))
    parser.add_argument("--no-cold", action="store_true", help="skip warm_start=False")
    args = parser.parse_args()
    train, test = train_and_test(
        args.workdir, f"train-{args.samples}.nirom", args.samples, 40, 96, workers=2
    )
    for warm in (True,) if args.no_cold else (True, False):
        fit_nirom(train, test, warm, args.samples)
    if importlib.util.find_spec("ezyrb") is not None:
        fit_ezyrb(train, test, args.samples)
    else:
        print("EZyRB not installed (pip install ezyrb): its row is skipped")


if __name__ == "__main__":
    main()

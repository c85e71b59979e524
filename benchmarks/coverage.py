"""Coverage of pod-gp's 95 % intervals against training size, with and without its std
calibration (issue 22).

3 x 3 thermal block at ``--resolution`` (default 48, 2,401 nodes): the first 32, 100 and
400 of 400 Sobol training samples and ``--test`` random test samples (generated into
``--workdir`` and reused). Default ``PODSurrogate(regressor="gp")`` (energy 1e-6, 4
restarts, ``rescale_std`` on): per size it prints the fit time, the mean relative L2 test
error, the range of the per-mode factors ``std_scale_``, the RMS of the standardised test
errors ``(truth - mean) / std`` over all values, and the share of test values inside the
95 % interval for the variants of the std (target 90-98 %):

- ``off``: the GP's own std (``regressor_params={"rescale_std": False}``);
- ``calibrated``: the default (``GPRegressor.std_calibration()`` says which: up to 64
  samples one 8-fold cross-validated factor with a log-linear trend in the inputs, above
  each mode's leave-one-out factor times ``sqrt(n / (n - p))``);
- ``loo``: above 64 samples, each mode's leave-one-out factor without ``sqrt(n / (n - p))``.

Run with one BLAS thread::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/coverage.py
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from _datasets import train_and_test

from nirom.evaluation.metrics import coverage
from nirom.surrogates import PODSurrogate

VARIANTS = ("off", "calibrated", "loo")


def _set_factors(model: PODSurrogate, variant: str, fitted: dict) -> bool:
    """Apply one variant of the std factors to a model fitted with ``rescale_std``
    (benchmark only: it sets the regressors' factor and trend in place, from ``fitted``:
    regressor name -> (std_scale_, std_slope_) as fitted); False when it does not apply."""
    for name, reg in model.regressors_.items():
        scale, slope = fitted[name]
        if variant == "loo" and reg.std_calibration() != "leave-one-out":
            return False
        reg._std_factor = {
            "off": np.ones_like(scale),
            "calibrated": scale,
            "loo": scale / reg.dof_factor(),
        }[variant]
        reg.std_slope_ = np.zeros_like(slope) if variant == "off" else slope
    return True


def one_size(train, test, n: int) -> None:
    start = time.perf_counter()
    model = PODSurrogate(regressor="gp").fit(train, ids=list(range(n)))
    seconds = time.perf_counter() - start
    truth = test.field("u").reshape(len(test.sample_ids()), -1)
    factors = model.regressors_["u"].std_scale_
    fitted = {k: (r.std_scale_.copy(), r.std_slope_.copy()) for k, r in model.regressors_.items()}
    line = (
        f"n={n:4d}: fit {seconds:6.1f} s, {model.pods_['u'].n_modes_} modes, "
        f"std_scale {factors.min():.2f}-{factors.max():.2f} (median {np.median(factors):.2f}), "
        f"calibration: {model.regressors_['u'].std_calibration()}"
    )
    for variant in VARIANTS:
        if not _set_factors(model, variant, fitted):
            continue
        mean, std = model.predict(test.parameters(), return_std=True)
        mean, std = mean["u"].reshape(truth.shape), std["u"].reshape(truth.shape)
        if variant == "off":
            err = np.linalg.norm(mean - truth, axis=1) / np.linalg.norm(truth, axis=1)
            line += f", test error {100 * err.mean():.2f} %"
        z = (truth - mean) / np.where(std > 0, std, np.inf)
        rms = float(np.sqrt(np.mean(z**2)))
        cover = 100 * coverage(truth, mean, std)
        line += f"\n   {variant:<7} coverage {cover:5.1f} %  RMS z {rms:.2f}"
    _set_factors(model, "calibrated", fitted)
    print(line + "   (target coverage 90-98 %)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 100, 400])
    parser.add_argument("--test", type=int, default=100)
    parser.add_argument("--resolution", type=int, default=48)
    parser.add_argument("--workdir", type=Path, default=Path("coverage-data"))
    args = parser.parse_args()
    train, test = train_and_test(
        args.workdir, "train.nirom", max(args.sizes), args.test, args.resolution, workers=2
    )
    for n in args.sizes:
        one_size(train, test, n)


if __name__ == "__main__":
    main()

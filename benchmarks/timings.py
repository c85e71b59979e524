"""The times the README quotes, measured: the demo, default fits, and (optionally) the suite.

Each figure is the wall time of the real command, in a fresh temporary folder, in a
fresh process (so imports and start-up count, as for a user):

* ``demo``: ``nirom demo`` with its defaults (solving, fitting, evaluating, plotting);
* ``fit pod-gp`` / ``fit pod-rbf``: ``nirom fit`` with default options on the demo's
  64-sample training set (2 x 2 thermal block, 48 x 48 grid), and beside each its mean
  relative L2 error on the demo's 24 test samples (``nirom evaluate``);
* ``fit fno``: ``nirom fit DARCY --model fno`` with default options on ``--darcy``
  samples of the built-in Darcy solver (defaults: 85 x 85) (``--darcy 0`` skips it),
  and its error on 10 other samples;
* ``suite`` (with ``--suite``): ``python -m pytest -q -p no:cacheprovider``, the default
  (not slow) test run;
* ``start-up``: the median over ``--startup`` runs (default 5) of ``nirom --help`` and of a
  usage error (``nirom fit x --bogus``), the installed ``nirom`` script as a user runs it:
  what every command pays before it does anything (``--startup-only``: these alone).

Run from the repository root::

    python benchmarks/timings.py [--suite] [--darcy 40] [--startup 5] [--json timings.json]

and put the figures (with the machine's load, printed too) in the README. Measured on the
2-core machine shared with other sessions: see README.md "Two commands".
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(command: list[str], cwd: Path, status: int = 0) -> float:
    """Wall time of ``command`` in seconds; raises if its exit status is not ``status``."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != status:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        raise SystemExit(f"{' '.join(command)} exited with status {done.returncode}")
    return elapsed


def mean_test_error(model: str, dataset: str, cwd: Path) -> float:
    """Mean relative L2 test error of ``model`` on ``dataset``, percent (nirom evaluate)."""
    done = subprocess.run(
        nirom("evaluate", model, dataset, "--json"), cwd=cwd, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"nirom evaluate {model} failed: {done.stderr[-2000:]}")
    report = json.loads(done.stdout)
    return 100 * next(iter(report["fields"].values()))["relative_l2"]["mean"]


def nirom(*args: str) -> list[str]:
    return [sys.executable, "-m", "nirom.cli", *args]


def nirom_script() -> list[str]:
    """The installed ``nirom`` command beside this Python (else ``python -m nirom.cli``)."""
    script = Path(sys.executable).parent / "nirom"
    return [str(script)] if script.is_file() else nirom()


def startup(runs: int) -> dict[str, float]:
    """Median wall times (s) over ``runs`` fresh processes of ``--help`` and a usage error."""
    cli = nirom_script()
    cases = {
        "nirom --help": ([*cli, "--help"], 0),
        "nirom fit x --bogus": ([*cli, "fit", "x", "--bogus"], 2),  # a usage error: status 2
    }
    return {
        f"start-up: {name}": statistics.median(timed(command, ROOT, status) for _ in range(runs))
        for name, (command, status) in cases.items()
    }


def measure(suite: bool, darcy: int) -> dict[str, float]:
    """The figures, seconds, by name."""
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="nirom-timings-") as tmp:
        work = Path(tmp)
        figures["demo"] = timed(nirom("demo", "--out", "demo"), work)
        train = str(work / "demo" / "train.nirom")
        test = str(work / "demo" / "test.nirom")
        for model in ("pod-gp", "pod-rbf"):
            figures[f"fit {model} (64 samples)"] = timed(
                nirom("fit", train, "--model", model, "--out", f"{model}.model"), work
            )
            figures[f"  its test error (%, {model})"] = mean_test_error(
                f"{model}.model", test, work
            )
        if darcy:
            gen = nirom("generate", "darcy", "--samples", str(darcy), "--out", "darcy.nirom")
            timed([*gen, "--workers", "2"], work)
            figures[f"fit fno ({darcy} darcy samples)"] = timed(
                nirom("fit", "darcy.nirom", "--model", "fno", "--out", "fno.model"), work
            )
            gen = nirom("generate", "darcy", "--samples", "10", "--seed", "1")
            timed([*gen, "--out", "darcy-test.nirom", "--workers", "2"], work)
            figures["  its test error (%, fno)"] = mean_test_error(
                "fno.model", "darcy-test.nirom", work
            )
    if suite:
        figures["suite"] = timed(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], ROOT
        )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", action="store_true", help="also time the test suite")
    parser.add_argument("--darcy", type=int, default=40, help="Darcy samples (0: skip fno)")
    parser.add_argument("--startup", type=int, default=5, help="runs of each start-up figure")
    parser.add_argument("--startup-only", action="store_true", help="the start-up figures only")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    figures = startup(args.startup)
    if not args.startup_only:
        figures |= measure(args.suite, args.darcy)
    print(f"{os.cpu_count()} cores, load average {load:.1f} at the start")
    print(f"start-up: the median of {args.startup} runs of {nirom_script()[0]}")
    for name, value in figures.items():
        unit, digits = ("%", 1) if "error" in name else ("s", 2 if "start-up" in name else 1)
        print(f"{name:<34} {value:8.{digits}f} {unit}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()

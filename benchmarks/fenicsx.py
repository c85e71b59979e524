"""FEniCSx as the external code, end to end through the command line (issue 19's targets).

Both studies of ``examples/fenicsx/`` run as a user types them: every step is a
``nirom ...`` command run as a subprocess in a work folder (a copy of
``examples/fenicsx/`` goes there, so that the programs' run folders stay in it).

Plasticity (``plate_hole``): the dolfinx J2 plate with a hole under one fully reversed
cycle of traction, P2, 2,090 unknowns, 20 steps. Training: ``--train`` loads on a grid
design (cell-centred, so 12 loads span 119.6-220.4 MPa of the config's 115-225 MPa),
held-out: ``--test`` loads on a grid (midway between training loads; none past the
training range, where a hyper-reduced model extrapolates). Printed:

- nirom's own solver on the case file against the FEniCSx histories of the held-out
  loads (same mesh, dolfinx's node order matched by coordinates): largest relative
  difference over a series of u and of the cumulated plastic strain p (target 1e-8);
- hrom (``--case case.toml``, default accuracy 1e-4, and ``-O accuracy=1e-5``) and
  pod-gp: mean / max relative L2 error of u (target hrom mean <= 1e-4) and p (target
  <= 1e-2) on the held-out histories, and the fit's time;
- one prediction's time with OpenBLAS's default threads and with
  ``OPENBLAS_NUM_THREADS=1`` (on a loaded machine the default threads wait for a core in
  the small products of hrom's field reconstruction), and the speed-up against the solve
  time the program reports, timed in the same run (``evaluate --time-solves``), and
  against the program's whole process (imports, mesh reading, form compilation, writing);
- p of the hrom evaluated on nirom's own held-out dataset (nirom's node order): the same
  figures as on the FEniCSx one (dolfinx's order).

Thermal block (``thermal_block``): 2 x 2 conductivities log-uniform in [0.1, 10], P1,
2,401 nodes. ``rb`` (certified reduced basis, operator interpolated from the stored
matrices, ``-O operator=eim``) from the program's PETSc binary matrices in both forms
(free block + node map; whole matrix with identity Dirichlet rows), beside ``rb`` from
nirom's built-in ``thermal-block`` matrices on the same mesh (affine and interpolated)
and pod-gp: error, bound effectivity, speed-up on ``--thermal-test`` random held-out
parameters, each model evaluated on the FEniCSx test set (dolfinx's node order) and on
nirom's (nirom's order). The rb rows agree to round-off.

Run::

    bash examples/fenicsx/setup.sh                 # once: FEniCSx's own venv
    python benchmarks/fenicsx.py                   # a few minutes; a temporary folder
    python benchmarks/fenicsx.py --workdir /tmp/fx-bench --train 8

Without FEniCSx (no venv at ``$NIROM_FENICSX_VENV`` or ``~/.venvs/nirom-fenicsx``)
it prints one line and exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "fenicsx"
THERMAL = "thermal-block -s nx_blocks=2 -s ny_blocks=2 -s resolution=48"


def fenicsx_missing() -> str | None:
    """Why FEniCSx cannot run here (None: it can)."""
    venv = Path(os.environ.get("NIROM_FENICSX_VENV", Path.home() / ".venvs" / "nirom-fenicsx"))
    if not (venv / "bin" / "python").is_file():
        return f"no FEniCSx environment at {venv} (make it with bash examples/fenicsx/setup.sh)"
    probe = subprocess.run(
        ["bash", str(EXAMPLE / "run.sh"), "-c", "import dolfinx"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        tail = (probe.stderr.strip().splitlines() or ["?"])[-1]
        return f"dolfinx does not import in {venv}: {tail}"
    return None


def nirom_command() -> list[str]:
    exe = shutil.which("nirom") or str(Path(sys.executable).with_name("nirom"))
    return [exe]


class Runner:
    """``nirom ...`` commands in a work folder, each timed and echoed."""

    def __init__(self, workdir: Path, quiet: bool = False) -> None:
        self.workdir = workdir
        self.quiet = quiet
        self.seconds: dict[str, float] = {}

    def __call__(self, line: str, env: dict[str, str] | None = None) -> str:
        """Run ``nirom LINE`` (split like a shell) in the work folder; its stdout."""
        args = shlex.split(line)
        shown = line
        prefix = " ".join(f"{k}={v}" for k, v in (env or {}).items())
        start = time.perf_counter()
        done = subprocess.run(
            [*nirom_command(), *args],
            cwd=self.workdir,
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
            check=False,
        )
        seconds = time.perf_counter() - start
        self.seconds[f"{prefix} nirom {shown}".strip()] = seconds
        if not self.quiet:
            print(f"  [{seconds:6.1f} s] {prefix + ' ' if prefix else ''}nirom {shown}", flush=True)
        if done.returncode != 0:
            raise SystemExit(
                f"nirom {shown} failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr}"
            )
        return done.stdout

    def evaluate(self, line: str, env: dict[str, str] | None = None) -> dict[str, Any]:
        return json.loads(self(f"evaluate {line} --json", env=env))


def series_difference(ours: Path, theirs: Path) -> dict[str, float]:
    """Largest relative difference (over the samples; each sample's whole series or field)
    of ``u`` and ``p`` between two datasets of the same parameter sets, relative to
    ``theirs``: nodes matched by coordinates, dolfinx's zero z component dropped."""
    from nirom.dataset import Dataset
    from nirom.mesh import match_points

    a, b = Dataset(ours), Dataset(theirs)
    order = match_points(b.mesh.points, a.mesh.points, what=str(ours))
    ids_a, ids_b = a.sample_ids(), b.sample_ids()
    if not np.array_equal(a.parameters(ids_a), b.parameters(ids_b)):
        raise SystemExit(f"{ours} and {theirs} hold other parameter sets")
    out = {}
    for name in ("u", "p"):
        if name not in a.fields or name not in b.fields:
            continue
        fa, fb = a.field(name, ids_a), b.field(name, ids_b)
        time_axis = a.field_spec(name).times is not None
        fa = fa[:, :, order] if time_axis else fa[:, order]
        if fa.shape != fb.shape and fa.shape[:-1] == fb.shape[:-1]:  # dolfinx's zero z
            if np.abs(fa[..., fb.shape[-1] :]).max() != 0:
                raise SystemExit(f"{ours}: {name} has nonzero extra components")
            fa = fa[..., : fb.shape[-1]]
        fa, fb = fa.reshape(len(fa), -1), fb.reshape(len(fb), -1)
        rel = np.linalg.norm(fa - fb, axis=1) / np.linalg.norm(fb, axis=1)
        out[name] = float(rel.max())
    return out


def fig(x: float) -> str:
    return f"{x:.2e}" if np.isfinite(x) else "-"


def wall_times(path: Path) -> np.ndarray:
    """The programs' process wall times recorded in a CommandSolver dataset."""
    from nirom.dataset import Dataset

    ds = Dataset(path)
    return np.array([ds.read_meta(i)["info"]["wall_time_s"] for i in ds.sample_ids()])


def plasticity(run: Runner, n_train: int, n_test: int, time_solves: int) -> None:
    print(f"\nPlasticity: FEniCSx J2 plate with a hole, {n_train} training / {n_test} held-out")
    solver, case = "fenicsx/plate_hole/solver.toml", "fenicsx/plate_hole/case.toml"
    run(f"generate {solver} -n {n_train} --design grid -o plate-fx.nirom")
    run(f"generate {solver} -n {n_test} --design grid -o plate-fx-test.nirom")
    run(f"generate {case} -n {n_test} --design grid -o plate-nirom-test.nirom")
    agree = series_difference(
        run.workdir / "plate-fx-test.nirom", run.workdir / "plate-nirom-test.nirom"
    )
    models = {
        "hrom": f"--model hrom --case {case}",
        "hrom, accuracy 1e-5": f"--model hrom --case {case} -O accuracy=1e-5",
        "pod-gp": "--model pod-gp",
    }
    timed = f" --time-solves {time_solves}" if time_solves else ""
    one = {"OPENBLAS_NUM_THREADS": "1"}
    results, fit_s, summaries = {}, {}, {}
    for k, (name, options) in enumerate(models.items()):
        start = time.perf_counter()
        summaries[name] = run(f"fit plate-fx.nirom {options} -o plate-model-{k}")
        fit_s[name] = time.perf_counter() - start
        default = run.evaluate(f"plate-model-{k} plate-fx-test.nirom{timed}")
        single = (
            run.evaluate(f"plate-model-{k} plate-fx-test.nirom{timed}", env=one)
            if name.startswith("hrom")
            else default  # pod-gp: a few small products, no threads to wait for
        )
        results[name] = (default, single)
    reordered = run.evaluate("plate-model-0 plate-nirom-test.nirom -f p")

    print(
        f"\n  nirom's solver (case.toml) vs the FEniCSx program, {n_test} held-out histories, "
        f"largest relative difference over a series: u {fig(agree['u'])}, p {fig(agree['p'])} "
        "(target 1e-8)"
    )
    walls = np.median(wall_times(run.workdir / "plate-fx-test.nirom"))
    print(
        "\n  Relative L2 errors on the held-out histories; one prediction (median) with "
        "OpenBLAS's default threads / OPENBLAS_NUM_THREADS=1; speed-up (one thread) against "
        "the program's reported solve timed in the same run"
        + (f" ({time_solves} runs)" if time_solves else "")
        + f" and against its whole process ({walls:.2f} s, median at generation):\n"
    )
    print(
        "  | model | u mean | u max | p mean | p max | predict ms | speed-up, solve | "
        "speed-up, process | fit s |"
    )
    print("  | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, (default, single) in results.items():
        u, p = default["fields"]["u"]["relative_l2"], default["fields"]["p"]["relative_l2"]
        t0, t1 = default["timing"], single["timing"]
        cells = [fig(u["mean"]), fig(u["max"]), fig(p["mean"]), fig(p["max"])]
        cells += [
            f"{1e3 * t0['predict_s']:.2f}"
            + (f" / {1e3 * t1['predict_s']:.2f}" if single is not default else ""),
            f"{t1['speedup']:.0f}x ({t1['solve_s']:.3f} s)",
            f"{walls / t1['predict_s']:.0f}x",
            f"{fit_s[name]:.0f}",
        ]
        print(f"  | {name} | " + " | ".join(cells) + " |")
    for name in models:
        if name.startswith("hrom"):
            line = " ".join(summaries[name].split())
            print(f"  {name}: {line[line.find('(hrom: ') + 7 : line.rfind(') in ')]}")
    hrom = results["hrom"][0]["fields"]
    u_ok = hrom["u"]["relative_l2"]["mean"] <= 1e-4
    p_ok = hrom["p"]["relative_l2"]["mean"] <= 1e-2
    print(
        f"  targets (hrom, defaults): u mean <= 1e-4: {'met' if u_ok else 'NOT met'}; "
        f"p mean <= 1e-2: {'met' if p_ok else 'NOT met'}"
    )
    p_fx, p_nirom = hrom["p"]["relative_l2"], reordered["fields"]["p"]["relative_l2"]
    print(
        "  reordered mesh: hrom's p on nirom's own held-out dataset (nirom's node order) mean "
        f"{fig(p_nirom['mean'])} max {fig(p_nirom['max'])}, on the FEniCSx one (dolfinx's "
        f"order) mean {fig(p_fx['mean'])} max {fig(p_fx['max'])}: largest difference "
        f"{fig(max(abs(p_nirom[k] - p_fx[k]) for k in ('mean', 'max')))}"
    )


def thermal(run: Runner, n_train: int, n_test: int) -> None:
    print(f"\nThermal block: FEniCSx 2 x 2, {n_train} training / {n_test} random held-out")
    fx = "fenicsx/thermal_block"
    run(f"generate {fx}/solver_operators.toml -n {n_train} --operators -o tb-fx-free.nirom")
    run(f"generate {fx}/solver_operators_full.toml -n {n_train} --operators -o tb-fx-full.nirom")
    run(f"generate {THERMAL} -n {n_train} --operators -o tb-nirom.nirom")
    run(f"generate {fx}/solver.toml -n {n_test} --design random --seed 1 -o tb-fx-test.nirom")
    run(f"generate {THERMAL} -n {n_test} --design random --seed 1 -o tb-nirom-test.nirom")
    pairs = [("tb-fx-free", "tb-nirom"), ("tb-fx-test", "tb-nirom-test")]
    agree = max(
        series_difference(run.workdir / f"{a}.nirom", run.workdir / f"{b}.nirom")["u"]
        for a, b in pairs
    )
    models = {
        "rb-fx-free": "tb-fx-free.nirom --model rb -O operator=eim",
        "rb-fx-full": "tb-fx-full.nirom --model rb -O operator=eim",
        "rb-nirom-eim": "tb-nirom.nirom --model rb -O operator=eim",
        "rb-nirom": "tb-nirom.nirom --model rb",
        "gp-fx": "tb-fx-free.nirom --model pod-gp",
    }
    labels = {
        "rb-fx-free": "rb, FEniCSx matrices (free block), interpolated",
        "rb-fx-full": "rb, FEniCSx matrices (whole, identity rows), interpolated",
        "rb-nirom-eim": "rb, nirom's matrices, interpolated",
        "rb-nirom": "rb, nirom's matrices, affine",
        "gp-fx": "pod-gp, FEniCSx fields",
    }
    results: dict[tuple[str, str], dict[str, Any]] = {}
    for name, fit in models.items():
        run(f"fit {fit} -o {name}")
        for test in ("tb-fx-test", "tb-nirom-test"):
            results[name, test] = run.evaluate(f"{name} {test}.nirom")

    print(
        f"\n  FEniCSx vs nirom's thermal-block, u on the same mesh (train and test): largest "
        f"relative difference {fig(agree)} (target 1e-8)"
    )
    print(
        "\n  | model | rel. L2 mean | max | bound above error | L2 effectivity median / max |"
        " predict ms | speed-up |"
    )
    print("  | --- | --- | --- | --- | --- | --- | --- |")
    for name in models:
        res = results[name, "tb-fx-test"]
        u, t = res["fields"]["u"], res["timing"]
        bound = u.get("bound")
        b = (
            f"{100 * bound['bounded_fraction']:.0f}% | {bound['effectivity']['median']:.2f} / "
            f"{bound['effectivity']['max']:.2f}"
            if bound
            else "- | -"
        )
        print(
            f"  | {labels[name]} | {u['relative_l2']['mean']:.6e} | {u['relative_l2']['max']:.6e}"
            f" | {b} | {1e3 * t['predict_s']:.3f} | {t['speedup']:.0f}x |"
        )

    def figures(res: dict) -> np.ndarray:
        u = res["fields"]["u"]
        values = [u["relative_l2"]["mean"], u["relative_l2"]["max"]]
        if "bound" in u:
            values += [u["bound"]["effectivity"]["median"], u["bound"]["effectivity"]["max"]]
        return np.array(values)

    ref = figures(results["rb-nirom", "tb-fx-test"])
    worst = max(
        float(np.max(np.abs(figures(results[name, "tb-fx-test"]) / ref - 1)))
        for name in ("rb-fx-free", "rb-fx-full", "rb-nirom-eim")
    )
    print(
        f"  rb from the program's matrices vs from nirom's (error, effectivity): largest "
        f"relative difference {fig(worst)}"
    )
    reorder = max(
        float(
            np.max(
                np.abs(
                    figures(results[name, "tb-nirom-test"]) - figures(results[name, "tb-fx-test"])
                )
                / np.abs(figures(results[name, "tb-fx-test"]))
            )
        )
        for name in models
    )
    print(
        f"  reordered mesh: every model on nirom's test set (nirom's node order) vs on the "
        f"FEniCSx one (dolfinx's order): largest relative difference of the figures {fig(reorder)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", type=Path, help="folder to work in (default: temporary)")
    parser.add_argument("--train", type=int, default=12, help="plasticity training histories")
    parser.add_argument("--test", type=int, default=6, help="plasticity held-out histories")
    parser.add_argument("--time-solves", type=int, default=3, help="program runs timed")
    parser.add_argument("--thermal-train", type=int, default=12)
    parser.add_argument("--thermal-test", type=int, default=20)
    parser.add_argument("--only", choices=("plasticity", "thermal"))
    args = parser.parse_args()

    missing = fenicsx_missing()
    if missing:
        print(f"benchmarks/fenicsx.py skipped: {missing}")
        return
    with tempfile.TemporaryDirectory(prefix="nirom-fenicsx-") as scratch:
        workdir = (args.workdir or Path(scratch)).resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(workdir / "fenicsx", ignore_errors=True)
        shutil.copytree(EXAMPLE, workdir / "fenicsx", ignore=shutil.ignore_patterns("*-runs"))
        load = os.getloadavg()
        print(
            f"work folder {workdir}; {os.cpu_count()} cores, load average "
            f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
        )
        run = Runner(workdir)
        start = time.perf_counter()
        if args.only in (None, "plasticity"):
            plasticity(run, args.train, args.test, args.time_solves)
        if args.only in (None, "thermal"):
            thermal(run, args.thermal_train, args.thermal_test)
        load = os.getloadavg()
        print(
            f"\ntotal {time.perf_counter() - start:.0f} s; load average at the end "
            f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
        )


if __name__ == "__main__":
    main()

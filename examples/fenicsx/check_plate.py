"""Check the FEniCSx J2-plasticity plate with a hole against nirom's own mechanics solver.

Run with nirom's Python after ``bash examples/fenicsx/setup.sh``:

    python examples/fenicsx/check_plate.py [--loads 120,170,220] [--rtol 1e-11] [--repeat 1] \\
        [--resolution 9 --mesh template/mesh.msh]

For each load, the dolfinx program (plate_hole/template/solve.py) runs as a subprocess
in a scratch folder (through run.sh) on the shipped mesh (nirom's plate_with_hole, P2),
and nirom's ``QuasiStaticSolver`` solves the same case: DisplacementSpace(mesh, 2), the
``plasticity`` law (E, nu, sigma_y, H; C = D = 0), traction (0, load sin(2 pi t)) on
"top", u_x = 0 on "left", u_y = 0 on "bottom", the same steps and Newton tolerance.
Nodes are matched by coordinates (dolfinx renumbers them); the figures are relative
differences over the whole series, ||a - b|| / ||b|| (Frobenius over times and nodes), of
the displacement u and of the cumulated plastic strain p (nirom's L2 projection of its
quadrature values onto P2, ``nirom.mechanics.output``), and the worst time step's. Timings:
the time-stepping alone on each side (dolfinx: solve_time.json; nirom: the solver's
``run`` plus the projection of p), and the program's whole wall time, each the best of
``--repeat`` runs. Exit status 1 if a figure is above the tolerance (1e-8).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jinja2
import numpy as np
from fenicsx_files import match_nodes, read_xdmf

from nirom.mechanics.laws import make_law
from nirom.mechanics.loads import Displacement, LoadHistory, Traction
from nirom.mechanics.meshes import plate_with_hole, quadratic
from nirom.mechanics.output import NodalProjection
from nirom.mechanics.solver import QuasiStaticSolver
from nirom.mechanics.space import DisplacementSpace

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "plate_hole" / "template"
TOLERANCE = 1e-8


def run_program(
    mu: dict[str, float], work: Path, rtol: float, mesh: Path | None
) -> tuple[dict, float, str]:
    """Render the template into ``work`` and run the dolfinx program there."""
    for source in TEMPLATE.iterdir():
        if source.suffix == ".j2":
            (work / source.stem).write_text(jinja2.Template(source.read_text()).render(**mu))
        else:
            shutil.copy2(source, work / source.name)
    if mesh is not None:
        shutil.copy2(mesh, work / "mesh.msh")
    params = json.loads((work / "params.json").read_text())
    params["rtol"] = rtol
    (work / "params.json").write_text(json.dumps(params))
    start = time.perf_counter()
    done = subprocess.run(
        ["bash", str(HERE / "run.sh"), "solve.py"], cwd=work, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"the dolfinx program failed in {work}:\n{done.stdout}\n{done.stderr}")
    return params, wall, done.stdout.strip()


def relative(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Relative difference over the series, and the worst over the time steps where b != 0."""
    whole = float(np.linalg.norm(a - b) / np.linalg.norm(b))
    per_step = [
        np.linalg.norm(x - y) / np.linalg.norm(y)
        for x, y in zip(a, b, strict=True)
        if np.linalg.norm(y) > 0
    ]
    return whole, float(max(per_step))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", default="120,170,220", help="MPa, comma-separated")
    parser.add_argument("--rtol", type=float, default=1e-11, help="Newton tolerance, both codes")
    parser.add_argument("--repeat", type=int, default=1, help="time each side this many times")
    parser.add_argument(
        "--resolution", type=int, default=9, help="the one plate_hole/make_mesh.py wrote"
    )
    parser.add_argument("--mesh", type=Path, help="another mesh.msh (make_mesh.py --out)")
    args = parser.parse_args()

    mesh = quadratic(
        plate_with_hole(10.0, 50.0, 100.0, args.resolution), {"hole": (0.0, 0.0, 10.0)}
    )
    space = DisplacementSpace(mesh, 2)
    projection = NodalProjection(space)
    worst = 0.0
    for load in (float(x) for x in args.loads.split(",")):
        with tempfile.TemporaryDirectory(prefix="fenicsx-plate-") as folder:
            work = Path(folder)
            walls, dolfinx_times = [], []
            for _ in range(args.repeat):
                params, wall, stdout = run_program({"load": load}, work, args.rtol, args.mesh)
                walls.append(wall)
                dolfinx_times.append(
                    json.loads((work / "solve_time.json").read_text())["solve_time_s"]
                )
            out_points, _, series = read_xdmf(work / "result.xdmf")
        law = make_law(
            "plasticity",
            {k: params[k] for k in ("E", "nu", "sigma_y", "H")} | {"C": 0.0, "D": 0.0},
        )
        history = LoadHistory(
            [
                (Traction("top", (0.0, load)), {"kind": "cyclic", "period": params["period"]}),
                (Displacement("left", (0,)), 1.0),
                (Displacement("bottom", (1,)), 1.0),
            ]
        )
        times = params["period"] * np.arange(params["steps"] + 1) / params["steps"]
        nirom_times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            solver = QuasiStaticSolver(space, law, history, rtol=args.rtol)
            setup = time.perf_counter() - start
            result = solver.run(times)
            p_ref = projection(result.p.T).T  # (times, nodes)
            nirom_times.append(time.perf_counter() - start - setup)
        u_ref = result.u.reshape(len(times), space.n_nodes, 2)

        perm = match_nodes(space.mesh.points[:, :2], out_points, 1e-9)
        assert np.allclose([t for t, _ in series["u"]], times)
        u_fx = np.array([values for _, values in series["u"]])[:, perm, :2]
        p_fx = np.array([values for _, values in series["p"]])[:, perm, 0]
        u_rel, u_step = relative(u_fx, u_ref)
        p_rel, p_step = relative(p_fx, p_ref)
        worst = max(worst, u_rel, p_rel, u_step, p_step)
        print(
            f"load {load:g} MPa: u {u_rel:.1e} (worst step {u_step:.1e}), p {p_rel:.1e} (worst "
            f"step {p_step:.1e}); max p {p_ref.max():.4g}; nirom {result.iterations} Newton "
            f"iterations, {len(result.failures)} cuts\n"
            f"  time-stepping (best of {args.repeat}): dolfinx {min(dolfinx_times):.3f} s, nirom "
            f"{min(nirom_times):.3f} s (solver setup {setup:.3f} s more); dolfinx program wall "
            f"time {min(walls):.2f} s\n  {stdout}"
        )
    verdict = "PASS" if worst <= TOLERANCE else "FAIL"
    print(f"{verdict}: worst relative difference {worst:.2e} (tolerance {TOLERANCE:g})")
    sys.exit(0 if worst <= TOLERANCE else 1)


if __name__ == "__main__":
    main()

"""Check the FEniCSx thermal block against nirom's built-in ``thermal-block`` solver.

Run with nirom's Python after ``bash examples/fenicsx/setup.sh``:

    python examples/fenicsx/check_thermal.py [--samples 3] [--seed 0] [--through-nirom]

For each random conductivity set, the dolfinx program (thermal_block/template/solve.py)
runs as a subprocess in a scratch folder (through run.sh) and writes its temperature
(XDMF) and both forms of its system (PETSc binary). Its nodes are matched to nirom's by
coordinates (dolfinx renumbers them), then compared, relative to nirom's values:

- the temperature (2-norm over the nodes);
- the free-free block A_ff, f_f (Frobenius / 2-norm) after renumbering, and the
  temperature solved from them;
- the whole matrix with identity Dirichlet rows: those rows, and its solution.

``--through-nirom`` also solves each set through nirom's CommandSolver
(thermal_block/solver.toml), as ``nirom generate`` would. Exit status 1 if any figure
is above the tolerance (1e-8).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jinja2
import numpy as np
import scipy.sparse.linalg as spla
from fenicsx_files import match_nodes, read_petsc, read_xdmf

from nirom.solvers import make_solver, resolve_solver

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "thermal_block" / "template"
TOLERANCE = 1e-8


def run_program(mu: dict[str, float], work: Path) -> float:
    """Render the template into ``work``, run the dolfinx program there; wall seconds."""
    for source in TEMPLATE.iterdir():
        if source.suffix == ".j2":
            text = jinja2.Template(source.read_text()).render(**mu)
            (work / source.stem).write_text(text)
        else:
            shutil.copy2(source, work / source.name)
    start = time.perf_counter()
    done = subprocess.run(
        ["bash", str(HERE / "run.sh"), "solve.py", "--matrices", "both"],
        cwd=work,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        sys.exit(f"the dolfinx program failed in {work}:\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - start


def relative(a: np.ndarray, b: np.ndarray) -> float:
    """``||a - b|| / ||b||`` (Frobenius for sparse matrices)."""
    if hasattr(a, "toarray"):
        return spla.norm(a - b) / spla.norm(b)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--through-nirom", action="store_true")
    args = parser.parse_args()

    nirom = make_solver("thermal-block", {"nx_blocks": 2, "ny_blocks": 2, "resolution": 48})
    points = nirom.mesh.points[:, :2]
    decomposition = nirom.affine_decomposition()
    interior = decomposition.free
    command = resolve_solver(HERE / "thermal_block" / "solver.toml") if args.through_nirom else None
    rng = np.random.default_rng(args.seed)
    worst = 0.0
    for sample in range(args.samples):
        k = 10.0 ** rng.uniform(-1.0, 1.0, size=4)
        mu = {f"k_{i}": float(k[i]) for i in range(4)}
        u_ref = nirom.solve(mu)["u"]
        a_ref = sum(ki * ai for ki, ai in zip(k, decomposition.matrices, strict=True)).tocsr()
        f_ref = decomposition.vectors[0]
        with tempfile.TemporaryDirectory(prefix="fenicsx-thermal-") as folder:
            work = Path(folder)
            seconds = run_program(mu, work)
            out_points, _, series = read_xdmf(work / "result.xdmf")
            perm = match_nodes(points, out_points, 1e-12)  # nirom node i is output node perm[i]
            u_out = series["u"][0][1].ravel()
            to_nirom = np.empty_like(perm)
            to_nirom[perm] = np.arange(perm.size)  # output node -> nirom node
            # Block form: unknown r of the file is output node free[r].
            a_block = read_petsc(work / "A.petsc")
            f_block = read_petsc(work / "b.petsc")
            free = np.loadtxt(work / "free.txt", dtype=np.int64, ndmin=1)
            unknown = np.full(points.shape[0], -1)
            unknown[interior] = np.arange(interior.size)
            order = unknown[to_nirom[free]]  # nirom's unknown of each of the file's unknowns
            assert np.all(order >= 0) and np.unique(order).size == interior.size
            u_block = np.zeros(points.shape[0])
            u_block[to_nirom[free]] = spla.spsolve(a_block.tocsc(), f_block)
            # Full form: row r is output node nodes[r].
            a_full = read_petsc(work / "A_full.petsc")
            f_full = read_petsc(work / "b_full.petsc")
            rows = np.loadtxt(work / "nodes.txt", dtype=np.int64, ndmin=1)
            u_full = np.empty(points.shape[0])
            u_full[to_nirom[rows]] = spla.spsolve(a_full.tocsc(), f_full)
            fixed = np.flatnonzero(unknown[to_nirom[rows]] < 0)  # the file's boundary rows
            identity = a_full[fixed].toarray()
            identity[np.arange(fixed.size), fixed] -= 1.0
            report = {
                "u (xdmf)": relative(u_out[perm], u_ref),
                "A_ff": relative(a_ref[order][:, order], a_block),
                "f_f": relative(f_ref[order], f_block),
                "u from A_ff": relative(u_block, u_ref),
                "u from A_full": relative(u_full, u_ref),
                "A_full Dirichlet rows - I": float(np.abs(identity).max()),
            }
            if command is not None:
                through = command.solve(mu)["u"]
                perm_c = match_nodes(points, command.mesh.points, 1e-12)
                report["u (CommandSolver)"] = relative(through[perm_c], u_ref)
        worst = max(worst, *report.values())
        figures = ", ".join(f"{name} {value:.1e}" for name, value in report.items())
        print(
            f"sample {sample} (k = {np.array2string(k, precision=3)}, {seconds:.2f} s): {figures}"
        )
    verdict = "PASS" if worst <= TOLERANCE else "FAIL"
    print(f"{verdict}: worst relative difference {worst:.2e} (tolerance {TOLERANCE:g})")
    sys.exit(0 if worst <= TOLERANCE else 1)


if __name__ == "__main__":
    main()

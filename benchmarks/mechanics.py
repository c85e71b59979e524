"""Quasi-static solver figures on this machine: plate-hole, 2 cycles, about 10k and 100k unknowns.

For each size prints the unknowns, load steps, Newton iterations, time per load
step and per Newton iteration, the total, and where the time goes (assembly of
strains, internal forces and tangents; the material law at the quadrature
points; the linear solves), at the nominal parameters (load 110 MPa, R0 140 MPa,
C 20 GPa: an elastoviscoplastic zone around the hole). ``--linear-solvers`` also
times one tangent factorization + solve with each installed linear solver
(the measurement behind ``make_linear_solver("auto")``).

Run: ``python benchmarks/mechanics.py [--resolutions 20 65] [--steps-per-cycle 20]
[--linear-solvers]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from nirom.mechanics import available_linear_solvers, make_linear_solver
from nirom.solvers import PlateHole

NOMINAL = {"load": 110.0, "R0": 140.0, "C": 20e3}


def run_case(resolution: int, steps_per_cycle: int, linear_solver: str) -> None:
    start = time.perf_counter()
    case = PlateHole(
        resolution=resolution, steps_per_cycle=steps_per_cycle, linear_solver=linear_solver
    )
    solver = case.solver(NOMINAL)
    setup = time.perf_counter() - start
    result = solver.run(case.times)
    t = result.timings
    n_free = solver.loads.dirichlet.free.size
    steps, iterations = len(result.steps), result.iterations
    used = solver.linear_solver
    name = used.choice(n_free).name if hasattr(used, "choice") else used.name
    print(
        f"plate-hole P2, resolution {resolution}: {n_free:,} unknowns, "
        f"{case.fe_space.n_qp:,} quadrature points, linear solver {name}"
    )
    print(
        f"  2 cycles: {steps} load steps ({len(result.failures)} cut), {iterations} Newton "
        f"iterations; total {t.total:.1f} s (+ {setup:.2f} s set-up)"
    )
    print(
        f"  per load step {t.total / steps:.3f} s; per Newton iteration "
        f"{t.total / iterations:.3f} s"
    )
    other = t.total - t.assembly - t.law - t.linear_solve
    parts = {"assembly": t.assembly, "material law": t.law, "linear solve": t.linear_solve}
    parts["other"] = other
    print(
        "  where the time goes: "
        + ", ".join(f"{k} {v:.1f} s ({100 * v / t.total:.0f} %)" for k, v in parts.items())
    )
    print(f"  max cumulated plastic strain after 2 cycles: {result.p[-1].max():.4g}")


def time_linear_solvers(resolution: int) -> None:
    case = PlateHole(resolution=resolution)
    solver = case.solver(NOMINAL)
    u = np.zeros(case.fe_space.n_dofs)
    _, tangent, _ = solver.evaluate(u, solver.law.initial_state(case.fe_space.n_qp), 0.5)
    _, k_ff = solver.tangent_free(tangent)
    rhs = solver.loads.external_force(2.5)[solver.loads.dirichlet.free]
    print(f"  tangent at {k_ff.shape[0]:,} unknowns ({k_ff.nnz:,} nonzeros):")
    for name in available_linear_solvers():
        if name == "auto":
            continue
        linear = make_linear_solver(name)
        times = []
        for _ in range(3):  # new values, same pattern, as in Newton iterations
            k_ff.data *= 1.0 + 1e-6
            start = time.perf_counter()
            try:
                x = linear.solve(k_ff, rhs)
            except Exception as exc:
                print(f"    {name}: failed ({exc})")
                break
            times.append(time.perf_counter() - start)
        else:
            residual = np.linalg.norm(k_ff @ x - rhs) / np.linalg.norm(rhs)
            print(
                f"    {name}: first {times[0]:.3f} s, then {min(times[1:]):.3f} s "
                f"(relative residual {residual:.1e})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--resolutions", type=int, nargs="+", default=[20, 65])
    parser.add_argument("--steps-per-cycle", type=int, default=20)
    parser.add_argument("--linear-solver", default="auto")
    parser.add_argument("--linear-solvers", action="store_true")
    args = parser.parse_args()
    for resolution in args.resolutions:
        run_case(resolution, args.steps_per_cycle, args.linear_solver)
        if args.linear_solvers:
            time_linear_solvers(resolution)


if __name__ == "__main__":
    main()

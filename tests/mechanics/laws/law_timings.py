"""Cost of one ``integrate`` call per integration point for each law (not a test).

Run: ``PYTHONPATH=src python tests/mechanics/laws/law_timings.py [--points 100000]``.
Prints, for an elastic step (all points inside the yield surface) and a plastic step
(all points flowing, after a plastic pre-load), the best of ``--repeat`` wall times per
point in microseconds and the local Newton iterations. ``--sweep`` prints instead the
largest number of local Newton iterations of the viscoplastic law by Norton exponent,
over dt from 1e-10 to 1e6 s, K from 1 to 1e4 MPa s^(1/n), three kinematic hardenings and
random multiaxial strain steps up to 0.1.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from nirom.mechanics.laws import make_law

ELASTIC = {"E": 200e3, "nu": 0.3}
CASES = {
    "elastic": ("elastic", ELASTIC),
    "plasticity isotropic+Prager (D=0)": (
        "plasticity",
        {**ELASTIC, "sigma_y": 250.0, "H": 2e3, "C": 30e3, "D": 0.0},
    ),
    "plasticity Armstrong-Frederick": (
        "plasticity",
        {**ELASTIC, "sigma_y": 250.0, "H": 2e3, "C": 60e3, "D": 300.0},
    ),
    "viscoplasticity n=5 AF": (
        "viscoplasticity",
        {**ELASTIC, "R0": 150.0, "K": 200.0, "n": 5.0, "C": 40e3, "D": 200.0},
    ),
    "viscoplasticity n=20 AF": (
        "viscoplasticity",
        {**ELASTIC, "R0": 150.0, "K": 200.0, "n": 20.0, "C": 40e3, "D": 200.0},
    ),
}


def best_time(law, eps, state, dt, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        update = law.integrate(eps, state, dt)
        times.append(time.perf_counter() - start)
    return min(times), update.iterations


def sweep() -> None:
    rng = np.random.default_rng(1)
    size = np.geomspace(1e-3, 1.0, 2000)[:, None]
    for n in (1.0, 3.0, 10.0, 20.0, 50.0):
        worst = 0
        for dt in (1e-10, 1e-3, 1.0, 1e6):
            for K in (1.0, 100.0, 1e4):
                for C, D in ((0.0, 0.0), (1e5, 1000.0), (5e3, 10.0)):
                    params = {**ELASTIC, "R0": 100.0, "K": K, "n": n, "C": C, "D": D}
                    law = make_law("viscoplasticity", params)
                    state = law.initial_state(2000)
                    for scale in (1e-4, 1e-3, 1e-2, 1e-1):
                        eps = size * rng.normal(scale=scale, size=(2000, 6))
                        update = law.integrate(eps, state, dt)
                        worst, state = max(worst, update.iterations), update.state
        print(f"n = {n:4g}: at most {worst} local Newton iterations")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sweep", action="store_true", help="local Newton iterations instead")
    args = parser.parse_args()
    if args.sweep:
        sweep()
        return
    n, dt = args.points, 0.1
    rng = np.random.default_rng(0)
    direction = rng.normal(size=(n, 6))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    print(f"{n} points, best of {args.repeat}, microseconds per point per call")
    print(f"{'law':38s} {'elastic step':>13s} {'plastic step':>13s} {'iterations':>10s}")
    for label, (name, params) in CASES.items():
        law = make_law(name, params)
        state0 = law.initial_state(n)
        t_el, _ = best_time(law, 2e-4 * direction, state0, dt, args.repeat)
        preload = law.integrate(6e-3 * direction, state0, dt).state
        t_pl, its = best_time(law, 8e-3 * direction, preload, dt, args.repeat)
        print(f"{label:38s} {1e6 * t_el / n:13.2f} {1e6 * t_pl / n:13.2f} {its:10d}")


if __name__ == "__main__":
    main()

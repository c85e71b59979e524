"""Cost of one ``integrate`` call per integration point for each law (not a test).

Run: ``PYTHONPATH=src python tests/mechanics/laws/law_timings.py [--points 100000]``.
Prints, for an elastic step (all points inside the yield surface) and a plastic step
(all points flowing, after a plastic pre-load), the best of ``--repeat`` wall times per
point in microseconds and the local Newton iterations.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
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

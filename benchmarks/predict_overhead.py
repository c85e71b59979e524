"""What the public ``predict(dict)`` costs above the model's own computation.

One parameter set (a mapping of the 9 conductivities of the 3 x 3 thermal block,
plain floats) predicted again and again by ``rb`` (with its bound) and by ``pod-rbf``;
beside each, the model's own computation on the same set:

- ``rb``: the reduced solve and its bound (``model_.solve`` and ``model_.bound`` on the
  physical row) and the full-field reconstruction, the work ``predict`` must do;
- ``pod-rbf``: ``_predict_batch`` on the set already prepared (regression and modes), once
  on one reused batch and once on a new batch each call (as ``predict`` has one), its
  unit-cube coordinates computed before the timing.

Printed: median microseconds per call over ``--repeats`` calls (after a warm-up), the
overhead (public minus own) and the ratio, beside the targets (overhead <= 20 us; rb
through ``predict(dict)`` within 1.3x of its bare reduced solve with bound).

Run::

    python benchmarks/predict_overhead.py [--workdir /tmp/overhead] [--repeats 2000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from nirom.generation import generate
from nirom.surrogates import make_surrogate

OPTIONS = {"nx_blocks": 3, "ny_blocks": 3, "resolution": 48}


def median_us(call: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``call`` in microseconds (each call timed alone)."""
    for _ in range(min(100, repeats)):
        call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1e6 * statistics.median(times)


def row(label: str, public: float, own: float) -> None:
    print(
        f"{label:<10} predict(dict) {public:8.1f} us   own work {own:8.1f} us   "
        f"overhead {public - own:6.1f} us (target <= 20)   ratio {public / own:5.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=2000)
    args = parser.parse_args()
    root = args.workdir or Path(tempfile.mkdtemp(prefix="nirom-overhead-"))
    quiet = Console(quiet=True)
    data = generate(
        "thermal-block", root / "tb.nirom", 32, workers=0, solver_options=OPTIONS,
        operators=True, console=quiet,
    ).dataset  # fmt: skip
    rb = make_surrogate("rb").fit(data)
    rbf = make_surrogate("pod-rbf").fit(data)
    mu = {f"k_{i}": 0.3 + 0.5 * i for i in range(9)}
    print(f"2 cores, load average {os.getloadavg()[0]:.1f}; {data.mesh.n_points} nodes")

    batch = rb.prepare(mu)
    x = batch.x

    def rb_own() -> None:
        c = rb.model_.solve(x)
        rb.model_.bound(x, c)
        rb._field(c)

    public = median_us(lambda: rb.predict(mu, return_bound=True), args.repeats)
    row("rb", public, median_us(rb_own, args.repeats))
    print(f"{'':<10} (target: within 1.3x of the bare reduced solve with bound)")
    prepared = rbf.prepare(mu)
    public = median_us(lambda: rbf.predict(mu), args.repeats)
    row("pod-rbf", public, median_us(lambda: rbf._predict_batch(prepared, False, False), 2000))
    # The same work on a new batch each call (as predict has), its unit-cube map made before:
    # what the reused, cache-hot batch above does not pay.
    batches = [rbf.prepare(mu) for _ in range(args.repeats + 200)]
    for batch in batches:
        _ = batch.u
    it = iter(batches)
    own_fresh = median_us(lambda: rbf._predict_batch(next(it), False, False), args.repeats)
    row("  (fresh)", public, own_fresh)
    print(f"prepare(dict) alone: {median_us(lambda: rbf.prepare(mu), args.repeats):.1f} us")
    x = prepared.x
    print(f"unit-cube map alone: {median_us(lambda: rbf._unit(x), args.repeats):.1f} us")
    for label, eager in (("map before the call", True), ("map inside the call", False)):
        batches = [rbf.prepare(mu) for _ in range(args.repeats + 200)]
        if eager:
            for batch in batches:
                _ = batch.u
        it = iter(batches)
        took = median_us(lambda it=it: rbf.predict_prepared(next(it)), args.repeats)
        print(f"predict_prepared on new batches, {label}: {took:.1f} us")


if __name__ == "__main__":
    main()

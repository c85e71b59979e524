"""Dataset store and thermal-block figures on this machine.

Prints the thermal-block solve time at about 100k unknowns, and the store's
append and read throughput for samples of that size (one float64 field of
101,761 nodes, ~0.8 MB). Run: ``python benchmarks/store.py [--samples N]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from nirom import Dataset
from nirom.solvers import ThermalBlock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--resolution", type=int, default=318)  # 317^2 = 100,489 unknowns
    args = parser.parse_args()

    start = time.perf_counter()
    solver = ThermalBlock(resolution=args.resolution)
    setup = time.perf_counter() - start
    design = solver.space.sample(args.samples, design="sobol", seed=0)
    n_unknowns = solver.interior.size
    solves, snapshots = [], []
    for row in design[:5]:
        mu = solver.space.as_dict(row)
        start = time.perf_counter()
        snapshots.append(solver.solve(mu)["u"])
        solves.append(time.perf_counter() - start)
    print(f"thermal block 3x3, P1: {n_unknowns} unknowns, {solver.mesh.n_points} nodes")
    print(f"  assembly (once): {setup:.2f} s; solve: median {np.median(solves):.3f} s over 5")

    with tempfile.TemporaryDirectory() as tmp:
        ds = Dataset.create(Path(tmp) / "bench", solver.space, solver.fields, solver.mesh)
        start = time.perf_counter()
        for i, row in enumerate(design):
            mu = solver.space.as_dict(row)
            ds.append(mu, {"u": snapshots[i % len(snapshots)]}, sample_id=i, solve_time=0.0)
        append = (time.perf_counter() - start) / args.samples
        start = time.perf_counter()
        loaded = ds.field("u")
        read = (time.perf_counter() - start) / args.samples
        start = time.perf_counter()
        lazy_sum = float(ds.to_dask("u").sum().compute())
        dask_read = (time.perf_counter() - start) / args.samples
        assert np.isclose(lazy_sum, loaded.sum())
        mb = loaded[0].nbytes / 1e6
        size = ds.summary()["disk_bytes"] / args.samples / 1e6
    print(f"store, {args.samples} samples of {mb:.2f} MB (on disk {size:.2f} MB each, zstd):")
    print(f"  append (validate, write, fsync, rename): {1e3 * append:.1f} ms/sample")
    print(
        f"  read as NumPy: {1e3 * read:.1f} ms/sample; "
        f"lazy Dask sum: {1e3 * dask_read:.1f} ms/sample"
    )


if __name__ == "__main__":
    main()

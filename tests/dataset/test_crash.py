"""Crash safety: a process appending samples is killed with SIGKILL at many instants.

After every kill the store must open, list every sample the process reported
done, read each of them back intact, and accept new samples.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from nirom import Dataset, FieldSpec, Mesh, ParameterSpace, Uniform

N_POINTS = 400_000  # large enough that writing dominates the append loop

CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    from nirom import Dataset

    ds = Dataset(sys.argv[1])
    tag = int(sys.argv[2])
    n = ds.mesh.n_points
    print("ready", flush=True)
    while True:
        u = np.arange(n) / n + tag
        fields = {"u": u, "v": np.column_stack([u, -u])}
        mu = {"a": (tag % 97) / 97}
        # Alternate automatic ids and explicit ones (as generation assigns them).
        explicit = 10_000 + tag if tag % 2 else None
        i = ds.append(mu, fields, sample_id=explicit, solve_time=0.0, info={"tag": tag})
        print(f"done {i} {tag}", flush=True)
        tag += 1
    """
)


def expected_fields(tag: int) -> dict[str, np.ndarray]:
    u = np.arange(N_POINTS) / N_POINTS + tag
    return {"u": u, "v": np.column_stack([u, -u])}


@pytest.fixture
def store(tmp_path: Path) -> Dataset:
    points = np.linspace(0.0, 1.0, N_POINTS)
    cells = np.column_stack([np.arange(N_POINTS - 1), np.arange(1, N_POINTS)])
    mesh = Mesh(points, [("line", cells)])
    space = ParameterSpace([Uniform("a", 0.0, 1.0)])
    return Dataset.create(
        tmp_path / "ds", space, [FieldSpec("u"), FieldSpec("v", components=2)], mesh
    )


def run_and_kill(path: Path, script: Path, first_tag: int, n_done: int, delay: float) -> list:
    """Start an appender, let it report ``n_done`` samples, wait ``delay`` s, SIGKILL it."""
    child = subprocess.Popen(
        [sys.executable, str(script), str(path), str(first_tag)],
        stdout=subprocess.PIPE,
        text=True,
    )
    reported = []
    try:
        assert child.stdout.readline().strip() == "ready"
        while len(reported) < n_done:
            line = child.stdout.readline()
            assert line.startswith("done"), f"appender died: {line!r}"
            _, sample_id, tag = line.split()
            reported.append((int(sample_id), int(tag)))
        time.sleep(delay)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    # Lines printed between the last read and the kill were also done.
    for line in child.stdout.read().splitlines():
        if line.startswith("done"):
            _, sample_id, tag = line.split()
            reported.append((int(sample_id), int(tag)))
    return reported


def check_intact(path: Path, reported: list) -> None:
    ds = Dataset(path)
    done = set(ds.sample_ids("done"))
    assert ds.sample_ids(None) == sorted(done), "only done samples may be listed"
    for sample_id, _ in reported:
        assert sample_id in done, f"sample {sample_id} was reported done but is missing"
    for sample_id in done:  # reported or finished just before the kill: all intact
        tag = ds.read_meta(sample_id)["info"]["tag"]
        sample = ds.sample(sample_id)
        for name, value in expected_fields(tag).items():
            np.testing.assert_array_equal(sample.fields[name], value)


def test_sigkill_at_many_instants_loses_no_done_sample(store: Dataset, tmp_path: Path) -> None:
    script = tmp_path / "appender.py"
    script.write_text(CHILD)
    all_reported: list = []
    leftovers = 0
    tag = 0
    # (samples to wait for, extra delay before the kill): from "during the first
    # write" to "several samples in", at staggered offsets within a write.
    for n_done, delay in [
        (0, 0.35),
        (1, 0.0),
        (1, 0.013),
        (2, 0.029),
        (1, 0.047),
        (3, 0.071),
        (2, 0.11),
        (1, 0.005),
    ]:
        all_reported += run_and_kill(store.path, script, tag, n_done, delay)
        tag += 100
        check_intact(store.path, all_reported)
        leftovers = max(leftovers, Dataset(store.path).counts()["staging"])
    # The kills must have hit mid-write at least once, or this test proved nothing.
    assert leftovers > 0
    ds = Dataset(store.path)
    n_before = len(ds)
    new_id = ds.append({"a": 0.5}, expected_fields(999), info={"tag": 999})
    assert new_id not in {i for i, _ in all_reported}
    assert len(ds) == n_before + 1
    assert ds.clean_staging(older_than=0) >= 1
    assert ds.counts()["staging"] == 0
    check_intact(store.path, all_reported)
    assert len({i for i, _ in all_reported}) == len(all_reported)

"""Dataset store: writing, reading, concurrency, schema checks and damage detection."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import random
import time
from pathlib import Path

import numpy as np
import pytest
import skfem
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nirom import (
    Dataset,
    DatasetError,
    FieldError,
    FieldInput,
    FieldSpec,
    LogUniform,
    Mesh,
    MeshError,
    ParameterError,
    ParameterSpace,
    SchemaError,
    Uniform,
)

MESH = Mesh.from_skfem(skfem.MeshTri().refined(2))
SPACE = ParameterSpace([LogUniform("k", 0.1, 10.0), Uniform("f", -1.0, 1.0)])
FIELDS = [
    FieldSpec("u"),
    FieldSpec("q", location="cell", components=2),
    FieldSpec("c", location="global"),
]


def make_fields(mu: dict, mesh: Mesh = MESH) -> dict[str, np.ndarray]:
    """Deterministic fields of a parameter set, so read-back can be checked exactly."""
    x = mesh.points[:, 0]
    return {
        "u": mu["k"] * np.sin(np.pi * x) + mu["f"],
        "q": np.column_stack(
            [np.full(mesh.n_cells, mu["k"]), np.arange(mesh.n_cells, dtype=float)]
        ),
        "c": np.float64(mu["k"] * mu["f"]),
    }


@pytest.fixture
def ds(tmp_path: Path) -> Dataset:
    return Dataset.create(tmp_path / "ds", SPACE, FIELDS, MESH)


def fill(ds: Dataset, n: int) -> np.ndarray:
    design = SPACE.sample(n, seed=1)
    for i, row in enumerate(design):
        mu = SPACE.as_dict(row)
        ds.append(mu, make_fields(mu), sample_id=i, solve_time=0.01 * (i + 1))
    return design


def test_round_trip_of_parameters_fields_and_times(ds: Dataset) -> None:
    design = fill(ds, 6)
    reopened = Dataset(ds.path)
    assert reopened.sample_ids() == list(range(6))
    np.testing.assert_array_equal(reopened.parameters(), design)
    np.testing.assert_allclose(reopened.solve_times(), 0.01 * np.arange(1, 7))
    for i, row in enumerate(design):
        expected = make_fields(SPACE.as_dict(row))
        sample = reopened.sample(i)
        assert sample.status == "done"
        for name, value in expected.items():
            np.testing.assert_array_equal(sample.fields[name], value)
    assert reopened.mesh == MESH
    assert reopened.space == SPACE
    assert reopened.fields == {f.name: f for f in FIELDS}


def test_field_subset_and_dask_match(ds: Dataset) -> None:
    fill(ds, 5)
    subset = ds.field("u", [3, 1])
    np.testing.assert_array_equal(subset[0], ds.sample(3).fields["u"])
    np.testing.assert_array_equal(subset[1], ds.sample(1).fields["u"])
    lazy = ds.to_dask("q")
    assert lazy.shape == (5, MESH.n_cells, 2)
    assert lazy.chunks[0] == (1,) * 5
    np.testing.assert_array_equal(lazy.compute(), ds.field("q"))
    np.testing.assert_array_equal(ds.to_dask("c", [2, 4]).compute(), ds.field("c", [2, 4]))


def test_auto_ids_and_failures_share_one_namespace(ds: Dataset) -> None:
    mu = {"k": 1.0, "f": 0.0}
    a = ds.append(mu, make_fields(mu))
    b = ds.record_failure({"k": 1.0, "f": 5.0}, "singular matrix")
    c = ds.append(mu, make_fields(mu))
    assert (a, b, c) == (0, 1, 2)
    assert ds.counts() == {"done": 2, "failed": 1, "staging": 0}
    failed = ds.sample(1)
    assert failed.status == "failed" and failed.error == "singular matrix"
    assert failed.mu == {"k": 1.0, "f": 5.0} and failed.fields == {}
    with pytest.raises(DatasetError, match="sample 1 is failed"):
        ds.field("u", [1])


def test_retry_replaces_failure_but_never_a_done_sample(ds: Dataset) -> None:
    mu = {"k": 2.0, "f": 0.5}
    ds.record_failure(mu, "timeout", sample_id=7)
    assert ds.append(mu, make_fields(mu), sample_id=7) == 7
    assert ds.statuses() == {7: "done"}
    with pytest.raises(DatasetError, match="sample 7 is already done"):
        ds.append(mu, make_fields(mu), sample_id=7)
    with pytest.raises(DatasetError, match="sample 7 is already done"):
        ds.record_failure(mu, "late failure", sample_id=7)
    np.testing.assert_array_equal(ds.field("u", [7])[0], make_fields(mu)["u"])
    assert ds.counts()["staging"] == 0


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"u": np.zeros(3)}, "missing field"),
        ({**make_fields({"k": 1, "f": 0}), "w": np.zeros(3)}, "unknown field"),
        (
            {**make_fields({"k": 1, "f": 0}), "u": np.zeros(MESH.n_points + 1)},
            "field 'u': expected shape",
        ),
        (
            {**make_fields({"k": 1, "f": 0}), "q": np.zeros((MESH.n_cells, 3))},
            "field 'q': expected shape",
        ),
        ({**make_fields({"k": 1, "f": 0}), "c": np.zeros(2)}, "field 'c': expected shape"),
    ],
)
def test_bad_fields_are_refused_naming_the_field(ds: Dataset, fields: dict, match: str) -> None:
    with pytest.raises(FieldError, match=match):
        ds.append({"k": 1.0, "f": 0.0}, fields, sample_id=3)
    assert ds.statuses() == {}


@pytest.mark.parametrize(
    ("mu", "match"),
    [
        ({"k": 20.0, "f": 0.0}, "'k'.*out of bounds"),
        ({"k": 1.0}, "missing parameter.*'f'"),
        ({"k": 1.0, "f": 0.0, "g": 1.0}, "unknown parameter.*'g'"),
        ({"k": float("nan"), "f": 0.0}, "'k'.*finite"),
    ],
)
def test_bad_parameters_are_refused_naming_the_parameter(ds: Dataset, mu: dict, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        ds.append(mu, make_fields({"k": 1.0, "f": 0.0}))
    assert ds.statuses() == {}


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    bad=hnp.arrays(
        np.float64,
        st.integers(1, 2 * MESH.n_points).map(lambda n: (n,)),
        elements=st.floats(allow_nan=True, allow_infinity=True),
    )
)
def test_any_malformed_field_is_refused_and_store_unchanged(ds: Dataset, bad: np.ndarray) -> None:
    good = make_fields({"k": 1.0, "f": 0.0})
    if bad.shape == good["u"].shape and np.all(np.isfinite(bad)):
        return  # a valid field: nothing malformed to check
    before = ds.statuses()
    with pytest.raises(FieldError, match="field 'u'"):
        ds.append({"k": 1.0, "f": 0.0}, {**good, "u": bad})
    assert ds.statuses() == before
    assert ds.counts()["staging"] == 0


def test_field_inputs_are_stored_with_the_sample(tmp_path: Path) -> None:
    space = ParameterSpace([Uniform("a", 0, 1), FieldInput("kappa", (MESH.n_points,), low=0.0)])
    ds = Dataset.create(tmp_path / "fi", space, [FieldSpec("u")], MESH)
    kappa = np.linspace(0, 1, MESH.n_points)
    ds.append({"a": 0.5, "kappa": kappa}, {"u": 2 * kappa})
    sample = ds.sample(0)
    np.testing.assert_array_equal(sample.mu["kappa"], kappa)
    assert sample.mu["a"] == 0.5
    with pytest.raises(ParameterError, match="'kappa'.*shape"):
        ds.append({"a": 0.5, "kappa": kappa[:-1]}, {"u": kappa})


def test_time_series_fields(tmp_path: Path) -> None:
    spec = FieldSpec("T", times=(0.0, 0.5, 1.0))
    ds = Dataset.create(tmp_path / "ts", SPACE, [spec], MESH)
    series = np.outer([0.0, 0.5, 1.0], MESH.points[:, 0])
    ds.append({"k": 1.0, "f": 0.0}, {"T": series})
    assert ds.field_shape("T") == (3, MESH.n_points)
    np.testing.assert_array_equal(ds.to_dask("T").compute()[0], series)
    assert Dataset(ds.path).fields["T"].times == (0.0, 0.5, 1.0)


def test_per_sample_meshes(tmp_path: Path) -> None:
    ds = Dataset.create(tmp_path / "ps", SPACE, [FieldSpec("u")], per_sample_mesh=True)
    small, large = Mesh.from_skfem(skfem.MeshTri().refined(1)), MESH
    ds.append({"k": 1, "f": 0}, {"u": np.ones(small.n_points)}, mesh=small)
    ds.append({"k": 1, "f": 0}, {"u": np.ones(large.n_points)}, mesh=large)
    assert ds.mesh_of(0) == small and ds.mesh_of(1) == large
    with pytest.raises(MeshError, match="needs each sample's mesh"):
        ds.append({"k": 1, "f": 0}, {"u": np.ones(small.n_points)})
    with pytest.raises(FieldError, match="expected shape"):
        ds.append({"k": 1, "f": 0}, {"u": np.ones(small.n_points)}, mesh=large)


def _append_worker(path: str, worker: int, n: int) -> None:
    ds = Dataset(path)
    for j in range(n):
        mu = {"k": 1.0 + worker, "f": j / n}
        ds.append(mu, make_fields(mu), info={"worker": worker, "j": j})


def test_concurrent_appends_from_processes_get_unique_ids(ds: Dataset) -> None:
    ctx = mp.get_context("spawn")
    workers = [ctx.Process(target=_append_worker, args=(str(ds.path), w, 8)) for w in range(3)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(120)
        assert p.exitcode == 0
    ids = ds.sample_ids()
    assert ids == list(range(24))
    seen = set()
    for i in ids:
        info = ds.read_meta(i)["info"]
        seen.add((info["worker"], info["j"]))
        mu = {"k": 1.0 + info["worker"], "f": info["j"] / 8}
        np.testing.assert_array_equal(ds.field("u", [i])[0], make_fields(mu)["u"])
    assert len(seen) == 24


# -- opening and schema ---------------------------------------------------------
def test_create_refuses_an_existing_nonempty_directory(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("precious")
    with pytest.raises(DatasetError, match="already exists"):
        Dataset.create(tmp_path / "x", SPACE, FIELDS, MESH)
    assert (tmp_path / "x" / "keep.txt").read_text() == "precious"


def test_create_needs_a_mesh_for_mesh_fields(tmp_path: Path) -> None:
    with pytest.raises(MeshError, match="give a mesh"):
        Dataset.create(tmp_path / "m", SPACE, [FieldSpec("u")])
    Dataset.create(tmp_path / "g", SPACE, [FieldSpec("c", location="global")])


def _rewrite_root(ds: Dataset, edit) -> None:
    meta_file = ds.path / "zarr.json"
    doc = json.loads(meta_file.read_text())
    edit(doc)
    meta_file.write_text(json.dumps(doc))


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (lambda p: None, None),
        (lambda p: (p / "zarr.json").unlink(), "not a nirom dataset"),
        (lambda p: (p / "zarr.json").write_bytes(b"\x00\xff garbage"), "corrupt metadata"),
        (
            lambda p: (p / "zarr.json").write_text('{"zarr_format": 3, "node_type": "group"}'),
            "not a nirom dataset",
        ),
    ],
)
def test_open_checks_the_stamp(ds: Dataset, damage, match) -> None:
    damage(ds.path)
    if match is None:
        Dataset(ds.path)
    else:
        with pytest.raises(SchemaError, match=match):
            Dataset(ds.path)


def test_open_refuses_other_format_versions(ds: Dataset) -> None:
    _rewrite_root(ds, lambda d: d["attributes"]["nirom"].update(format_version=999))
    with pytest.raises(SchemaError, match="format version 999"):
        Dataset(ds.path)


def test_open_refuses_paths_that_are_not_datasets(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="no such dataset"):
        Dataset(tmp_path / "absent")
    (tmp_path / "file").write_text("x")
    with pytest.raises(SchemaError, match="not a directory"):
        Dataset(tmp_path / "file")
    with pytest.raises(SchemaError, match="no zarr.json"):
        Dataset(tmp_path)


def test_damaged_chunks_are_detected_not_read_as_data(ds: Dataset) -> None:
    fill(ds, 3)
    chunk_dir = ds.path / "samples" / "s00000001" / "fields" / "u" / "c"
    chunk = next(p for p in chunk_dir.rglob("*") if p.is_file())
    chunk.write_bytes(chunk.read_bytes()[:-7])
    with pytest.raises(DatasetError, match=r"sample 1, fields/u: damaged on disk"):
        ds.field("u")
    chunk.unlink()
    with pytest.raises(DatasetError, match=r"sample 1, fields/u: damaged on disk"):
        ds.sample(1)
    # The other samples stay readable.
    assert ds.field("u", [0, 2]).shape == (2, MESH.n_points)


def test_corrupt_sample_metadata_names_the_file(ds: Dataset) -> None:
    fill(ds, 2)
    (ds.path / "samples" / "s00000000" / "zarr.json").write_text("{not json")
    with pytest.raises(DatasetError, match=r"s00000000/zarr.json: corrupt sample metadata"):
        ds.sample_ids()


def test_clean_staging_removes_only_old_leftovers(ds: Dataset) -> None:
    old, fresh = ds.path / "staging" / "old.1", ds.path / "staging" / "fresh.2"
    old.mkdir()
    fresh.mkdir()
    os.utime(old, (0, 0))
    assert ds.counts()["staging"] == 2
    assert ds.clean_staging(older_than=3600) == 1
    assert not old.exists() and fresh.exists()


def test_summary_reports_counts_mesh_and_times(ds: Dataset) -> None:
    fill(ds, 4)
    ds.record_failure({"k": 1, "f": 0}, "diverged")
    s = ds.summary()
    assert s["samples"] == {"done": 4, "failed": 1, "staging": 0}
    assert s["failures"] == [{"id": 4, "error": "diverged"}]
    assert s["mesh"] == {"points": MESH.n_points, "cells": {"triangle": MESH.n_cells}, "dim": 2}
    assert s["solve_time_s"]["max"] == pytest.approx(0.04)
    assert s["disk_bytes"] > 0
    json.dumps(s)


def _retry_worker(path: str, worker: int, n: int, queue) -> None:
    _slow_metadata_reads(worker)
    ds = Dataset(path)
    won = []
    for i in range(n):
        mu = {"k": 1.0 + worker, "f": 0.0}
        try:
            ds.append(mu, make_fields(mu), sample_id=i, info={"worker": worker})
            won.append(i)
        except DatasetError as exc:
            assert f"sample {i}" in str(exc)
    queue.put((worker, won))


def test_concurrent_retries_of_failed_samples_finish_each_once(ds: Dataset) -> None:
    for i in range(20):
        ds.record_failure({"k": 1.0, "f": 0.0}, "first attempt failed", sample_id=i)
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    workers = [
        ctx.Process(target=_retry_worker, args=(str(ds.path), w, 20, queue)) for w in range(4)
    ]
    for p in workers:
        p.start()
    won = dict(queue.get(timeout=120) for _ in workers)
    for p in workers:
        p.join(120)
        assert p.exitcode == 0
    assert sorted(i for w in won.values() for i in w) == list(range(20))
    assert ds.statuses() == dict.fromkeys(range(20), "done")
    for i in range(20):
        worker = ds.read_meta(i)["info"]["worker"]
        assert i in won[worker]
        expected = make_fields({"k": 1.0 + worker, "f": 0.0})["u"]
        np.testing.assert_array_equal(ds.field("u", [i])[0], expected)


def _slow_metadata_reads(seed: int) -> None:
    """Widen every check-then-act window in this worker: sleep after each metadata read."""
    rng = random.Random(seed)
    original = Dataset.read_meta

    def slow(self: Dataset, sample_id: int) -> dict:
        meta = original(self, sample_id)
        time.sleep(rng.uniform(0.0, 0.004))
        return meta

    Dataset.read_meta = slow  # this worker process only


def _mixed_worker(path: str, worker: int, n: int) -> None:
    _slow_metadata_reads(worker)
    ds = Dataset(path)
    mu = {"k": 1.0 + worker, "f": 0.0}
    for i in random.Random(100 + worker).sample(range(n), n):  # each its own order
        try:
            if worker > 0:  # late failure records (an orphaned run, a retry that failed)
                ds.record_failure(mu, f"late failure from {worker}", sample_id=i)
            else:
                ds.append(mu, make_fields(mu), sample_id=i, info={"worker": worker})
        except DatasetError as exc:
            assert "already done" in str(exc) or "meanwhile" in str(exc)


N_RACE = 60


def test_failure_records_never_replace_a_done_sample(ds: Dataset) -> None:
    for i in range(N_RACE):
        ds.record_failure({"k": 1.0, "f": 0.0}, "first attempt failed", sample_id=i)
    ctx = mp.get_context("spawn")
    workers = [ctx.Process(target=_mixed_worker, args=(str(ds.path), w, N_RACE)) for w in range(4)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(120)
        assert p.exitcode == 0
    # Whatever the interleaving, a done result wins over every failure record.
    assert ds.statuses() == dict.fromkeys(range(N_RACE), "done")
    for i in range(N_RACE):
        worker = ds.read_meta(i)["info"]["worker"]
        expected = make_fields({"k": 1.0 + worker, "f": 0.0})["u"]
        np.testing.assert_array_equal(ds.field("u", [i])[0], expected)


def test_missing_mesh_chunk_is_detected(ds: Dataset) -> None:
    chunk_dir = ds.path / "mesh" / "cells" / "0" / "c"
    for chunk in [p for p in chunk_dir.rglob("*") if p.is_file()]:
        chunk.unlink()
    with pytest.raises(DatasetError, match="damaged on disk .*-1"):
        Dataset(ds.path)

"""The dataset store: samples of a parametrized simulation in a directory on disk.

Layout (one zarr v3 hierarchy, readable by any zarr tool)::

    DATASET/
      zarr.json              root group; attribute "nirom" holds the format
                             stamp, parameter space and field specifications
      mesh/                  reference mesh: points, cells/<k> (attr cell_type)
      samples/s00000017/     one group per sample; attributes: id, status
                             ("done" | "failed"), mu (scalar parameters),
                             solve_time_s, error, written_at
        fields/<name>        output field arrays (done samples)
        inputs/<name>        field-valued inputs
        mesh/                the sample's own mesh (per-sample-mesh datasets)
      staging/               groups being written; never read as samples

Crash safety rests on one atomic step: a sample is written completely under
``staging/`` (files fsynced), then renamed into ``samples/``. A process killed
at any instant leaves either the whole sample or none of it; leftovers stay
in ``staging/`` and :meth:`Dataset.clean_staging` removes them. Sample
directories are never empty, so renaming onto an existing one fails: the
rename also arbitrates between processes appending at once, without a lock.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import fcntl
import json
import os
import re
import shutil
import socket
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from nirom.dataset.quadrature import QuadratureRule
from nirom.dataset.schema import (
    BASE_FORMAT_VERSION,
    FORMAT_NAME,
    FORMAT_VERSION,
    QUADRATURE_FORMAT_VERSION,
    READABLE_VERSIONS,
    FieldSpec,
)
from nirom.errors import (
    DatasetError,
    FieldError,
    MeshError,
    SampleExistsError,
    SampleMissingError,
    SchemaError,
)
from nirom.mesh import Mesh
from nirom.parameters import ParameterSpace

_SAMPLE_DIR = re.compile(r"^s(\d{8,})$")
# Missing chunks read back as the fill value; NaN is never stored (appends
# reject it), so a NaN read back means the store was damaged.
_FILL = np.nan


def _codec() -> Any:
    return zarr.codecs.ZstdCodec(level=1, checksum=True)


def _sample_name(sample_id: int) -> str:
    return f"s{sample_id:08d}"


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


@dataclass
class Sample:
    """One sample as read back from a dataset.

    ``fields`` and the field inputs in ``mu`` are loaded arrays;
    ``solve_time`` is in seconds (None if not recorded).
    """

    id: int
    status: str
    mu: dict[str, Any]
    fields: dict[str, np.ndarray] = field(default_factory=dict)
    solve_time: float | None = None
    error: str | None = None
    mesh: Mesh | None = None


class Dataset:
    """A directory-backed dataset of simulation samples.

    Open an existing store with ``Dataset(path)`` (or :meth:`open`), make a
    new one with :meth:`create`. Several processes may append to the same
    store at once; each sees the others' samples on its next listing.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        meta = _read_root_meta(self.path)
        try:
            self.space = ParameterSpace.from_dict(meta["parameter_space"])
            self.fields: dict[str, FieldSpec] = {
                d["name"]: FieldSpec.from_dict(d) for d in meta["fields"]
            }
            self.per_sample_mesh = bool(meta["per_sample_mesh"])
            self.description = str(meta.get("description", ""))
            self.provenance: dict[str, Any] = dict(meta.get("provenance") or {})
            self.format_version = int(meta["format_version"])
            rule = meta.get("quadrature")
            self.quadrature: QuadratureRule | None = (
                None if rule is None else QuadratureRule.from_dict(rule)
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SchemaError(f"{self.path}: malformed dataset metadata ({exc})") from None
        self.mesh: Mesh | None = None
        if (self.path / "mesh" / "zarr.json").is_file():
            self.mesh = _read_mesh(self.path / "mesh", what=f"{self.path}: reference mesh")

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Dataset:
        """Open an existing dataset; same as ``Dataset(path)``."""
        return cls(path)

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        space: ParameterSpace,
        fields: Sequence[FieldSpec],
        mesh: Mesh | None = None,
        *,
        per_sample_mesh: bool = False,
        description: str = "",
        provenance: Mapping[str, Any] | None = None,
        quadrature: QuadratureRule | None = None,
    ) -> Dataset:
        """Create an empty dataset at ``path`` (which must not exist or be empty).

        Parameters
        ----------
        space : ParameterSpace
            The parameters each sample is labelled with.
        fields : sequence of FieldSpec
            The output fields every done sample carries.
        mesh : Mesh, optional
            The reference mesh point/cell fields live on.
        per_sample_mesh : bool
            Each sample carries its own mesh (varying geometry); ``mesh`` is
            then optional and only a reference for morphing.
        description : str
            Free text for people.
        provenance : mapping, optional
            JSON-compatible record of how the samples are made (solver recipe,
            design, seed), checked by generation when it resumes.
        quadrature : QuadratureRule, optional
            The rule of the "quadrature" fields (required if there are any): cell
            type, element, reference points and weights, so any reader can place
            the points (:func:`nirom.dataset.quadrature.quadrature_points`).
            Such a dataset is format version 2; one without is version 1.
        """
        path = Path(path)
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise DatasetError(f"{path}: already exists and is not an empty directory")
        specs = list(fields)
        if not specs:
            raise FieldError("a dataset needs at least one output field")
        names = [f.name for f in specs]
        if len(set(names)) != len(names):
            raise FieldError(f"duplicate field names in {names}")
        on_mesh = [f.name for f in specs if f.location != "global"]
        if on_mesh and mesh is None and not per_sample_mesh:
            raise MeshError(f"fields {on_mesh} live on a mesh: give a mesh or per_sample_mesh=True")
        at_points = [f.name for f in specs if f.location == "quadrature"]
        if at_points and quadrature is None:
            raise FieldError(f"quadrature fields {at_points} need the quadrature rule")
        if quadrature is not None and mesh is not None:
            _check_rule(mesh, quadrature)
        meta = {
            "format": FORMAT_NAME,
            "format_version": BASE_FORMAT_VERSION
            if quadrature is None
            else QUADRATURE_FORMAT_VERSION,
            "written_by": f"nirom {_nirom_version()}",
            "created_at": _now(),
            "description": description,
            "parameter_space": space.to_dict(),
            "fields": [f.to_dict() for f in specs],
            "per_sample_mesh": per_sample_mesh,
            "provenance": dict(provenance or {}),
        }
        if quadrature is not None:
            meta["quadrature"] = quadrature.to_dict()
        # Build the skeleton aside and rename it into place, so a crash never
        # leaves a half-made dataset at ``path``.
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / f".{path.name}.creating-{uuid.uuid4().hex[:8]}"
        try:
            root = zarr.open_group(tmp, mode="w-")
            root.create_group("samples")
            root.create_group("staging")
            if mesh is not None:
                _write_mesh(root.create_group("mesh"), mesh)
            root.attrs["nirom"] = meta  # written last: its presence marks a dataset
            _fsync_tree(tmp)
            try:
                os.rename(tmp, path)  # atomically replaces an empty directory too
            except OSError as exc:
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
                raise DatasetError(f"{path}: created by another process meanwhile") from None
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return cls(path)

    # -- listing -------------------------------------------------------------
    def _sample_dir(self, sample_id: int) -> Path:
        return self.path / "samples" / _sample_name(sample_id)

    def _all_ids(self) -> list[int]:
        try:
            names = os.listdir(self.path / "samples")
        except FileNotFoundError:
            raise SchemaError(f"{self.path}: samples/ folder is missing") from None
        return sorted(int(m.group(1)) for n in names if (m := _SAMPLE_DIR.match(n)))

    def read_meta(self, sample_id: int) -> dict[str, Any]:
        """The attributes of one sample (id, status, mu, solve_time_s, error, ...)."""
        meta_file = self._sample_dir(sample_id) / "zarr.json"
        try:
            with open(meta_file, encoding="utf-8") as fh:
                return dict(json.load(fh)["attributes"])
        except FileNotFoundError:
            raise SampleMissingError(f"{self.path}: no sample {sample_id}") from None
        except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise DatasetError(f"{meta_file}: corrupt sample metadata ({exc})") from None

    def status(self, sample_id: int) -> str | None:
        """Status of one sample: "done", "failed", or None if it is not on disk."""
        try:
            return self.read_meta(sample_id)["status"]
        except SampleMissingError:
            return None

    def statuses(self) -> dict[int, str]:
        """Status of every sample on disk, by id."""
        found = {i: self.status(i) for i in self._all_ids()}
        # A failed record being replaced is absent for an instant: list it as absent.
        return {i: s for i, s in found.items() if s is not None}

    def sample_ids(self, status: str | None = "done") -> list[int]:
        """Ids of the samples with the given status ("done", "failed"; None: all)."""
        if status is None:
            return self._all_ids()
        return [i for i, s in self.statuses().items() if s == status]

    def counts(self) -> dict[str, int]:
        """Number of samples by status, plus stale staged writes."""
        return self._counts(list(self.statuses().values()))

    def _counts(self, statuses: list[str]) -> dict[str, int]:
        return {
            "done": statuses.count("done"),
            "failed": statuses.count("failed"),
            "staging": len(_staged(self.path)),
        }

    def __len__(self) -> int:
        return len(self.sample_ids("done"))

    def __contains__(self, sample_id: object) -> bool:
        return (
            isinstance(sample_id, (int, np.integer)) and self._sample_dir(int(sample_id)).is_dir()
        )

    def __repr__(self) -> str:
        return f"Dataset({str(self.path)!r})"

    # -- writing ---------------------------------------------------------------
    def append(
        self,
        mu: Mapping[str, Any],
        fields: Mapping[str, np.ndarray],
        *,
        sample_id: int | None = None,
        solve_time: float | None = None,
        mesh: Mesh | None = None,
        info: Mapping[str, Any] | None = None,
    ) -> int:
        """Write one done sample and return its id.

        Parameters
        ----------
        mu : mapping name -> value
            Parameter set, validated against the dataset's space.
        fields : mapping name -> ndarray
            Every output field, with the shapes :class:`FieldSpec` gives, finite.
        sample_id : int, optional
            Id to store it under (for example its index in a design). A
            failed sample with that id is replaced; a done one is an error.
            Default: the next free id.
        solve_time : float, optional
            Wall time of the high-fidelity solve, in seconds.
        mesh : Mesh, optional
            The sample's own mesh; required for per-sample-mesh datasets.
        info : mapping, optional
            Extra JSON-compatible attributes to keep with the sample.

        Nothing is visible until the whole sample is on disk.
        """
        mu = self.space.validate(mu)
        sample_mesh = self._mesh_for_append(mesh)
        arrays = self._validate_fields(fields, sample_mesh, sample_id)
        if solve_time is not None and not (np.isfinite(solve_time) and solve_time >= 0):
            raise DatasetError(
                f"solve_time must be a finite number of seconds >= 0, got {solve_time}"
            )
        attrs = {
            "status": "done",
            "mu": {p.name: mu[p.name] for p in self.space.scalars},
            "solve_time_s": None if solve_time is None else float(solve_time),
            "error": None,
            "written_at": _now(),
            "host": socket.gethostname(),
            "info": dict(info or {}),
        }

        def write(group: zarr.Group) -> None:
            for name, arr in arrays.items():
                per_step = self.fields[name].times is not None
                _write_array(group, f"fields/{name}", arr, per_step=per_step)
            for p in self.space.field_inputs:
                _write_array(group, f"inputs/{p.name}", mu[p.name])
            if self.per_sample_mesh:
                _write_mesh(group.create_group("mesh"), sample_mesh)

        return self._publish(attrs, write, sample_id)

    def record_failure(
        self,
        mu: Mapping[str, Any],
        error: str,
        *,
        sample_id: int | None = None,
        solve_time: float | None = None,
    ) -> int:
        """Record that the solve for ``mu`` failed, with its error text; return the id.

        ``mu`` is kept as given (scalars only) so that a failure caused by a
        bad parameter can still be recorded and inspected.
        """
        scalars = {}
        for name, value in dict(mu).items():
            if np.ndim(value) == 0:
                try:
                    scalars[str(name)] = float(value)
                except (TypeError, ValueError):
                    scalars[str(name)] = repr(value)
        attrs = {
            "status": "failed",
            "mu": scalars,
            "solve_time_s": None if solve_time is None else float(solve_time),
            "error": str(error),
            "written_at": _now(),
            "host": socket.gethostname(),
            "info": {},
        }
        return self._publish(attrs, lambda group: None, sample_id)

    def _publish(self, attrs: dict[str, Any], write: Any, sample_id: int | None) -> int:
        if sample_id is not None:
            sample_id = _check_id(sample_id)
            self._refuse_done(sample_id)
        staged = self.path / "staging" / f"{uuid.uuid4().hex}.{os.getpid()}"
        try:
            group = zarr.open_group(staged, mode="w-")
            write(group)
            group.attrs.update(attrs)
            _fsync_tree(staged)
            sample_id = self._rename_into_place(staged, sample_id)
        finally:
            if staged.exists():
                shutil.rmtree(staged, ignore_errors=True)
        _fsync_dir(self.path / "samples")
        return sample_id

    def _refuse_done(self, sample_id: int) -> None:
        if self.status(sample_id) == "done":
            raise SampleExistsError(f"{self.path}: sample {sample_id} is already done")

    @contextlib.contextmanager
    def _id_lock(self, sample_id: int) -> Iterator[None]:
        """Exclusive lock on one sample id, across processes (flock; freed if killed)."""
        fd = os.open(
            self.path / "staging" / f"{_sample_name(sample_id)}.lock", os.O_CREAT | os.O_RDWR
        )
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _rename_into_place(self, staged: Path, sample_id: int | None) -> int:
        if sample_id is None:
            return self._rename_to_free_id(staged)
        target = self._sample_dir(sample_id)
        # Check and replace under the id's lock: a done sample is never replaced,
        # a failed record is (by a done sample or a newer failure).
        with self._id_lock(sample_id):
            self._refuse_done(sample_id)
            if target.is_dir():
                trash = self.path / "staging" / f"{uuid.uuid4().hex}.replaced"
                os.rename(target, trash)
                shutil.rmtree(trash, ignore_errors=True)
            try:
                os.rename(staged, target)
            except OSError as exc:  # an appender without an id took the free slot
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
                raise SampleExistsError(
                    f"{self.path}: sample {sample_id} was written by another process meanwhile"
                ) from None
        return sample_id

    def _rename_to_free_id(self, staged: Path) -> int:
        """Rename into the next free id; only ever into an empty slot, so no lock."""
        candidate = max(self._all_ids(), default=-1) + 1
        while True:
            try:
                os.rename(staged, self._sample_dir(candidate))
                return candidate
            except OSError as exc:
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
                candidate += 1  # taken by a concurrent writer

    def _mesh_for_append(self, mesh: Mesh | None) -> Mesh | None:
        if self.per_sample_mesh:
            if mesh is None:
                raise MeshError(f"{self.path}: this dataset needs each sample's mesh")
            if self.quadrature is not None:
                _check_rule(mesh, self.quadrature)
            return mesh
        if mesh is not None and self.mesh is not None:
            self.mesh.check_matches(mesh, "sample")
        return self.mesh

    def _validate_fields(
        self, fields: Mapping[str, np.ndarray], mesh: Mesh | None, sample_id: int | None
    ) -> dict[str, np.ndarray]:
        where = "" if sample_id is None else f"sample {sample_id}: "
        unknown = sorted(set(fields) - set(self.fields))
        if unknown:
            raise FieldError(
                f"{where}unknown field(s) {unknown}; dataset fields: {list(self.fields)}"
            )
        missing = [name for name in self.fields if name not in fields]
        if missing:
            raise FieldError(f"{where}missing field(s) {missing}")
        n_points, n_cells, n_quadrature = self._entities(mesh)
        out = {}
        for name, spec in self.fields.items():
            try:
                arr = np.asarray(fields[name], dtype=float)
            except (TypeError, ValueError):
                raise FieldError(f"{where}field {name!r}: values must be numbers") from None
            expected = spec.shape(n_points, n_cells, n_quadrature)
            if arr.shape != expected:
                raise FieldError(
                    f"{where}field {name!r}: expected shape {expected}, got {arr.shape}"
                )
            n_bad = int(np.count_nonzero(~np.isfinite(arr)))
            if n_bad:
                raise FieldError(f"{where}field {name!r}: {n_bad} NaN or infinite value(s)")
            out[name] = arr
        return out

    def clean_staging(self, older_than: float = 3600.0) -> int:
        """Remove staged writes older than ``older_than`` seconds; return how many.

        Staged writes of live processes are younger; the default hour keeps
        them safe even on a cluster sharing the store.
        """
        cutoff = time.time() - older_than
        removed = 0
        for entry in _staged(self.path):
            try:
                if entry.stat().st_mtime < cutoff:
                    shutil.rmtree(entry)
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    # -- reading -------------------------------------------------------------
    def sample(self, sample_id: int) -> Sample:
        """Read one sample completely (fields, field inputs, mesh)."""
        meta = self.read_meta(sample_id)
        mu = dict(meta["mu"])
        fields: dict[str, np.ndarray] = {}
        mesh = None
        if meta["status"] == "done":
            for p in self.space.field_inputs:
                mu[p.name] = self._read(sample_id, f"inputs/{p.name}")
            fields = {name: self._read(sample_id, f"fields/{name}") for name in self.fields}
            mesh = self.mesh_of(sample_id)
        return Sample(
            id=sample_id,
            status=meta["status"],
            mu=mu,
            fields=fields,
            solve_time=meta.get("solve_time_s"),
            error=meta.get("error"),
            mesh=mesh,
        )

    def mesh_of(self, sample_id: int) -> Mesh | None:
        """The mesh sample ``sample_id`` lives on."""
        if not self.per_sample_mesh:
            return self.mesh
        return _read_mesh(self._sample_dir(sample_id) / "mesh", what=f"sample {sample_id}: mesh")

    def _resolve_ids(self, ids: Iterable[int] | None) -> list[int]:
        if ids is None:
            return self.sample_ids("done")
        ids = [_check_id(i) for i in ids]
        for i in ids:
            status = self.read_meta(i)["status"]
            if status != "done":
                raise DatasetError(f"{self.path}: sample {i} is {status}, it has no fields")
        return ids

    def parameters(self, ids: Iterable[int] | None = None) -> np.ndarray:
        """Scalar parameters of done samples, shape (n, dim), columns as ``space.scalar_names``."""
        ids = self._resolve_ids(ids)
        names = self.space.scalar_names
        rows = [[self.read_meta(i)["mu"][n] for n in names] for i in ids]
        return np.array(rows, dtype=float).reshape(len(ids), len(names))

    def field_input(self, name: str, ids: Iterable[int] | None = None) -> np.ndarray:
        """Field input ``name`` of the given done samples, loaded: shape (n, *input_shape)."""
        p = self.space[name]
        if p not in self.space.field_inputs:
            raise FieldError(f"{self.path}: parameter {name!r} is a scalar, not a field input")
        ids = self._resolve_ids(ids)
        out = np.empty((len(ids), *p.shape))
        for k, i in enumerate(ids):
            out[k] = self._read(i, f"inputs/{name}")
        return out

    def parameter_sets(self, ids: Iterable[int] | None = None) -> list[dict[str, Any]]:
        """Parameter sets (scalars and field inputs) of done samples, as ``predict`` takes them."""
        ids = self._resolve_ids(ids)
        x = self.parameters(ids)
        inputs = {p.name: self.field_input(p.name, ids) for p in self.space.field_inputs}
        return [
            self.space.as_dict(x[k], **{name: v[k] for name, v in inputs.items()})
            for k in range(len(ids))
        ]

    def solve_times(self, ids: Iterable[int] | None = None) -> np.ndarray:
        """Recorded solve times of done samples in seconds (NaN where not recorded)."""
        ids = self._resolve_ids(ids)
        times = [self.read_meta(i).get("solve_time_s") for i in ids]
        return np.array([np.nan if t is None else t for t in times], dtype=float)

    def field_spec(self, name: str) -> FieldSpec:
        """The specification of field ``name``."""
        if name in self.fields:
            return self.fields[name]
        raise FieldError(f"{self.path}: no field {name!r}; fields: {', '.join(self.fields)}")

    def field_shape(self, name: str) -> tuple[int, ...]:
        """Shape of one sample's array of field ``name`` (reference-mesh datasets)."""
        spec = self.field_spec(name)
        if self.per_sample_mesh and spec.location != "global":
            raise DatasetError(
                f"field {name!r} has a different shape per sample (per-sample meshes)"
            )
        return spec.shape(*self._entities(self.mesh))

    def _entities(self, mesh: Mesh | None) -> tuple[int, int, int]:
        """Points, cells and quadrature points of ``mesh`` (0 without a mesh)."""
        if mesh is None:
            return 0, 0, 0
        n_q = self.quadrature.n_points if self.quadrature is not None else 0
        return mesh.n_points, mesh.n_cells, mesh.n_cells * n_q

    def field(self, name: str, ids: Iterable[int] | None = None) -> np.ndarray:
        """Field ``name`` of the given done samples, loaded: shape (n, *field_shape)."""
        shape = self.field_shape(name)
        ids = self._resolve_ids(ids)
        out = np.empty((len(ids), *shape))
        for k, i in enumerate(ids):
            out[k] = self._read(i, f"fields/{name}")
        return out

    def to_dask(self, name: str, ids: Iterable[int] | None = None) -> Any:
        """Field ``name`` over done samples as a lazy Dask array, one chunk per sample.

        Nothing is read until the array is computed, so it serves snapshot
        sets larger than memory.
        """
        import dask.array as da

        shape = self.field_shape(name)
        ids = np.asarray(self._resolve_ids(ids), dtype=np.int64)
        index = da.from_array(ids, chunks=1)
        return da.map_blocks(
            _read_block,
            index,
            path=str(self.path),
            key=f"fields/{name}",
            new_axis=list(range(1, 1 + len(shape))),
            chunks=((1,) * len(ids), *((s,) for s in shape)),
            dtype=float,
            meta=np.empty((0,) * (1 + len(shape))),
        )

    def _read(self, sample_id: int, key: str) -> np.ndarray:
        return _read_array(self._sample_dir(sample_id) / key, f"sample {sample_id}, {key}")

    # -- summary ---------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """JSON-compatible overview: parameters, fields, counts, failures, mesh, times, size."""
        metas = {}
        for i in self._all_ids():
            with contextlib.suppress(SampleMissingError):  # being replaced right now
                metas[i] = self.read_meta(i)
        counts = self._counts([m["status"] for m in metas.values()])
        failures = [
            {"id": i, "error": m["error"]} for i, m in metas.items() if m["status"] == "failed"
        ]
        times = np.array(
            [
                m["solve_time_s"]
                for m in metas.values()
                if m["status"] == "done" and m["solve_time_s"] is not None
            ],
            dtype=float,
        )
        mesh = self.mesh
        return {
            "path": str(self.path),
            "format_version": self.format_version,
            "description": self.description,
            "parameters": self.space.to_dict()["parameters"],
            "fields": [f.to_dict() for f in self.fields.values()],
            "samples": counts,
            "failures": failures,
            "mesh": None
            if mesh is None
            else {"points": mesh.n_points, "cells": mesh.cell_counts(), "dim": mesh.dim},
            "per_sample_mesh": self.per_sample_mesh,
            "quadrature": None
            if self.quadrature is None
            else {
                "cell_type": self.quadrature.cell_type,
                "element": self.quadrature.element,
                "points_per_cell": self.quadrature.n_points,
                "points": None if mesh is None else mesh.n_cells * self.quadrature.n_points,
            },
            "provenance": self.provenance,
            "solve_time_s": None
            if times.size == 0
            else {
                "median": float(np.median(times)),
                "min": float(times.min()),
                "max": float(times.max()),
                "total": float(times.sum()),
            },
            "disk_bytes": disk_size(self.path),
        }


# -- helpers -----------------------------------------------------------------
def _nirom_version() -> str:
    from nirom import __version__

    return __version__


def _check_id(sample_id: Any) -> int:
    if isinstance(sample_id, bool) or not isinstance(sample_id, (int, np.integer)) or sample_id < 0:
        raise DatasetError(f"sample id must be a non-negative integer, got {sample_id!r}")
    return int(sample_id)


def _read_root_meta(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise SchemaError(f"{path}: no such dataset directory")
    if not path.is_dir():
        raise SchemaError(f"{path}: not a directory, so not a nirom dataset")
    meta_file = path / "zarr.json"
    if not meta_file.is_file():
        raise SchemaError(f"{path}: not a nirom dataset (no zarr.json)")
    try:
        with open(meta_file, encoding="utf-8") as fh:
            doc = json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SchemaError(f"{meta_file}: corrupt metadata, not valid JSON ({exc})") from None
    attrs = doc.get("attributes") if isinstance(doc, dict) else None
    meta = attrs.get("nirom") if isinstance(attrs, dict) else None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise SchemaError(f"{path}: a zarr store but not a nirom dataset")
    version = meta.get("format_version")
    if version not in READABLE_VERSIONS:
        raise SchemaError(
            f"{path}: dataset format version {version!r} (written by {meta.get('written_by')}); "
            f"this nirom {_nirom_version()} reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))} (current {FORMAT_VERSION})"
        )
    return meta


def _check_rule(mesh: Mesh, rule: QuadratureRule) -> None:
    if [t for t, _ in mesh.cells] != [rule.cell_type]:
        raise MeshError(
            f"the quadrature rule is for {rule.cell_type} cells, the mesh has {mesh.cell_counts()}"
        )


def _write_array(group: zarr.Group, key: str, arr: np.ndarray, per_step: bool = False) -> None:
    """Store ``arr`` at ``key``: one chunk, or one chunk per leading index if ``per_step``."""
    arr = np.asarray(arr, order="C")  # not ascontiguousarray: it turns 0-d into 1-d
    chunks = (1, *arr.shape[1:]) if per_step else arr.shape
    out = group.create_array(
        key,
        shape=arr.shape,
        dtype=arr.dtype,
        chunks=chunks,
        fill_value=_FILL if arr.dtype.kind == "f" else -1,
        compressors=_codec(),
    )
    out[...] = arr


def _read_array(path: Path, what: str) -> np.ndarray:
    try:
        arr = np.asarray(zarr.open_array(path, mode="r")[...])
    except FileNotFoundError:
        raise DatasetError(f"{what}: missing on disk") from None
    except Exception as exc:  # zarr/numcodecs raise assorted types for damaged data
        raise DatasetError(f"{what}: damaged on disk ({exc})") from None
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise DatasetError(f"{what}: damaged on disk (missing chunks read back as NaN)")
    if arr.dtype.kind == "i" and (arr == -1).any():  # only indices are stored as integers
        raise DatasetError(f"{what}: damaged on disk (missing chunks read back as -1)")
    return arr


def _read_block(block: np.ndarray, path: str, key: str) -> np.ndarray:
    sample_id = int(block[0])
    where = Path(path) / "samples" / _sample_name(sample_id) / key
    return _read_array(where, f"sample {sample_id}, {key}")[None]


def _write_mesh(group: zarr.Group, mesh: Mesh) -> None:
    _write_array(group, "points", mesh.points)
    for k, (cell_type, conn) in enumerate(mesh.cells):
        _write_array(group, f"cells/{k}", conn)
        group[f"cells/{k}"].attrs["cell_type"] = cell_type


def _read_mesh(path: Path, what: str) -> Mesh:
    try:
        group = zarr.open_group(path, mode="r")
        points = _read_array(path / "points", f"{what} points")
        cells_group = group["cells"]
        blocks = []
        for k in range(len(list(cells_group.array_keys()))):
            arr = cells_group[str(k)]
            blocks.append((arr.attrs["cell_type"], _read_array(path / "cells" / str(k), what)))
    except (KeyError, FileNotFoundError) as exc:
        raise DatasetError(f"{what}: incomplete on disk ({exc})") from None
    return Mesh(points, blocks)


def _staged(path: Path) -> list[Path]:
    staging = path / "staging"
    if not staging.is_dir():
        return []
    return [p for p in staging.iterdir() if p.is_dir()]


def _fsync_tree(root: Path) -> None:
    """Flush every file and folder under ``root`` to stable storage."""
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(dirpath))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def disk_size(path: str | os.PathLike[str]) -> int:
    """Total size in bytes of the files under ``path``."""
    total = 0
    for dirpath, _, filenames in os.walk(path):
        for name in filenames:
            try:
                total += os.stat(os.path.join(dirpath, name)).st_size
            except FileNotFoundError:
                continue
    return total

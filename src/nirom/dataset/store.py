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
rename also arbitrates between processes appending at once, without a lock
(:mod:`nirom.dataset.publish`). How arrays and meshes lie in the hierarchy is
:mod:`nirom.dataset.layout`.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from nirom.atomic import built_aside
from nirom.dataset.layout import (
    SAMPLE_DIR,
    Sample,
    nirom_version,
    now,
    read_array,
    read_attributes,
    read_block,
    read_mesh,
    read_root_meta,
    sample_name,
    staged,
    write_array,
    write_mesh,
)
from nirom.dataset.operators import (
    LinearSystem,
    check_system,
    read_layout,
    read_system,
    write_layout,
    write_system,
)
from nirom.dataset.publish import check_id, clean_staging, publish_sample
from nirom.dataset.quadrature import QuadratureRule, check_rule
from nirom.dataset.schema import (
    BASE_FORMAT_VERSION,
    FORMAT_NAME,
    QUADRATURE_FORMAT_VERSION,
    FieldSpec,
    validate_fields,
)
from nirom.errors import (
    DatasetError,
    FieldError,
    MeshError,
    SampleMissingError,
    SchemaError,
)
from nirom.mesh import Mesh
from nirom.parameters import ParameterSpace


class Dataset:
    """A directory-backed dataset of simulation samples.

    Open an existing store with ``Dataset(path)`` (or :meth:`open`), make a
    new one with :meth:`create`. Several processes may append to the same
    store at once; each sees the others' samples on its next listing.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        meta = read_root_meta(self.path)
        try:
            self.space = ParameterSpace.from_dict(meta["parameter_space"])
            self.fields: dict[str, FieldSpec] = {
                d["name"]: FieldSpec.from_dict(d) for d in meta["fields"]
            }
            self.per_sample_mesh = bool(meta["per_sample_mesh"])
            self.description = str(meta.get("description", ""))
            self.provenance: dict[str, Any] = dict(meta.get("provenance") or {})
            self.format_version = int(meta["format_version"])
            operators = meta.get("operators")
            self.operators: dict[str, Any] | None = None if operators is None else dict(operators)
            rule = meta.get("quadrature")
            self.quadrature: QuadratureRule | None = (
                None if rule is None else QuadratureRule.from_dict(rule)
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SchemaError(f"{self.path}: malformed dataset metadata ({exc})") from None
        self.mesh: Mesh | None = None
        if (self.path / "mesh" / "zarr.json").is_file():
            self.mesh = read_mesh(self.path / "mesh", what=f"{self.path}: reference mesh")

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
        operators: LinearSystem | None = None,
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
        operators : LinearSystem, optional
            A system of the solver (any parameter): its unknown-to-node map and
            Dirichlet values become the dataset's, and every sample may then
            store its matrix and right-hand side (:mod:`nirom.dataset.operators`).
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
            check_rule(mesh, quadrature)
        meta = {
            "format": FORMAT_NAME,
            "format_version": BASE_FORMAT_VERSION
            if quadrature is None
            else QUADRATURE_FORMAT_VERSION,
            "written_by": f"nirom {nirom_version()}",
            "created_at": now(),
            "description": description,
            "parameter_space": space.to_dict(),
            "fields": [f.to_dict() for f in specs],
            "per_sample_mesh": per_sample_mesh,
            "provenance": dict(provenance or {}),
        }
        if quadrature is not None:
            meta["quadrature"] = quadrature.to_dict()
        if operators is not None:
            operators = check_system(operators, None if mesh is None else mesh.n_points)
        # Build the skeleton aside and rename it into place, so a crash never
        # leaves a half-made dataset at ``path`` (the rename replaces an empty folder).
        try:
            with built_aside(path, tag="creating") as tmp:
                root = zarr.open_group(tmp, mode="w-")
                root.create_group("samples")
                root.create_group("staging")
                if mesh is not None:
                    write_mesh(root.create_group("mesh"), mesh)
                if operators is not None:
                    meta["operators"] = write_layout(root, operators)
                root.attrs["nirom"] = meta  # written last: its presence marks a dataset
        except FileExistsError:
            raise DatasetError(f"{path}: created by another process meanwhile") from None
        return cls(path)

    # -- listing -------------------------------------------------------------
    def _sample_dir(self, sample_id: int) -> Path:
        return self.path / "samples" / sample_name(sample_id)

    def _all_ids(self) -> list[int]:
        try:
            names = os.listdir(self.path / "samples")
        except FileNotFoundError:
            raise SchemaError(f"{self.path}: samples/ folder is missing") from None
        return sorted(int(m.group(1)) for n in names if (m := SAMPLE_DIR.match(n)))

    def read_meta(self, sample_id: int) -> dict[str, Any]:
        """The attributes of one sample (id, status, mu, solve_time_s, error, ...)."""
        try:
            return read_attributes(self._sample_dir(sample_id))
        except FileNotFoundError:
            raise SampleMissingError(f"{self.path}: no sample {sample_id}") from None

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
            "staging": len(staged(self.path)),
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
        system: LinearSystem | None = None,
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
        system : LinearSystem, optional
            The solver's matrix and right-hand side at ``mu`` (datasets created
            with ``operators``), with the dataset's unknown-to-node map.

        Nothing is visible until the whole sample is on disk.
        """
        mu = self.space.validate(mu)
        sample_mesh = self._mesh_for_append(mesh)
        arrays = validate_fields(self.fields, fields, self._entities(sample_mesh), sample_id)
        if system is not None:
            system = self._check_system(system, sample_id)
        if solve_time is not None and not (np.isfinite(solve_time) and solve_time >= 0):
            raise DatasetError(
                f"solve_time must be a finite number of seconds >= 0, got {solve_time}"
            )
        attrs = {
            "status": "done",
            "mu": {p.name: mu[p.name] for p in self.space.scalars},
            "solve_time_s": None if solve_time is None else float(solve_time),
            "error": None,
            "written_at": now(),
            "host": socket.gethostname(),
            "info": dict(info or {}),
        }

        def write(group: zarr.Group) -> None:
            for name, arr in arrays.items():
                per_step = self.fields[name].times is not None
                write_array(group, f"fields/{name}", arr, per_step=per_step)
            for p in self.space.field_inputs:
                write_array(group, f"inputs/{p.name}", mu[p.name])
            if self.per_sample_mesh:
                write_mesh(group.create_group("mesh"), sample_mesh)
            if system is not None:
                write_system(group, system)

        return publish_sample(self, attrs, write, sample_id)

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
            "written_at": now(),
            "host": socket.gethostname(),
            "info": {},
        }
        return publish_sample(self, attrs, lambda group: None, sample_id)

    def _mesh_for_append(self, mesh: Mesh | None) -> Mesh | None:
        if self.per_sample_mesh:
            if mesh is None:
                raise MeshError(f"{self.path}: this dataset needs each sample's mesh")
            if self.quadrature is not None:
                check_rule(mesh, self.quadrature)
            return mesh
        if mesh is not None and self.mesh is not None:
            self.mesh.check_matches(mesh, "sample")
        return self.mesh

    def _check_system(self, system: LinearSystem, sample_id: int | None) -> LinearSystem:
        where = "" if sample_id is None else f"sample {sample_id}: "
        if self.operators is None:
            raise DatasetError(f"{self.path}: created without operators; it cannot store a system")
        system = check_system(system, self.mesh.n_points if self.mesh else None, where)
        free, dirichlet = self.operator_layout()
        if system.free.shape != free.shape or not np.array_equal(system.free, free):
            raise DatasetError(f"{where}unknown-to-node map differs from the dataset's")
        return LinearSystem(system.matrix, system.rhs, free, dirichlet)

    def clean_staging(self, older_than: float = 3600.0) -> int:
        """Remove staged writes older than ``older_than`` seconds; return how many.

        Staged writes of live processes are younger; the default hour keeps
        them safe even on a cluster sharing the store.
        """
        return clean_staging(self.path, older_than)

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

    def operator_layout(self) -> tuple[np.ndarray, np.ndarray]:
        """Unknown-to-node map (n,) and Dirichlet node values (n_nodes,) of the stored systems."""
        if self.operators is None:
            raise DatasetError(f"{self.path}: has no operators (generate it with --operators)")
        if not hasattr(self, "_layout"):
            self._layout = read_layout(self.path)
        return self._layout

    def system(self, sample_id: int) -> LinearSystem:
        """The matrix and right-hand side stored with done sample ``sample_id``, read now."""
        free, dirichlet = self.operator_layout()
        self._resolve_ids([sample_id])
        return read_system(self._sample_dir(sample_id), sample_id, free, dirichlet)

    def mesh_of(self, sample_id: int) -> Mesh | None:
        """The mesh sample ``sample_id`` lives on."""
        if not self.per_sample_mesh:
            return self.mesh
        return read_mesh(self._sample_dir(sample_id) / "mesh", what=f"sample {sample_id}: mesh")

    def _resolve_ids(self, ids: Iterable[int] | None) -> list[int]:
        if ids is None:
            return self.sample_ids("done")
        ids = [check_id(i) for i in ids]
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
            read_block,
            index,
            path=str(self.path),
            key=f"fields/{name}",
            new_axis=list(range(1, 1 + len(shape))),
            chunks=((1,) * len(ids), *((s,) for s in shape)),
            dtype=float,
            meta=np.empty((0,) * (1 + len(shape))),
        )

    def _read(self, sample_id: int, key: str) -> np.ndarray:
        return read_array(self._sample_dir(sample_id) / key, f"sample {sample_id}, {key}")

    # -- summary ---------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """JSON-compatible overview: parameters, fields, counts, failures, mesh, times, size."""
        from nirom.dataset.summary import dataset_summary

        return dataset_summary(self)

"""PLAID datasets in and out, through the ``pyplaid`` package (optional extra ``plaid``).

PLAID (Physics-Learning AI Datamodel) stores one sample per folder,
``samples/sample_NNNNNNNNN/meshes/mesh_000000000.cgns``: a CGNS tree with
a 2-D base (``Base_2_2``, zone ``Zone``: node coordinates, ``TRI_3`` element
connectivity, vertex fields) and a ``Global`` base of scalars.

:func:`export_plaid` writes a nirom dataset's done samples that way: the
sample's mesh and point fields (a vector field ``u`` as ``u_1``, ``u_2``), and
its scalar parameters and global fields as PLAID globals. :func:`import_plaid`
reads such a folder (any PLAID samples on triangles) into a nirom dataset
with a mesh per sample: the globals named in ``inputs`` become uniform
parameters (bounds: their range over the samples), the other globals global
fields, and vertex fields point fields (``name_1`` ... ``name_k`` together as
one ``k``-component field). Built aside and renamed into place
(:mod:`nirom.atomic`), so a failed import leaves nothing.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nirom.atomic import built_aside
from nirom.dataset.schema import FieldSpec
from nirom.dataset.store import Dataset
from nirom.errors import DatasetError, MeshError
from nirom.mesh import Mesh
from nirom.parameters import ParameterSpace, Uniform

BASE, ZONE = "Base_2_2", "Zone"
_COMPONENT = re.compile(r"^(.*)_([1-9])$")


def _plaid() -> Any:
    try:
        import CGNS.PAT.cgnskeywords as cgk
        import CGNS.PAT.cgnslib as cgl
        import plaid
    except ImportError as exc:  # pragma: no cover - the optional extra
        raise DatasetError("PLAID import/export needs pyplaid: pip install 'nirom[plaid]'") from exc
    logging.getLogger("plaid").setLevel(logging.WARNING)
    return plaid, cgl, cgk


def export_plaid(
    dataset: Dataset, out: str | os.PathLike[str], ids: Sequence[int] | None = None
) -> Path:
    """Write the done samples ``ids`` of ``dataset`` (default: all) as a PLAID folder ``out``."""
    _plaid()  # without pyplaid: one line before anything is written
    out = Path(out)
    if out.exists():
        raise DatasetError(f"{out}: exists; choose a new folder")
    bad = [
        n
        for n, s in dataset.fields.items()
        if s.times is not None or s.location not in ("point", "global")
    ]
    if bad:
        raise DatasetError(f"{dataset.path}: fields {bad} are not steady point or global fields")
    ids = dataset.sample_ids() if ids is None else list(ids)
    with built_aside(out, tag="exporting") as tmp:
        (tmp / "samples").mkdir(parents=True)
        for k, i in enumerate(ids):
            _write_sample(dataset, i, tmp / "samples" / f"sample_{k:09d}")
    return out


def _write_sample(dataset: Dataset, i: int, path: Path) -> None:
    """Sample ``i`` of ``dataset`` as a PLAID sample folder ``path``."""
    plaid, cgl, cgk = _plaid()
    sample = dataset.sample(i)
    mesh = sample.mesh
    triangles = np.concatenate([c for t, c in mesh.cells if t == "triangle"])
    if triangles.shape[0] != mesh.n_cells or mesh.dim != 2:
        raise MeshError(f"{dataset.path}: sample {i}: PLAID export takes 2-D triangle meshes")
    ps = plaid.Sample()
    ps.init_base(2, 2, BASE)
    ps.init_zone(np.array([[mesh.n_points, len(triangles), 0]]), zone=ZONE, base=BASE)
    ps.set_nodes(mesh.points, zone=ZONE, base=BASE)
    zone = ps.get_zone(zone=ZONE, base=BASE)
    cgl.newElements(
        zone, "Elements_TRI_3", cgk.TRI_3,
        np.array([1, len(triangles)]), (triangles + 1).ravel().astype(np.int64),
    )  # fmt: skip
    for name, spec in dataset.fields.items():
        value = np.asarray(sample.fields[name], dtype=float)
        if spec.location == "global":
            ps.add_global(name, np.array([float(value)]))
        elif spec.components == 1:
            ps.add_field(name, value, zone=ZONE, base=BASE)
        else:
            for c in range(spec.components):
                ps.add_field(f"{name}_{c + 1}", value[:, c], zone=ZONE, base=BASE)
    for name in dataset.space.scalar_names:
        ps.add_global(name, np.array([float(sample.mu[name])]))
    ps.save_to_dir(path)


def import_plaid(
    folder: str | os.PathLike[str],
    out: str | os.PathLike[str],
    inputs: Sequence[str],
    *,
    description: str = "imported from PLAID",
) -> Dataset:
    """A nirom dataset ``out`` (a mesh per sample) from the PLAID samples in ``folder``."""
    plaid, _, _ = _plaid()
    paths = sorted((Path(folder) / "samples").glob("sample_*"))
    if not paths:
        raise DatasetError(f"{folder}: no PLAID samples (samples/sample_*)")
    samples = [plaid.Sample.load_from_dir(p) for p in paths]
    globals_ = {
        n: np.array([_scalar(s, n, p) for s, p in zip(samples, paths, strict=True)])
        for n in samples[0].get_global_names()
    }
    missing = [n for n in inputs if n not in globals_]
    if missing:
        raise DatasetError(f"{folder}: input(s) {missing} are not PLAID globals {sorted(globals_)}")
    space = ParameterSpace([Uniform(n, globals_[n].min(), _upper(globals_[n])) for n in inputs])
    groups = _group(samples[0].get_field_names())
    specs = [FieldSpec(name, "point", len(parts)) for name, parts in groups.items()]
    specs += [FieldSpec(n, "global") for n in globals_ if n not in inputs]
    with built_aside(out, tag="importing") as tmp:
        ds = Dataset.create(tmp, space, specs, None, per_sample_mesh=True, description=description)
        _append_all(ds, samples, paths, groups, specs, globals_, inputs)
    return Dataset(out)


def _append_all(
    ds: Dataset,
    samples: list[Any],
    paths: list[Path],
    groups: dict[str, list[str]],
    specs: list[FieldSpec],
    globals_: dict[str, np.ndarray],
    inputs: Sequence[str],
) -> None:
    for k, (s, p) in enumerate(zip(samples, paths, strict=True)):
        mesh = _mesh(s, p)
        fields = {}
        for name, parts in groups.items():
            values = [s.get_field(part) for part in parts]
            if any(v is None for v in values):
                raise DatasetError(f"{p}: missing vertex field(s) of {name!r}")
            fields[name] = values[0] if len(parts) == 1 else np.column_stack(values)
        for spec in specs:
            if spec.location == "global":
                fields[spec.name] = np.asarray(globals_[spec.name][k])
        mu = {n: float(globals_[n][k]) for n in inputs}
        ds.append(mu, fields, sample_id=k, mesh=mesh)


def _scalar(sample: Any, name: str, path: Path) -> float:
    value = np.ravel(np.asarray(sample.get_global(name), dtype=float))
    if value.size != 1:
        raise DatasetError(f"{path}: global {name!r} is not a scalar (size {value.size})")
    return float(value[0])


def _upper(values: np.ndarray) -> float:
    """The largest value, nudged up when every sample holds the same one (a range needs two)."""
    high = float(values.max())
    return high if high > values.min() else high + max(1.0, abs(high)) * 1e-9


def _group(names: Sequence[str]) -> dict[str, list[str]]:
    """Field names to their parts: ``u_1, u_2`` -> ``u``, others alone."""
    groups: dict[str, list[str]] = {}
    for name in names:
        match = _COMPONENT.match(name)
        key = match.group(1) if match else name
        groups.setdefault(key, []).append(name)
    out = {}
    for key, parts in groups.items():
        expected = [f"{key}_{c + 1}" for c in range(len(parts))]
        if len(parts) > 1 and sorted(parts) == expected:
            out[key] = expected
        else:
            out.update({part: [part] for part in parts})
    return out


def _mesh(sample: Any, path: Path) -> Mesh:
    nodes = np.asarray(sample.get_nodes(), dtype=float)
    elements = sample.get_elements()
    if set(elements) - {"TRI_3"} or "TRI_3" not in elements:
        raise MeshError(f"{path}: elements {sorted(elements)}; nirom imports TRI_3 meshes")
    return Mesh(nodes, [("triangle", np.asarray(elements["TRI_3"], dtype=np.int64))])

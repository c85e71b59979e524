"""Moving samples in and out of a dataset through meshio's file formats.

Import: a folder of solver outputs (one mesh file per sample, any format
:mod:`nirom.readers` reads, or for a time series a ParaView ``.pvd``
collection or an XDMF time series) plus a CSV of parameters becomes a
dataset. Export: any sample becomes a VTU (or any meshio format) for ParaView.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from xml.etree import ElementTree

import meshio
import numpy as np

from nirom import mesh as mesh_io
from nirom.atomic import built_aside
from nirom.dataset.quadrature import QuadratureRule, quadrature_points
from nirom.dataset.schema import FieldSpec
from nirom.dataset.store import Dataset
from nirom.errors import DatasetError, FieldError, ParameterError
from nirom.mesh import Mesh
from nirom.parameters import ParameterSpace, Uniform

FILE_COLUMN = "file"
TIME_COLUMN = "solve_time_s"
# Arrays some writers add that are bookkeeping, not physics.
_BOOKKEEPING = ("vtkOriginalPointIds", "vtkOriginalCellIds", "vtkGhostType")


def _read_rows(csv_path: Path) -> tuple[list[str], list[dict[str, str]]]:
    if not csv_path.is_file():
        raise DatasetError(f"{csv_path}: parameter CSV not found")
    try:
        with open(csv_path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            rows = list(reader)
            header = [h.strip() for h in (reader.fieldnames or [])]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"{csv_path}: not a readable CSV file ({exc})") from None
    if FILE_COLUMN not in header:
        raise DatasetError(f"{csv_path}: needs a {FILE_COLUMN!r} column naming each sample's file")
    if not rows:
        raise DatasetError(f"{csv_path}: no sample rows")
    for i, row in enumerate(rows):
        if None in row:  # csv.DictReader files surplus values under the key None
            raise DatasetError(f"{csv_path}: row {i + 1} has more values than the header")
    rows = [{k.strip(): (v or "").strip() for k, v in row.items()} for row in rows]
    return header, rows


def _parse_value(csv_path: Path, row: int, column: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ParameterError(
            f"{csv_path}: row {row + 1}, parameter {column!r}: {text!r} is not a number"
        ) from None
    if not math.isfinite(value):
        raise ParameterError(f"{csv_path}: row {row + 1}, parameter {column!r}: value is {text}")
    return value


def _infer_space(names: list[str], values: np.ndarray, csv_path: Path) -> ParameterSpace:
    params = []
    for j, name in enumerate(names):
        low, high = float(values[:, j].min()), float(values[:, j].max())
        if not low < high:
            raise ParameterError(
                f"{csv_path}: parameter {name!r} is constant ({low:g}); drop the column "
                "or give a parameter-space file with its bounds"
            )
        params.append(Uniform(name, low, high))
    return ParameterSpace(params)


def read_series(
    path: str | os.PathLike[str], times: Sequence[float] | None = None
) -> tuple[Mesh, dict[str, np.ndarray], dict[str, np.ndarray], tuple[float, ...] | None]:
    """A mesh file's mesh, point data and cell data, or a time series of them.

    A time series (:func:`nirom.readers.read_steps`: a ParaView ``.pvd``, an
    XDMF file with a temporal collection, or numbered files ``result_*.vtu``
    at ``times``) gives arrays with a leading time axis and the step times;
    every step must be on the first step's mesh. Other files give steady data
    and ``None``.
    """
    from nirom.readers import read_steps

    steps = read_steps(path, times)
    if len(steps) == 1 and steps[0].time is None:
        return (*mesh_io.from_meshio_data(steps[0].mesh, steps[0].source), None)
    frames = [mesh_io.from_meshio_data(s.mesh, s.source) for s in steps]
    mesh, first_points, first_cells = frames[0]
    stacked: list[dict[str, np.ndarray]] = [{}, {}]
    for kind, first in ((0, first_points), (1, first_cells)):
        for name in first:
            arrays = []
            for step, frame in zip(steps, frames, strict=True):
                if name not in frame[1 + kind]:
                    raise FieldError(f"{step.source}: field {name!r} of the first step is missing")
                arrays.append(frame[1 + kind][name])
            if len({a.shape for a in arrays}) != 1:
                raise FieldError(f"{path}: field {name!r} changes shape between steps")
            stacked[kind][name] = np.stack(arrays)
    for step, frame in zip(steps[1:], frames[1:], strict=True):
        mesh.check_matches(frame[0], f"{step.source} (t = {step.time:g})")
    return mesh, stacked[0], stacked[1], tuple(float(s.time) for s in steps)


def read_output(
    path: str | os.PathLike[str], times: Sequence[float] | None = None
) -> tuple[Mesh, dict[str, np.ndarray], dict[str, np.ndarray], tuple[float, ...] | None]:
    """:func:`read_series` of one run's output, a one-step series in one file taken as
    steady (dolfinx's ``XDMFFile.write_function(u)`` gives a steady solve a time, 0), as
    :func:`nirom.mesh.read` takes it; numbered files stay a series."""
    from nirom.readers import is_pattern

    mesh, point_data, cell_data, found = read_series(path, times)
    if found is not None and len(found) == 1 and not is_pattern(path):
        point_data = {k: v[0] for k, v in point_data.items()}
        cell_data = {k: v[0] for k, v in cell_data.items()}
        found = None
    return mesh, point_data, cell_data, found


def field_specs_from_data(
    point_data: dict[str, np.ndarray],
    cell_data: dict[str, np.ndarray],
    wanted: Sequence[str] | None,
    first: Path,
    times: Sequence[float] | None = None,
) -> list[FieldSpec]:
    """Field specifications of the point/cell data read from file ``first``.

    ``wanted`` names the fields to keep (default: all but writer bookkeeping);
    ``times`` are the steps of a time series (arrays with a leading time axis).
    """
    available = {k: ("cell", v) for k, v in cell_data.items()}
    available.update({k: ("point", v) for k, v in point_data.items()})
    names = list(wanted) if wanted else [n for n in available if n not in _BOOKKEEPING]
    if not names:
        raise FieldError(f"{first}: holds no point or cell data to import")
    specs = []
    for name in names:
        if name not in available:
            raise FieldError(f"{first}: no field {name!r}; it has {', '.join(available) or 'none'}")
        location, arr = available[name]
        skip = 1 if times is None else 2
        components = int(np.prod(arr.shape[skip:])) if arr.ndim > skip else 1
        specs.append(FieldSpec(name, location=location, components=components, times=times))
    return specs


def fields_from_data(
    path: Path, specs: list[FieldSpec], point_data: dict, cell_data: dict
) -> dict[str, np.ndarray]:
    """The fields ``specs`` from data read from ``path``, checked for presence,
    components and finite values (errors name the file and field)."""
    out = {}
    for spec in specs:
        source = point_data if spec.location == "point" else cell_data
        if spec.name not in source:
            raise FieldError(f"{path}: {spec.location} field {spec.name!r} is missing")
        out[spec.name] = _checked_values(path, spec, np.asarray(source[spec.name], dtype=float))
    return out


def _checked_values(path: Path, spec: FieldSpec, arr: np.ndarray) -> np.ndarray:
    """``arr`` as (n,) or (n, components), or with a leading time axis for a series,
    checked against ``spec``'s steps and components and for finite values."""
    if spec.times is not None and (arr.ndim < 2 or arr.shape[0] != len(spec.times)):
        raise FieldError(
            f"{path}: field {spec.name!r} has {arr.shape[0] if arr.ndim else 0} time "
            f"steps, the first file's has {len(spec.times)}"
        )
    arr = arr.reshape(*arr.shape[: 1 if spec.times is None else 2], -1)
    if arr.shape[-1] != spec.components:
        raise FieldError(
            f"{path}: field {spec.name!r} has {arr.shape[-1]} components, "
            f"the first file's has {spec.components}"
        )
    n_bad = int(np.count_nonzero(~np.isfinite(arr)))
    if n_bad:
        raise FieldError(f"{path}: field {spec.name!r} has {n_bad} NaN or infinite value(s)")
    return arr[..., 0] if spec.components == 1 else arr


def import_folder(
    folder: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    parameters_csv: str | os.PathLike[str] | None = None,
    fields: Sequence[str] | None = None,
    space: ParameterSpace | None = None,
    description: str = "",
) -> Dataset:
    """Build a dataset from a folder of solver output files and a parameter CSV.

    Parameters
    ----------
    folder : path
        Folder of solver outputs, one mesh file per sample in any format
        :func:`nirom.mesh.read` reads (VTU of any version, PVTU, meshio's
        formats), or per sample a time series (a ``.pvd`` collection, an XDMF
        time series): its fields become time series with the series' times,
        which every sample must share.
    out : path
        Dataset to create; it must not exist. It is built aside and appears
        only when every file was read, checked and flushed to disk
        (:func:`nirom.atomic.built_aside`), so a failed import leaves nothing behind.
    parameters_csv : path, optional
        CSV with a ``file`` column (paths relative to ``folder``), one column
        per scalar parameter and an optional ``solve_time_s`` column.
        Default: ``folder/parameters.csv``.
    fields : sequence of str, optional
        Point or cell fields to import; default every field of the first file.
    space : ParameterSpace, optional
        Parameter space with bounds; default uniform bounds from the CSV's
        minimum and maximum of each column.

    Raises
    ------
    DatasetError, MeshError, FieldError, ParameterError
        Naming the file, row, parameter or field at fault.
    """
    folder = Path(folder)
    out = Path(out)
    if not folder.is_dir():
        raise DatasetError(f"{folder}: no such folder")
    if out.exists():
        raise DatasetError(f"{out}: already exists; choose a new dataset path")
    csv_path = Path(parameters_csv) if parameters_csv is not None else folder / "parameters.csv"
    header, rows = _read_rows(csv_path)
    names = [h for h in header if h not in (FILE_COLUMN, TIME_COLUMN)]
    if space is not None:
        extra = sorted(set(names) - set(space.scalar_names))
        missing = [n for n in space.scalar_names if n not in names]
        if extra or missing:
            raise ParameterError(
                f"{csv_path}: columns do not match the parameter space "
                f"(missing {missing}, unknown {extra})"
            )
        names = space.scalar_names
    values = np.array(
        [[_parse_value(csv_path, i, n, row[n]) for n in names] for i, row in enumerate(rows)]
    ).reshape(len(rows), len(names))
    if space is None:
        space = _infer_space(names, values, csv_path)
    for i in range(len(rows)):
        try:
            space.validate(space.as_dict(values[i]))
        except ParameterError as exc:
            raise ParameterError(f"{csv_path}: row {i + 1}: {exc}") from None
    files = [folder / row[FILE_COLUMN] for row in rows]
    for i, path in enumerate(files):
        if not rows[i][FILE_COLUMN] or not path.is_file():
            raise DatasetError(f"{csv_path}: row {i + 1}: file {str(path)!r} not found")
    times = [
        _parse_value(csv_path, i, TIME_COLUMN, row[TIME_COLUMN]) if row.get(TIME_COLUMN) else None
        for i, row in enumerate(rows)
    ]

    reference, point_data, cell_data, steps = read_output(files[0])
    specs = field_specs_from_data(point_data, cell_data, fields, files[0], steps)
    try:
        with built_aside(out, tag="importing") as tmp:
            ds = Dataset.create(tmp, space, specs, reference, description=description)
            for i, path in enumerate(files):
                sample_mesh, point_data, cell_data, sample_steps = (
                    (reference, point_data, cell_data, steps) if i == 0 else read_output(path)
                )
                reference.check_matches(sample_mesh, str(path))
                if sample_steps != steps:
                    raise FieldError(
                        f"{path}: output times {sample_steps} differ from the first file's {steps}"
                    )
                mu = space.as_dict(values[i])
                ds.append(
                    mu,
                    fields_from_data(path, specs, point_data, cell_data),
                    sample_id=i,
                    solve_time=times[i],
                    info={"source": str(path)},
                )
    except FileExistsError:
        raise DatasetError(f"{out}: created by another process meanwhile") from None
    return Dataset(out)


def export_sample(
    dataset: Dataset,
    sample_id: int,
    path: str | os.PathLike[str],
    fields: Sequence[str] | None = None,
) -> list[Path]:
    """Write one done sample to a mesh file (format from the extension; VTU for ParaView).

    Point and cell fields become point and cell data; scalar parameters and
    global fields become field data. A time-series field is written one file
    per output time (``NAME_t0000.vtu``, ...) plus a ParaView ``.pvd``
    collection at ``path``'s stem. Quadrature-point fields go to a companion
    point cloud ``NAME_qp...`` (one vertex per quadrature point, placed by the
    dataset's rule).

    Returns
    -------
    list of Path
        The files written.
    """
    path = Path(path)
    sample = dataset.sample(sample_id)
    if sample.status != "done":
        raise DatasetError(
            f"{dataset.path}: sample {sample_id} is {sample.status}: nothing to export"
        )
    names = list(fields) if fields else list(dataset.fields)
    specs = [dataset.field_spec(n) for n in names]
    if sample.mesh is None:
        raise DatasetError(f"{dataset.path}: has no mesh to export fields on")
    scalars = {k: v for k, v in sample.mu.items() if np.ndim(v) == 0}
    return write_fields(path, sample.mesh, specs, sample.fields, scalars, dataset.quadrature)


def write_fields(
    path: str | os.PathLike[str],
    mesh: Mesh,
    specs: Sequence[FieldSpec],
    values: Mapping[str, np.ndarray],
    scalars: Mapping[str, float] | None = None,
    quadrature: QuadratureRule | None = None,
) -> list[Path]:
    """Write fields on ``mesh`` to a mesh file (format from the extension).

    Point and cell fields become point and cell data; ``scalars`` (e.g. the
    parameters) and global fields become field data. Time-series fields are
    written one file per output time (``NAME_t0000.vtu``, ...) plus a
    ParaView ``.pvd`` collection at ``path``'s stem. Fields at quadrature
    points (placed by the rule ``quadrature``) go to a point cloud of vertex
    cells at ``NAME_qp`` (and ``NAME_qp.pvd``). Returns the files written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    specs = list(specs)
    at_points = [s for s in specs if s.location == "quadrature"]
    written: list[Path] = []
    if at_points:
        if quadrature is None:
            raise DatasetError(
                f"fields {[s.name for s in at_points]} are at quadrature points: give the rule"
            )
        xq = quadrature_points(mesh, quadrature)
        cloud = Mesh(xq, [("vertex", np.arange(len(xq))[:, None])])
        points = [FieldSpec(s.name, "point", s.components, s.times, s.unit) for s in at_points]
        qp_path = path.with_name(f"{path.stem}_qp{path.suffix}")
        written += write_fields(qp_path, cloud, points, values, scalars)
        specs = [s for s in specs if s.location != "quadrature"]
        if not specs:
            return written
    return written + _write_series(path, mesh, specs, values, scalars)


def _write_series(
    path: Path,
    mesh: Mesh,
    specs: list[FieldSpec],
    values: Mapping[str, np.ndarray],
    scalars: Mapping[str, float] | None,
) -> list[Path]:
    field_data = {k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in (scalars or {}).items()}
    steady = [s for s in specs if s.times is None]
    series = [s for s in specs if s.times is not None]
    for s in steady:
        if s.location == "global":
            field_data[s.name] = np.atleast_1d(values[s.name])
    if not series:
        _write(path, mesh, steady, values, field_data, None)
        return [path]
    times = series[0].times
    if any(s.times != times for s in series):
        raise DatasetError("export the time-series fields with different output times separately")
    written = []
    for k, t in enumerate(times):
        step = path.with_name(f"{path.stem}_t{k:04d}{path.suffix}")
        _write(step, mesh, steady + series, values, field_data, k)
        written.append((t, step))
    pvd = path.with_suffix(".pvd")
    entries = "\n".join(
        f'    <DataSet timestep="{t!r}" part="0" file="{p.name}"/>' for t, p in written
    )
    pvd.write_text(
        '<?xml version="1.0"?>\n<VTKFile type="Collection" version="0.1">\n  <Collection>\n'
        f"{entries}\n  </Collection>\n</VTKFile>\n",
        encoding="utf-8",
    )
    return [p for _, p in written] + [pvd]


def _write(
    path: Path,
    mesh: Mesh,
    specs: list[FieldSpec],
    values: dict[str, np.ndarray],
    field_data: dict[str, np.ndarray],
    step: int | None,
) -> None:
    point_data, cell_data = {}, {}
    for s in specs:
        arr = values[s.name] if s.times is None else values[s.name][step]
        if s.location == "point":
            point_data[s.name] = arr
        elif s.location == "cell":
            cell_data[s.name] = arr
        elif s.times is not None:
            field_data[s.name] = np.atleast_1d(arr)
    m = mesh.to_meshio(point_data=point_data, cell_data=cell_data)
    if path.suffix in (".vtu", ".vtk") and m.points.shape[1] < 3:  # VTK stores 3 coordinates
        m.points = np.pad(m.points, ((0, 0), (0, 3 - m.points.shape[1])))
    m.field_data = field_data
    try:
        meshio.write(path, m)
    except Exception as exc:  # meshio raises assorted types for unsupported formats
        raise DatasetError(f"{path}: cannot write ({exc})") from None
    if path.suffix == ".vtu" and field_data:
        _add_vtu_field_data(path, field_data)


def _add_vtu_field_data(path: Path, field_data: dict[str, np.ndarray]) -> None:
    """Add a VTK ``<FieldData>`` block (meshio's VTU writer drops field data)."""
    tree = ElementTree.parse(path)
    grid = tree.getroot().find("UnstructuredGrid")
    block = ElementTree.Element("FieldData")
    for name, values in field_data.items():
        array = ElementTree.SubElement(
            block,
            "DataArray",
            type="Float64",
            Name=name,
            NumberOfTuples=str(values.size),
            format="ascii",
        )
        array.text = " ".join(repr(float(v)) for v in values.ravel())
    grid.insert(0, block)
    tree.write(path, xml_declaration=True, encoding="utf-8")

"""The FNO baseline of benchmarks/geometry.py: tensile2d samples rasterised to a grid.

Each sample's outline becomes a signed-distance channel on a regular grid over
the plates' bounding box [0, 1] x [0, 2] (negative inside, mm), its fields are
P1-interpolated to the grid nodes (clamped outside the plate: the nearest
boundary value), and the scalar parameters enter as constant channels (how
nirom's FNO takes scalars). Predictions are interpolated back to each test
sample's own nodes and scored there, like MMGP's.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from matplotlib.path import Path as Polygon

from nirom.dataset import Dataset, FieldSpec
from nirom.geometry.interpolation import interpolation_matrix
from nirom.geometry.triangles import planar_triangles, single_loop
from nirom.mesh import Mesh
from nirom.parameters import FieldInput, ParameterSpace
from nirom.surrogates.neural import FNOSurrogate


def grid_mesh(nx: int, ny: int) -> Mesh:
    """Structured triangles on [0, 1] x [0, 2], nodes in C order (x fastest)."""
    x, y = np.meshgrid(np.linspace(0, 1, nx), np.linspace(0, 2, ny))
    points = np.column_stack([x.ravel(), y.ravel()])
    k = np.arange(nx * ny).reshape(ny, nx)[:-1, :-1].ravel()
    cells = np.concatenate(
        [np.column_stack([k, k + 1, k + nx + 1]), np.column_stack([k, k + nx + 1, k + nx])]
    )
    return Mesh(points, [("triangle", cells)])


def signed_distance(mesh: Mesh, points: np.ndarray) -> np.ndarray:
    """Distance (mm) of ``points`` to the mesh's outline, negative inside."""
    nodes, triangles = planar_triangles(mesh)
    ring = nodes[single_loop(triangles)]
    a, b = ring, np.roll(ring, -1, axis=0)
    ab = b - a
    t = np.clip(np.einsum("pej,ej->pe", points[:, None] - a, ab) / np.sum(ab**2, 1), 0, 1)
    d = np.min(np.linalg.norm(points[:, None] - (a + t[..., None] * ab), axis=-1), axis=1)
    return np.where(Polygon(ring).contains_points(points), -d, d)


def rasterise(source: Dataset, ids: list[int], out: Path, nx: int, ny: int) -> Dataset:
    """A grid dataset (signed distance + scalars -> point fields) of samples ``ids``."""
    grid = grid_mesh(nx, ny)
    names = source.space.scalar_names
    space = ParameterSpace([*source.space.scalars, FieldInput("sdf", (ny, nx))])
    specs = [
        FieldSpec(n, "point", s.components)
        for n, s in source.fields.items()
        if s.location == "point"
    ]
    ds = Dataset.create(out, space, specs, grid, description="tensile2d rasterised")
    for i in ids:
        sample = source.sample(i)
        operator = interpolation_matrix(sample.mesh, grid.points)
        fields = {s.name: np.asarray(operator @ sample.fields[s.name]) for s in specs}
        sdf = signed_distance(sample.mesh, grid.points).reshape(ny, nx)
        ds.append({**{n: sample.mu[n] for n in names}, "sdf": sdf}, fields, sample_id=i)
    return ds


def fno_baseline(
    train: Dataset, test: Dataset, n: int, work: Path, epochs: int, nx: int = 32, ny: int = 64
) -> tuple[dict, dict, float]:
    """Reference and predicted fields on each test sample's nodes (u split), and the fit time."""
    tag = f"{nx}x{ny}"
    paths = work / f"raster-train-{n}-{tag}.nirom", work / f"raster-test-{tag}.nirom"
    grid_train = (
        Dataset(paths[0])
        if paths[0].exists()
        else rasterise(train, train.sample_ids()[:n], paths[0], nx, ny)
    )
    grid_test = (
        Dataset(paths[1])
        if paths[1].exists()
        else rasterise(test, test.sample_ids(), paths[1], nx, ny)
    )
    start = time.perf_counter()
    model = FNOSurrogate(
        modes=12, width=32, padding=8, periodic=False, epochs=epochs, batch_size=16, progress=False
    ).fit(grid_train)
    fit_s = time.perf_counter() - start
    grid = grid_mesh(nx, ny)
    ref: dict = {}
    pred: dict = {}
    mus = grid_test.parameter_sets()
    predicted = model.predict(mus)
    for k, i in enumerate(grid_test.sample_ids()):
        sample = test.sample(i)
        back = interpolation_matrix(grid, planar_triangles(sample.mesh)[0])
        for name in predicted:
            value = np.asarray(back @ predicted[name][k])
            truth = np.asarray(sample.fields[name])
            parts = {"u_1": 0, "u_2": 1} if name == "u" else {name: None}
            for out, c in parts.items():
                ref.setdefault(out, []).append(truth if c is None else truth[:, c])
                pred.setdefault(out, []).append(value if c is None else value[:, c])
    return ref, pred, fit_s

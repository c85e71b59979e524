"""nirom.geometry: Floater mapping, P1 interpolation, elasticity morphing, bad meshes."""

import numpy as np
import pytest

from nirom.errors import MeshError
from nirom.geometry.floater import floater_map
from nirom.geometry.gmsh_mesh import mesh_sides
from nirom.geometry.interpolation import interpolation_matrix
from nirom.geometry.morphing import morph_elastic
from nirom.geometry.outline import draw_offsets, outline_polygon, outline_sides
from nirom.geometry.triangles import planar_triangles, signed_areas, single_loop
from nirom.mesh import Mesh


def _plate(sample_id, size=0.1, seed=0):
    offsets = draw_offsets(sample_id, seed, 3, 0.0, 0.3)
    return Mesh.from_skfem(mesh_sides(outline_sides(offsets, 1.0, 2.0), size)), offsets


@pytest.mark.parametrize("shape", ["square", "disk"])
def test_floater_map_is_a_valid_embedding(shape):
    mesh, _ = _plate(0)
    mapped = floater_map(mesh, shape)
    _, triangles = planar_triangles(mesh)
    assert signed_areas(mapped, triangles).min() > 0  # no inverted triangle
    total = signed_areas(mapped, triangles).sum()  # the cells tile the shape, no overlap
    assert (
        total == pytest.approx(1.0) if shape == "square" else 0.99 * np.pi / 4 < total < np.pi / 4
    )
    boundary = single_loop(triangles)
    if shape == "square":
        on_side = np.min(np.abs(np.column_stack([mapped[boundary], 1 - mapped[boundary]])), axis=1)
        assert np.abs(on_side).max() < 1e-12
        corners = {tuple(np.round(p, 12)) for p in mapped[boundary]}
        assert {(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)} <= corners
        # the physical corner (0, 0) goes to the square's (0, 0): a consistent start
        origin = np.argmin(np.hypot(*mesh.points[:, :2].T))
        np.testing.assert_allclose(mapped[origin], [0.0, 0.0], atol=1e-12)
    else:
        np.testing.assert_allclose(np.hypot(*(mapped[boundary] - 0.5).T), 0.5)


def test_interpolation_reproduces_linear_fields_and_clamps_outside():
    coarse, _ = _plate(1, 0.15)
    fine, _ = _plate(1, 0.08)
    linear = lambda x: 2.0 * x[:, 0] - 3.0 * x[:, 1] + 0.5  # noqa: E731
    # the fine nodes of the middle band: inside the coarse mesh whatever the curved sides
    inside = fine.points[np.abs(fine.points[:, 0] - 0.5) < 0.18, :2]
    operator = interpolation_matrix(coarse, inside)
    np.testing.assert_allclose(operator @ linear(coarse.points), linear(inside), atol=1e-9)
    outside = np.array([[-0.5, 1.0], [0.5, 3.0]])
    clamped = interpolation_matrix(coarse, outside) @ linear(coarse.points)
    # nearest boundary points: on the left side (x > -0.5) and the top edge (y = 2)
    assert clamped[1] == pytest.approx(linear(np.array([[0.5, 2.0]]))[0])
    assert np.all(np.abs(interpolation_matrix(coarse, outside).sum(axis=1) - 1) < 1e-12)
    with pytest.raises(MeshError, match="outside the mesh"):
        interpolation_matrix(coarse, outside, clamp=False)


def test_elasticity_morphing_reaches_the_target_outline():
    reference, _ = _plate(0, 0.1, seed=99)
    _, offsets = _plate(5)
    target = outline_polygon(outline_sides(offsets, 1.0, 2.0, 400))
    moved = morph_elastic(reference, target, corners="auto", steps=3)
    _, triangles = planar_triangles(reference)
    assert signed_areas(moved, triangles).min() > 0
    boundary = single_loop(triangles)
    edges = np.stack([target, np.roll(target, -1, axis=0)], axis=1)
    a, b = edges[:, 0], edges[:, 1]
    p = moved[boundary][:, None, :]
    t = np.clip(np.sum((p - a) * (b - a), -1) / np.sum((b - a) ** 2, -1), 0, 1)
    distance = np.min(np.hypot(*(p - (a + t[..., None] * (b - a))).transpose(2, 0, 1)), axis=1)
    assert distance.max() < 1e-3  # on the target polygon (sampled spline)
    interior = np.setdiff1d(np.arange(len(moved)), boundary)
    assert np.abs(moved[interior] - reference.points[interior, :2]).max() > 1e-3


def test_bad_meshes_are_one_line_errors():
    square = np.array([[0.0, 0], [1, 0], [1, 1], [0, 1]])
    two = Mesh(np.vstack([square, square + 3]), [("triangle", [[0, 1, 2], [4, 5, 6]])])
    with pytest.raises(MeshError, match="2 boundary loops") as err:
        floater_map(two)
    assert "\n" not in str(err.value)
    mesh, _ = _plate(0, 0.3)
    points = mesh.points.copy()
    _, tri = planar_triangles(mesh)
    interior = np.setdiff1d(np.arange(len(points)), single_loop(tri))[0]
    neighbours = np.unique(tri[np.any(tri == interior, axis=1)])
    points[interior, :2] = (
        points[neighbours[neighbours != interior][0], :2] * 2 - points[interior, :2]
    )  # push a node across a neighbour: cells fold over
    with pytest.raises(MeshError, match="inverted triangle"):
        floater_map(Mesh(points, mesh.cells))
    tet = Mesh(np.eye(4, 3), [("tetra", [[0, 1, 2, 3]])])
    with pytest.raises(MeshError, match="3-D mesh"):
        floater_map(tet)

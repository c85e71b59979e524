"""tensile2d: outlines seeded per sample, a mesh per sample, the elastic limit, generation."""

import numpy as np
import pytest

from nirom.dataset import Dataset
from nirom.generation import generate
from nirom.solvers import make_solver


def _mu(solver, outline, **values):
    mu = {"P": 60.0, "R0": 180.0, "K": 150.0, "C": 2e4, "D": 200.0, **values}
    return {**mu, "outline": outline}


def test_outline_is_drawn_from_seed_and_sample_id():
    solver = make_solver("tensile2d")
    a = solver.draw_field_inputs(3, 7)["outline"]
    assert np.array_equal(a, solver.draw_field_inputs(3, 7)["outline"])
    assert not np.allclose(a, solver.draw_field_inputs(4, 7)["outline"])
    assert not np.allclose(a, solver.draw_field_inputs(3, 8)["outline"])
    assert a.shape == (2, 3) and a.min() >= 0 and a.max() <= 0.3


def test_straight_plate_in_the_elastic_range_is_uniaxial():
    solver = make_solver("tensile2d", {"mesh_size": 0.2})
    fields = solver.solve(_mu(solver, np.zeros((2, 3))))
    mesh = solver.sample_mesh
    nu, e, p, h = 0.3, 200e3, 60.0, 2.0
    # Plane strain, sigma_11 = 0, sigma_33 = nu sigma_22: eps_22 = (1 - nu^2) P / E.
    np.testing.assert_allclose(fields["sigma_22"], p, rtol=1e-6)
    np.testing.assert_allclose(fields["sigma_11"], 0.0, atol=1e-6)
    np.testing.assert_allclose(
        fields["u"][:, 1], (1 - nu**2) * p / e * mesh.points[:, 1], atol=1e-9
    )
    np.testing.assert_allclose(float(fields["max_u2_top"]), (1 - nu**2) * p / e * h, rtol=1e-6)
    assert float(fields["max_p"]) == 0.0
    assert np.isclose(float(fields["max_von_mises"]), p * np.sqrt(1 - nu + nu**2), rtol=1e-6)


def test_a_necked_plate_yields_and_concentrates_stress():
    solver = make_solver("tensile2d", {"mesh_size": 0.15})
    outline = np.full((2, 3), 0.25)
    fields = solver.solve(_mu(solver, outline, P=120.0, R0=100.0))
    assert float(fields["max_p"]) > 0
    assert float(fields["max_von_mises"]) > 120.0 / 0.5 * 0.8
    assert fields["u"].shape == (solver.sample_mesh.n_points, 2)


def test_generate_stores_one_mesh_per_sample(tmp_path):
    solver = make_solver("tensile2d", {"mesh_size": 0.2})
    generate("tensile2d", tmp_path / "ds", 3, seed=5, workers=0, solver_options={"mesh_size": 0.2})
    ds = Dataset(tmp_path / "ds")
    assert ds.per_sample_mesh and ds.counts()["done"] == 3
    meshes = [ds.mesh_of(i) for i in range(3)]
    assert len({m.n_points for m in meshes}) > 1 or not np.allclose(
        meshes[0].points, meshes[1].points
    )
    sample = ds.sample(1)
    assert sample.fields["u"].shape == (meshes[1].n_points, 2)
    assert sample.fields["max_von_mises"].shape == ()
    np.testing.assert_array_equal(sample.mu["outline"], solver.draw_field_inputs(1, 5)["outline"])
    with pytest.raises(Exception, match="different shape per sample"):
        ds.field("u")

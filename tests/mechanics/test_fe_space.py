"""The FE pieces a reduced model reuses: space, quadrature, strain operator B, assembly, loads."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nirom.dataset.quadrature import quadrature_points, quadrature_weights
from nirom.errors import ParameterError
from nirom.mechanics import (
    Assembler,
    Cyclic,
    Displacement,
    DisplacementSpace,
    LoadHistory,
    Pressure,
    Ramp,
    StrainOperator,
    Table,
    Traction,
    amplitude_from_dict,
    assemble_loads,
)
from nirom.mechanics.meshes import box, plate_with_hole, quadratic, quarter_annulus
from nirom.mechanics.tensors import SQRT2


def _spaces() -> list[DisplacementSpace]:
    annulus = quarter_annulus(10.0, 20.0, 2)
    return [
        DisplacementSpace(annulus, 1),
        DisplacementSpace(quadratic(annulus, {"inner": (0, 0, 10.0), "outer": (0, 0, 20.0)}), 2),
        DisplacementSpace(box((1.0, 2.0, 3.0), 2), 1),
        DisplacementSpace(box((1.0, 2.0, 3.0), 1), 2),
    ]


@pytest.mark.parametrize("space", _spaces(), ids=["tri3", "tri6-curved", "tet4", "tet10"])
def test_quadrature_rule_places_and_weights_points_like_the_solver(
    space: DisplacementSpace,
) -> None:
    # The dataset's reader-side functions agree with scikit-fem's mapping (curved cells too).
    np.testing.assert_allclose(
        quadrature_points(space.mesh, space.quadrature), space.quadrature_points(), atol=1e-12
    )
    np.testing.assert_allclose(
        quadrature_weights(space.mesh, space.quadrature), space.quadrature_weights(), rtol=1e-12
    )
    assert space.n_qp == space.n_cells * space.quadrature.n_points


def test_curved_p2_geometry_has_the_exact_area() -> None:
    annulus = quarter_annulus(10.0, 20.0, 2)
    exact = np.pi * (20.0**2 - 10.0**2) / 4
    straight = DisplacementSpace(annulus, 2).quadrature_weights().sum()
    curved = (
        DisplacementSpace(quadratic(annulus, {"inner": (0, 0, 10.0), "outer": (0, 0, 20.0)}), 2)
        .quadrature_weights()
        .sum()
    )
    assert abs(curved - exact) < 1e-2 * abs(straight - exact)


@pytest.mark.parametrize("space", _spaces(), ids=["tri3", "tri6-curved", "tet4", "tet10"])
def test_strain_operator_is_exact_on_linear_fields_in_mandel_order(
    space: DisplacementSpace,
) -> None:
    dim = space.dim
    grad = np.arange(1.0, 1.0 + dim * dim).reshape(dim, dim) / 10  # u = grad @ x
    u = (space.mesh.points @ grad.T).ravel()
    strain = StrainOperator(space)
    eps = 0.5 * (grad + grad.T)
    if dim == 2:
        expected = [eps[0, 0], eps[1, 1], SQRT2 * eps[0, 1]]
    else:
        shear = [SQRT2 * eps[1, 2], SQRT2 * eps[0, 2], SQRT2 * eps[0, 1]]
        expected = [eps[0, 0], eps[1, 1], eps[2, 2], *shear]
    np.testing.assert_allclose(strain(u), np.tile(expected, (space.n_qp, 1)), atol=1e-12)
    # The sparse B is the same operator, rows cell-major then component.
    np.testing.assert_allclose(strain.matrix() @ u, strain(u).ravel(), atol=1e-12)


@pytest.mark.parametrize("space", _spaces()[1:3], ids=["tri6-curved", "tet4"])
def test_assembly_equals_the_sparse_products_with_b(space: DisplacementSpace) -> None:
    rng = np.random.default_rng(0)
    strain = StrainOperator(space)
    assembler = Assembler(strain)
    k = strain.n_active
    stress = rng.normal(size=(space.n_qp, k))
    tangent = rng.normal(size=(space.n_qp, k, k))  # unsymmetric on purpose
    b = strain.matrix()
    w = space.quadrature_weights()
    f_ref = b.T @ (w[:, None] * stress).ravel()
    np.testing.assert_allclose(assembler.internal_force(stress), f_ref, rtol=1e-10, atol=1e-10)
    import scipy.sparse as sp

    blocks = sp.block_diag([w[i] * tangent[i] for i in range(space.n_qp)], format="csr")
    k_ref = (b.T @ blocks @ b).toarray()
    np.testing.assert_allclose(assembler.tangent(tangent).toarray(), k_ref, atol=1e-9)


def test_amplitudes_round_trip_through_json() -> None:
    t = np.linspace(0.0, 7.0, 29)
    for amp in (
        Ramp(2.0, start=1.0),
        Cyclic(4.0, 2.0, 1.0, "triangle"),
        Table((0, 1, 3), (0, 2, -1)),
    ):
        back = amplitude_from_dict(json.loads(json.dumps(amp.to_dict())))
        np.testing.assert_array_equal(back(t), amp(t))
    assert Cyclic(4.0)(1.0) == pytest.approx(1.0) and Cyclic(4.0)(3.0) == pytest.approx(-1.0)
    assert Cyclic(4.0, shape="triangle")(1.0) == pytest.approx(1.0)
    assert Ramp(2.0)(1.0) == 0.5 and Ramp(2.0)(5.0) == 1.0
    with pytest.raises(ParameterError, match="period"):
        Cyclic(0.0)
    with pytest.raises(ParameterError, match="kind"):
        amplitude_from_dict({"kind": "square"})


def test_loads_integrate_to_their_resultants_and_round_trip() -> None:
    space = DisplacementSpace(quadratic(plate_with_hole(10, 50, 100, 3), {"hole": (0, 0, 10.0)}), 2)
    history = LoadHistory(
        [
            (Traction("top", (0.0, 3.0)), Ramp(1.0)),
            (Pressure("hole", 2.0), 1.0),
            (Displacement("left", (0,)), 1.0),
            (Displacement("bottom", (1,), (0.5,)), Ramp(2.0)),
        ]
    )
    again = LoadHistory.from_dict(json.loads(json.dumps(history.to_dict())))
    assert again.to_dict() == history.to_dict()
    loads = assemble_loads(space, again)
    f = loads.external_force(0.5).reshape(-1, 2)
    # Traction 3 * 0.5 on the 50 mm top edge; the pressure pushes the hole's edge away from
    # the centre: p R (1, 1) over the quarter circle.
    np.testing.assert_allclose(
        f.sum(axis=0), [2.0 * 10.0, 0.5 * 3.0 * 50.0 + 2.0 * 10.0], rtol=1e-9
    )
    d = loads.dirichlet
    assert np.intersect1d(d.dofs, d.free).size == 0 and d.dofs.size + d.free.size == space.n_dofs
    u = d.lift(np.zeros(d.free.size), 1.0)
    bottom = 2 * space.boundary_nodes("bottom") + 1
    np.testing.assert_allclose(u[bottom], 0.25)
    with pytest.raises(ParameterError, match="no boundary 'side'"):
        assemble_loads(space, LoadHistory([(Traction("side", (1.0, 0.0)), 1.0)]))

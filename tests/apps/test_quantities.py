"""Quantities of interest: each form against a direct computation, errors naming the culprit."""

from __future__ import annotations

import numpy as np
import pytest

from nirom.apps.quantities import QuantityError, default_quantities, parse_quantity
from nirom.dataset import FieldSpec
from nirom.solvers import ThermalBlock

SOLVER = ThermalBlock(nx_blocks=2, ny_blocks=2, resolution=8)
MESH = SOLVER.mesh
FIELDS = {
    "u": FieldSpec("u"),
    "v": FieldSpec("v", components=2),
    "s": FieldSpec("s", location="global"),
}


def _batch() -> dict[str, np.ndarray]:
    x, y = MESH.points[:, 0], MESH.points[:, 1]
    u = np.stack([x + 2 * y, 3 * x * y])  # two samples
    v = np.stack([np.stack([x, y], axis=-1)] * 2)
    return {"u": u, "v": v, "s": np.array([1.5, -2.0])}


def q(text: str):
    return parse_quantity(text, FIELDS, MESH)


def test_reductions_values_and_points() -> None:
    f = _batch()
    np.testing.assert_allclose(q("max(u)").evaluate(f), f["u"].max(axis=1))
    np.testing.assert_allclose(q("min(u)").evaluate(f), f["u"].min(axis=1))
    # the integral mean over the unit square: exact for the P1 field x + 2y (= 1.5)
    np.testing.assert_allclose(q("mean(u)").evaluate(f)[0], 1.5, rtol=1e-12)
    np.testing.assert_allclose(q("u[17]").evaluate(f), f["u"][:, 17])
    np.testing.assert_allclose(q("u[-1]").evaluate(f), f["u"][:, -1])
    node = int(np.argmin(np.sum((MESH.points - [0.25, 0.75]) ** 2, axis=1)))
    np.testing.assert_allclose(q("at(u, 0.25, 0.75)").evaluate(f), f["u"][:, node])
    inside = (MESH.points[:, 0] <= 0.5) & (MESH.points[:, 1] >= 0.5)
    np.testing.assert_allclose(q("max(u, 0:0.5, 0.5:1)").evaluate(f), f["u"][:, inside].max(axis=1))
    np.testing.assert_allclose(q("max(v)").evaluate(f), np.linalg.norm(f["v"], axis=-1).max(axis=1))
    np.testing.assert_allclose(q("v[3, 1]").evaluate(f), f["v"][:, 3, 1])
    np.testing.assert_allclose(q("s").evaluate(f), f["s"])


def test_region_mean_of_a_constant_is_the_constant() -> None:
    f = {"u": np.full((1, MESH.n_points), 2.5)}
    np.testing.assert_allclose(q("mean(u, 0.2:0.7, :0.4)").evaluate(f), 2.5)


def test_standard_deviations_of_quantities() -> None:
    f = _batch()
    s = {"u": np.abs(f["u"]) * 0.1 + 0.01}
    np.testing.assert_allclose(q("u[5]").std(f, s), s["u"][:, 5])
    at = np.argmax(f["u"], axis=1)
    np.testing.assert_allclose(q("max(u)").std(f, s), s["u"][[0, 1], at])
    mean = q("mean(u)")
    np.testing.assert_allclose(mean.std(f, s), s["u"] @ mean.weights)


def test_defaults_are_each_fields_mean_and_max() -> None:
    assert default_quantities(FIELDS) == ["mean(u)", "max(u)", "mean(v)", "max(v)", "s"]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("max(w)", "unknown field 'w'; the model has u, v, s"),
        ("median(u)", "unknown function 'median'"),
        ("u[1000]", "index 1000 is out of range"),
        ("u[1, 2]", r"shape \(81,\); give 1 index"),
        ("u", "'u' has 81 values; say which"),
        ("mean(u, 2:3)", "no point of the mesh is in the box"),
        ("mean(u, 0-1)", "range '0-1' is not lo:hi"),
        ("at(u, 0.5)", "give 2 coordinates"),
        ("at(v, 0.5, 0.5)", "several values per node"),
        ("u +", "not understood"),
    ],
)
def test_bad_quantities_name_themselves(text: str, match: str) -> None:
    with pytest.raises(QuantityError, match=match) as info:
        q(text)
    assert text in str(info.value) and "\n" not in str(info.value)

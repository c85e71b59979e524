"""Tests for nirom.parameters: parameter kinds, designs, validation and serialisation."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from nirom.errors import ParameterError
from nirom.parameters import DESIGNS, FieldInput, LogUniform, ParameterSpace, Uniform

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SAMPLED_DESIGNS = ("sobol", "lhs", "random")


@pytest.fixture
def space() -> ParameterSpace:
    return ParameterSpace(
        [
            Uniform("length", 0.5, 2.0, unit="m"),
            LogUniform("kappa", 1e-3, 1e3, unit="W/m/K"),
            Uniform("theta", -1.0, 1.0),
        ]
    )


@pytest.fixture
def mixed() -> ParameterSpace:
    return ParameterSpace(
        [
            Uniform("a", 0.0, 1.0),
            LogUniform("k", 0.1, 10.0),
            FieldInput("source", (4, 3), low=-1.0, high=1.0),
        ]
    )


def _bounds(space: ParameterSpace) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.array([p.low for p in space.scalars]),
        np.array([p.high for p in space.scalars]),
    )


# -- designs -------------------------------------------------------------------------------


@pytest.mark.parametrize("design", DESIGNS)
def test_design_shape_and_bounds(space: ParameterSpace, design: str) -> None:
    n = 64 if design != "grid" else 4**3
    x = space.sample(n, design=design, seed=3)
    assert x.shape == (n, 3)
    assert x.dtype == np.float64
    low, high = _bounds(space)
    assert np.all(x >= low) and np.all(x <= high)
    # Every design point is a valid parameter set.
    np.testing.assert_array_equal(space.validate_array(x), x)


@pytest.mark.parametrize("design", DESIGNS)
def test_design_same_seed_is_reproducible(space: ParameterSpace, design: str) -> None:
    n = 27
    a = space.sample(n, design=design, seed=11)
    b = space.sample(n, design=design, seed=11)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("design", SAMPLED_DESIGNS)
def test_design_different_seed_differs(space: ParameterSpace, design: str) -> None:
    a = space.sample(32, design=design, seed=0)
    b = space.sample(32, design=design, seed=1)
    assert a.shape == b.shape
    assert not np.allclose(a, b)


def test_grid_is_cell_centred_tensor_grid_independent_of_seed() -> None:
    sp = ParameterSpace([Uniform("a", 0.0, 3.0), Uniform("b", 10.0, 13.0)])
    g = sp.sample(9, design="grid", seed=0)
    np.testing.assert_array_equal(g, sp.sample(9, design="grid", seed=123))
    expected = {(a, b) for a in (0.5, 1.5, 2.5) for b in (10.5, 11.5, 12.5)}
    got = {(round(a, 12), round(b, 12)) for a, b in g}
    assert got == expected


def test_sobol_any_n_without_warning(space: ParameterSpace) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = space.sample(10, design="sobol", seed=0)
    assert x.shape == (10, 3)


@pytest.mark.parametrize("n", [5, 8, 33])
def test_lhs_is_stratified_in_unit_coordinates(space: ParameterSpace, n: int) -> None:
    u = space.to_unit(space.sample(n, design="lhs", seed=7))
    assert u.shape == (n, 3)
    bins = np.floor(u * n).astype(int)
    for j in range(space.dim):
        # each of the n equal bins holds exactly one point
        np.testing.assert_array_equal(np.sort(bins[:, j]), np.arange(n))


@pytest.mark.parametrize("design", ("sobol", "lhs"))
def test_loguniform_samples_are_uniform_in_log_space(design: str) -> None:
    p = LogUniform("k", 1e-4, 1e2)
    sp = ParameterSpace([p])
    x = sp.sample(4096, design=design, seed=5)[:, 0]
    u = p.to_unit(x)
    assert np.all(u >= 0.0) and np.all(u <= 1.0)
    assert abs(u.mean() - 0.5) < 0.02
    # quartiles in log space, not in linear space
    np.testing.assert_allclose(np.quantile(u, [0.25, 0.5, 0.75]), [0.25, 0.5, 0.75], atol=0.02)
    # the linear mean of x would be ~ (high - low) / ln(high/low) ~ 8.7, not the midpoint 50
    assert x.mean() < 15.0
    # median is the geometric mean of the bounds
    assert math.isclose(np.median(x), math.sqrt(1e-4 * 1e2), rel_tol=0.1)


def test_uniform_samples_are_uniform_in_linear_space() -> None:
    sp = ParameterSpace([Uniform("a", 10.0, 20.0)])
    x = sp.sample(4096, design="sobol", seed=0)[:, 0]
    assert abs(x.mean() - 15.0) < 0.2


@pytest.mark.parametrize(("dim", "n", "valid"), [(2, 10, ("4", "9", "16")), (3, 30, ("27", "64"))])
def test_grid_with_wrong_count_names_valid_counts(dim: int, n: int, valid: tuple[str, ...]) -> None:
    sp = ParameterSpace([Uniform(f"p{i}", 0, 1) for i in range(dim)])
    with pytest.raises(ParameterError) as excinfo:
        sp.sample(n, design="grid")
    msg = str(excinfo.value)
    assert str(n) in msg
    for count in valid:
        assert count in msg


@pytest.mark.parametrize("n", [1, 4, 16, 64])
def test_grid_accepts_perfect_powers(n: int) -> None:
    sp = ParameterSpace([Uniform("a", 0, 1), Uniform("b", 0, 1)])
    g = sp.sample(n, design="grid")
    assert g.shape == (n, 2)
    assert len({tuple(r) for r in g}) == n


def test_unknown_design_raises(space: ParameterSpace) -> None:
    with pytest.raises(ParameterError, match="halton") as excinfo:
        space.sample(8, design="halton")  # type: ignore[arg-type]
    for name in DESIGNS:
        assert name in str(excinfo.value)


@pytest.mark.parametrize("n", [0, -3, 2.5, "8", None])
def test_bad_sample_count_raises(space: ParameterSpace, n: object) -> None:
    with pytest.raises(ParameterError):
        space.sample(n)  # type: ignore[arg-type]


def test_sample_accepts_numpy_integer(space: ParameterSpace) -> None:
    assert space.sample(np.int64(8)).shape == (8, 3)


def test_sample_without_scalars_raises() -> None:
    sp = ParameterSpace([FieldInput("f", (3,))])
    assert sp.dim == 0
    with pytest.raises(ParameterError, match="no scalar"):
        sp.sample(4)


def test_sample_ignores_field_inputs(mixed: ParameterSpace) -> None:
    x = mixed.sample(16, seed=2)
    assert x.shape == (16, 2)
    assert mixed.scalar_names == ["a", "k"]
    assert mixed.names == ["a", "k", "source"]
    assert [f.name for f in mixed.field_inputs] == ["source"]


# -- unit cube mapping ---------------------------------------------------------------------


def test_to_unit_from_unit_round_trip(space: ParameterSpace) -> None:
    u = np.random.default_rng(0).random((50, 3))
    x = space.from_unit(u)
    np.testing.assert_allclose(space.to_unit(x), u, rtol=0, atol=1e-12)
    np.testing.assert_allclose(space.from_unit(space.to_unit(x)), x, rtol=1e-12)


def test_unit_mapping_endpoints(space: ParameterSpace) -> None:
    low, high = _bounds(space)
    np.testing.assert_allclose(space.from_unit(np.zeros((1, 3)))[0], low, rtol=1e-12)
    np.testing.assert_allclose(space.from_unit(np.ones((1, 3)))[0], high, rtol=1e-12)
    # the log-uniform midpoint is the geometric mean
    mid = space.from_unit(np.full((1, 3), 0.5))[0]
    assert mid[0] == pytest.approx(1.25)
    assert mid[1] == pytest.approx(1.0)
    assert mid[2] == pytest.approx(0.0, abs=1e-15)


def test_to_unit_validates(space: ParameterSpace) -> None:
    with pytest.raises(ParameterError, match="kappa"):
        space.to_unit(np.array([[1.0, 1e4, 0.0]]))


# -- validate ------------------------------------------------------------------------------


def _good(mixed: ParameterSpace) -> dict[str, object]:
    return {"a": 0.25, "k": 1.0, "source": np.zeros((4, 3))}


def test_validate_good_set_returns_floats_and_arrays(mixed: ParameterSpace) -> None:
    mu = {"a": 1, "k": np.float32(2.0), "source": [[0.5] * 3] * 4}
    out = mixed.validate(mu)
    assert out["a"] == 1.0 and type(out["a"]) is float
    assert out["k"] == 2.0 and type(out["k"]) is float
    assert isinstance(out["source"], np.ndarray)
    assert out["source"].dtype == np.float64 and out["source"].shape == (4, 3)


def test_validate_missing_names_parameter(mixed: ParameterSpace) -> None:
    mu = _good(mixed)
    del mu["k"]
    with pytest.raises(ParameterError, match="'k'"):
        mixed.validate(mu)


def test_validate_missing_field_names_field(mixed: ParameterSpace) -> None:
    mu = _good(mixed)
    del mu["source"]
    with pytest.raises(ParameterError, match="source"):
        mixed.validate(mu)


def test_validate_unknown_names_parameter(mixed: ParameterSpace) -> None:
    mu = _good(mixed)
    mu["velocity"] = 3.0
    with pytest.raises(ParameterError, match="velocity"):
        mixed.validate(mu)


def test_validate_not_a_mapping(mixed: ParameterSpace) -> None:
    with pytest.raises(ParameterError):
        mixed.validate([0.25, 1.0])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(float("nan"), id="nan"),
        pytest.param(float("inf"), id="inf"),
        pytest.param(-float("inf"), id="-inf"),
        pytest.param(np.float64("nan"), id="np-nan"),
        pytest.param(-0.5, id="below"),
        pytest.param(1.5, id="above"),
        pytest.param(True, id="bool-true"),
        pytest.param(False, id="bool-false"),
        pytest.param("abc", id="string"),
        pytest.param("", id="empty-string"),
        pytest.param(None, id="none"),
        pytest.param([0.5], id="list"),
        pytest.param(np.array([0.5, 0.6]), id="array"),
        pytest.param(1 + 0j, id="complex"),
    ],
)
def test_validate_bad_scalar_names_parameter(mixed: ParameterSpace, value: object) -> None:
    mu = _good(mixed)
    mu["a"] = value
    with pytest.raises(ParameterError, match="'a'"):
        mixed.validate(mu)


def test_validate_numeric_string_is_rejected(mixed: ParameterSpace) -> None:
    mu = _good(mixed)
    mu["a"] = "0.5"
    with pytest.raises(ParameterError, match="'a'"):
        mixed.validate(mu)


def test_validate_numpy_bool_is_rejected(mixed: ParameterSpace) -> None:
    mu = _good(mixed)
    mu["a"] = np.bool_(True)
    with pytest.raises(ParameterError, match="'a'"):
        mixed.validate(mu)


def test_validate_out_of_bounds_loguniform_names_parameter(mixed: ParameterSpace) -> None:
    for bad in (0.0, -1.0, 0.0999, 10.01):
        mu = _good(mixed)
        mu["k"] = bad
        with pytest.raises(ParameterError, match="'k'"):
            mixed.validate(mu)


def test_validate_accepts_bounds_exactly(mixed: ParameterSpace) -> None:
    for a, k in ((0.0, 0.1), (1.0, 10.0)):
        out = mixed.validate({"a": a, "k": k, "source": np.zeros((4, 3))})
        assert out["a"] == a and out["k"] == k


def test_validate_few_ulps_outside_bounds_is_clipped() -> None:
    p = LogUniform("k", 1e-5, 100.0)
    sp = ParameterSpace([p])
    # exp(log(b)) leaves these bounds by an ulp or two: below 1e-5 and above 100
    under, over = math.exp(math.log(p.low)), math.exp(math.log(p.high))
    assert under < p.low and over > p.high
    assert sp.validate({"k": under})["k"] == p.low
    assert sp.validate({"k": over})["k"] == p.high
    for _ in range(4):
        over = float(np.nextafter(over, np.inf))
        under = float(np.nextafter(under, -np.inf))
    assert sp.validate({"k": over})["k"] == p.high
    assert sp.validate({"k": under})["k"] == p.low
    np.testing.assert_array_equal(sp.validate_array([[under], [over]]), [[under], [over]])
    # while a clearly outside value is still rejected
    with pytest.raises(ParameterError, match="'k'"):
        sp.validate({"k": p.high * (1 + 1e-9)})


@pytest.mark.parametrize("value", [0.0, -1e-10, 0.5e-12])
def test_validate_far_below_small_loguniform_low_raises(value: float) -> None:
    sp = ParameterSpace([LogUniform("k", 1e-12, 1e3)])
    with pytest.raises(ParameterError, match="'k'"):
        sp.validate({"k": value})


@pytest.mark.parametrize(
    ("value", "match"),
    [
        pytest.param(np.zeros((3, 4)), "shape", id="transposed"),
        pytest.param(np.zeros(12), "shape", id="flat"),
        pytest.param(0.0, "shape", id="scalar"),
        pytest.param(np.full((4, 3), np.nan), "NaN", id="nan"),
        pytest.param(np.where(np.eye(4, 3) > 0, np.inf, 0.0), "NaN or infinite", id="inf"),
        pytest.param(np.full((4, 3), -1.5), "below", id="below-low"),
        pytest.param(np.full((4, 3), 1.5), "above", id="above-high"),
        pytest.param([["x"] * 3] * 4, "number", id="strings"),
    ],
)
def test_validate_bad_field_names_field(mixed: ParameterSpace, value: object, match: str) -> None:
    mu = _good(mixed)
    mu["source"] = value
    with pytest.raises(ParameterError, match=match) as excinfo:
        mixed.validate(mu)
    assert "'source'" in str(excinfo.value)


def test_validate_field_one_sided_bound() -> None:
    sp = ParameterSpace([FieldInput("rho", (3,), low=0.0)])
    np.testing.assert_array_equal(sp.validate({"rho": [0.0, 1e9, 2.0]})["rho"], [0, 1e9, 2])
    with pytest.raises(ParameterError, match="rho"):
        sp.validate({"rho": [0.0, -1e-9, 2.0]})


# -- validate_array ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "col", "value", "name"),
    [
        (3, 0, 2.5, "length"),
        (0, 1, 0.0, "kappa"),
        (7, 2, float("nan"), "theta"),
        (5, 1, float("inf"), "kappa"),
    ],
)
def test_validate_array_names_parameter_and_row(
    space: ParameterSpace, row: int, col: int, value: float, name: str
) -> None:
    x = space.sample(8, seed=0)
    x[row, col] = value
    with pytest.raises(ParameterError) as excinfo:
        space.validate_array(x)
    msg = str(excinfo.value)
    assert f"'{name}'" in msg
    assert f"row {row}" in msg


def test_validate_array_reports_first_bad_row(space: ParameterSpace) -> None:
    x = space.sample(8, seed=0)
    x[2, 0] = -10.0
    x[6, 0] = -10.0
    with pytest.raises(ParameterError, match="row 2"):
        space.validate_array(x)


def test_validate_array_wrong_shape_and_type(space: ParameterSpace) -> None:
    with pytest.raises(ParameterError, match="length, kappa, theta"):
        space.validate_array(np.ones((4, 2)))
    with pytest.raises(ParameterError):
        space.validate_array([["a", "b", "c"]])
    # a single row is promoted to (1, dim)
    assert space.validate_array([1.0, 1.0, 0.0]).shape == (1, 3)


def test_as_dict_and_as_array(space: ParameterSpace) -> None:
    x = space.sample(5, seed=0)
    mus = [space.as_dict(row) for row in x]
    assert list(mus[0]) == ["length", "kappa", "theta"]
    np.testing.assert_array_equal(space.as_array(mus), x)
    with pytest.raises(ParameterError):
        space.as_dict([1.0, 2.0])


# -- serialisation -------------------------------------------------------------------------


def test_to_dict_from_dict_round_trip(space: ParameterSpace, mixed: ParameterSpace) -> None:
    for sp in (space, mixed):
        data = json.loads(json.dumps(sp.to_dict()))
        back = ParameterSpace.from_dict(data)
        assert back == sp
        assert hash(back) == hash(sp)
        assert back.names == sp.names
        assert [type(p) for p in back.parameters] == [type(p) for p in sp.parameters]
    assert space != mixed


def test_from_dict_unknown_kind_raises(space: ParameterSpace) -> None:
    data = space.to_dict()
    data["parameters"][1]["kind"] = "gaussian"
    with pytest.raises(ParameterError, match="gaussian") as excinfo:
        ParameterSpace.from_dict(data)
    assert "kappa" in str(excinfo.value)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({}, id="no-parameters"),
        pytest.param({"parameters": [{"kind": "uniform", "low": 0, "high": 1}]}, id="no-name"),
        pytest.param({"parameters": [{"kind": "uniform", "name": "a", "low": 0}]}, id="no-high"),
        pytest.param({"parameters": [{"kind": "field", "name": "f"}]}, id="no-shape"),
        pytest.param({"parameters": [{"name": "a", "low": 0, "high": 1}]}, id="no-kind"),
        pytest.param(
            {"parameters": [{"kind": "uniform", "name": "a", "low": 0, "high": 1, "x": 1}]},
            id="extra-key",
        ),
        pytest.param({"parameters": [["uniform", "a", 0, 1]]}, id="item-list"),
        pytest.param({"parameters": 3}, id="parameters-int"),
        pytest.param({"parameters": []}, id="empty"),
        pytest.param(None, id="none"),
        pytest.param([], id="list"),
        pytest.param("parameters", id="string"),
    ],
)
def test_from_dict_malformed_raises_parameter_error(data: object) -> None:
    with pytest.raises(ParameterError):
        ParameterSpace.from_dict(data)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "item",
    [
        pytest.param({"kind": "uniform", "name": "a", "low": None, "high": 1}, id="low-none"),
        pytest.param({"kind": "uniform", "name": "a", "low": [0], "high": 1}, id="low-list"),
        pytest.param({"kind": "field", "name": "f", "shape": 5}, id="shape-int"),
        pytest.param({"kind": "field", "name": "f", "shape": [0]}, id="shape-zero"),
        pytest.param({"kind": "uniform", "name": 3, "low": 0, "high": 1}, id="name-int"),
        pytest.param(
            {"kind": "uniform", "name": "a", "low": "abc", "high": 1},
            id="low-string",
        ),
        pytest.param(
            {"kind": "uniform", "name": "a", "low": 0, "high": 10**400},
            id="high-huge-int",
        ),
        pytest.param(
            {"kind": "field", "name": "f", "shape": ["x"]},
            id="shape-string",
        ),
        pytest.param(
            {"kind": "field", "name": "f", "shape": [float("nan")]},
            id="shape-nan",
        ),
        pytest.param(
            {"kind": "field", "name": "f", "shape": [2], "low": "a"},
            id="field-one-string-bound",
        ),
    ],
)
def test_from_dict_bad_values_raise_parameter_error(item: dict[str, object]) -> None:
    with pytest.raises(ParameterError):
        ParameterSpace.from_dict({"parameters": [item]})


# -- constructors --------------------------------------------------------------------------


def test_duplicate_names_raise() -> None:
    with pytest.raises(ParameterError, match="duplicate.*'?a'?"):
        ParameterSpace([Uniform("a", 0, 1), LogUniform("b", 1, 2), FieldInput("a", (2,))])


@pytest.mark.parametrize("name", ["1a", "a b", "", "a-b", "é", "a.b", None, 3])
@pytest.mark.parametrize("kind", ["uniform", "loguniform", "field"])
def test_bad_names_raise(name: object, kind: str) -> None:
    with pytest.raises(ParameterError):
        if kind == "field":
            FieldInput(name, (2,))  # type: ignore[arg-type]
        elif kind == "uniform":
            Uniform(name, 0, 1)  # type: ignore[arg-type]
        else:
            LogUniform(name, 1, 2)  # type: ignore[arg-type]


def test_name_with_trailing_newline_raises() -> None:
    with pytest.raises(ParameterError):
        Uniform("a\n", 0, 1)


@pytest.mark.parametrize("name", ["a", "_", "A1", "_x_2", "kappa_eff"])
def test_good_names_accepted(name: str) -> None:
    assert Uniform(name, 0, 1).name == name


@pytest.mark.parametrize(
    ("low", "high"), [(1.0, 1.0), (2.0, 1.0), (0.0, -1e-300), (-np.inf, 0.0), (0.0, np.nan)]
)
@pytest.mark.parametrize("cls", [Uniform, LogUniform])
def test_bad_bounds_raise_naming_parameter(cls: type, low: float, high: float) -> None:
    with pytest.raises(ParameterError, match="'x'"):
        cls("x", low, high)


@pytest.mark.parametrize(("low", "high"), [(1.0, 1.0), (0.0, np.inf), (np.nan, 1.0)])
def test_field_bad_bounds_raise(low: float, high: float) -> None:
    with pytest.raises(ParameterError, match="'f'"):
        FieldInput("f", (3,), low=low, high=high)


@pytest.mark.parametrize("shape", [(), (0,), (3, -1)])
def test_field_bad_shape_raises(shape: tuple[int, ...]) -> None:
    with pytest.raises(ParameterError, match="'f'"):
        FieldInput("f", shape)


@pytest.mark.parametrize("low", [0.0, -1.0, -1e-300])
def test_loguniform_nonpositive_low_raises(low: float) -> None:
    with pytest.raises(ParameterError, match="> 0"):
        LogUniform("k", low, 10.0)
    Uniform("k", low, 10.0)  # fine for a uniform parameter


def test_empty_space_raises() -> None:
    with pytest.raises(ParameterError, match="at least one"):
        ParameterSpace([])


def test_non_parameter_raises() -> None:
    with pytest.raises(ParameterError, match="not a parameter"):
        ParameterSpace([Uniform("a", 0, 1), ("b", 0, 1)])  # type: ignore[list-item]


def test_getitem(space: ParameterSpace) -> None:
    assert space["kappa"] == LogUniform("kappa", 1e-3, 1e3, unit="W/m/K")
    with pytest.raises(ParameterError, match="nope"):
        space["nope"]


def test_bounds_are_stored_as_float() -> None:
    p = Uniform("a", 0, 3)
    assert type(p.low) is float and type(p.high) is float
    f = FieldInput("f", [2.0, 3])  # type: ignore[list-item]
    assert f.shape == (2, 3)


# -- property-based ------------------------------------------------------------------------

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,15}", fullmatch=True)


@st.composite
def uniform_params(draw: st.DrawFn) -> Uniform:
    low = draw(st.floats(-1e9, 1e9))
    width = draw(st.floats(1e-6, 1e9))
    return Uniform(draw(names), low, low + width)


@st.composite
def loguniform_params(draw: st.DrawFn) -> LogUniform:
    low = 10.0 ** draw(st.floats(-12, 9))
    factor = draw(st.floats(1.0 + 1e-6, 1e6))
    return LogUniform(draw(names), low, low * factor)


scalar_params = uniform_params() | loguniform_params()

special_values = st.sampled_from([math.nan, math.inf, -math.inf])


@SETTINGS
@given(data=st.data(), p=scalar_params)
def test_values_outside_bounds_raise_naming_parameter(data: st.DataObject, p: object) -> None:
    assert isinstance(p, (Uniform, LogUniform))
    if data.draw(st.booleans()):
        value = data.draw(special_values)
    else:
        # at least 1e-9 of the larger bound magnitude outside the nearer bound
        offset = data.draw(st.floats(1e-9, 1e3)) * max(abs(p.low), abs(p.high))
        value = p.high + offset if data.draw(st.booleans()) else p.low - offset
    _assert_rejected(p, value)


def _assert_rejected(p: Uniform | LogUniform, value: float) -> None:
    sp = ParameterSpace([p])
    with pytest.raises(ParameterError) as excinfo:
        sp.validate({p.name: value})
    assert repr(p.name) in str(excinfo.value)
    with pytest.raises(ParameterError) as excinfo:
        sp.validate_array(np.array([[p.high], [value]]))
    assert repr(p.name) in str(excinfo.value) and "row 1" in str(excinfo.value)


@SETTINGS
@given(p=loguniform_params(), f=st.floats(1e-6, 2.0))
@example(p=LogUniform("k", 1e-12, 1e3), f=1.0)
def test_loguniform_values_relatively_below_low_raise(p: LogUniform, f: float) -> None:
    # f >= 1e-6 below low in relative terms is far beyond a few ulps
    _assert_rejected(p, p.low * (1.0 - f))


@SETTINGS
@given(p=scalar_params, t=st.floats(0.0, 1.0))
def test_values_inside_bounds_validate_to_same_float(p: object, t: float) -> None:
    assert isinstance(p, (Uniform, LogUniform))
    value = min(max(p.low + t * (p.high - p.low), p.low), p.high)
    sp = ParameterSpace([p])
    out = sp.validate({p.name: value})[p.name]
    assert type(out) is float
    assert out == value
    assert sp.validate({p.name: np.float64(value)})[p.name] == value


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@SETTINGS
@given(data=json_values)
def test_from_dict_arbitrary_garbage_raises_parameter_error(data: object) -> None:
    with pytest.raises(ParameterError):
        ParameterSpace.from_dict(data)  # type: ignore[arg-type]


@SETTINGS
@given(items=json_values)
def test_from_dict_garbage_parameter_list_raises_parameter_error(items: object) -> None:
    with pytest.raises(ParameterError):
        ParameterSpace.from_dict({"parameters": items})


@st.composite
def garbage_items(draw: st.DrawFn) -> dict[str, object]:
    """Entries with a valid kind and every other field either plausible or garbage."""
    kind = draw(st.sampled_from(["uniform", "loguniform", "field"]))
    item: dict[str, object] = {"kind": kind}
    plausible = {
        "name": names,
        "low": st.floats(-10, 10),
        "high": st.floats(-10, 10),
        "unit": st.text(max_size=4),
        "shape": st.lists(st.integers(-1, 4), max_size=3),
    }
    for key, good in plausible.items():
        choice = draw(st.sampled_from(["good", "garbage", "absent"]))
        if choice == "good":
            item[key] = draw(good)
        elif choice == "garbage":
            item[key] = draw(json_values)
    if kind != "field" and "shape" in item and draw(st.booleans()):
        del item["shape"]
    return item


@SETTINGS
@given(items=st.lists(garbage_items(), min_size=1, max_size=3))
@example(items=[{"kind": "uniform", "name": "a", "low": "abc", "high": 1.0}])
def test_from_dict_garbage_entries_raise_parameter_error(items: list[dict[str, object]]) -> None:
    try:
        space = ParameterSpace.from_dict({"parameters": items})
    except ParameterError:
        return
    # a description that happens to be valid must describe what it says
    assert space.names == [item["name"] for item in items]

"""Declared hyperparameter rules: what they accept, and errors naming the culprit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nirom.checks import (
    AnyOf,
    Boolean,
    Integer,
    OneOf,
    Options,
    Real,
    Widths,
    check_hyperparameters,
    check_integer,
    check_number,
)
from nirom.errors import HyperparameterError, ModelError, ParameterError


@pytest.mark.parametrize(
    ("rule", "good", "bad"),
    [
        (Integer(least=1), [1, np.int64(7)], [0, 2.0, True, "3", None]),
        (Integer(least=0), [0, 5], [-1, 1.5]),
        (Integer(), [-3, 0], [0.5, False]),
        (Real(low=0, closed="neither"), [1e-9, 3], [0, -1, math.inf, math.nan, True, "1"]),
        (Real(low=0, closed="neither", infinite=True), [math.inf, 2.5], [0, math.nan]),
        (Real(low=0, high=1, closed="left"), [0, 0.5], [1, -0.1]),
        (OneOf(choices=("a", "b")), ["a", "b"], ["c", ["a"], 1]),
        (Boolean(), [True, np.bool_(False)], [1, "yes"]),
        (Widths(), [(), (3, 4), [2]], [(0,), (2.5,), 3, "ab"]),
        (Widths(empty=False), [(1,)], [()]),
        (Options(), [{}, {"n_restarts": 2}], [[("a", 1)], {1: 2}]),
        (AnyOf(rules=(Integer(least=1), Widths(empty=False))), [3, (2, 2)], [0, ()]),
    ],
)
def test_rules_accept_what_they_say(rule, good, bad) -> None:
    assert all(rule.accepts(v) for v in good)
    assert not any(rule.accepts(v) for v in bad)


@pytest.mark.parametrize(
    ("rule", "value", "message"),
    [
        (Integer(least=1, none=True), 0, "n must be a positive integer or None, got 0"),
        (Integer(least=0), -1, "n must be a non-negative integer, got -1"),
        (Integer(least=3), 2, "n must be an integer >= 3, got 2"),
        (Real(low=0, closed="neither"), -2.0, "n must be a positive number, got -2.0"),
        (Real(low=0), -2.0, "n must be a number >= 0, got -2.0"),
        (Real(low=0, high=1, closed="neither"), 1.0, r"n must be in (0, 1), got 1.0"),
        (
            OneOf(choices=("x", "y"), label="kernel"),
            "z",
            "unknown kernel 'z': n must be one of x, y",
        ),
        (Widths(phrase="a list of widths"), 3, "n must be a list of widths, got 3"),
    ],
)
def test_messages_name_the_hyperparameter_and_the_rule(rule, value, message) -> None:
    with pytest.raises(HyperparameterError) as caught:
        check_hyperparameters({"n": value}, {"n": rule}, owner="Thing")
    assert str(caught.value) == f"Thing: {message}"


def test_hyperparameter_errors_are_parameter_and_model_errors() -> None:
    with pytest.raises(HyperparameterError) as caught:
        check_hyperparameters({"n": None}, {"n": Integer(least=1)})
    assert isinstance(caught.value, ParameterError)
    assert isinstance(caught.value, ModelError)
    assert isinstance(caught.value, ValueError)
    check_hyperparameters({"n": None, "unruled": object()}, {"n": Integer(none=True)})


def test_numeric_option_checks_still_accept_integral_floats() -> None:
    assert check_integer("resolution", 8.0) == 8
    with pytest.raises(ParameterError, match="resolution must be an integer >= 1"):
        check_integer("resolution", 0)
    assert check_number("sigma", 2, "positive") == 2.0

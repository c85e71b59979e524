"""The estimator base: keyword-only hyperparameters stored as given, declared rules, clone."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import numpy as np
import pytest
from sklearn.base import clone

from nirom.checks import Constraint, Integer, Real, Widths
from nirom.errors import HyperparameterError
from nirom.estimator import Estimator, jsonable


class Base(Estimator):
    _constraints: ClassVar[dict[str, Constraint]] = {"epochs": Integer(least=1)}

    def __init__(self, *, epochs: int = 3, seed: int = 0) -> None:
        self.epochs = epochs
        self.seed = seed


class Child(Base):
    _constraints: ClassVar[dict[str, Constraint]] = {
        "widths": Widths(),
        "fraction": Real(low=0, high=1, closed="neither", none=True),
        "share": Real(low=0, high=1, closed="neither", none=True),
    }
    _aliases: ClassVar[dict[str, str]] = {"share": "fraction"}

    def __init__(
        self,
        *,
        widths: tuple[int, ...] = (4, 4),
        fraction: float | None = None,
        share: float | None = None,
        **base: Any,
    ) -> None:
        super().__init__(**base)
        self.widths = widths
        self.fraction = fraction
        self.share = share

    def _check_relations(self) -> None:
        if self.epochs < len(self.widths):
            raise HyperparameterError("Child: epochs must be at least len(widths)")


def test_params_follow_forwarded_keyword_arguments_and_clone() -> None:
    model = Child(widths=(2,), epochs=5)
    assert model.get_params() == {
        "epochs": 5,
        "fraction": None,
        "seed": 0,
        "share": None,
        "widths": (2,),
    }
    twin = clone(model)
    assert twin.get_params() == model.get_params() and twin is not model
    assert twin.set_params(seed=3).seed == 3
    with pytest.raises(TypeError):
        Child((2,))  # keyword-only


def test_constructor_stores_what_it_is_given_and_check_params_refuses() -> None:
    model = Child(widths=(0,), epochs=0)  # no error before check_params
    assert model.widths == (0,)
    with pytest.raises(HyperparameterError, match="Child: epochs must be a positive integer"):
        model.check_params()
    with pytest.raises(HyperparameterError, match="widths must be a sequence of positive"):
        Child(widths=(0,)).check_params()
    with pytest.raises(HyperparameterError, match="at least len"):
        Child(widths=(1, 1, 1, 1)).check_params()


def test_an_alias_gives_the_same_value_and_both_must_agree() -> None:
    assert Child(share=0.25)._value("fraction") == 0.25
    assert Child(fraction=0.5)._value("fraction") == 0.5
    Child(share=0.5, fraction=0.5).check_params()
    with pytest.raises(HyperparameterError, match="share is another name for fraction"):
        Child(share=0.5, fraction=0.25).check_params()


def test_params_round_trip_through_json() -> None:
    model = Child(widths=(3, 2), fraction=0.1)
    saved = model.params_to_json()
    assert saved["widths"] == [3, 2]
    assert Child(**Child.params_from_json(saved)).get_params() == model.get_params()
    assert jsonable({"a": (1, 2)}) == {"a": [1, 2]}


def test_jsonable_keeps_infinities_unless_finite_is_asked() -> None:
    value = {"nu": np.float64(np.inf), "x": np.array([1.0, np.nan]), 2: (np.int64(3),)}
    assert json.dumps(jsonable(value)) == '{"nu": Infinity, "x": [1.0, NaN], "2": [3]}'
    strict = json.dumps(jsonable(value, finite=True), allow_nan=False)
    assert strict == '{"nu": null, "x": [1.0, null], "2": [3]}'

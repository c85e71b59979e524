"""Checks of user-given values, each naming the culprit.

Two kinds: :func:`check_integer` / :func:`check_number` for numeric options
of solvers and random fields, and the declared hyperparameters of every
estimator (:class:`Constraint` and its kinds, :func:`check_hyperparameters`),
which :meth:`nirom.estimator.Estimator.check_params` runs before any data is read.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from nirom.errors import HyperparameterError, ParameterError


def check_integer(what: str, value: Any, least: int = 1) -> int:
    """``value`` as an int >= ``least`` (an integral float is accepted), else ParameterError."""
    try:
        ok = not isinstance(value, bool) and int(value) == value and value >= least
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise ParameterError(f"{what} must be an integer >= {least}, got {value!r}")
    return int(value)


def check_number(
    what: str, value: Any, sign: Literal["any", "nonnegative", "positive"] = "any"
) -> float:
    """``value`` as a finite float (>= 0 or > 0 as ``sign`` asks), else ParameterError."""
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        v = float("nan")
    bad = isinstance(value, (bool, str, bytes)) or not math.isfinite(v)
    bad = bad or (sign == "nonnegative" and v < 0) or (sign == "positive" and v <= 0)
    if bad:
        bound = {"any": "", "nonnegative": " >= 0", "positive": " > 0"}[sign]
        raise ParameterError(f"{what} must be a finite number{bound}, got {value!r}")
    return v


# -- declared hyperparameters -----------------------------------------------------------
# An estimator declares, per hyperparameter, the rule its value must satisfy
# (``_constraints = {"n_modes": Integer(least=1, none=True), ...}``), in the
# spirit of scikit-learn's parameter constraints; :func:`check_hyperparameters`
# checks them all and names the first one that fails, in words made from the rule.


@dataclass(frozen=True)
class Constraint:
    """A rule one hyperparameter must satisfy.

    ``none``: None is also accepted. ``phrase``: how the rule reads in an error
    ("must be <phrase>"), when the default wording does not fit. ``saved``:
    False for values that are not saved with a model (a matrix passed again on
    loading).
    """

    none: bool = False
    phrase: str | None = None
    saved: bool = True

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` (not None) satisfies the rule."""
        raise NotImplementedError

    def words(self) -> str:
        """The rule in words: what a value must be."""
        raise NotImplementedError

    def message(self, name: str, value: Any) -> str:
        """One line naming ``name`` and the rule ``value`` breaks."""
        rule = self.phrase or self.words()
        return f"{name} must be {rule}{' or None' if self.none else ''}, got {value!r}"

    def from_json(self, value: Any) -> Any:
        """The hyperparameter from its JSON form (lists become tuples where tuples are meant)."""
        return value


@dataclass(frozen=True)
class Integer(Constraint):
    """An integer (not a bool) ``>= least``; ``least`` None for any integer."""

    least: int | None = None

    def accepts(self, value: Any) -> bool:
        integral = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
        return integral and (self.least is None or value >= self.least)

    def words(self) -> str:
        named = {None: "an integer", 0: "a non-negative integer", 1: "a positive integer"}
        return named.get(self.least, f"an integer >= {self.least}")


@dataclass(frozen=True)
class Real(Constraint):
    """A finite real number (not a bool) in the interval ``low .. high``.

    ``closed``: which ends belong to it ("both", "left", "right", "neither");
    ``infinite``: +-inf is allowed (within the bounds).
    """

    low: float | None = None
    high: float | None = None
    closed: Literal["both", "left", "right", "neither"] = "both"
    infinite: bool = False

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating)):
            return False
        v = float(value)
        low_ok = self.low is None or (v >= self.low if self._left() else v > self.low)
        high_ok = self.high is None or (v <= self.high if self._right() else v < self.high)
        return (self.infinite or math.isfinite(v)) and not math.isnan(v) and low_ok and high_ok

    def _left(self) -> bool:
        return self.closed in ("both", "left")

    def _right(self) -> bool:
        return self.closed in ("both", "right")

    def words(self) -> str:
        if self.low is None and self.high is None:
            return "a finite number"
        if self.high is None:
            if self.low == 0:
                return "a number >= 0" if self._left() else "a positive number"
            return f"a number {'>=' if self._left() else '>'} {self.low:g}"
        if self.low is None:
            return f"a number {'<=' if self._right() else '<'} {self.high:g}"
        left, right = "[" if self._left() else "(", "]" if self._right() else ")"
        return f"in {left}{self.low:g}, {self.high:g}{right}"


@dataclass(frozen=True)
class OneOf(Constraint):
    """One of a few values (names of methods, kernels, activations)."""

    choices: tuple[Any, ...] = ()
    label: str | None = None  # what a value is, for "unknown <label> 'x'"

    def accepts(self, value: Any) -> bool:
        return isinstance(value, Hashable) and value in self.choices

    def words(self) -> str:
        return f"one of {', '.join(str(c) for c in self.choices)}"

    def message(self, name: str, value: Any) -> str:
        rule = self.phrase or self.words()
        return f"unknown {self.label or name} {value!r}: {name} must be {rule}" + (
            " or None" if self.none else ""
        )


@dataclass(frozen=True)
class Boolean(Constraint):
    """True or False."""

    def accepts(self, value: Any) -> bool:
        return isinstance(value, (bool, np.bool_))

    def words(self) -> str:
        return "True or False"


@dataclass(frozen=True)
class Widths(Constraint):
    """A sequence (list or tuple) of positive integers: layer widths, modes per axis.

    ``empty``: whether ``()`` is allowed (an MLP without hidden layers).
    """

    empty: bool = True

    def accepts(self, value: Any) -> bool:
        return (
            isinstance(value, (tuple, list))
            and (self.empty or len(value) > 0)
            and all(Integer(least=1).accepts(w) for w in value)
        )

    def words(self) -> str:
        return "a sequence of positive integers"

    def from_json(self, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value


@dataclass(frozen=True)
class Options(Constraint):
    """A mapping of option names (str) to values: the options of an inner estimator."""

    def accepts(self, value: Any) -> bool:
        return isinstance(value, Mapping) and all(isinstance(k, str) for k in value)

    def words(self) -> str:
        return "a mapping of option names to values"


@dataclass(frozen=True)
class AnyOf(Constraint):
    """Any of several rules (an int, or one int per axis)."""

    rules: tuple[Constraint, ...] = ()

    def accepts(self, value: Any) -> bool:
        return any(rule.accepts(value) for rule in self.rules)

    def words(self) -> str:
        return " or ".join(rule.words() for rule in self.rules)

    def from_json(self, value: Any) -> Any:
        for rule in self.rules:
            if rule.accepts(value):
                return rule.from_json(value)
        return value


@dataclass(frozen=True)
class Anything(Constraint):
    """No rule here: the value is checked against the data it is used with (a matrix)."""

    def accepts(self, value: Any) -> bool:
        return True

    def words(self) -> str:
        return "given"


def check_hyperparameters(
    values: Mapping[str, Any], constraints: Mapping[str, Constraint], owner: str = ""
) -> None:
    """Raise :class:`HyperparameterError` naming the first value that breaks its rule.

    ``values`` maps hyperparameter names to values; names without a rule are
    not checked. ``owner`` (an estimator's name) starts the message.
    """
    for name, rule in constraints.items():
        if name not in values:
            continue
        value = values[name]
        if value is None and rule.none:
            continue
        if value is None or not rule.accepts(value):
            prefix = f"{owner}: " if owner else ""
            raise HyperparameterError(prefix + rule.message(name, value))

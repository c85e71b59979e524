"""The base of everything nirom fits: reductions, regressors and surrogates.

An :class:`Estimator` follows scikit-learn's contract:

- the constructor takes keyword-only hyperparameters and stores them as given
  (no checks, no rewriting: ``self._store_hyperparameters(locals())``), so
  ``get_params`` / ``set_params`` / :func:`clone` work and a clone is the same
  unfitted model;
- the rules each hyperparameter must satisfy are declared in one table,
  ``_constraints`` (see :mod:`nirom.checks`); :meth:`Estimator.check_params`
  checks them, plus the relations between them (``_check_relations``), and
  raises :class:`~nirom.errors.HyperparameterError` naming the culprit. ``fit``
  calls it first, and :func:`nirom.surrogates.make_surrogate` calls it before
  any data is read;
- ``fit`` learns and returns ``self``; learned state ends with ``_``.

A renamed hyperparameter keeps its old name as an alias: both are constructor
arguments, ``_aliases`` maps the old name to the new, and :meth:`Estimator._value`
reads whichever was given (both, with different values, is an error).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, clone

from nirom.checks import Constraint, check_hyperparameters
from nirom.errors import HyperparameterError

__all__ = ["Estimator", "clone", "jsonable"]


class Estimator(BaseEstimator):
    """Hyperparameters in the constructor only, declared rules, get/set_params, clone."""

    #: hyperparameter name -> the rule its value must satisfy (merged along the class tree)
    _constraints: ClassVar[dict[str, Constraint]] = {}
    #: old hyperparameter name -> its new name (both are constructor arguments)
    _aliases: ClassVar[dict[str, str]] = {}

    @classmethod
    def _get_param_names(cls) -> list[str]:
        """Constructor arguments, following ``**params`` forwarded to a base constructor."""
        names: set[str] = set()
        for klass in cls.__mro__:
            init = vars(klass).get("__init__")
            if init is None:
                continue
            if klass in (BaseEstimator, object):
                break
            parameters = list(inspect.signature(init).parameters.values())[1:]
            if any(p.kind is p.VAR_POSITIONAL for p in parameters):
                raise TypeError(f"{cls.__name__}: hyperparameters must be named, not *args")
            names.update(p.name for p in parameters if p.kind is not p.VAR_KEYWORD)
            if not any(p.kind is p.VAR_KEYWORD for p in parameters):
                break
        return sorted(names)

    def _store_hyperparameters(self, given: Mapping[str, Any]) -> None:
        """Store the constructor's arguments (pass ``locals()``) as attributes, unchanged.

        The one line a constructor holds: no check, no rewriting (scikit-learn's
        rule), so ``get_params`` returns what was given and ``clone`` copies it.
        Arguments forwarded with ``**params`` are stored by the base constructor.
        """
        for name in self._get_param_names():
            if name in given:
                setattr(self, name, given[name])

    @classmethod
    def constraints(cls) -> dict[str, Constraint]:
        """Every declared rule of this class and its bases (a subclass's rule wins)."""
        merged: dict[str, Constraint] = {}
        for klass in reversed(cls.__mro__):
            merged.update(vars(klass).get("_constraints", {}))
        return merged

    def check_params(self) -> None:
        """Raise :class:`HyperparameterError` naming the first hyperparameter that cannot work.

        Checks each declared rule, the aliases, then the relations between
        hyperparameters (``_check_relations``). Reads no data.
        """
        params = self.get_params(deep=False)
        check_hyperparameters(params, self.constraints(), owner=self._owner())
        for old, new in self._aliases.items():
            given = params.get(old) is not None and params.get(new) is not None
            if given and params[old] != params[new]:
                raise HyperparameterError(
                    f"{self._owner()}: {old} is another name for {new}; give one of them"
                )
        self._check_relations()

    def _check_relations(self) -> None:
        """Checks that involve several hyperparameters (override; raise HyperparameterError)."""

    def _owner(self) -> str:
        """How errors name this estimator."""
        return type(self).__name__

    def _value(self, name: str) -> Any:
        """Hyperparameter ``name``, or the value given under its old name (alias)."""
        value = getattr(self, name)
        if value is None:
            for old, new in self._aliases.items():
                if new == name:
                    value = getattr(self, old)
        return value

    # -- hyperparameters as JSON ---------------------------------------------------------
    def params_to_json(self) -> dict[str, Any]:
        """The hyperparameters that are saved, JSON-compatible (tuples become lists)."""
        rules = self.constraints()
        return {
            name: jsonable(value)
            for name, value in self.get_params(deep=False).items()
            if rules.get(name) is None or rules[name].saved
        }

    @classmethod
    def params_from_json(cls, params: Mapping[str, Any]) -> dict[str, Any]:
        """Constructor arguments from :meth:`params_to_json` output (lists back to tuples)."""
        rules = cls.constraints()
        return {
            name: rules[name].from_json(value) if name in rules else value
            for name, value in params.items()
        }


def jsonable(value: Any, *, finite: bool = False) -> Any:
    """``value`` in JSON's types, recursively: NumPy scalars as Python numbers, NumPy arrays
    and tuples as lists, mapping keys as strings.

    NaN and infinities stay floats (Python's ``json`` writes them as ``NaN`` / ``Infinity``
    and reads them back: hyperparameters such as a GP's ``nu=inf`` and saved models keep
    them); with ``finite``, they become None (``null``), for files other programs read
    (results of the uses, model cards, ``--json`` output), since strict JSON has neither.
    """
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, finite=finite) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [jsonable(v, finite=finite) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist(), finite=finite)
    if isinstance(value, np.generic):
        value = value.item()
    if finite and isinstance(value, float) and not math.isfinite(value):
        return None
    return value

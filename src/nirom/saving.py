"""The one way nirom saves what it fits: state as JSON, named arrays, a rebuild; one registry.

Every saveable thing (a reduction, a regressor, a surrogate, a reduced model)
is a :class:`Saveable`:

- ``to_json()``: JSON-compatible state (hyperparameters and fitted scalars);
- ``to_arrays()``: the fitted arrays by name (saved as ``.npz``, loaded with
  ``allow_pickle=False``);
- ``from_saved(state, arrays)``: the fitted object again, without refitting;
- ``summary()``: one line for people saying what was learned (so callers
  describe a model without inspecting its attributes).

Classes register under a family and a name with :func:`saveable` (which also
sets ``cls.kind``); :func:`saved_class` (or the live mapping :func:`registry`)
finds them again from what a file says. A container keeps each part's
``to_json()`` in its own state, stores the part's arrays under a prefix
(:func:`arrays_of`) and hands them back with :func:`arrays_under`. No pickle anywhere: a saved
object is data, and loading it never runs code.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

import numpy as np

from nirom.errors import ModelError

T = TypeVar("T", bound=type)

#: family ("reduction", "regressor", "surrogate", ...) -> name -> class
_REGISTRY: dict[str, dict[str, type]] = {}


class Saveable(ABC):
    """State as JSON, arrays, rebuild; and a one-line summary."""

    #: the registry name, set by :func:`saveable`
    kind: ClassVar[str] = ""

    @abstractmethod
    def to_json(self) -> dict[str, Any]:
        """JSON-compatible state: hyperparameters and fitted scalars."""

    @abstractmethod
    def to_arrays(self) -> dict[str, np.ndarray]:
        """The fitted arrays by name."""

    @classmethod
    @abstractmethod
    def from_saved(cls, state: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> Any:
        """The fitted object rebuilt from :meth:`to_json` and :meth:`to_arrays` output.

        Raises :class:`~nirom.errors.ModelError` naming what is missing or malformed.
        """

    @abstractmethod
    def summary(self) -> str:
        """One line for people: what the fit learned (modes kept, epochs run, ...)."""


def saveable(family: str, name: str) -> Callable[[T], T]:
    """Class decorator: register a :class:`Saveable` as ``name`` of ``family``; sets ``kind``."""

    def add(cls: T) -> T:
        known = _REGISTRY.setdefault(family, {})
        if name in known and known[name] is not cls:
            raise ModelError(f"{family} {name!r} is registered twice ({known[name].__name__})")
        cls.kind = name
        known[name] = cls
        return cls

    return add


def registry(family: str) -> dict[str, type]:
    """The live name -> class mapping of ``family`` (empty if nothing registered yet)."""
    return _REGISTRY.setdefault(family, {})


def saved_class(family: str, name: Any, where: str = "") -> type:
    """The class registered as ``name`` of ``family``, or a ModelError naming the choices."""
    known = registry(family)
    if name not in known:
        prefix = f"{where}: " if where else ""
        raise ModelError(f"{prefix}unknown {family} {name!r}; known: {', '.join(sorted(known))}")
    return known[name]


def arrays_of(obj: Saveable, prefix: str) -> dict[str, np.ndarray]:
    """``obj``'s arrays, each name preceded by ``prefix`` (a part inside a container)."""
    return {prefix + k: v for k, v in obj.to_arrays().items()}


def arrays_under(arrays: Mapping[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    """The arrays whose names start with ``prefix``, with the prefix removed."""
    return {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}

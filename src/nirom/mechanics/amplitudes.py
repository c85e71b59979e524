"""Amplitudes a(t): the time factor a spatial load is multiplied by.

Each kind is a small frozen dataclass with ``__call__(t)`` (vectorised over an
array of times in s) and a JSON form ``{"kind": ..., ...}`` that
:func:`amplitude_from_dict` reads back, so a load history can be saved with a
dataset or a reduced model and replaced by a new one:

- ``constant``: ``a = value`` (a held load; the amplitude of fixed supports);
- ``ramp``: 0 until ``start``, linear to 1 at ``start + duration``, then held at 1;
- ``cyclic``: ``mean + amplitude * f((t - start) / period)`` for ``t >= start``
  (``mean`` before), with ``f`` the ``sine`` ``sin(2 pi s)`` or the ``triangle``
  wave of the same phase (0 -> 1 -> 0 -> -1 -> 0 over one period);
- ``table``: piecewise linear through ``(times, values)``, held constant outside.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from itertools import pairwise
from typing import Any, ClassVar

import numpy as np

from nirom.checks import check_number
from nirom.errors import ParameterError


@dataclass(frozen=True)
class Amplitude:
    """Base of the amplitude kinds; ``kind`` is the JSON tag."""

    kind: ClassVar[str] = ""

    def __call__(self, t: float | np.ndarray) -> float | np.ndarray:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **asdict(self)}


@dataclass(frozen=True)
class Constant(Amplitude):
    value: float = 1.0
    kind: ClassVar[str] = "constant"

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", check_number("constant amplitude value", self.value))

    def __call__(self, t: float | np.ndarray) -> float | np.ndarray:
        return self.value + 0.0 * np.asarray(t, dtype=float)


@dataclass(frozen=True)
class Ramp(Amplitude):
    duration: float = 1.0
    start: float = 0.0
    kind: ClassVar[str] = "ramp"

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "duration", check_number("ramp duration", self.duration, "positive")
        )
        object.__setattr__(self, "start", check_number("ramp start", self.start))

    def __call__(self, t: float | np.ndarray) -> float | np.ndarray:
        return np.clip((np.asarray(t, dtype=float) - self.start) / self.duration, 0.0, 1.0)


@dataclass(frozen=True)
class Cyclic(Amplitude):
    period: float = 1.0
    amplitude: float = 1.0
    mean: float = 0.0
    shape: str = "sine"
    start: float = 0.0
    kind: ClassVar[str] = "cyclic"

    def __post_init__(self) -> None:
        object.__setattr__(self, "period", check_number("cyclic period", self.period, "positive"))
        object.__setattr__(self, "amplitude", check_number("cyclic amplitude", self.amplitude))
        object.__setattr__(self, "mean", check_number("cyclic mean", self.mean))
        object.__setattr__(self, "start", check_number("cyclic start", self.start))
        if self.shape not in ("sine", "triangle"):
            raise ParameterError(f"cyclic shape must be 'sine' or 'triangle', got {self.shape!r}")

    def __call__(self, t: float | np.ndarray) -> float | np.ndarray:
        s = np.maximum(np.asarray(t, dtype=float) - self.start, 0.0) / self.period
        if self.shape == "sine":
            wave = np.sin(2.0 * np.pi * s)
        else:  # 0 -> 1 at s = 1/4 -> -1 at 3/4 -> 0 at 1
            wave = 4.0 * np.abs(np.mod(s - 0.25, 1.0) - 0.5) - 1.0
        return self.mean + self.amplitude * wave


@dataclass(frozen=True)
class Table(Amplitude):
    times: tuple[float, ...] = (0.0, 1.0)
    values: tuple[float, ...] = (0.0, 1.0)
    kind: ClassVar[str] = "table"

    def __post_init__(self) -> None:
        times = tuple(check_number("table time", t) for t in self.times)
        values = tuple(check_number("table value", v) for v in self.values)
        if len(times) != len(values) or not times:
            raise ParameterError(
                f"table amplitude needs as many times as values, got {len(times)} and {len(values)}"
            )
        if any(b <= a for a, b in pairwise(times)):
            raise ParameterError("table amplitude times must be increasing")
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "values", values)

    def __call__(self, t: float | np.ndarray) -> float | np.ndarray:
        return np.interp(np.asarray(t, dtype=float), self.times, self.values)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "times": list(self.times), "values": list(self.values)}


KINDS: dict[str, type[Amplitude]] = {k.kind: k for k in (Constant, Ramp, Cyclic, Table)}


def amplitude_from_dict(data: Mapping[str, Any]) -> Amplitude:
    """An amplitude from its JSON form; ParameterError naming an unknown kind or key."""
    data = dict(data)
    kind = data.pop("kind", None)
    if kind not in KINDS:
        raise ParameterError(f"amplitude kind must be one of {', '.join(KINDS)}, got {kind!r}")
    cls = KINDS[kind]
    try:
        if cls is Table:
            return Table(tuple(data.pop("times")), tuple(data.pop("values")), **data)
        return cls(**data)
    except (TypeError, KeyError) as exc:
        raise ParameterError(f"{kind} amplitude: bad keys ({exc})") from None


def as_amplitude(value: Amplitude | Mapping[str, Any] | float | Sequence[float]) -> Amplitude:
    """An :class:`Amplitude` from itself, its JSON form, or a number (a constant)."""
    if isinstance(value, Amplitude):
        return value
    if isinstance(value, Mapping):
        return amplitude_from_dict(value)
    return Constant(check_number("amplitude", value))

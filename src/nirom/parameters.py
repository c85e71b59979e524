"""Parameter spaces: named inputs of a parametrized simulation, and designs over them.

A parameter set ``mu`` is a mapping from parameter name to value: a float for
a scalar parameter, an array for a field-valued input. Scalar parameters carry
bounds; a design samples them in the unit hypercube (``scipy.stats.qmc``) and
maps the samples to physical units, uniformly for :class:`Uniform` and
uniformly in the logarithm for :class:`LogUniform`. Field-valued inputs
(:class:`FieldInput`) are declared by shape and optional bounds; their values
come from the solver's own generator (a random field, for example) or from the
user, never from a design.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from nirom.errors import ParameterError

Design = Literal["sobol", "lhs", "random", "grid"]
DESIGNS: tuple[str, ...] = ("sobol", "lhs", "random", "grid")

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Values computed through exp/log round trips may leave the bounds by a few ulps.
_BOUND_RTOL = 1e-12


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ParameterError(
            f"invalid parameter name {name!r}: "
            "use letters, digits and '_', not starting with a digit"
        )


def _as_float(name: str, value: Any, what: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ParameterError(
            f"parameter {name!r}: {what} must be a number, got {value!r}"
        ) from None
    if isinstance(value, (bool, np.bool_, str, bytes)) or not math.isfinite(v):
        raise ParameterError(f"parameter {name!r}: {what} must be a finite number, got {value!r}")
    return v


def _check_bounds(name: str, low: float, high: float, positive: bool = False) -> None:
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ParameterError(f"parameter {name!r}: bounds must be finite, got [{low}, {high}]")
    if not low < high:
        raise ParameterError(f"parameter {name!r}: need low < high, got [{low}, {high}]")
    if positive and low <= 0:
        raise ParameterError(f"parameter {name!r}: log-uniform bounds must be > 0, got low={low}")


@dataclass(frozen=True)
class _Scalar:
    """A named scalar parameter with finite bounds ``low < high`` (in ``unit``)."""

    name: str
    low: float
    high: float
    unit: str = ""

    kind = ""

    def __post_init__(self) -> None:
        _check_name(self.name)
        object.__setattr__(self, "low", _as_float(self.name, self.low, "low"))
        object.__setattr__(self, "high", _as_float(self.name, self.high, "high"))
        _check_bounds(self.name, self.low, self.high, positive=self.kind == "loguniform")


@dataclass(frozen=True)
class Uniform(_Scalar):
    """Scalar parameter uniformly distributed on ``[low, high]`` (in ``unit``)."""

    kind = "uniform"

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Map unit-interval coordinates ``u`` to physical values."""
        return self.low + np.asarray(u, dtype=float) * (self.high - self.low)

    def to_unit(self, x: np.ndarray) -> np.ndarray:
        """Map physical values ``x`` to unit-interval coordinates."""
        return (np.asarray(x, dtype=float) - self.low) / (self.high - self.low)


@dataclass(frozen=True)
class LogUniform(_Scalar):
    """Positive scalar parameter whose logarithm is uniform on ``[log low, log high]``."""

    kind = "loguniform"

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Map unit-interval coordinates ``u`` to physical values (geometric scale)."""
        log_low, log_high = math.log(self.low), math.log(self.high)
        return np.exp(log_low + np.asarray(u, dtype=float) * (log_high - log_low))

    def to_unit(self, x: np.ndarray) -> np.ndarray:
        """Map positive physical values ``x`` to unit-interval coordinates."""
        log_low, log_high = math.log(self.low), math.log(self.high)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (np.log(np.asarray(x, dtype=float)) - log_low) / (log_high - log_low)


@dataclass(frozen=True)
class FieldInput:
    """Field-valued input: an array of fixed ``shape`` (on the mesh or a grid).

    ``low``/``high`` optionally bound every entry. Values are supplied per
    sample by the solver or the user; designs do not sample them.
    """

    name: str
    shape: tuple[int, ...]
    low: float | None = None
    high: float | None = None
    unit: str = ""

    kind = "field"

    def __post_init__(self) -> None:
        _check_name(self.name)
        try:
            shape = tuple(int(s) for s in self.shape if float(s).is_integer())
        except (TypeError, ValueError, OverflowError):
            shape = ()
        if len(shape) != len(tuple(self.shape)):
            raise ParameterError(
                f"field input {self.name!r}: shape must be integers, got {self.shape!r}"
            )
        if not shape or any(s < 1 for s in shape):
            raise ParameterError(f"field input {self.name!r}: shape must be positive, got {shape}")
        object.__setattr__(self, "shape", shape)
        for what in ("low", "high"):
            if getattr(self, what) is not None:
                object.__setattr__(self, what, _as_float(self.name, getattr(self, what), what))
        if self.low is not None and self.high is not None:
            _check_bounds(self.name, self.low, self.high)


Parameter = Uniform | LogUniform | FieldInput
_KINDS: dict[str, type] = {"uniform": Uniform, "loguniform": LogUniform, "field": FieldInput}


class ParameterSpace:
    """Named parameters of a simulation, with designs and validation.

    Parameters
    ----------
    parameters : sequence of Uniform, LogUniform or FieldInput
        Names must be unique. The order of the scalar parameters fixes the
        column order of every design and parameter array.
    """

    def __init__(self, parameters: Sequence[Parameter]) -> None:
        parameters = list(parameters)
        if not parameters:
            raise ParameterError("a parameter space needs at least one parameter")
        for p in parameters:
            if not isinstance(p, (Uniform, LogUniform, FieldInput)):
                raise ParameterError(f"not a parameter: {p!r}")
        names = [p.name for p in parameters]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ParameterError(f"duplicate parameter name(s): {', '.join(duplicates)}")
        self.parameters: tuple[Parameter, ...] = tuple(parameters)
        self._by_name = {p.name: p for p in parameters}

    # -- structure ---------------------------------------------------------
    @property
    def names(self) -> list[str]:
        """All parameter names, scalars and field inputs, in declaration order."""
        return [p.name for p in self.parameters]

    @property
    def scalars(self) -> list[Uniform | LogUniform]:
        """The scalar parameters, in column order."""
        return [p for p in self.parameters if not isinstance(p, FieldInput)]

    @property
    def scalar_names(self) -> list[str]:
        return [p.name for p in self.scalars]

    @property
    def field_inputs(self) -> list[FieldInput]:
        return [p for p in self.parameters if isinstance(p, FieldInput)]

    @property
    def dim(self) -> int:
        """Number of scalar parameters (columns of a design)."""
        return len(self.scalars)

    def __getitem__(self, name: str) -> Parameter:
        try:
            return self._by_name[name]
        except KeyError:
            raise ParameterError(
                f"unknown parameter {name!r}; known: {', '.join(self.names)}"
            ) from None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParameterSpace) and self.parameters == other.parameters

    def __hash__(self) -> int:
        return hash(self.parameters)

    def __repr__(self) -> str:
        return f"ParameterSpace({list(self.parameters)!r})"

    # -- designs -----------------------------------------------------------
    def sample(self, n: int, design: Design = "sobol", seed: int = 0) -> np.ndarray:
        """Draw a design of ``n`` scalar parameter sets, in physical units.

        Parameters
        ----------
        n : int
            Number of parameter sets. For ``design="grid"`` it must be ``k**dim``.
        design : {"sobol", "lhs", "random", "grid"}
            Scrambled Sobol sequence, Latin hypercube, i.i.d. uniform, or a
            tensor grid (cell-centred in the unit cube, so it never sits on
            the bounds).
        seed : int
            Seed of every random choice; the same seed gives the same design.

        Returns
        -------
        ndarray of shape (n, dim)
        """
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise ParameterError(f"number of samples must be a positive integer, got {n!r}")
        if self.dim == 0:
            raise ParameterError("this space has no scalar parameters to design over")
        return self.from_unit(self._unit_design(int(n), design, seed))

    def _unit_design(self, n: int, design: str, seed: int) -> np.ndarray:
        from scipy.stats import qmc  # here: scipy.stats costs 0.5 s at the CLI's start

        rng = np.random.default_rng(seed)
        if design == "sobol":
            with warnings.catch_warnings():
                # Sobol balance is best at powers of two; any n is still a valid design.
                warnings.simplefilter("ignore", UserWarning)
                return qmc.Sobol(self.dim, scramble=True, rng=rng).random(n)
        if design == "lhs":
            return qmc.LatinHypercube(self.dim, rng=rng).random(n)
        if design == "random":
            return rng.random((n, self.dim))
        if design == "grid":
            k = round(n ** (1.0 / self.dim))
            if k**self.dim != n:
                lo, hi = max(k - 1, 1) ** self.dim, (k + 1) ** self.dim
                raise ParameterError(
                    f"grid design over {self.dim} parameters needs n = k**{self.dim} samples "
                    f"(e.g. {lo}, {k**self.dim} or {hi}), got {n}"
                )
            axis = (np.arange(k) + 0.5) / k
            mesh = np.meshgrid(*([axis] * self.dim), indexing="ij")
            return np.stack([m.ravel() for m in mesh], axis=1)
        raise ParameterError(f"unknown design {design!r}; choose one of {', '.join(DESIGNS)}")

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Map unit-cube coordinates of shape (n, dim) to physical values."""
        u = np.atleast_2d(np.asarray(u, dtype=float))
        if self.dim == 0:
            return np.empty((len(u), 0))
        return np.column_stack([p.from_unit(u[:, j]) for j, p in enumerate(self.scalars)])

    def to_unit(self, x: np.ndarray) -> np.ndarray:
        """Map physical values of shape (n, dim) to unit-cube coordinates.

        Log-uniform parameters map through their logarithm, which is the
        natural scaling for regression on them (``PODSurrogate`` may choose
        another scale per parameter: :mod:`nirom.surrogates.input_scale`).
        """
        x = self.validate_array(x)
        if self.dim == 0:
            return np.empty((len(x), 0))
        return np.column_stack([p.to_unit(x[:, j]) for j, p in enumerate(self.scalars)])

    # -- validation --------------------------------------------------------
    def validate(self, mu: Mapping[str, Any]) -> dict[str, Any]:
        """Check one parameter set and return it with floats and float arrays.

        Raises
        ------
        ParameterError
            Naming the parameter that is missing, unknown, not finite, out of
            bounds or of the wrong shape.
        """
        if not isinstance(mu, Mapping):
            raise ParameterError(f"a parameter set must be a mapping name -> value, got {mu!r}")
        unknown = sorted(set(mu) - set(self._by_name))
        if unknown:
            raise ParameterError(
                f"unknown parameter(s) {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(self.names)}"
            )
        missing = [name for name in self.names if name not in mu]
        if missing:
            raise ParameterError(f"missing parameter(s): {', '.join(map(repr, missing))}")
        out: dict[str, Any] = {}
        for p in self.parameters:
            if isinstance(p, FieldInput):
                out[p.name] = _validate_field_input(p, mu[p.name])
            else:
                out[p.name] = _validate_scalar(p, mu[p.name])
        return out

    def validate_array(self, x: np.ndarray) -> np.ndarray:
        """Check scalar parameter sets given as rows of an array of shape (n, dim)."""
        try:
            x = np.atleast_2d(np.asarray(x, dtype=float))
        except (TypeError, ValueError) as exc:
            raise ParameterError(f"parameter values must be numbers: {exc}") from None
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ParameterError(
                f"expected parameter array of shape (n, {self.dim}) for "
                f"({', '.join(self.scalar_names)}), got {x.shape}"
            )
        for j, p in enumerate(self.scalars):
            for i in _offending_rows(p, x[:, j])[:1]:
                _validate_scalar(p, x[i, j], row=i)
        return x

    def as_dict(self, row: Iterable[float], **field_values: Any) -> dict[str, Any]:
        """Parameter set from one design row plus any field-input values."""
        row = list(row)
        if len(row) != self.dim:
            raise ParameterError(f"expected {self.dim} scalar values, got {len(row)}")
        mu: dict[str, Any] = {p.name: float(v) for p, v in zip(self.scalars, row, strict=True)}
        mu.update(field_values)
        return mu

    def as_array(self, mus: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Scalar columns of several parameter sets, shape (n, dim)."""
        rows = [[float(mu[name]) for name in self.scalar_names] for mu in mus]
        return np.array(rows, float).reshape(len(rows), self.dim)

    # -- serialisation -----------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible description, inverse of :meth:`from_dict`."""
        items = []
        for p in self.parameters:
            item: dict[str, Any] = {"name": p.name, "kind": p.kind, "unit": p.unit}
            if isinstance(p, FieldInput):
                item.update(shape=list(p.shape), low=p.low, high=p.high)
            else:
                item.update(low=p.low, high=p.high)
            items.append(item)
        return {"parameters": items}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ParameterSpace:
        """Rebuild a space from :meth:`to_dict` output, with errors naming bad entries."""
        try:
            items = data["parameters"]
            parameters = []
            for item in items:
                kind = item.get("kind")
                if kind not in _KINDS:
                    raise ParameterError(
                        f"parameter {item.get('name')!r}: unknown kind {kind!r}; "
                        f"choose one of {', '.join(_KINDS)}"
                    )
                fields = {k: v for k, v in item.items() if k != "kind"}
                if kind == "field":
                    fields["shape"] = tuple(fields["shape"])
                parameters.append(_KINDS[kind](**fields))
        except ParameterError:
            raise
        except (KeyError, TypeError, AttributeError, ValueError, OverflowError) as exc:
            raise ParameterError(f"malformed parameter-space description: {exc!r}") from None
        return cls(parameters)


def _validate_scalar(p: Uniform | LogUniform, value: Any, row: int | None = None) -> float:
    where = f" (row {row})" if row is not None else ""
    if isinstance(value, (bool, np.bool_, str, bytes)) or np.ndim(value) != 0:
        raise ParameterError(f"parameter {p.name!r}{where}: expected a number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParameterError(
            f"parameter {p.name!r}{where}: expected a number, got {value!r}"
        ) from None
    if not math.isfinite(v):
        raise ParameterError(f"parameter {p.name!r}{where}: value must be finite, got {v}")
    low, high = _slack_bounds(p)
    if v < low or v > high:
        raise ParameterError(
            f"parameter {p.name!r}{where}: value {v:g} is out of bounds [{p.low:g}, {p.high:g}]"
        )
    return min(max(v, p.low), p.high)


def _slack_bounds(p: Uniform | LogUniform) -> tuple[float, float]:
    """Bounds widened by a few ulps each, relative to each bound's own size."""
    return p.low - _BOUND_RTOL * abs(p.low), p.high + _BOUND_RTOL * abs(p.high)


def _offending_rows(p: Uniform | LogUniform, column: np.ndarray) -> np.ndarray:
    low, high = _slack_bounds(p)
    bad = ~np.isfinite(column) | (column < low) | (column > high)
    return np.flatnonzero(bad)


def _validate_field_input(p: FieldInput, value: Any) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(f"field input {p.name!r}: values must be numbers") from None
    if arr.shape != p.shape:
        raise ParameterError(f"field input {p.name!r}: expected shape {p.shape}, got {arr.shape}")
    n_bad = int(np.count_nonzero(~np.isfinite(arr)))
    if n_bad:
        raise ParameterError(f"field input {p.name!r}: {n_bad} NaN or infinite value(s)")
    if p.low is not None and arr.min() < p.low:
        raise ParameterError(f"field input {p.name!r}: minimum {arr.min():g} is below {p.low:g}")
    if p.high is not None and arr.max() > p.high:
        raise ParameterError(f"field input {p.name!r}: maximum {arr.max():g} is above {p.high:g}")
    return arr

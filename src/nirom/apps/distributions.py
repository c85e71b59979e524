"""Input distributions of scalar parameters, for uncertainty propagation and calibration.

A distribution maps the unit interval to a parameter's physical values
(``ppf``, the inverse CDF), so Monte Carlo and quasi-Monte Carlo designs in
the unit cube become samples of independent inputs, and calibration samples
the unit cube under a uniform prior. Kinds, written as text (CLI, studies)::

    uniform(low, high)                  loguniform(low, high)
    normal(mean, std)                   lognormal(mean_log, std_log)
    truncnormal(mean, std, low, high)   (log X ~ normal(mean_log, std_log))

Arguments may be named: ``normal(mean=1, std=0.1)``. A surrogate is only
valid on its parameter space, so a distribution must live inside the
parameter's bounds: a bounded one entirely, a normal or lognormal up to
``outside_tol`` of its probability (1e-3 by default); those are then sampled
truncated to the bounds, which changes them by at most that probability.
The defaults are the parameter space's own: uniform or log-uniform on the
bounds, as declared.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import special, stats

from nirom.errors import ParameterError
from nirom.parameters import LogUniform, ParameterSpace

OUTSIDE_TOL = 1e-3

# kind -> argument names, in positional order
KINDS: dict[str, tuple[str, ...]] = {
    "uniform": ("low", "high"),
    "loguniform": ("low", "high"),
    "normal": ("mean", "std"),
    "lognormal": ("mean_log", "std_log"),
    "truncnormal": ("mean", "std", "low", "high"),
}
_TEXT = re.compile(r"^\s*([a-z]+)\s*\((.*)\)\s*$")


@dataclass(frozen=True)
class Distribution:
    """A one-dimensional distribution of a parameter, restricted to ``[lo, hi]``.

    ``kind`` and ``args`` name it (see :data:`KINDS`); ``lo``/``hi`` are the
    bounds it is truncated to (the parameter's bounds for unbounded kinds).
    Uniform, log-uniform, normal and lognormal use closed forms (``ndtr``,
    ``ndtri``), fast enough for the many small batches of MCMC and
    optimization; the truncated normal is SciPy's ``truncnorm``.
    """

    kind: str
    args: dict[str, float]
    lo: float
    hi: float
    _range: tuple[float, float] = field(default=(0.0, 1.0), repr=False, compare=False)

    def __post_init__(self) -> None:
        a, b = (0.0, 1.0)
        if self.kind in ("normal", "lognormal"):
            a, b = (
                float(self._base_cdf(np.array(self.lo))),
                float(self._base_cdf(np.array(self.hi))),
            )
        object.__setattr__(self, "_range", (a, b))

    def _z(self, x: np.ndarray) -> np.ndarray:
        a = self.args
        if self.kind == "normal":
            return (x - a["mean"]) / a["std"]
        with np.errstate(divide="ignore", invalid="ignore"):
            return (np.log(x) - a["mean_log"]) / a["std_log"]

    def _base_cdf(self, x: np.ndarray) -> np.ndarray:
        return special.ndtr(self._z(x))

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Physical values for unit-interval coordinates ``u`` (inverse CDF, truncated)."""
        u, a = np.asarray(u, dtype=float), self.args
        if self.kind == "uniform":
            x = a["low"] + u * (a["high"] - a["low"])
        elif self.kind == "loguniform":
            x = a["low"] * np.exp(u * math.log(a["high"] / a["low"]))
        elif self.kind == "truncnormal":
            x = _truncnorm(a).ppf(u)
        else:
            lo, hi = self._range
            z = special.ndtri(lo + u * (hi - lo))
            x = (
                a["mean"] + a["std"] * z
                if self.kind == "normal"
                else np.exp(a["mean_log"] + a["std_log"] * z)
            )
        return np.clip(x, self.lo, self.hi)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """Unit-interval coordinates of physical values ``x`` (inverse of :meth:`ppf`)."""
        x, a = np.asarray(x, dtype=float), self.args
        if self.kind == "uniform":
            u = (x - a["low"]) / (a["high"] - a["low"])
        elif self.kind == "loguniform":
            with np.errstate(divide="ignore", invalid="ignore"):
                u = np.log(x / a["low"]) / math.log(a["high"] / a["low"])
        elif self.kind == "truncnormal":
            u = _truncnorm(a).cdf(x)
        else:
            lo, hi = self._range
            u = (self._base_cdf(x) - lo) / (hi - lo)
        return np.clip(u, 0.0, 1.0)

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        """Log density of the truncated distribution (-inf outside ``[lo, hi]``)."""
        x, a = np.asarray(x, dtype=float), self.args
        inside = (x >= self.lo) & (x <= self.hi)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.kind == "uniform":
                d = np.full(x.shape, -math.log(a["high"] - a["low"]))
            elif self.kind == "loguniform":
                d = -np.log(x) - math.log(math.log(a["high"] / a["low"]))
            elif self.kind == "truncnormal":
                d = _truncnorm(a).logpdf(x)
            else:
                lo, hi = self._range
                scale = a["std"] if self.kind == "normal" else a["std_log"]
                d = -0.5 * self._z(x) ** 2 - math.log(scale * math.sqrt(2 * math.pi) * (hi - lo))
                if self.kind == "lognormal":
                    d = d - np.log(x)
            return np.where(inside, d, -np.inf)

    def mean(self) -> float:
        """Mean of the (truncated) distribution, by quadrature of the inverse CDF."""
        u = (np.arange(4096) + 0.5) / 4096
        return float(np.mean(self.ppf(u)))

    def describe(self) -> str:
        """The text form, e.g. ``normal(mean=1, std=0.1)``."""
        args = ", ".join(f"{k}={v:g}" for k, v in self.args.items())
        return f"{self.kind}({args})"


def _truncnorm(a: Mapping[str, float]) -> Any:
    return stats.truncnorm(
        (a["low"] - a["mean"]) / a["std"],
        (a["high"] - a["mean"]) / a["std"],
        loc=a["mean"],
        scale=a["std"],
    )


def _outside(kind: str, a: Mapping[str, float], low: float, high: float) -> float:
    """Probability of a normal or lognormal outside ``[low, high]``."""
    if kind == "normal":
        z_lo, z_hi = (low - a["mean"]) / a["std"], (high - a["mean"]) / a["std"]
    else:
        z_lo = (math.log(low) - a["mean_log"]) / a["std_log"] if low > 0 else -math.inf
        z_hi = (math.log(high) - a["mean_log"]) / a["std_log"] if high > 0 else -math.inf
    return float(special.ndtr(z_lo) + special.ndtr(-z_hi))


def parse_distribution(text: str | Mapping[str, Any], name: str = "parameter") -> tuple[str, dict]:
    """``(kind, args)`` from ``"normal(1, 0.1)"`` or ``{"kind": "normal", "mean": 1, ...}``."""
    if isinstance(text, Mapping):
        kind = text.get("kind")
        given = {k: v for k, v in text.items() if k != "kind"}
        positional: list[str] = []
    else:
        match = _TEXT.match(str(text))
        if not match:
            raise ParameterError(
                f"parameter {name!r}: distribution {text!r} is not KIND(ARGS), e.g. normal(1, 0.1)"
            )
        kind, body = match.group(1), match.group(2)
        parts = [p.strip() for p in body.split(",") if p.strip()]
        positional = [p for p in parts if "=" not in p]
        given = dict(p.split("=", 1) for p in parts if "=" in p)
        given = {k.strip(): v.strip() for k, v in given.items()}
    if kind not in KINDS:
        raise ParameterError(
            f"parameter {name!r}: unknown distribution {kind!r}; choose {', '.join(KINDS)}"
        )
    names = KINDS[kind]
    if len(positional) > len(names):
        raise ParameterError(f"parameter {name!r}: {kind} takes {len(names)} arguments")
    args = dict(zip(names, positional, strict=False)) | given
    unknown = sorted(set(args) - set(names))
    missing = [n for n in names if n not in args]
    if unknown or missing:
        raise ParameterError(
            f"parameter {name!r}: {kind} takes ({', '.join(names)}); "
            + (f"unknown {unknown}" if unknown else f"missing {missing}")
        )
    values = {}
    for key in names:
        try:
            values[key] = float(args[key])
        except (TypeError, ValueError):
            raise ParameterError(
                f"parameter {name!r}: {kind} argument {key}={args[key]!r} is not a number"
            ) from None
        if not math.isfinite(values[key]):
            raise ParameterError(f"parameter {name!r}: {kind} argument {key} must be finite")
    return kind, values


def make_distribution(
    space: ParameterSpace,
    name: str,
    spec: str | Mapping[str, Any],
    outside_tol: float = OUTSIDE_TOL,
) -> Distribution:
    """The distribution ``spec`` of parameter ``name``, checked against its bounds."""
    p = space[name]
    if p.kind == "field":
        raise ParameterError(f"parameter {name!r} is a field input; distributions are for scalars")
    kind, a = parse_distribution(spec, name)
    text = f"{kind}({', '.join(f'{v:g}' for v in a.values())})"
    if kind in ("uniform", "loguniform", "truncnormal"):
        if not a["low"] < a["high"]:
            raise ParameterError(f"parameter {name!r}: {text} needs low < high")
        if kind == "loguniform" and a["low"] <= 0:
            raise ParameterError(f"parameter {name!r}: {text} needs low > 0")
        if a["low"] < p.low or a["high"] > p.high:
            raise ParameterError(
                f"parameter {name!r}: {text} leaves the bounds [{p.low:g}, {p.high:g}] "
                "the model was trained on"
            )
    if kind in ("normal", "truncnormal", "lognormal"):
        scale = a["std"] if "std" in a else a["std_log"]
        if scale <= 0:
            raise ParameterError(f"parameter {name!r}: {text} needs a positive std")
    if kind in ("normal", "lognormal"):
        outside = _outside(kind, a, p.low, p.high)
        if outside > outside_tol:
            raise ParameterError(
                f"parameter {name!r}: {text} puts {outside:.2%} of its probability outside "
                f"the bounds [{p.low:g}, {p.high:g}] the model was trained on; narrow it or "
                "use truncnormal"
            )
        return Distribution(kind, a, p.low, p.high)
    return Distribution(kind, a, a["low"], a["high"])


def input_distributions(
    space: ParameterSpace,
    specs: Mapping[str, str | Mapping[str, Any]] | None = None,
    outside_tol: float = OUTSIDE_TOL,
) -> dict[str, Distribution]:
    """One distribution per scalar parameter, in column order: ``specs`` over the defaults.

    The default of a parameter is uniform (or log-uniform, as the space
    declares it) on its bounds. Raises :class:`ParameterError` naming an
    unknown parameter or a distribution outside its bounds.
    """
    if space.field_inputs:
        names = [p.name for p in space.field_inputs]
        raise ParameterError(
            f"this model takes field input(s) {names}; uncertainty propagation, sensitivity, "
            "optimization and calibration work on scalar parameters only"
        )
    specs = dict(specs or {})
    for name in specs:
        space[name]  # names an unknown parameter
    out = {}
    for p in space.scalars:
        if p.name in specs:
            out[p.name] = make_distribution(space, p.name, specs[p.name], outside_tol)
        else:
            kind = "loguniform" if isinstance(p, LogUniform) else "uniform"
            out[p.name] = Distribution(kind, {"low": p.low, "high": p.high}, p.low, p.high)
    return out


def sample_inputs(
    distributions: Mapping[str, Distribution], n: int, method: str = "qmc", seed: int = 0
) -> np.ndarray:
    """``n`` input samples (n, dim), columns in the order of ``distributions``.

    ``method``: "qmc" (scrambled Sobol, ``scipy.stats.qmc``) or "mc"
    (independent draws); the same seed gives the same samples.
    """
    if not isinstance(n, (int, np.integer)) or n < 2:
        raise ParameterError(f"number of samples must be an integer >= 2, got {n!r}")
    u = unit_samples(len(distributions), int(n), method, seed)
    return to_physical(distributions, u)


def unit_samples(dim: int, n: int, method: str, seed: int) -> np.ndarray:
    """Samples of the unit cube (n, dim): scrambled Sobol ("qmc") or i.i.d. ("mc")."""
    rng = np.random.default_rng(seed)
    if method == "mc":
        return rng.random((n, dim))
    if method == "qmc":
        import warnings

        from scipy.stats import qmc

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # balance is best at powers of 2
            return qmc.Sobol(dim, scramble=True, rng=rng).random(n)
    raise ParameterError(f"unknown sampling method {method!r}; choose 'qmc' or 'mc'")


def to_physical(distributions: Mapping[str, Distribution], u: np.ndarray) -> np.ndarray:
    """Map unit-cube coordinates (n, dim) through each column's inverse CDF."""
    u = np.atleast_2d(u)
    return np.column_stack([d.ppf(u[:, j]) for j, d in enumerate(distributions.values())])


def to_unit(distributions: Mapping[str, Distribution], x: np.ndarray) -> np.ndarray:
    """Map physical values (n, dim) to unit-cube coordinates (each column's CDF)."""
    x = np.atleast_2d(x)
    return np.column_stack([d.cdf(x[:, j]) for j, d in enumerate(distributions.values())])


def describe(distributions: Mapping[str, Distribution]) -> dict[str, str]:
    """``{name: "kind(args)"}`` for reports."""
    return {name: d.describe() for name, d in distributions.items()}

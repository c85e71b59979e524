"""The material-law interface: named parameters, internal state, one integration step.

A :class:`MaterialLaw` maps, at a batch of ``n`` integration points, the total strain at
the end of a time step and the internal state at its start to the stress, the consistent
(algorithmic) tangent and the internal state at the end of the step::

    law = make_law("plasticity", {"E": 200e3, "nu": 0.3, "sigma_y": 250.0,
                                  "H": 1e3, "C": 0.0, "D": 0.0})
    state = law.initial_state(n)
    update = law.integrate(strain, state, dt)   # update.stress (n, 6), update.tangent (n, 6, 6)
    state = update.state

Conventions (see :mod:`nirom.mechanics.tensors`): small strains, always 3D, symmetric
tensors in Mandel notation of shape (n, 6) (11, 22, 33, sqrt2 23, sqrt2 13, sqrt2 12);
the tangent is ``d stress / d strain`` in the same notation, shape (n, 6, 6). For plane
strain the caller passes strains with zero 33, 23, 13 components and uses rows/columns
(0, 1, 5); the law returns sigma_33 like any other component.

The tangent is symmetric for elasticity and for laws without nonlinear kinematic
hardening; with Armstrong-Frederick recall (D > 0) the consistent tangent of the
backward-Euler step is *not* symmetric (the flow direction rotates with the recall of
the back stress): :attr:`MaterialLaw.symmetric_tangent` says which, so a solver can pick
its linear solver (or symmetrize and accept a slower Newton).

Every law's state holds ``"p"`` (cumulated plastic strain, shape (n,); 0 for elasticity),
so dual quantities are uniform across laws. States are dicts of arrays, shape (n,) for
one component per point and (n, k) otherwise; :meth:`MaterialLaw.integrate` never
modifies its inputs and returns fresh arrays. Points are independent: integrating any
subset of points gives the same results as integrating all of them (the hyper-reduced
model evaluates a few points only).

Units: any consistent system; the built-in cases use N, mm, MPa, s.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from nirom.errors import NiromError, ParameterError
from nirom.mechanics.laws import compiled

_LAWS: dict[str, type[MaterialLaw]] = {}


class LawIntegrationError(NiromError, RuntimeError):
    """The local integration of a material law failed (no convergence, non-finite values).

    A global solver catches it and cuts the time step.
    """


@dataclass(frozen=True)
class LawParameter:
    """A named material parameter with its unit and its admissible interval.

    ``lower``/``upper`` bound the value (None: unbounded); ``lower_open``/``upper_open``
    exclude the bound itself. ``check`` returns the value as a float or raises a one-line
    :class:`~nirom.errors.ParameterError` naming the law and the parameter.
    """

    name: str
    unit: str
    description: str
    lower: float | None = None
    upper: float | None = None
    lower_open: bool = False
    upper_open: bool = False

    @property
    def domain(self) -> str:
        """The admissible values in words, e.g. ``"> 0"``, ``"in (-1, 0.5)"``."""
        if self.lower is not None and self.upper is not None:
            left = "(" if self.lower_open else "["
            right = ")" if self.upper_open else "]"
            return f"in {left}{self.lower:g}, {self.upper:g}{right}"
        if self.lower is not None:
            return f"{'>' if self.lower_open else '>='} {self.lower:g}"
        if self.upper is not None:
            return f"{'<' if self.upper_open else '<='} {self.upper:g}"
        return "finite"

    def check(self, law: str, value: Any) -> float:
        """``value`` as a float if it lies in the domain, else ParameterError."""
        try:
            v = float(value)
        except (TypeError, ValueError, OverflowError):
            v = math.nan
        if isinstance(value, (bool, str, bytes)) or not math.isfinite(v):
            raise ParameterError(f"{law}: {self.name} must be a finite number, got {value!r}")
        low_bad = self.lower is not None and (
            v < self.lower or (self.lower_open and v == self.lower)
        )
        high_bad = self.upper is not None and (
            v > self.upper or (self.upper_open and v == self.upper)
        )
        if low_bad or high_bad:
            raise ParameterError(f"{law}: {self.name} must be {self.domain}, got {value!r}")
        return v


@dataclass(frozen=True)
class LawUpdate:
    """Result of one integration step at n points.

    ``stress`` (n, 6) Mandel stress at the end of the step; ``tangent`` (n, 6, 6) consistent
    tangent ``d stress / d strain``; ``state`` the internal state at the end of the step
    (fresh arrays); ``iterations`` the largest number of local Newton iterations any point
    needed (0 for a purely elastic step).
    """

    stress: np.ndarray
    tangent: np.ndarray
    state: dict[str, np.ndarray]
    iterations: int = 0


class MaterialLaw(ABC):
    """A small-strain constitutive law integrated over a time step at a batch of points.

    Subclasses set ``name`` (registry key), ``parameters`` and ``state_shapes`` and
    implement :meth:`_integrate`; construction takes the parameters as keywords, all
    required, each checked against its domain.
    """

    name: ClassVar[str]
    parameters: ClassVar[tuple[LawParameter, ...]]
    state_shapes: ClassVar[dict[str, int]]
    #: "compiled" (the numba kernels, where the law has one) or "numpy" (the reference path).
    kernel: str = "compiled"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            _LAWS[cls.name] = cls

    def __init__(self, **params: float) -> None:
        names = [p.name for p in self.parameters]
        for key in params:
            if key not in names:
                raise ParameterError(
                    f"{self.name}: unknown parameter {key!r} (parameters: {', '.join(names)})"
                )
        checked = {}
        for p in self.parameters:
            if p.name not in params:
                raise ParameterError(
                    f"{self.name}: missing parameter {p.name!r} (parameters: {', '.join(names)})"
                )
            checked[p.name] = p.check(self.name, params[p.name])
        self._params = checked
        self._setup()

    def _setup(self) -> None:  # noqa: B027 - optional hook
        """Precompute derived constants from ``self.params`` (optional)."""

    @property
    def params(self) -> dict[str, float]:
        """The parameter values by name (a copy)."""
        return dict(self._params)

    @property
    def symmetric_tangent(self) -> bool:
        """Whether the consistent tangent is symmetric for these parameter values."""
        return True

    def initial_state(self, n: int) -> dict[str, np.ndarray]:
        """Zero internal state at ``n`` points: shape (n,) for one component, else (n, k)."""
        return {
            key: np.zeros(n) if k == 1 else np.zeros((n, k)) for key, k in self.state_shapes.items()
        }

    def integrate(
        self, strain: np.ndarray, state: Mapping[str, np.ndarray], dt: float
    ) -> LawUpdate:
        """One step at n points.

        Parameters
        ----------
        strain : ndarray of shape (n, 6)
            Total strain at the end of the step (Mandel).
        state : mapping of str to ndarray
            Internal state at the start of the step (shapes as :meth:`initial_state`);
            not modified.
        dt : float
            Step length in s (> 0; rate-independent laws ignore it).

        Returns
        -------
        LawUpdate
            Stress (n, 6), consistent tangent (n, 6, 6) and new state.

        Raises
        ------
        ParameterError
            Shapes or ``dt`` are wrong.
        LawIntegrationError
            The strain is not finite, or the local solve fails.
        """
        strain = np.asarray(strain, dtype=float)
        if strain.ndim != 2 or strain.shape[1] != 6:
            raise ParameterError(f"{self.name}: strain must have shape (n, 6), got {strain.shape}")
        n = strain.shape[0]
        state = self._check_state(state, n)
        dt = float(dt)
        if not (math.isfinite(dt) and dt > 0):
            raise ParameterError(f"{self.name}: dt must be a finite number > 0, got {dt!r}")
        if not np.isfinite(strain).all():
            raise LawIntegrationError(f"{self.name}: the strain holds NaN or infinite values")
        code = self.compiled_code()
        if code is None:
            update = self._integrate(strain, state, dt)
        else:
            update = self._integrate_compiled(code, strain, state, dt)
        if not (np.isfinite(update.stress).all() and np.isfinite(update.tangent).all()):
            raise LawIntegrationError(f"{self.name}: the integration gave NaN or infinite values")
        return update

    def _check_state(self, state: Mapping[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
        if set(state) != set(self.state_shapes):
            raise ParameterError(
                f"{self.name}: state must hold {sorted(self.state_shapes)}, got {sorted(state)}"
            )
        out = {}
        for key, k in self.state_shapes.items():
            arr = np.asarray(state[key], dtype=float)
            shape = (n,) if k == 1 else (n, k)
            if arr.shape != shape:
                raise ParameterError(
                    f"{self.name}: state {key!r} must have shape {shape}, got {arr.shape}"
                )
            out[key] = arr
        return out

    @abstractmethod
    def _integrate(self, strain: np.ndarray, state: dict[str, np.ndarray], dt: float) -> LawUpdate:
        """The step itself, on validated inputs (which it must not modify): the NumPy
        reference the compiled kernels are tested against."""

    def compiled_code(self) -> tuple[int, np.ndarray] | None:
        """``(kind, prm)`` of this law's compiled kernel (:mod:`~nirom.mechanics.laws.compiled`),
        or None when the NumPy path runs: ``kernel = "numpy"`` on the law, numba missing or
        ``NIROM_KERNELS=numpy``, or a law with no kernel (a user's own subclass)."""
        if self.kernel != "compiled" or not compiled.AVAILABLE:
            return None
        try:
            return compiled.law_code(self.name, self._params)
        except KeyError:
            return None

    def _integrate_compiled(
        self,
        code: tuple[int, np.ndarray],
        strain: np.ndarray,
        state: dict[str, np.ndarray],
        dt: float,
    ) -> LawUpdate:
        n = strain.shape[0]
        eps_p = state.get("eps_p")
        eps_p = np.zeros((n, 6)) if eps_p is None else eps_p  # the elastic law has no eps_p, X
        X = state.get("X", eps_p)
        stress, tangent = np.empty((n, 6)), np.empty((n, 6, 6))
        eps_p_out, X_out, p_out = np.empty((n, 6)), np.empty((n, 6)), np.empty(n)
        iterations, status, failing = compiled.integrate_points(
            code[0], code[1], np.ascontiguousarray(strain), np.ascontiguousarray(eps_p),
            np.ascontiguousarray(X), np.ascontiguousarray(state["p"]), dt,
            stress, tangent, eps_p_out, X_out, p_out,
        )  # fmt: skip
        if status != compiled.OK:
            raise LawIntegrationError(compiled.failure_message(self.name, status, failing))
        new = {"p": p_out}
        if "eps_p" in self.state_shapes:
            new.update(eps_p=eps_p_out, X=X_out)
        return LawUpdate(stress, tangent, new, int(iterations))

    def to_dict(self) -> dict[str, Any]:
        """``{"name": ..., "parameters": {...}}``, JSON-serializable."""
        return {"name": self.name, "parameters": self.params}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> MaterialLaw:
        """The law :meth:`to_dict` described (on a subclass, the name must match)."""
        if not isinstance(d, Mapping) or "name" not in d or "parameters" not in d:
            raise ParameterError("material law: a dict with 'name' and 'parameters' is needed")
        law = make_law(d["name"], d["parameters"])
        if cls is not MaterialLaw and not isinstance(law, cls):
            raise ParameterError(f"material law: expected {cls.name!r}, got {d['name']!r}")
        return law

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params.items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._params == self._params  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((self.name, tuple(self._params.items())))


def law_names() -> list[str]:
    """Names of the registered material laws, sorted."""
    return sorted(_LAWS)


def make_law(name: str, params: Mapping[str, float]) -> MaterialLaw:
    """The law registered as ``name`` with parameters ``params`` (ParameterError if unknown)."""
    if not isinstance(name, str) or name not in _LAWS:
        raise ParameterError(
            f"material law: unknown law {name!r} (known: {', '.join(law_names())})"
        )
    if not isinstance(params, Mapping):
        raise ParameterError(f"{name}: parameters must be a mapping of names to numbers")
    return _LAWS[name](**dict(params))


def elastic_tangent(stiffness: np.ndarray, n: int) -> np.ndarray:
    """``n`` fresh copies of a (6, 6) stiffness, shape (n, 6, 6)."""
    return np.repeat(stiffness[None], n, axis=0)

"""Design optimization on a surrogate, and the loop that verifies the optimum with the solver.

- :func:`optimize`: minimise or maximise one quantity of interest over the
  parameter space, subject to constraints on other quantities
  (``"mean(u) >= 0.02"``), by SciPy's SLSQP from several starts (the best
  points of a Sobol screening), in the space's unit coordinates (log scale
  for log-uniform parameters); gradients by finite differences.
- :func:`pareto_front`: several objectives at once with Optuna's NSGA-II
  (seeded), constraints as Optuna constraints; the non-dominated feasible
  trials are the Pareto front.
- :func:`optimize_verified`: the surrogate-based loop: optimise on the
  surrogate, solve the optimum with the dataset's recorded solver, append
  it to the dataset, refit, and repeat until the surrogate and the solver
  agree on the objective and the constraints within a relative tolerance.
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize

from nirom.apps.quantities import Quantity, QuantityError, parse_quantity
from nirom.apps.results import result_folder, write_results
from nirom.dataset import Dataset
from nirom.errors import NiromError, ParameterError
from nirom.surrogates import ModelError, Surrogate
from nirom.threads import one_blas_thread

_CONSTRAINT = re.compile(r"^(.*?)\s*(<=|>=)\s*([^<>=]+)$")
SENSES = ("min", "max")


@dataclass
class Constraint:
    """``quantity <= bound`` or ``quantity >= bound``."""

    quantity: Quantity
    op: str
    bound: float

    @property
    def text(self) -> str:
        return f"{self.quantity.text} {self.op} {self.bound:g}"

    def slack(self, value: np.ndarray) -> np.ndarray:
        """Non-negative where satisfied (SciPy's inequality convention)."""
        return self.bound - value if self.op == "<=" else value - self.bound


def parse_constraint(text: str, model: Surrogate) -> Constraint:
    """``"mean(u) >= 0.02"`` -> :class:`Constraint`; a one-line error names a bad one."""
    match = _CONSTRAINT.match(str(text).strip())
    if not match:
        raise QuantityError(f"constraint {text!r}: write QUANTITY <= NUMBER or QUANTITY >= NUMBER")
    q = parse_quantity(match.group(1), model.fields_, model.mesh_)
    try:
        bound = float(match.group(3))
    except ValueError:
        raise QuantityError(f"constraint {text!r}: {match.group(3)!r} is not a number") from None
    return Constraint(q, match.group(2), bound)


@dataclass
class OptimizationResult:
    """The best design found: ``mu``, ``value`` of the objective, ``constraints`` values."""

    objective: str
    sense: str
    mu: dict[str, float]
    value: float
    constraints: dict[str, float]
    feasible: bool
    starts: list[dict[str, Any]]
    n_evaluations: int
    seconds: float
    verification: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "kind": "optimize",
            "objective": self.objective,
            "sense": self.sense,
            "mu": self.mu,
            "value": self.value,
            "constraints": self.constraints,
            "feasible": self.feasible,
            "starts": self.starts,
            "n_evaluations": self.n_evaluations,
            "seconds": self.seconds,
            "verification": self.verification,
        }

    def save(self, out: str | Path, *, replace: bool = False) -> list[Path]:
        """Write ``optimize.json`` into a new folder: ``out``, or ``out-N`` (see UQResult.save)."""
        out = result_folder(out, "optimize", replace=replace)
        return write_results(out, "optimize", self.summary(), {}, [])


class _Problem:
    """Objective and constraints of a design in unit coordinates, one prediction per point."""

    def __init__(
        self,
        model: Surrogate,
        objectives: Sequence[Quantity],
        constraints: Sequence[Constraint],
        fixed: Mapping[str, float] | None,
    ) -> None:
        self.model, self.objectives, self.constraints = model, objectives, constraints
        space = model.space_
        names = space.scalar_names
        fixed = dict(fixed or {})
        for name in fixed:
            space[name]  # names an unknown parameter
        self.free = [j for j, n in enumerate(names) if n not in fixed]
        if not self.free:
            raise ParameterError("every parameter is fixed: nothing to optimise")
        base = {
            n: fixed.get(n, 0.5 * (p.low + p.high))
            for n, p in zip(names, space.scalars, strict=True)
        }
        self.base_u = space.to_unit(space.as_array([space.validate(base)]))[0]
        self.n_evaluations = 0
        self._cache: tuple[bytes, np.ndarray] | None = None

    def x(self, v: np.ndarray) -> np.ndarray:
        """Physical parameters (n, dim) of free unit coordinates ``v`` (n, n_free)."""
        u = np.tile(self.base_u, (len(v), 1))
        u[:, self.free] = np.clip(v, 0.0, 1.0)
        return self.model.space_.from_unit(u)

    def values(self, v: np.ndarray) -> np.ndarray:
        """Objectives then constraint quantities at ``v`` (n, n_free): shape (n, k)."""
        v = np.atleast_2d(v)
        key = v.tobytes()
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        pred = self.model.predict(self.x(v))
        self.n_evaluations += len(v)
        out = np.column_stack(
            [q.evaluate(pred) for q in self.objectives]
            + [c.quantity.evaluate(pred) for c in self.constraints]
        )
        self._cache = (key, out)
        return out

    def violation(self, values: np.ndarray) -> np.ndarray:
        """Total constraint violation (n,) of rows of :meth:`values`."""
        k = len(self.objectives)
        out = np.zeros(len(values))
        for j, c in enumerate(self.constraints):
            out += np.maximum(-c.slack(values[:, k + j]), 0.0)
        return out


def optimize(
    model: Surrogate,
    objective: str | None = None,
    *,
    sense: str = "min",
    constraints: Sequence[str] = (),
    fixed: Mapping[str, float] | None = None,
    n_starts: int = 8,
    n_screen: int = 256,
    seed: int = 0,
) -> OptimizationResult:
    """Minimise (``sense="min"``) or maximise a quantity of ``model`` over its parameters.

    Parameters
    ----------
    objective : str, optional
        A quantity of interest (default: the max of the model's first field).
    constraints : list of str
        ``"QUANTITY <= NUMBER"`` or ``"QUANTITY >= NUMBER"``.
    fixed : mapping, optional
        Parameters held at a value (the others are optimised).
    n_starts, n_screen, seed
        SLSQP runs from the ``n_starts`` best of ``n_screen`` seeded Sobol
        points (feasible first, then by objective).
    """
    start_time = time.perf_counter()
    if sense not in SENSES:
        raise ParameterError(f"sense must be 'min' or 'max', got {sense!r}")
    objective = objective or f"max({next(iter(model.fields_))})"
    q = parse_quantity(objective, model.fields_, model.mesh_)
    cons = [parse_constraint(c, model) for c in constraints]
    problem = _Problem(model, [q], cons, fixed)
    sign = 1.0 if sense == "min" else -1.0
    screen = _screen(problem, n_screen, seed)
    values = problem.values(screen)
    order = np.lexsort((sign * values[:, 0], problem.violation(values)))
    scale = float(np.std(values[:, 0])) or max(abs(float(values[0, 0])), 1.0)
    c_scales = [
        float(np.std(values[:, 1 + j])) or max(abs(c.bound), 1e-12) for j, c in enumerate(cons)
    ]

    def fun(v: np.ndarray) -> float:
        return sign * float(problem.values(v)[0, 0]) / scale

    scipy_cons = [
        {
            "type": "ineq",
            "fun": lambda v, j=j, c=c: float(c.slack(problem.values(v)[0, 1 + j])) / c_scales[j],
        }
        for j, c in enumerate(cons)
    ]
    starts = []
    bounds = [(0.0, 1.0)] * len(problem.free)
    for i in order[: max(1, int(n_starts))]:
        with warnings.catch_warnings(), one_blas_thread():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = minimize(fun, screen[i], method="SLSQP", bounds=bounds, constraints=scipy_cons)
        v = np.clip(res.x, 0.0, 1.0)
        vals = problem.values(v)[0]
        starts.append(
            {
                "v": v,
                "value": float(vals[0]),
                "violation": float(problem.violation(vals[None])[0]),
                "success": bool(res.success),
                "message": str(res.message),
            }
        )
    best = min(starts, key=lambda s: (s["violation"] > 1e-9 * max(1.0, scale), sign * s["value"]))
    return _result(problem, model, objective, sense, best, starts, time.perf_counter() - start_time)


def _screen(problem: _Problem, n: int, seed: int) -> np.ndarray:
    from nirom.apps.distributions import unit_samples

    return unit_samples(len(problem.free), max(int(n), 2), "qmc", seed)


def _result(
    problem: _Problem,
    model: Surrogate,
    objective: str,
    sense: str,
    best: dict[str, Any],
    starts: list[dict[str, Any]],
    seconds: float,
) -> OptimizationResult:
    x = problem.x(best["v"][None])[0]
    vals = problem.values(best["v"])[0]
    space = model.space_
    mu = {n: float(v) for n, v in zip(space.scalar_names, x, strict=True)}
    constraints = {c.text: float(vals[1 + j]) for j, c in enumerate(problem.constraints)}
    described = [
        {
            "mu": {
                n: float(v)
                for n, v in zip(space.scalar_names, problem.x(s["v"][None])[0], strict=True)
            },
            **{k: s[k] for k in ("value", "violation", "success", "message")},
        }
        for s in starts
    ]
    return OptimizationResult(
        objective,
        sense,
        mu,
        float(vals[0]),
        constraints,
        best["violation"] <= 1e-6 * max(1.0, abs(float(vals[0]))),
        described,
        problem.n_evaluations,
        seconds,
    )


# -- several objectives -----------------------------------------------------------------------
@dataclass
class ParetoResult:
    """Optuna trials (``params`` (n, dim), ``values`` (n, k)) and the Pareto front's rows."""

    objectives: list[str]
    senses: list[str]
    names: list[str]
    params: np.ndarray
    values: np.ndarray
    feasible: np.ndarray
    front: np.ndarray  # indices of the Pareto-optimal trials
    seed: int
    seconds: float

    def summary(self) -> dict[str, Any]:
        return {
            "kind": "optimize",
            "objectives": self.objectives,
            "senses": self.senses,
            "n_trials": len(self.values),
            "n_feasible": int(self.feasible.sum()),
            "seed": self.seed,
            "seconds": self.seconds,
            "pareto_front": [
                {
                    "mu": dict(zip(self.names, map(float, self.params[i]), strict=True)),
                    "values": dict(zip(self.objectives, map(float, self.values[i]), strict=True)),
                }
                for i in self.front
            ],
        }

    def save(self, out: str | Path, *, replace: bool = False) -> list[Path]:
        """Write ``optimize.json``, ``optimize.npz`` and the front's plot into a new folder."""
        from nirom.apps.plots import plot_pareto

        out = result_folder(out, "optimize", replace=replace)
        plot = plot_pareto(
            self.values[self.feasible],
            self.values[self.front],
            [f"{o} ({s})" for o, s in zip(self.objectives, self.senses, strict=True)],
            out / "pareto_front.png",
        )
        arrays = {"params": self.params, "values": self.values, "front": self.front}
        return write_results(out, "optimize", self.summary(), arrays, [plot])


def pareto_front(
    model: Surrogate,
    objectives: Mapping[str, str],
    *,
    constraints: Sequence[str] = (),
    fixed: Mapping[str, float] | None = None,
    n_trials: int = 300,
    seed: int = 0,
) -> ParetoResult:
    """Pareto front of several quantities (``{quantity: "min" | "max"}``) with Optuna NSGA-II."""
    import optuna

    start_time = time.perf_counter()
    if len(objectives) < 2:
        raise ParameterError("a Pareto front needs at least two objectives; use optimize for one")
    for text, sense in objectives.items():
        if sense not in SENSES:
            raise ParameterError(f"objective {text!r}: sense must be 'min' or 'max', got {sense!r}")
    if not isinstance(n_trials, int) or n_trials < 2:
        raise ParameterError(f"n_trials must be an integer >= 2, got {n_trials!r}")
    qs = [parse_quantity(t, model.fields_, model.mesh_) for t in objectives]
    cons = [parse_constraint(c, model) for c in constraints]
    problem = _Problem(model, qs, cons, fixed)
    k = len(qs)

    def run(trial: Any) -> tuple[float, ...]:
        v = np.array([[trial.suggest_float(f"v{j}", 0.0, 1.0) for j in problem.free]])
        vals = problem.values(v)[0]
        trial.set_user_attr("violation", [float(-c.slack(vals[k + j])) for j, c in enumerate(cons)])
        return tuple(float(x) for x in vals[:k])

    sampler = optuna.samplers.NSGAIISampler(
        seed=seed, constraints_func=(lambda t: t.user_attrs["violation"]) if cons else None
    )
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        directions=["minimize" if s == "min" else "maximize" for s in objectives.values()],
        sampler=sampler,
    )
    with one_blas_thread():
        study.optimize(run, n_trials=n_trials)
    trials = [t for t in study.trials if t.values is not None]
    v = np.array([[t.params[f"v{j}"] for j in problem.free] for t in trials])
    params = problem.x(v)
    values = np.array([t.values for t in trials])
    violation = np.array([max([0.0, *t.user_attrs["violation"]]) for t in trials])
    feasible = violation <= 0.0
    front = _non_dominated(values, feasible, list(objectives.values()))
    return ParetoResult(
        list(objectives),
        list(objectives.values()),
        model.space_.scalar_names,
        params,
        values,
        feasible,
        front,
        seed,
        time.perf_counter() - start_time,
    )


def _non_dominated(values: np.ndarray, feasible: np.ndarray, senses: list[str]) -> np.ndarray:
    """Indices of feasible rows no other feasible row dominates (all objectives minimised)."""
    signed = values * np.array([1.0 if s == "min" else -1.0 for s in senses])
    idx = np.flatnonzero(feasible)
    keep = []
    for i in idx:
        others = signed[idx]
        dominated = np.any(np.all(others <= signed[i], axis=1) & np.any(others < signed[i], axis=1))
        if not dominated:
            keep.append(i)
    return np.array(keep, dtype=int)


# -- verified with the solver ---------------------------------------------------------------------
def optimize_verified(
    dataset: Dataset,
    model: Surrogate,
    objective: str | None = None,
    *,
    sense: str = "min",
    constraints: Sequence[str] = (),
    fixed: Mapping[str, float] | None = None,
    tol: float = 0.01,
    max_iterations: int = 5,
    n_starts: int = 8,
    seed: int = 0,
    workers: int = 0,
    console: Any = None,
) -> tuple[OptimizationResult, Surrogate]:
    """Optimise, solve the optimum with the dataset's solver, append, refit, until they agree.

    Agreement: the objective and every constraint quantity of the solver's
    fields within ``tol`` (relative) of the surrogate's at the optimum.
    New samples get ids after the largest on disk (as ``nirom refine``).
    Returns the last optimization (its ``verification`` lists each
    iteration) and the last (refitted) model.
    """
    from rich.console import Console

    from nirom.generation import solve_samples
    from nirom.solvers import recorded_solver

    if not tol > 0:
        raise ParameterError(f"tol must be positive, got {tol}")
    solver = recorded_solver(dataset, "verifying the optimum")
    if not hasattr(model, "get_params"):
        raise ModelError(f"a {model.kind} model cannot be refitted (no get_params)")
    console = console or Console(quiet=True)
    history: list[dict[str, Any]] = []
    for iteration in range(1, max_iterations + 1):
        result = optimize(
            model,
            objective,
            sense=sense,
            constraints=constraints,
            fixed=fixed,
            n_starts=n_starts,
            seed=seed,
        )
        sample_id = max(dataset.sample_ids(None), default=-1) + 1
        report = solve_samples(
            solver, dataset, [(sample_id, dict(result.mu))], workers=workers, console=console
        )
        if report.failed:
            raise NiromError(
                f"the solver failed at the optimum {result.mu}: {report.failures[0][1]}"
            )
        solved = {k: v[None] for k, v in dataset.sample(sample_id).fields.items()}
        checks = {result.objective: (result.value, _solver_value(result.objective, model, solved))}
        for c in (parse_constraint(text, model) for text in constraints):
            checks[c.text] = (
                result.constraints[c.text],
                _solver_value(c.quantity.text, model, solved),
            )
        gaps = {k: abs(s - f) / max(abs(f), 1e-300) for k, (s, f) in checks.items()}
        history.append(
            {
                "iteration": iteration,
                "sample_id": sample_id,
                "mu": result.mu,
                "surrogate": {k: s for k, (s, _) in checks.items()},
                "solver": {k: f for k, (_, f) in checks.items()},
                "relative_gap": gaps,
                "training_samples": len(dataset.sample_ids()),
                # provenance of the appended sample, for the report beside the dataset
                "dataset": str(dataset.path.resolve()),
                "written_at": dataset.read_meta(sample_id).get("written_at"),
            }
        )
        console.print(
            f"iteration {iteration}: {result.objective} surrogate {result.value:.6g}, "
            f"solver {checks[result.objective][1]:.6g} (gap {gaps[result.objective]:.2%})"
        )
        fit_start = time.perf_counter()
        model = type(model)(**model.get_params()).fit(dataset)
        history[-1]["refit_s"] = time.perf_counter() - fit_start
        if max(gaps.values()) <= tol:
            break
    result.verification = history
    result.verification[-1]["converged"] = max(history[-1]["relative_gap"].values()) <= tol
    return result, model


def _solver_value(text: str, model: Surrogate, fields: Mapping[str, np.ndarray]) -> float:
    return float(parse_quantity(text, model.fields_, model.mesh_).evaluate(fields)[0])

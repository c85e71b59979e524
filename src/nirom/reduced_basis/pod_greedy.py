"""POD-greedy (Haasdonk and Ohlberger): a reduced basis for a time-dependent problem.

Over a set of candidate parameters, the transient reduced model
(:mod:`~nirom.reduced_basis.transient`) bounds each candidate's trajectory
error online; the high-fidelity solver runs the whole trajectory (every
substep of its scheme) at the candidate with the largest relative bound, the
trajectory's projection error ``u_j - V V^T X u_j`` is compressed by a POD in
the energy product X, and its leading modes extend the basis. The greedy
stops at ``max_basis`` functions, when the largest relative bound is below
``tolerance``, or when the worst trajectory adds nothing (converged: its
projection error is at round-off).

:func:`fit_transient` runs it on a dataset's samples: the candidates are the
dataset's parameters, and the solver its provenance records solves them
again at every substep (the dataset keeps the output times only); the first
solve is checked against the stored field.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nirom.dataset import Dataset
from nirom.dataset.schema import FieldSpec
from nirom.errors import DatasetError, ModelError
from nirom.parameters import ParameterSpace
from nirom.reduced_basis.basis import pod_basis
from nirom.reduced_basis.problem import reference_coefficients, snapshot_values
from nirom.reduced_basis.transient import TransientRBModel
from nirom.solvers import Solver
from nirom.solvers.operators import TransientDecomposition

#: Relative difference allowed between a stored time series and the rebuilt solver's.
SERIES_TOLERANCE = 1e-8

Trajectory = Callable[[Mapping[str, float]], np.ndarray]


@dataclass
class PODGreedyResult:
    """The trained model and the greedy's history.

    ``picks``: candidate index of each high-fidelity solve, in order;
    ``max_bounds[k]``: the largest relative L2 bound over the candidates before
    solve ``k + 1``; ``converged``: the last trajectory added nothing.
    """

    model: TransientRBModel
    picks: list[int] = field(default_factory=list)
    max_bounds: list[float] = field(default_factory=list)
    converged: bool = False

    @property
    def solved(self) -> int:
        return len(self.picks)


def transient_field(fields: Sequence[FieldSpec]) -> FieldSpec | None:
    """The one point time-series field when ``fields`` have no steady point field, else None."""
    if any(f.location == "point" and f.times is None for f in fields):
        return None
    series = [f for f in fields if f.location == "point" and f.times is not None]
    return series[0] if len(series) == 1 else None


def transient_of(solver: Solver) -> TransientDecomposition:
    """The solver's time-dependent decomposition, or a ModelError saying it has none."""
    problem = solver.transient_decomposition()
    if problem is None:
        raise ModelError(
            f"solver {solver.name!r} gives no time-dependent affine decomposition; "
            "a transient reduced basis needs one"
        )
    return problem


def pod_greedy(
    problem: TransientDecomposition,
    trajectory: Trajectory,
    space: ParameterSpace,
    candidates: np.ndarray,
    *,
    max_basis: int = 40,
    tolerance: float | None = None,
    modes_per_step: int = 1,
    first: int | None = None,
    on_solve: Callable[[int, np.ndarray], None] | None = None,
    model: TransientRBModel | None = None,
) -> PODGreedyResult:
    """Train a transient reduced basis of up to ``max_basis`` functions over ``candidates``.

    ``trajectory(mu)``: the high-fidelity unknowns at every substep (J + 1, N);
    ``candidates`` (n, dim): physical parameters, columns ``space.scalar_names``;
    ``first``: the candidate solved first (default: the nearest to the centre
    of the unit cube); ``modes_per_step``: POD modes of each projection error
    added; ``on_solve(index, states)``: called after each solve (checks, storage);
    ``model``: an empty model of ``problem`` or one to go on growing (a resumed run).
    """
    candidates = np.atleast_2d(np.asarray(candidates, dtype=float))
    if not len(candidates):
        raise ModelError("POD-greedy needs at least one candidate parameter")
    if model is None:
        model = empty_transient_model(problem, space)
    result = PODGreedyResult(model=model)
    if first is None:
        unit = space.to_unit(candidates)
        first = int(np.argmin(np.sum((unit - 0.5) ** 2, axis=1)))
    order = [first] + [k for k in range(len(candidates)) if k != first]
    while model.n_basis < max_basis:
        if model.n_basis == 0:
            if not order:
                raise ModelError("POD-greedy: every candidate's trajectory is zero")
            pick = order.pop(0)
        else:
            ratio = _relative_bounds(model, candidates)
            pick = int(np.argmax(ratio))
            result.max_bounds.append(float(ratio[pick]))
            if tolerance is not None and ratio[pick] <= tolerance:
                break
        states = np.asarray(trajectory(space.as_dict(candidates[pick])))
        if on_solve is not None:
            on_solve(pick, states)
        result.picks.append(pick)
        added = _extend(model, states, min(modes_per_step, max_basis - model.n_basis))
        if model.n_basis > 0 and added == 0:
            result.converged = True
            break
    return result


def empty_transient_model(
    problem: TransientDecomposition, space: ParameterSpace
) -> TransientRBModel:
    """An empty model of ``problem``, energy product at the centre of ``space``."""
    theta_ref = reference_coefficients(problem.affine, space)
    return TransientRBModel.build(problem, space.scalar_names, theta_ref)


def _extend(model: TransientRBModel, states: np.ndarray, n_modes: int) -> int:
    """Extend ``model`` by the leading X-POD modes of the projection error of ``states``."""
    product = model.product
    v = model.basis
    errors = states - (states @ (product @ v)) @ v.T if v.shape[1] else states
    if not np.any(errors):
        return 0
    scale = np.sqrt(np.max(np.einsum("ij,ij->i", states, (product @ states.T).T)))
    size = np.sqrt(np.max(np.einsum("ij,ij->i", errors, (product @ errors.T).T)))
    if size <= 1e-10 * scale:  # already in the span: round-off
        return 0
    modes, _ = pod_basis(errors, product, n_modes=n_modes)
    return model.extend(modes[:, :n_modes].T)


def _relative_bounds(model: TransientRBModel, x: np.ndarray, batch: int = 500) -> np.ndarray:
    """Relative L2 trajectory bounds ``l2 / ||u_N||`` (n,) at ``x`` (0 where both vanish)."""
    out = []
    for start in range(0, len(x), batch):
        part = x[start : start + batch]
        b = model.bound(part, model.solve(part))
        with np.errstate(divide="ignore", invalid="ignore"):
            out.append(np.where(b["l2"] > 0, b["l2"] / np.maximum(b["norm"], 1e-300), 0.0))
    return np.concatenate(out)


def fit_transient(
    ds: Dataset,
    ids: Sequence[int],
    solver: Solver,
    *,
    max_basis: int = 40,
    tolerance: float | None = None,
) -> tuple[TransientRBModel, str, dict[str, Any]]:
    """POD-greedy over the dataset's samples ``ids``, solved again by ``solver``.

    Returns the model, the reduced field's name and the greedy's history
    (``picks`` as sample ids, ``max_bounds``, ``converged``).
    """
    spec = transient_field(list(ds.fields.values()))
    if spec is None:
        raise ModelError(f"{ds.path}: a transient reduced basis needs one point time series")
    problem = transient_of(solver)
    if spec.times is None or len(spec.times) != len(problem.output_steps):
        raise DatasetError(
            f"{ds.path}: field {spec.name!r} has {len(spec.times or ())} times, the rebuilt "
            f"solver {len(problem.output_steps)}"
        )
    ids = list(ids)
    checked: list[int] = []

    def check(index: int, states: np.ndarray) -> None:
        if checked:
            return
        checked.append(index)
        sample = ids[index]
        stored = ds.field(spec.name, [sample])[0]
        stored = snapshot_values(stored, problem.affine.dirichlet.size, str(ds.path))
        mine = states[problem.output_steps]
        ref = stored[:, problem.affine.free]
        diff = np.linalg.norm(mine - ref) / max(np.linalg.norm(ref), 1e-300)
        if diff > SERIES_TOLERANCE:
            raise DatasetError(
                f"{ds.path}: sample {sample}: stored {spec.name!r} differs from the rebuilt "
                f"solver's trajectory (relative difference {diff:.2e})"
            )

    trajectory = solver.trajectory
    result = pod_greedy(
        problem,
        trajectory,
        ds.space,
        ds.parameters(ids),
        max_basis=max_basis,
        tolerance=tolerance,
        on_solve=check,
    )
    history = {
        "picks": [ids[k] for k in result.picks],
        "max_bounds": result.max_bounds,
        "converged": result.converged,
    }
    return result.model, spec.name, history


def train_transient(
    solver: Solver,
    out: str | os.PathLike[str],
    *,
    max_basis: int = 40,
    tolerance: float | None = None,
    n_candidates: int = 500,
    seed: int = 0,
) -> tuple[PODGreedyResult, Dataset, str, int]:
    """POD-greedy over random candidates, each solve stored in the dataset ``out``.

    The first solve is at the centre of the space; sample ``i`` of the dataset is
    solve ``i``, so a run stopped at any point resumes: the stored samples'
    trajectories are solved again in order (the dataset keeps the output times
    only) and rebuild the basis, then the greedy goes on. Returns the result, the
    dataset, the field's name and the number of samples resumed.
    """
    problem = transient_of(solver)
    spec = transient_field(solver.fields)
    if spec is None:
        raise ModelError(f"solver {solver.name!r}: a transient reduced basis needs one series")
    space = solver.space
    ds = _open_or_create(Path(out), solver, n_candidates, seed)
    model = empty_transient_model(problem, space)
    resumed = sorted(ds.sample_ids())
    for i in resumed:
        states = solver.trajectory(ds.read_meta(i)["mu"])  # type: ignore[attr-defined]
        added = _extend(model, states, 1)
    centre = space.from_unit(np.full((1, space.dim), 0.5))
    candidates = np.vstack([centre, space.sample(n_candidates, design="random", seed=seed)])
    free, n_nodes = problem.affine.free, problem.affine.dirichlet.size

    def store(index: int, states: np.ndarray) -> None:
        values = np.zeros((len(problem.output_steps), n_nodes))
        values[:, free] = states[problem.output_steps]
        sample_id = max(ds.sample_ids(None), default=-1) + 1
        ds.append(space.as_dict(candidates[index]), {spec.name: values}, sample_id=sample_id)

    if resumed and model.n_basis > 0 and added == 0:  # the last stored solve converged
        return PODGreedyResult(model=model, converged=True), ds, spec.name, len(resumed)
    result = pod_greedy(
        problem,
        solver.trajectory,  # type: ignore[attr-defined]
        space,
        candidates,
        max_basis=max_basis,
        tolerance=tolerance,
        first=0 if not resumed else None,
        on_solve=store,
        model=model,
    )
    return result, ds, spec.name, len(resumed)


def _open_or_create(path: Path, solver: Solver, n_candidates: int, seed: int) -> Dataset:
    """The greedy's dataset: created (provenance ``greedy``) or this greedy's, resumed."""
    record = {"solver": solver.recipe(), "n_candidates": int(n_candidates), "seed": int(seed)}
    if not path.exists() or (path.is_dir() and not any(path.iterdir())):
        return Dataset.create(
            path,
            solver.space,
            solver.fields,
            solver.mesh,
            description=f"nirom train-rb {solver.name} (POD-greedy)",
            provenance={"greedy": record},
        )
    ds = Dataset(path)
    if ds.provenance.get("greedy") != record:
        raise DatasetError(
            f"{path}: not made by this greedy (other solver, candidates or seed); "
            "choose a new --out"
        )
    return ds

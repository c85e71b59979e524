"""Weak greedy training: solve only where the error bound is largest, and keep every solve.

Over a large candidate set (random, in the unit cube of the parameter space,
so log-uniform parameters are sampled on a log scale) the reduced model's
relative bound ``Delta(mu) / ||u_N(mu)||_X`` is evaluated online; the
high-fidelity solver runs at the worst candidate, its sample (fields and
system matrix) is appended to the dataset, and the basis grows by that
snapshot. Sample ``i`` of the dataset is greedy step ``i``, so a run killed
at any point resumes from the dataset: its samples rebuild the basis in order
and the greedy goes on. The first step solves at the centre of the space; where
that solution is zero (elasticity's traction components are centred on 0),
the next steps take candidates in order until the basis is not empty. The
greedy stops at ``max_basis`` functions, at the bound ``tolerance``, or when
the worst candidate's solution adds nothing to the basis (converged: the
bound is at round-off, as for the L bracket, whose solutions depend on
``lam`` and ``mu_s`` only through their ratio and a scale).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nirom.dataset import Dataset
from nirom.distributed import check_workers
from nirom.errors import DatasetError
from nirom.reduced_basis.model import ReducedBasisModel
from nirom.reduced_basis.problem import empty_model, rb_field, snapshot_values
from nirom.solvers import Solver, resolve_solver


@dataclass
class GreedyResult:
    """The trained model, the dataset it solved into, and the greedy's history.

    ``max_bounds[k]``: the largest relative bound over the candidates with
    ``k + 1`` basis functions (before choosing the next parameter).
    ``converged``: the greedy stopped because the solution at the worst
    candidate was already in the basis's span (to 1e-10 relative in the
    energy norm): the bound is at round-off and more solves add nothing.
    """

    model: ReducedBasisModel
    dataset: Dataset
    field: str
    max_bounds: list[float] = field(default_factory=list)
    solved: int = 0
    resumed: int = 0
    converged: bool = False


def weak_greedy(
    solver: str | os.PathLike[str] | Solver,
    out: str | os.PathLike[str],
    *,
    max_basis: int = 60,
    tolerance: float | None = None,
    n_candidates: int = 2000,
    seed: int = 0,
    solver_options: Mapping[str, Any] | None = None,
    workers: int = 0,
    scheduler: str | None = None,
) -> GreedyResult:
    """Train a reduced basis of up to ``max_basis`` functions by the weak greedy.

    Parameters
    ----------
    solver : str, path or Solver
        A solver with an affine decomposition (``thermal-block``, ``elasticity``
        with ``parameters="lame"``); its one steady point field is reduced.
    out : path
        Dataset the solved samples go to (created with operators, or resumed).
    tolerance : float, optional
        Stop when the largest relative bound over the candidates is below it.
    n_candidates, seed
        Size and seed of the random candidate set.
    workers : int
        0: solve in this process; more: on a local Dask cluster of that many
        workers (one solve at a time: the greedy is sequential).
    scheduler : str, optional
        Address of a running Dask scheduler to solve on instead (``tcp://HOST:PORT``;
        its workers must see ``out``); checked, like ``workers``, before any work.
    """
    check_workers(workers, scheduler)  # one line before any solve or dataset
    solver = resolve_solver(solver, solver_options)
    name = rb_field(solver.fields, f"solver {solver.name!r}").name
    space = solver.space
    model = empty_model(solver, space)
    affine = model._need_offline()["affine"]
    ds = _open_or_create(Path(out), solver, affine, n_candidates, seed)
    result = GreedyResult(model=model, dataset=ds, field=name)

    def unknowns(sample_id: int) -> np.ndarray:
        values = snapshot_values(ds.field(name, [sample_id]), affine.dirichlet.size, str(ds.path))
        return values[:, affine.free]

    added = 1
    for i in sorted(ds.sample_ids()):  # resume: earlier greedy steps rebuild the basis
        added = model.extend(unknowns(i))
        result.resumed += 1
    result.converged = added == 0 and model.n_basis > 0
    candidates = space.sample(n_candidates, design="random", seed=seed)
    with _Runner(solver, ds, workers, scheduler) as run:
        while model.n_basis < max_basis and len(candidates) and not result.converged:
            if model.n_basis == 0 and not ds.sample_ids(None):
                pick = space.from_unit(np.full((1, space.dim), 0.5))[0]
            elif model.n_basis == 0:
                # The centre's solution is zero (a load symmetric about 0, as elasticity's
                # traction components): go on from the candidates in their order.
                pick, candidates = candidates[0], candidates[1:]
            else:
                worst = _worst(model, candidates)
                result.max_bounds.append(float(worst[1]))
                if tolerance is not None and worst[1] <= tolerance:
                    break
                pick = candidates[worst[0]]
                candidates = np.delete(candidates, worst[0], axis=0)
            sample_id = max(ds.sample_ids(None), default=-1) + 1
            run(sample_id, space.as_dict(pick))
            if ds.status(sample_id) != "done":
                raise DatasetError(
                    f"{ds.path}: greedy solve {sample_id} failed: "
                    f"{ds.read_meta(sample_id).get('error')}"
                )
            added = model.extend(unknowns(sample_id))
            result.solved += 1
            result.converged = added == 0 and model.n_basis > 0
    return result


def _worst(
    model: ReducedBasisModel, candidates: np.ndarray, batch: int = 1000
) -> tuple[int, float]:
    """Index and value of the largest relative energy bound ``Delta / ||u_N||`` over candidates."""
    values = []
    for start in range(0, len(candidates), batch):
        x = candidates[start : start + batch]
        b = model.bound(x, model.solve(x))
        values.append(b["energy"] / np.maximum(b["norm"], 1e-300))
    ratio = np.concatenate(values)
    k = int(np.argmax(ratio))
    return k, float(ratio[k])


class _Runner:
    """Runs one high-fidelity sample into the dataset: here, or on a Dask cluster kept open
    (a local one of ``workers`` processes, or the one at ``scheduler``)."""

    def __init__(
        self, solver: Solver, ds: Dataset, workers: int, scheduler: str | None = None
    ) -> None:
        self.solver, self.ds, self.workers, self.scheduler = solver, ds, workers, scheduler
        self._client: Any = None

    def __enter__(self) -> _Runner:
        if self.workers > 0 or self.scheduler is not None:
            from nirom.distributed import dask_client

            self._context = dask_client(self.workers, self.scheduler)
            self._client = self._context.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._context.__exit__(*exc)

    def __call__(self, sample_id: int, mu: dict[str, Any]) -> None:
        from nirom.distributed import worker_failures
        from nirom.generation import run_sample, solve_on_worker

        if self._client is None:
            run_sample(self.solver, self.ds, sample_id, mu)
            return
        recipe = self.solver.recipe()
        path = str(self.ds.path.resolve())
        again = (
            f"the greedy's samples so far stay in {self.ds.path}: run the command again to go on"
        )
        with worker_failures(f"greedy solve {sample_id}", again):
            self._client.submit(
                solve_on_worker, recipe, path, sample_id, mu, None, pure=False
            ).result()


def _open_or_create(
    path: Path, solver: Solver, affine: Any, n_candidates: int, seed: int
) -> Dataset:
    provenance = {
        "greedy": {"solver": solver.recipe(), "n_candidates": int(n_candidates), "seed": int(seed)}
    }
    if not path.exists() or (path.is_dir() and not any(path.iterdir())):
        centre = solver.space.from_unit(np.full((1, solver.space.dim), 0.5))[0]
        return Dataset.create(
            path,
            solver.space,
            solver.fields,
            solver.mesh,
            description=f"nirom train-rb {solver.name}",
            provenance=provenance,
            operators=affine.system(solver.space.as_dict(centre)),
        )
    ds = Dataset(path)
    if ds.provenance.get("greedy") != provenance["greedy"]:
        raise DatasetError(
            f"{path}: not made by this greedy (other solver, candidates or seed); "
            "choose a new --out"
        )
    return ds

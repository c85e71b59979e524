"""`hrom`: the nonintrusive hyper-reduced model of a mechanics dataset, as a surrogate.

``fit(dataset)`` runs the offline stage of :mod:`nirom.hyperreduction` on the
dataset's displacement time series (the case, mesh, law and loads come from
its generation recipe, or from the ``case`` given to :meth:`HROMSurrogate.fit`);
``predict(mu)`` solves the reduced problem for each parameter set and
returns every field of the dataset (``u``, ``sigma``, ``von_mises``, ``p``,
``sigma_qp``, ``p_qp``) plus ``indicator``, per time step the larger
Gappy-POD misfit of the stresses and of the plastic strain at the reduced
points (:mod:`nirom.hyperreduction.indicator`).
``predict(mu, history=..., times=...)`` follows another load history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from nirom.checks import AnyOf, Constraint, Integer, OneOf, Real
from nirom.dataset import Dataset, FieldSpec
from nirom.errors import ModelError
from nirom.hyperreduction import kernels as reduced_kernels
from nirom.hyperreduction.model import FIELDS, ReducedModel
from nirom.hyperreduction.offline import build
from nirom.hyperreduction.snapshots import (
    SnapshotLayout,
    check_displacements,
    mechanics_case,
    snapshot_layout,
)
from nirom.saving import saveable
from nirom.solvers.base import Solver
from nirom.surrogates.base import Bounds, Capabilities, Fields, Prepared, Surrogate

_TOLERANCE = Real(low=0, high=1, closed="neither")


@dataclass(frozen=True)
class _Address(Constraint):
    """A Dask scheduler's address, ``tcp://`` or ``tls://`` (whether one listens there is
    checked when the fit connects, :func:`nirom.distributed.check_workers`)."""

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str) and value.startswith(("tcp://", "tls://"))

    def words(self) -> str:
        return "a Dask scheduler address tcp://HOST:PORT"


_ADDRESS = _Address(none=True, saved=False)


@saveable("surrogate", "hrom")
class HROMSurrogate(Surrogate):
    """Hyper-reduced model (POD + empirical cubature + reduced Newton + Gappy-POD).

    Parameters (keyword-only)
    -------------------------
    tolerance : float or "auto"
        Relative POD truncation of the displacements (discarded energy ``tolerance**2``);
        "auto" (the default) is ``accuracy / 10``. The cumulated plastic strain is more
        sensitive than the displacement (plastic strains are small differences of total
        and elastic ones): on plate-hole at 10k unknowns, 1e-5 (15 modes) gave p errors
        of 5e-3 on held-out histories and 1e-6 (31 modes) 1.7e-3, for about twice the
        online time (``benchmarks/hyper_reduction.py``); ask a smaller ``accuracy`` (or
        ``tolerance``) for plastic strains closer than that.
    ecm_tolerance : float or "auto"
        Relative integration error of the reduced internal forces the cubature reaches
        on the training integrands; "auto" (the default) takes the loosest of
        1e-3 ... 1e-6 whose reproduction errors on training histories meet ``accuracy``
        on the displacement and stay within 1.25x the every-point model's on the
        plastic strain (:mod:`nirom.hyperreduction.sizing`).
    accuracy : float
        Relative L2 error of the displacement asked of the model on its training
        histories: it sizes the POD (``tolerance="auto"``) and the cubature
        (``ecm_tolerance="auto"``).
    dual_tolerance : float
        POD truncation of stresses and cumulated plastic strain (Gappy bases).
    product : {"l2", "euclidean"}
        Inner product of the displacement POD.
    workers : int
        Dask worker processes of the offline stage (0: in this process).
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://HOST:PORT``) the offline stage runs
        on instead; its workers must see the dataset. Not saved with the model (where the
        fit ran says nothing about the model), so a loaded model has None.
    """

    #: The dataset's fields it rebuilds (those of nirom.mechanics.output; quadrature fields
    #: only for a dataset in the case's node order); evaluation lists the others.

    _constraints: ClassVar[dict[str, Constraint]] = {
        "tolerance": AnyOf(rules=(_TOLERANCE, OneOf(choices=("auto",)))),
        "ecm_tolerance": AnyOf(rules=(_TOLERANCE, OneOf(choices=("auto",)))),
        "accuracy": _TOLERANCE,
        "dual_tolerance": _TOLERANCE,
        "product": OneOf(choices=("l2", "euclidean")),
        "workers": Integer(least=0),
        "scheduler": _ADDRESS,
    }

    def __init__(
        self,
        *,
        tolerance: float | str = "auto",
        ecm_tolerance: float | str = "auto",
        accuracy: float = 1e-4,
        dual_tolerance: float = 1e-4,
        product: str = "l2",
        workers: int = 0,
        scheduler: str | None = None,
    ) -> None:
        self._store_hyperparameters(locals())

    def fit(
        self, dataset: Dataset, ids: list[int] | None = None, case: Solver | str | None = None
    ) -> HROMSurrogate:
        """The offline stage on the done samples ``ids`` (default: all) of ``dataset``.

        ``case``: the mechanics case of the data (a solver, a built-in case's name or a case
        file ``.toml``); by default the solver the dataset's generation recorded. The
        dataset's points may be the case's in another order (matched by coordinates), and a
        2D case's displacement may come with a zero z component (as dolfinx writes it):
        predictions come back in the dataset's order and components.
        """
        self.check_params()
        ids = self.check_data(dataset, ids)
        case = mechanics_case(dataset, case)
        self.layout_ = snapshot_layout(dataset, case)
        self.kernels_ = reduced_kernels.warm_up()  # compiled once per machine, then cached
        self.model_ = build(
            dataset,
            case,
            ids,
            tolerance=self.accuracy / 10 if self.tolerance == "auto" else self.tolerance,
            ecm_tolerance=self.ecm_tolerance,
            accuracy=self.accuracy,
            dual_tolerance=self.dual_tolerance,
            product=self.product,
            workers=self.workers,
            scheduler=self.scheduler,
        )
        self.space_ = dataset.space
        self.case_ = case.recipe()
        # Quadrature fields follow the case's cells: kept only for a dataset in its order.
        self.fields_ = {
            k: v
            for k, v in dataset.fields.items()
            if k in FIELDS and (self.layout_.identity or v.location == "point")
        }
        times = tuple(float(t) for t in case.times)
        self.fields_["indicator"] = FieldSpec("indicator", "global", 1, times, "1")
        self.mesh_ = dataset.mesh
        self.training_ids_ = ids
        return self

    def _check_kind_of_data(self, dataset: Dataset) -> None:
        check_displacements(dataset)

    def _min_samples(self, dataset: Dataset) -> tuple[int, str]:
        return 1, ""

    # -- prediction ----------------------------------------------------------------------
    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(
            context=("history", "times"),
            fit_context=("case",),
            all_fields=False,
            diagnostics=("indicator",),
            time_series=True,
        )

    def _predict_batch(
        self, batch: Prepared, return_std: bool, return_bound: bool, **context: Any
    ) -> tuple[Fields, Fields | None, Bounds | None]:
        """The reduced solve of each parameter set (physical values, never through the unit
        cube); ``history`` (a LoadHistory or its JSON form) and ``times`` (s) in ``context``
        replace the training loading."""
        online = {k: v for k, v in context.items() if v is not None}
        return self._simulate(batch.x, **online), None, None

    def _simulate(self, x: np.ndarray, **online: Any) -> Fields:
        """The reduced solve of each physical parameter row of ``x``, fields stacked (in
        the dataset's node order and components)."""
        names = self.space_.scalar_names
        wanted = [k for k in self.fields_ if k in FIELDS]
        runs = [
            self._to_dataset(
                self.model_.simulate(dict(zip(names, row, strict=True)), fields=wanted, **online)
            )
            for row in x
        ]
        return {k: np.stack([r[k] for r in runs]) for k in runs[0]}

    def _to_dataset(self, fields: Fields) -> Fields:
        """One history's fields from the case's node order to the dataset's."""
        layout = self.layout_
        out = {}
        for name, value in fields.items():
            spec = self.fields_.get(name)
            if spec is not None and spec.location == "point":
                value = layout.to_dataset(layout.pad(value) if name == "u" else value)
            out[name] = value
        return out

    @property
    def model(self) -> ReducedModel:
        """The reduced model (operators, bases, online solve)."""
        self._check_fitted()
        return self.model_

    # -- persistence -----------------------------------------------------------------------
    def _state_json(self) -> dict[str, Any]:
        return {
            "model": self.model_.to_json(),
            "case": self.case_,
            "layout": self.layout_.to_json(),
        }

    def _state_arrays(self) -> dict[str, np.ndarray]:
        arrays = {f"hrom/{k}": v for k, v in self.model_.to_arrays().items()}
        arrays.update({f"layout/{k}": v for k, v in self.layout_.to_arrays().items()})
        return arrays

    @classmethod
    def _from_state(cls, state: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> HROMSurrogate:
        # "hyperparameters": the key of models saved before the base wrote "params"
        model = cls(**cls.params_from_json(state.get("params", state.get("hyperparameters"))))
        inner = {k[len("hrom/") :]: v for k, v in arrays.items() if k.startswith("hrom/")}
        model.model_ = ReducedModel.from_saved(state["model"], inner)
        model.case_ = state.get("case")  # saved since case files (None before)
        dim = model.model_.dim
        layout = state.get("layout") or {"components": dim, "dim": dim, "reordered": False}
        saved = {k[len("layout/") :]: v for k, v in arrays.items() if k.startswith("layout/")}
        model.layout_ = SnapshotLayout.from_saved(layout, saved)
        return model

    def case(self) -> Any:
        """The mechanics case the model was built on (rebuilt from the recipe saved with
        it: a built-in case's options or a case file's whole description)."""
        self._check_fitted()
        if not self.case_:
            raise ModelError("this hrom model was saved without its case (nirom before 0.1)")
        from nirom.solvers import resolve_solver

        return resolve_solver(self.case_["name"], self.case_["options"])

    def summary(self) -> str:
        self._check_fitted()
        text = f"hrom: {self.model_.summary()}"
        sizing = self.model_.info.get("cubature_sizing")
        if sizing:
            chosen, every = sizing["candidates"][-1], sizing["every_point"]
            text += (
                f"; cubature tolerance {sizing['tolerance']:g} chosen for accuracy "
                f"{sizing['accuracy']:g} (training u error {chosen['u_error']:.2g}, "
                f"{every['u_error']:.2g} with every point)"
            )
        kernels = getattr(self, "kernels_", None)
        if kernels and kernels.get("compiled"):
            text += f"; kernels compiled in {kernels['seconds']:.1f} s (cached for later runs)"
        return text

    def card_details(self) -> dict[str, Any]:
        """Modes, cubature points and how the cubature was sized."""
        info = self.model_.info
        return {
            "modes": self.model_.n_modes,
            "cubature_points": self.model_.n_cubature_points,
            "reduced_points": len(self.model_.points),
            "ecm_tolerance": info.get("ecm_tolerance"),
            **({"cubature_sizing": info["cubature_sizing"]} if "cubature_sizing" in info else {}),
        }

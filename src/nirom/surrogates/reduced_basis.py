"""RBSurrogate (``rb``): a certified Galerkin reduced-basis model as a surrogate.

``fit(dataset)`` builds a POD-Galerkin model from a dataset that stores its
system matrices (``nirom generate ... --operators``) with the generating
solver's affine decomposition; :meth:`RBSurrogate.from_greedy` wraps the model
the weak greedy trained (``nirom train-rb``). ``predict`` returns the field at
the mesh nodes, as every surrogate; :meth:`RBSurrogate.predict_with_bound`
also returns the a-posteriori error bounds.

The model reduces the dataset's one steady point field, whose values the
system's unknowns are: a temperature (n_points,), or a displacement
(n_points, c) with its components. It predicts that field only: other
fields of the dataset (elasticity's cell field ``von_mises``) are not
predicted, ``summary()`` names them and ``nirom evaluate`` skips them.

The bound and ``return_std``: the bound is a guaranteed upper bound of the
norm of the whole field's error (energy norm, and the finite-element L2 norm
``||u - u_N||_L2``), not a per-value standard deviation: a norm bound does not
bound values point by point, and it is not a probability statement. So the
model has no ``return_std`` (``capabilities.std`` is False); evaluation reports
the bound's effectivity (bound over the true L2 error, >= 1) instead of
coverage.

Time-dependent problems (``heat-transient``): on a dataset whose one point
field is a time series and whose provenance records a solver with a
time-dependent affine decomposition, ``fit`` runs the POD-greedy over the
dataset's parameters (:mod:`nirom.reduced_basis.pod_greedy`, the solver
rebuilt from the provenance solving each chosen trajectory again at every
time step) and predicts the series (n, T, n_points) as the dataset stores it;
the bounds are those of :mod:`nirom.reduced_basis.transient` (``l2``: of the
error's L2 norm summed over the output times, ``l2_final``, ``energy``:
L2 in time of the energy norm). ``n_modes`` is then the largest basis size
(default 40) and ``tolerance`` the greedy's target relative bound.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from nirom.checks import Constraint, Integer, OneOf, Real
from nirom.dataset import Dataset
from nirom.errors import DatasetError, ModelError
from nirom.reduced_basis.greedy import GreedyResult
from nirom.reduced_basis.model import ReducedBasisModel
from nirom.reduced_basis.pod_galerkin import pod_galerkin
from nirom.reduced_basis.pod_greedy import fit_transient, transient_field
from nirom.reduced_basis.problem import rb_field
from nirom.reduced_basis.transient import TransientRBModel
from nirom.reduction.pod import ENERGY_FRACTION
from nirom.saving import arrays_under, saveable
from nirom.surrogates.base import Bounds, Capabilities, Fields, Inputs, Prepared, Surrogate
from nirom.threads import one_blas_thread

#: Largest basis of the POD-greedy on a time series when ``n_modes`` is not given.
TRANSIENT_MAX_BASIS = 40


@saveable("surrogate", "rb")
class RBSurrogate(Surrogate):
    """Certified reduced basis (``rb``): predicts the dataset's one steady point field.

    Parameters (keyword-only)
    -------------------------
    n_modes : int, optional
        POD modes kept (``fit``); default: by ``discarded_energy``.
    discarded_energy : float, optional
        Fraction of the snapshot energy (in the energy product) left out
        (default 1e-10: essentially every independent snapshot).
    operator : {"affine", "eim"}
        The operator's terms: the generating solver's exact affine
        decomposition, or the empirical interpolation of the stored matrices
        alone (black box: certified by min-theta when the interpolant's
        per-parameter terms are positive semidefinite, with the interpolation
        error measured at the samples added to the bound; NaN bound otherwise).
    eim_terms : int, optional
        Most interpolation terms (default: until ``eim_tolerance``).
    eim_tolerance : float
        Relative max-norm interpolation error of the sampled matrices to reach.
    tolerance : float, optional
        Time series only: stop the POD-greedy when the largest relative L2
        trajectory bound over the training parameters is below it (default:
        grow to ``n_modes``, 40 by default, or until converged).
    """

    #: Predicts the reduced field only (evaluation skips the dataset's other fields).

    _constraints: ClassVar[dict[str, Constraint]] = {
        "n_modes": Integer(least=1, none=True),
        "discarded_energy": ENERGY_FRACTION,
        "operator": OneOf(choices=("affine", "eim")),
        "eim_terms": Integer(least=1, none=True),
        "eim_tolerance": Real(low=0.0, high=1.0, closed="neither"),
        "tolerance": Real(low=0.0, closed="neither", none=True),
    }

    def __init__(
        self,
        *,
        n_modes: int | None = None,
        discarded_energy: float | None = None,
        operator: str = "affine",
        eim_terms: int | None = None,
        eim_tolerance: float = 1e-10,
        tolerance: float | None = None,
    ) -> None:
        self._store_hyperparameters(locals())

    def fit(self, dataset: Dataset, ids: list[int] | None = None) -> RBSurrogate:
        """POD-Galerkin on the done samples ``ids`` of a dataset with operators; POD-greedy
        on a time-series dataset whose recorded solver is rebuilt (module docstring)."""
        self.check_params()
        ids = self.check_data(dataset, ids)
        if transient_field(list(dataset.fields.values())) is not None:
            return self._fit_transient(dataset, ids)
        model, name = pod_galerkin(
            dataset,
            ids,
            n_modes=self.n_modes,
            discarded_energy=self.discarded_energy,
            operator=self.operator,
            eim_terms=self.eim_terms,
            eim_tolerance=self.eim_tolerance,
        )
        model.finish()
        return self._set(model, name, dataset, ids)

    def _fit_transient(self, dataset: Dataset, ids: list[int]) -> RBSurrogate:
        """POD-greedy over the samples ``ids`` of a time-series dataset."""
        from nirom.reduced_basis.pod_galerkin import dataset_solver

        if self.operator != "affine":
            raise ModelError(
                f"rb on the time series of {dataset.path}: operator={self.operator!r} is not "
                "available for time-dependent problems (the affine decomposition only)"
            )
        model, name, self.greedy_ = fit_transient(
            dataset,
            ids,
            dataset_solver(dataset),
            max_basis=TRANSIENT_MAX_BASIS if self.n_modes is None else self.n_modes,
            tolerance=self.tolerance,
        )
        model.finish()
        return self._set(model, name, dataset, ids)

    @classmethod
    def from_greedy(cls, result: GreedyResult) -> RBSurrogate:
        """The surrogate of a weak-greedy run (its model, online only from now on)."""
        result.model.finish()
        ds = result.dataset
        return cls()._set(result.model, result.field, ds, ds.sample_ids())

    @classmethod
    def from_pod_greedy(cls, model: TransientRBModel, dataset: Dataset, name: str) -> RBSurrogate:
        """The surrogate of a POD-greedy run into ``dataset`` (online only from now on)."""
        model.finish()
        return cls()._set(model, name, dataset, dataset.sample_ids())

    def _check_kind_of_data(self, dataset: Dataset) -> None:
        if transient_field(list(dataset.fields.values())) is not None:
            record = dataset.provenance.get("generation") or dataset.provenance.get("greedy")
            if not (record or {}).get("solver"):
                raise DatasetError(
                    f"{dataset.path}: records no solver; rb on a time series rebuilds it"
                )
            if dataset.space.field_inputs:
                raise DatasetError(f"{dataset.path}: rb takes scalar parameters only")
            return
        if dataset.operators is None:
            raise DatasetError(
                f"{dataset.path}: has no operators; generate it with --operators for rb"
            )
        if dataset.space.field_inputs:
            raise DatasetError(f"{dataset.path}: rb takes scalar parameters only")
        rb_field(list(dataset.fields.values()), str(dataset.path))

    def _min_samples(self, dataset: Dataset) -> tuple[int, str]:
        return 1, ""

    def _set(
        self, model: ReducedBasisModel | TransientRBModel, name: str, ds: Dataset, ids: list[int]
    ) -> RBSurrogate:
        self.model_, self.field_ = model, name
        self.space_, self.mesh_ = ds.space, ds.mesh
        self.fields_ = {name: ds.fields[name]}
        self.not_predicted_ = [other for other in ds.fields if other != name]
        self.training_ids_ = ids
        return self

    def _field(self, c: np.ndarray) -> np.ndarray:
        """The reduced field at the nodes, (n, n_points) or (n, n_points, components)."""
        values = self.model_.reconstruct(c)
        components = self.fields_[self.field_].components
        return values if components == 1 else values.reshape(len(values), -1, components)

    # -- prediction --------------------------------------------------------------------
    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(bound=True, all_fields=False)

    def _predict_batch(
        self, batch: Prepared, return_std: bool, return_bound: bool, **context: Any
    ) -> tuple[Fields, Fields | None, Bounds | None]:
        """The reduced solve at the physical parameters (never through the unit cube) and,
        when asked, its bounds: ``l2`` (of ``||u - u_N||_L2``), ``energy`` (of
        ``||u - u_N||_X``, X the energy product at the centre of the space), ``relative``
        (of ``||u - u_N||_X / ||u||_X``), with ``residual`` and ``alpha`` they come from."""
        if isinstance(self.model_, TransientRBModel):
            with one_blas_thread():  # r x r work per substep: threads cost more than they save
                return self._predict_series(batch.x, return_bound)
        c = self.model_.solve(batch.x)
        bounds = {self.field_: self.model_.bound(batch.x, c)} if return_bound else None
        return {self.field_: self._field(c)}, None, bounds

    def _predict_series(
        self, x: np.ndarray, return_bound: bool
    ) -> tuple[Fields, None, Bounds | None]:
        """The transient model's field series at the output times and, when asked, its
        trajectory bounds (every substep's, ``l2_steps``, stays internal)."""
        c = self.model_.solve(x)
        bounds = None
        if return_bound:
            bounds = {self.field_: self.model_.bound(x, c)}
            bounds[self.field_].pop("l2_steps")
        return {self.field_: self.model_.outputs(c)}, None, bounds

    def predict_with_bound(self, mu: Inputs) -> tuple[Fields, dict[str, np.ndarray]]:
        """``predict(mu, return_bound=True)`` with the bounds of the one field it reduces
        (``{"l2": ..., "energy": ..., ...}``, each (n,), scalars for a mapping)."""
        fields, bounds = self.predict(mu, return_bound=True)
        return fields, bounds[self.field_]

    # -- persistence -----------------------------------------------------------------------
    def _state_json(self) -> dict[str, Any]:
        return {
            "field": self.field_,
            "not_predicted": list(self.not_predicted_),
            "model": self.model_.to_json(),
            "model_kind": self.model_.kind,
        }

    def _state_arrays(self) -> dict[str, np.ndarray]:
        return {f"rb/{k}": v for k, v in self.model_.to_arrays().items()}

    @classmethod
    def _from_state(cls, state: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> RBSurrogate:
        model = cls(**cls.params_from_json(state["params"]))
        kind = TransientRBModel if state.get("model_kind") == TransientRBModel.kind else None
        model.model_ = (kind or ReducedBasisModel).from_saved(
            state["model"], arrays_under(arrays, "rb/")
        )
        model.field_ = state["field"]
        model.not_predicted_ = list(state.get("not_predicted", []))
        return model

    def summary(self) -> str:
        """The basis size, e.g. ``"u: 60 basis functions, 9 operator and 1 load terms"``,
        and the dataset's fields it does not predict (``"; von_mises not predicted"``)."""
        self._check_fitted()
        skipped = self.not_predicted_
        tail = f"; {', '.join(skipped)} not predicted" if skipped else ""
        return f"{self.field_}: {self.model_.summary()}{tail}"

"""PODSurrogate: POD of each field plus a regressor from parameters to POD coefficients.

For each output field, the snapshots ``F`` (n_samples, n_values) are reduced by
a POD (weighted by the finite-element mass matrix for point fields when the
mesh is known, so the basis is optimal in the L2 norm), and a regressor maps
unit-cube parameters to the coefficients: each parameter on its declared scale
(log for log-uniform ones) or, with ``input_scale="auto"`` (the default), on
the linear or log scale the training data favour
(:mod:`nirom.surrogates.input_scale`).

Prediction: ``mean = z(mu) @ modes + mean_field``. With a GP regressor the
predictive variance of each coefficient is carried through the basis, with
the modes treated as independent (one GP per mode)::

    var(x) = sum_k std_k(mu)^2 * modes[k, x]^2 + truncation_var(x)

where ``truncation_var`` is the mean squared residual of projecting the
training snapshots on the kept modes, so the bars also cover the basis
error the regressor cannot see. The full covariance is low rank,
``Cov(mu) = modes.T diag(std_k(mu)^2) modes + diag(truncation_var)``:
:meth:`PODSurrogate.predict_covariance` returns it as a
:class:`~nirom.surrogates.base.LowRankCovariance` per field, so the covariance
of sensors or quantities of interest costs ``O(rows * modes)``, never the mesh
squared.

The GP's std of each mode is calibrated by default (``rescale_std`` of the
GP, on unless ``regressor_params={"rescale_std": False}``): multiplied by the
root mean square of held-out standardised errors: up to 64 samples of 8-fold
cross-validation with refitted hyperparameters, one factor for all modes with a
log-linear trend in the inputs (wider bars where the held-out errors grow, e.g.
at low thermal-block conductivities); else of each mode's closed-form
leave-one-out residuals (``std_scale`` and ``std_calibration`` in the model card;
:class:`~nirom.regression.GPRegressor`).

Field inputs (a coefficient map, an initial condition) are encoded the same
way: a POD (PCA, Euclidean) of each input field keeps ``input_modes``
coefficients, mapped affinely so the training range is [0, 1], and appended
to the unit-cube scalars. With the MLP regressor this is the "PCA-NN" of the
operator-learning literature (Bhattacharya et al. 2021), the baseline beside
FNO and DeepONet.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from nirom.checks import Boolean, Constraint, Integer, OneOf, Options
from nirom.dataset import Dataset, FieldSpec
from nirom.errors import DatasetError, HyperparameterError
from nirom.reduction import POD
from nirom.reduction.pod import METHODS, TRUNCATION
from nirom.regression import GPRegressor, MLPRegressor, RBFRegressor  # noqa: F401 (registers)
from nirom.saving import arrays_of, arrays_under, registry, saveable
from nirom.surrogates import input_scale
from nirom.surrogates.base import (
    Bounds,
    Capabilities,
    Fields,
    Inputs,
    LowRankCovariance,
    Prepared,
    Surrogate,
)

#: name -> regressor class: the live registry family "regressor" (gp, rbf, mlp)
REGRESSORS: dict[str, type] = registry("regressor")
#: Discarded energy fraction of each field's POD when neither it nor n_modes is given.
DEFAULT_DISCARDED_ENERGY = 1e-6
#: Whether pod-gp calibrates each mode's std by leave-one-out (GPRegressor ``rescale_std``)
#: unless ``regressor_params`` says otherwise (benchmarks/coverage.py).
DEFAULT_RESCALE_STD = True


@saveable("surrogate", "pod")
class PODSurrogate(Surrogate):
    """POD + regression surrogate (``pod-gp``, ``pod-rbf``, ``pod-mlp``).

    Parameters (keyword-only)
    -------------------------
    regressor : {"gp", "rbf", "mlp"}
        Regressor of the POD coefficients; "gp" gives error bars; "mlp"
        needs PyTorch.
    n_modes : int, optional
        Modes kept per field.
    discarded_energy : float, optional
        Or keep the fewest modes leaving at most this fraction of the
        snapshot energy out (default 1e-6 when ``n_modes`` is not given either).
    pod_method : str
        POD algorithm ("auto", "exact", "snapshots", "randomized", "incremental").
    weighted : bool
        Use the mesh's mass matrix as the POD inner product for point fields.
    regressor_params : dict, optional
        Keyword arguments of the regressor (e.g. ``{"n_restarts": 2}``).
    input_modes : int
        PCA coefficients kept per field input (spaces with field inputs).
    input_scale : {"auto", "declared"}
        The scale each scalar parameter is regressed on. "declared": the one its
        distribution implies (log for log-uniform, linear for uniform). "auto"
        (default): for each parameter with positive bounds, linear or log,
        whichever the training data favour (GP marginal likelihood for "gp",
        RBF cross-validation for "rbf" and "mlp"; see
        :mod:`nirom.surrogates.input_scale`). The choice is ``input_scales_``.
    energy : float, optional
        The former name of ``discarded_energy`` (an alias: give one of them).
    """

    _constraints: ClassVar[dict[str, Constraint]] = {
        **TRUNCATION,
        "pod_method": OneOf(choices=METHODS),
        "weighted": Boolean(),
        "regressor_params": Options(none=True),
        "input_modes": Integer(least=1),
        "input_scale": OneOf(choices=input_scale.SETTINGS, label="input scale"),
    }
    _aliases: ClassVar[dict[str, str]] = {"energy": "discarded_energy"}

    def __init__(
        self,
        *,
        regressor: str = "gp",
        n_modes: int | None = None,
        discarded_energy: float | None = None,
        pod_method: str = "auto",
        weighted: bool = True,
        regressor_params: Mapping[str, Any] | None = None,
        input_modes: int = 64,
        input_scale: str = "auto",
        energy: float | None = None,
    ) -> None:
        self._store_hyperparameters(locals())

    def _owner(self) -> str:
        """``pod-gp``, ``pod-rbf``, ``pod-mlp`` (the factory's names), else ``pod``."""
        return f"pod-{self.regressor}" if self.regressor in REGRESSORS else "pod"

    def _check_relations(self) -> None:
        """A known regressor with options it takes, and a POD these settings can build."""
        if self.regressor not in REGRESSORS:
            raise HyperparameterError(
                f"pod: unknown regressor {self.regressor!r}; choose {', '.join(REGRESSORS)}"
            )
        try:
            regressor = self._new_regressor()
        except TypeError as exc:
            raise HyperparameterError(f"{self.label}: regressor_params: {exc}") from None
        regressor.check_params()
        self._new_pod(product=None).check_params()

    def _new_regressor(self) -> Any:
        params = dict(self.regressor_params or {})
        if self.regressor == "gp":
            params.setdefault("rescale_std", DEFAULT_RESCALE_STD)
        return REGRESSORS[self.regressor](**params)

    def _new_pod(self, product: Any) -> POD:
        """A POD of one field with these truncation settings and inner product ``product``."""
        discarded = self._value("discarded_energy")
        if discarded is None and self.n_modes is None:
            discarded = DEFAULT_DISCARDED_ENERGY
        return POD(
            n_modes=self.n_modes,
            discarded_energy=discarded,
            method=self.pod_method,
            product=product,
        )

    # -- fitting -----------------------------------------------------------------------
    def fit(self, dataset: Dataset, ids: list[int] | None = None) -> PODSurrogate:
        """Fit one POD and one regressor per field on the done samples ``ids``."""
        self.check_params()
        ids = self.check_data(dataset, ids)
        self.space_ = dataset.space
        self.fields_ = dict(dataset.fields)
        self.mesh_ = dataset.mesh
        self.training_ids_ = ids
        inputs = {p.name: dataset.field_input(p.name, ids) for p in self.space_.field_inputs}
        x = dataset.parameters(ids)
        self.input_scales_ = input_scale.declared_scales(self.space_)
        u = self._fit_inputs(self._unit(x), inputs)
        mass = self.mesh_.mass_matrix() if (self.weighted and self.mesh_ is not None) else None
        self.pods_: dict[str, POD] = {}
        self.truncation_var_: dict[str, np.ndarray] = {}
        coefficients: dict[str, np.ndarray] = {}
        for name, spec in self.fields_.items():
            snapshots = dataset.field(name, ids).reshape(len(ids), -1)
            pod = self._new_pod(_field_inner_product(spec, mass)).fit(snapshots)
            z = pod.transform(snapshots)
            residual = snapshots - pod.inverse_transform(z)
            self.pods_[name] = pod
            self.truncation_var_[name] = np.mean(residual**2, axis=0)
            coefficients[name] = z
        if self.input_scale == "auto":
            u = self._choose_scales(x, inputs, coefficients, u)
        self.regressors_: dict[str, Any] = {}
        for name, z in coefficients.items():
            self.regressors_[name] = _fit_quietly(self._new_regressor(), u, z, name)
        self._prepare()
        return self

    def _choose_scales(
        self, x: np.ndarray, inputs: Fields, coefficients: Fields, u: np.ndarray
    ) -> np.ndarray:
        """Set ``input_scales_`` from the leading coefficients; return the features on them.

        ``u``: the features on the declared scales, returned when nothing changes.
        """
        targets = input_scale.leading_targets(coefficients)
        if not input_scale.choosable(self.space_) or targets.shape[1] == 0:
            return u
        rows = input_scale.choice_rows(len(x))
        x_rows, targets = x[rows], targets[rows]
        inputs_rows = {name: values[rows] for name, values in inputs.items()}
        if self.regressor == "gp":
            score = input_scale.gp_evidence(targets)
            margin = input_scale.EVIDENCE_MARGIN
        else:
            score = input_scale.rbf_cross_validation(targets)
            margin = input_scale.CV_MARGIN
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.input_scales_, _ = input_scale.choose_scales(
                self.space_, x_rows, lambda unit: self._features(unit, inputs_rows), score, margin
            )
        return self._features(self._unit(x), inputs)

    def _scales(self) -> Mapping[str, str]:
        return self.input_scales_

    def _check_kind_of_data(self, dataset: Dataset) -> None:
        if dataset.per_sample_mesh:
            raise DatasetError(
                f"{dataset.path}: POD needs one mesh for all samples; this dataset has a mesh "
                "per sample: use --model mmgp"
            )

    def _min_samples(self, dataset: Dataset) -> tuple[int, str]:
        """The fewest samples the regressor fits with this dataset's features: one per
        scalar parameter, and per field input as many PCA coefficients as the samples give
        (so the least ``m`` with ``m >= regressor.min_samples(features(m))``)."""
        space = dataset.space
        regressor = self._new_regressor()
        for m in range(2, 100_000):
            features = len(space.scalars) + sum(
                min(self.input_modes, m - 1, int(np.prod(p.shape))) for p in space.field_inputs
            )
            least, why = regressor.min_samples(features)
            if m >= least:
                return m, why
        return least, why

    def _fit_inputs(self, u: np.ndarray, inputs: Fields) -> np.ndarray:
        """Fit the PCA of each field input; return the regressor's training features."""
        self.input_pods_: dict[str, POD] = {}
        self.input_range_: dict[str, np.ndarray] = {}
        for name, values in inputs.items():
            flat = values.reshape(len(values), -1)
            n_modes = min(self.input_modes, len(flat) - 1, flat.shape[1])
            pod = POD(n_modes=n_modes, method="auto").fit(flat)
            z = pod.transform(flat)
            self.input_pods_[name] = pod
            self.input_range_[name] = np.stack([z.min(axis=0), z.max(axis=0)])
        return self._features(u, inputs)

    def _features(self, u: np.ndarray, inputs: Fields) -> np.ndarray:
        """Regressor inputs: unit-cube scalars, then each field input's scaled PCA coefficients."""
        columns = [u]
        for name, pod in self.input_pods_.items():
            z = pod.transform(inputs[name].reshape(len(u), -1))
            low, high = self.input_range_[name]
            columns.append((z - low) / np.where(high > low, high - low, 1.0))
        return np.hstack(columns)

    def _prepare(self) -> None:
        """Precompute what online prediction needs (squared modes for the variance)."""
        self._modes_sq = {name: pod.modes_**2 for name, pod in self.pods_.items()}

    # -- prediction ------------------------------------------------------------------------
    @property
    def capabilities(self) -> Capabilities:
        std = bool(REGRESSORS[self.regressor].provides_std)
        return Capabilities(std=std, coordinates=True, covariance=std)

    def _predict_covariance(
        self, batch: Prepared, names: list[str]
    ) -> dict[str, LowRankCovariance]:
        """Per field: the modes (as columns), the coefficients' variances (one GP per mode:
        independent) and the truncation variance."""
        u = self._features(batch.u, batch.inputs)
        out = {}
        for name in names:
            _, z_std = self.regressors_[name].predict(u, return_std=True)
            z_var = np.asarray(z_std, dtype=float).reshape(len(batch), -1) ** 2
            basis = self.pods_[name].modes_.T
            out[name] = LowRankCovariance(basis, z_var, self.truncation_var_[name])
        return out

    def _predict_batch(
        self, batch: Prepared, return_std: bool, return_bound: bool, **context: Any
    ) -> tuple[Fields, Fields | None, Bounds | None]:
        mean: Fields = {}
        std: Fields | None = {} if return_std else None
        n = len(batch)
        u = self._features(batch.u, batch.inputs)
        for name, pod in self.pods_.items():
            shape = (n, *self._field_shape(name))
            if return_std:
                z, z_std = self.regressors_[name].predict(u, return_std=True)
                var = (z_std**2) @ self._modes_sq[name] + self.truncation_var_[name]
                std[name] = np.sqrt(var).reshape(shape)
            else:
                z = self.regressors_[name].predict(u)
            mean[name] = (z @ pod.modes_ + pod.mean_).reshape(shape)
        return mean, std, None

    def _field_shape(self, name: str) -> tuple[int, ...]:
        mesh = self.mesh_
        spec = self.fields_[name]
        n_quadrature = 0
        if spec.location == "quadrature":  # the mesh does not say; the POD's length does
            n_quadrature = self.pods_[name].modes_.shape[1] // (
                (spec.n_times or 1) * spec.components
            )
        return spec.shape(mesh.n_points if mesh else 0, mesh.n_cells if mesh else 0, n_quadrature)

    def reduced_basis(self, name: str) -> POD:
        """The POD of field ``name``."""
        self._check_fitted()
        return self.pods_[name]

    def reduced_coordinates(self, name: str, snapshots: np.ndarray) -> np.ndarray:
        """POD coefficients of snapshots (n, *field_shape) of field ``name``."""
        return self.pods_[name].transform(np.asarray(snapshots).reshape(len(snapshots), -1))

    def predict_coordinates(self, name: str, mu: Inputs) -> np.ndarray:
        """Predicted POD coefficients (n, n_modes) of field ``name`` for a batch, as ``predict``."""
        batch = self.prepare(mu)
        return self.regressors_[name].predict(self._features(batch.u, batch.inputs))

    # -- persistence ---------------------------------------------------------------------------
    def _state_json(self) -> dict[str, Any]:
        fields = {
            name: {"pod": self.pods_[name].to_json(), "regressor": self.regressors_[name].to_json()}
            for name in self.pods_
        }
        inputs = {name: pod.to_json() for name, pod in self.input_pods_.items()}
        return {
            "fields": fields,
            "inputs": inputs,
            "input_scales": dict(self.input_scales_),
        }

    def _state_arrays(self) -> dict[str, np.ndarray]:
        arrays: dict[str, np.ndarray] = {}
        for name in self.pods_:
            arrays |= arrays_of(self.pods_[name], f"{name}/pod/")
            arrays |= arrays_of(self.regressors_[name], f"{name}/regressor/")
            arrays[f"{name}/truncation_var"] = self.truncation_var_[name]
        for name, pod in self.input_pods_.items():
            arrays |= arrays_of(pod, f"inputs/{name}/pod/")
            arrays[f"inputs/{name}/range"] = self.input_range_[name]
        return arrays

    @classmethod
    def _from_state(cls, state: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> PODSurrogate:
        params = cls.params_from_json(state["params"])
        # Saved before input_scale existed: fitted on the declared scales.
        params.setdefault("input_scale", "declared")
        model = cls(**params)
        model.input_scales_ = _saved_scales(state.get("input_scales", {}))
        model.pods_, model.regressors_, model.truncation_var_ = {}, {}, {}
        regressor_cls = REGRESSORS[model.regressor]
        for name, saved in state["fields"].items():
            model.pods_[name] = POD.from_saved(saved["pod"], arrays_under(arrays, f"{name}/pod/"))
            model.regressors_[name] = regressor_cls.from_saved(
                saved["regressor"], arrays_under(arrays, f"{name}/regressor/")
            )
            model.truncation_var_[name] = arrays[f"{name}/truncation_var"]
        model.input_pods_, model.input_range_ = {}, {}
        for name, saved in state.get("inputs", {}).items():
            prefix = f"inputs/{name}/pod/"
            model.input_pods_[name] = POD.from_saved(saved, arrays_under(arrays, prefix))
            model.input_range_[name] = arrays[f"inputs/{name}/range"]
        model._prepare()
        return model

    def summary(self) -> str:
        """Modes kept per field and the parameters regressed on a scale other than their
        declared one, e.g. ``"u: 3 modes, v: 2 modes; log scale: k"``."""
        self._check_fitted()
        line = ", ".join(f"{name}: {pod.n_modes_} modes" for name, pod in self.pods_.items())
        changed = self.changed_scales()
        for scale in input_scale.SCALES:
            names = [name for name, s in changed.items() if s == scale]
            if names:
                line += f"; {scale} scale: {', '.join(names)}"
        return line

    def card_details(self) -> dict[str, Any]:
        """POD modes per field, the scale each parameter is regressed on and, for pod-gp,
        the factor each mode's std is multiplied by (``std_scale``, 1 when off; with the
        cross-validated calibration, at the centre of the unit cube)."""
        modes = {name: int(pod.n_modes_) for name, pod in self.pods_.items()}
        details: dict[str, Any] = {"modes": modes, "input_scales": self.scales()}
        scales = {
            name: [round(float(f), 4) for f in reg.std_scale_]
            for name, reg in self.regressors_.items()
            if hasattr(reg, "std_scale_")
        }
        if scales:
            details["std_scale"] = scales
            methods = {r.std_calibration() for r in self.regressors_.values()}
            details["std_calibration"] = methods.pop() if len(methods) == 1 else "mixed"
        return details

    def scales(self) -> dict[str, str]:
        """Every scalar parameter -> the scale it is regressed on ("linear" or "log")."""
        self._check_fitted()
        return input_scale.declared_scales(self.space_) | dict(self.input_scales_)

    def changed_scales(self) -> dict[str, str]:
        """The parameters regressed on another scale than their declared one -> that scale."""
        declared = input_scale.declared_scales(self.space_)
        return {n: s for n, s in self.scales().items() if s != declared[n]}


def _fit_quietly(regressor: Any, u: np.ndarray, z: np.ndarray, field: str) -> Any:
    """Fit, folding the optimiser's per-fit ConvergenceWarnings into one line per field."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        regressor.fit(u, z)
    stalled = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    for w in caught:
        if not issubclass(w.category, ConvergenceWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if stalled:
        warnings.warn(
            f"field {field!r}: the hyperparameter optimiser stopped at its iteration limit in "
            f"{len(stalled)} fit(s) of {z.shape[1]} mode(s); more restarts may help",
            ConvergenceWarning,
            stacklevel=3,
        )
    return regressor


def _saved_scales(saved: Any) -> dict[str, str]:
    """The saved ``input_scales``, checked (a model saved without them: the declared ones)."""
    if not isinstance(saved, Mapping) or any(
        not isinstance(v, str) or v not in input_scale.SCALES for v in saved.values()
    ):
        raise ValueError(f"input_scales must map parameters to linear or log, got {saved!r}")
    return dict(saved)


def _field_inner_product(spec: FieldSpec, mass: sp.spmatrix | None) -> sp.spmatrix | None:
    """Inner product of flattened values of a field: the mass matrix per component and time."""
    if mass is None or spec.location != "point":
        return None
    product = sp.kron(mass, sp.identity(spec.components)) if spec.components > 1 else mass
    if spec.times is not None:
        product = sp.kron(sp.identity(len(spec.times)), product)
    return sp.csr_matrix(product)

"""PODSurrogate: POD of each field plus a regressor from parameters to POD coefficients.

For each output field, the snapshots ``F`` (n_samples, n_values) are reduced by
a POD (weighted by the finite-element mass matrix for point fields when the
mesh is known, so the basis is optimal in the L2 norm), and a regressor maps
unit-cube parameters (log scale for log-uniform ones) to the coefficients.

Prediction: ``mean = z(mu) @ modes + mean_field``. With a GP regressor the
predictive variance of each coefficient is carried through the basis, with
the modes treated as independent (one GP per mode)::

    var(x) = sum_k std_k(mu)^2 * modes[k, x]^2 + truncation_var(x)

where ``truncation_var`` is the mean squared residual of projecting the
training snapshots on the kept modes, so the bars also cover the basis
error the regressor cannot see.

Field inputs (a coefficient map, an initial condition) are encoded the same
way: a POD (PCA, Euclidean) of each input field keeps ``input_modes``
coefficients, mapped affinely so the training range is [0, 1], and appended
to the unit-cube scalars. With the MLP regressor this is the "PCA-NN" of the
operator-learning literature (Bhattacharya et al. 2021), the baseline beside
FNO and DeepONet.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from nirom.dataset import Dataset, FieldSpec
from nirom.errors import DatasetError
from nirom.reduction import POD
from nirom.regression import GPRegressor, MLPRegressor, RBFRegressor
from nirom.surrogates.base import Fields, Inputs, ModelError, Surrogate

REGRESSORS: dict[str, type] = {"gp": GPRegressor, "rbf": RBFRegressor, "mlp": MLPRegressor}


class PODSurrogate(Surrogate):
    """POD + regression surrogate (``pod-gp``, ``pod-rbf``, ``pod-mlp``).

    Parameters
    ----------
    regressor : {"gp", "rbf", "mlp"}
        Regressor of the POD coefficients; "gp" gives error bars; "mlp"
        needs PyTorch.
    n_modes : int, optional
        Modes kept per field.
    energy : float, optional
        Or keep the fewest modes leaving at most this fraction of the
        snapshot energy out (default 1e-6 when ``n_modes`` is not given).
    pod_method : str
        POD algorithm ("auto", "exact", "snapshots", "randomized", "incremental").
    weighted : bool
        Use the mesh's mass matrix as the POD inner product for point fields.
    regressor_params : dict, optional
        Keyword arguments of the regressor (e.g. ``{"n_restarts": 2}``).
    input_modes : int
        PCA coefficients kept per field input (spaces with field inputs).
    """

    kind = "pod"

    def __init__(
        self,
        regressor: str = "gp",
        n_modes: int | None = None,
        energy: float | None = None,
        pod_method: str = "auto",
        weighted: bool = True,
        regressor_params: dict[str, Any] | None = None,
        input_modes: int = 64,
    ) -> None:
        if regressor not in REGRESSORS:
            raise ModelError(f"unknown regressor {regressor!r}; choose {', '.join(REGRESSORS)}")
        self.regressor = regressor
        self.n_modes = n_modes
        self.energy = energy if (energy is not None or n_modes is not None) else 1e-6
        self.pod_method = pod_method
        self.weighted = weighted
        self.regressor_params = dict(regressor_params or {})
        self.input_modes = input_modes

    def get_params(self) -> dict[str, Any]:
        return {
            "regressor": self.regressor,
            "n_modes": self.n_modes,
            "energy": self.energy,
            "pod_method": self.pod_method,
            "weighted": self.weighted,
            "regressor_params": self.regressor_params,
            "input_modes": self.input_modes,
        }

    # -- fitting -----------------------------------------------------------------------
    def fit(self, dataset: Dataset, ids: list[int] | None = None) -> PODSurrogate:
        """Fit one POD and one regressor per field on the done samples ``ids``."""
        if dataset.per_sample_mesh:
            raise DatasetError(f"{dataset.path}: POD needs one mesh for all samples")
        ids = dataset.sample_ids() if ids is None else list(ids)
        if len(ids) < 2:
            raise DatasetError(
                f"{dataset.path}: need at least 2 done samples to fit, got {len(ids)}"
            )
        self.space_ = dataset.space
        self.fields_ = dict(dataset.fields)
        self.mesh_ = dataset.mesh
        self.training_ids_ = ids
        inputs = {p.name: dataset.field_input(p.name, ids) for p in self.space_.field_inputs}
        u = self._fit_inputs(self.space_.to_unit(dataset.parameters(ids)), inputs)
        mass = self.mesh_.mass_matrix() if (self.weighted and self.mesh_ is not None) else None
        self.pods_: dict[str, POD] = {}
        self.regressors_: dict[str, Any] = {}
        self.truncation_var_: dict[str, np.ndarray] = {}
        for name, spec in self.fields_.items():
            snapshots = dataset.field(name, ids).reshape(len(ids), -1)
            pod = POD(
                n_modes=self.n_modes,
                energy=self.energy,
                method=self.pod_method,
                product=_product(spec, mass),
            ).fit(snapshots)
            z = pod.transform(snapshots)
            residual = snapshots - pod.inverse_transform(z)
            self.pods_[name] = pod
            self.truncation_var_[name] = np.mean(residual**2, axis=0)
            self.regressors_[name] = _fit_quietly(
                REGRESSORS[self.regressor](**self.regressor_params), u, z, name
            )
        self._prepare()
        return self

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
    def provides_std(self) -> bool:
        return self.regressor == "gp"

    def _predict_batch(
        self, u: np.ndarray, inputs: Fields, return_std: bool
    ) -> tuple[Fields, Fields | None]:
        mean: Fields = {}
        std: Fields | None = {} if return_std else None
        n = u.shape[0]
        u = self._features(u, inputs)
        for name, pod in self.pods_.items():
            shape = (n, *self._field_shape(name))
            if return_std:
                z, z_std = self.regressors_[name].predict(u, return_std=True)
                var = (z_std**2) @ self._modes_sq[name] + self.truncation_var_[name]
                std[name] = np.sqrt(var).reshape(shape)
            else:
                z = self.regressors_[name].predict(u)
            mean[name] = (z @ pod.modes_ + pod.mean_).reshape(shape)
        return mean, std

    def _field_shape(self, name: str) -> tuple[int, ...]:
        mesh = self.mesh_
        return self.fields_[name].shape(mesh.n_points if mesh else 0, mesh.n_cells if mesh else 0)

    def reduced_coordinates(self, name: str, snapshots: np.ndarray) -> np.ndarray:
        """POD coefficients of snapshots (n, *field_shape) of field ``name``."""
        return self.pods_[name].transform(np.asarray(snapshots).reshape(len(snapshots), -1))

    def predict_coordinates(self, name: str, mu: Inputs) -> np.ndarray:
        """Predicted POD coefficients (n, n_modes) of field ``name`` for a batch, as ``predict``."""
        return self.regressors_[name].predict(self._features(*self._batch(mu)))

    # -- persistence ---------------------------------------------------------------------------
    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state: dict[str, Any] = {"params": self.get_params(), "fields": {}}
        arrays: dict[str, np.ndarray] = {}
        for name in self.pods_:
            pod_params, pod_arrays = _saved(self.pods_[name])
            reg_params, reg_arrays = _saved(self.regressors_[name])
            state["fields"][name] = {"pod": pod_params, "regressor": reg_params}
            arrays.update({f"{name}/pod/{k}": v for k, v in pod_arrays.items()})
            arrays.update({f"{name}/regressor/{k}": v for k, v in reg_arrays.items()})
            arrays[f"{name}/truncation_var"] = self.truncation_var_[name]
        state["inputs"] = {}
        for name, pod in self.input_pods_.items():
            pod_params, pod_arrays = _saved(pod)
            state["inputs"][name] = pod_params
            arrays.update({f"inputs/{name}/pod/{k}": v for k, v in pod_arrays.items()})
            arrays[f"inputs/{name}/range"] = self.input_range_[name]
        return state, arrays

    @classmethod
    def _from_state(cls, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> PODSurrogate:
        model = cls(**state["params"])
        model.pods_, model.regressors_, model.truncation_var_ = {}, {}, {}
        regressor_cls = REGRESSORS[model.regressor]
        for name, parts in state["fields"].items():
            model.pods_[name] = POD.from_saved(parts["pod"], _prefixed(arrays, f"{name}/pod/"))
            model.regressors_[name] = regressor_cls.from_saved(
                parts["regressor"], _prefixed(arrays, f"{name}/regressor/")
            )
            model.truncation_var_[name] = arrays[f"{name}/truncation_var"]
        model.input_pods_, model.input_range_ = {}, {}
        for name, pod_params in state.get("inputs", {}).items():
            prefix = f"inputs/{name}/pod/"
            model.input_pods_[name] = POD.from_saved(pod_params, _prefixed(arrays, prefix))
            model.input_range_[name] = arrays[f"inputs/{name}/range"]
        model._prepare()
        return model


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


def _product(spec: FieldSpec, mass: sp.spmatrix | None) -> sp.spmatrix | None:
    """Inner product of flattened values of a field: the mass matrix per component and time."""
    if mass is None or spec.location != "point":
        return None
    product = sp.kron(mass, sp.identity(spec.components)) if spec.components > 1 else mass
    if spec.times is not None:
        product = sp.kron(sp.identity(len(spec.times)), product)
    return sp.csr_matrix(product)


def _saved(estimator: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """JSON state and arrays of a POD (``to_json``) or a regressor (``get_params``)."""
    params = estimator.to_json() if hasattr(estimator, "to_json") else estimator.get_params()
    return _jsonable(params), estimator.to_arrays()


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in params.items()}


def _prefixed(arrays: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    return {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}

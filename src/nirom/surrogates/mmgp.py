"""MMGP: the mesh-morphing Gaussian process (Casenave et al., 2023), for varying geometry.

Every sample's mesh is mapped onto a fixed shape (Floater's mean-value map,
:mod:`nirom.geometry.floater`), where the mapped mesh of the first training
sample (refined ``refine`` times) is the *common mesh*. Each sample's fields, and its physical node
coordinates, are interpolated (P1) onto the common mesh's nodes
(:mod:`nirom.geometry.transfer`): the coordinates so carried are the geometry's
encoding, compressed by a POD (``geometry_modes`` modes); each output field
component gets its own POD (``discarded_energy``; ``u`` as ``u_1`` and ``u_2``,
the channels PLAID scores). A Gaussian process (Matern
``nu``, one length scale per input, restarts) maps ``[geometry coefficients,
scalar parameters]`` (scaled to the unit cube) to each field's POD
coefficients (one kernel shared per channel, outputs scaled jointly so the
energetic modes lead the likelihood) and to the scalar outputs (one
kernel each).

Prediction for a new mesh: map it onto the shape, carry its coordinates to
the common nodes, encode them, predict, and interpolate the fields from the
common mesh back to the new mesh's nodes. The predictive variance goes along:
``var = (z_std^2) @ modes^2 + truncation residual`` on the common mesh (as for
POD + GP), carried to the nodes by the same interpolation weights applied to
the standard deviation (an upper bound of the std of the interpolated value,
the weights being non-negative), plus the mean squared round-trip transfer
error of the training samples (common mesh and back), so the transfer's own
error is in the bars; scalar outputs get their GP's std plus its learned
nugget (a maximum over a sample's nodes also varies with the mesh), scaled by
the RMS of the GP's leave-one-out z-scores on the training samples
(:func:`loo_scale`; ML-II fits of a few samples in many dimensions are
overconfident). The reference
implementation loses the field variance; this one keeps it (tested by
coverage in ``benchmarks/geometry.py``).

Fields: steady point fields (any components) and global fields (scalar
outputs). ``predict(mu, mesh=MESH)`` takes the scalar parameters only (the
geometry comes from the mesh; a field input a solver drew the outline from is
not an input of this model) and returns the fields on ``MESH``'s nodes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from nirom.checks import Anything, Constraint, Integer, OneOf, Real
from nirom.dataset import Dataset
from nirom.errors import DatasetError
from nirom.geometry.floater import SHAPES
from nirom.geometry.transfer import CommonMesh, Transfer
from nirom.mesh import Mesh
from nirom.parameters import ParameterSpace
from nirom.reduction import POD
from nirom.regression.gp import GPRegressor
from nirom.saving import arrays_of, arrays_under, saveable
from nirom.surrogates.base import Bounds, Capabilities, Fields, Prepared, Surrogate

MORPHINGS = ("floater", "elasticity")


@saveable("surrogate", "mmgp")
class MMGPSurrogate(Surrogate):
    """Mesh-morphing Gaussian process for datasets with a mesh per sample.

    Parameters
    ----------
    shape : {"square", "disk"}
        The fixed shape meshes are mapped onto.
    corners : "auto" or four points (x, y)
        Square only: the boundary nodes sent to the square's corners (the four
        sharpest turns, or the nodes nearest four physical points).
    refine : int
        Uniform refinements of the common mesh (each splits every triangle into
        four): the transfer's round trip loses less on a finer common mesh.
    morphing : {"floater", "elasticity"}
        How samples meet the common mesh: each mesh mapped onto ``shape`` by
        Floater's map, or the common (first sample's) mesh deformed onto each
        sample's outline by incremental elasticity (``corners`` pair the
        boundaries; a disk shape pairs them from the consistent start).
    geometry_modes : int
        POD modes of the carried coordinates (at most n_train - 1).
    discarded_energy : float
        Energy fraction each field's POD discards.
    nu : float
        Matern smoothness of the GPs.
    n_restarts : int
        Optimiser restarts per GP.
    random_state : int
        Seed of the restarts.
    """

    _constraints: ClassVar[dict[str, Constraint]] = {
        "shape": OneOf(choices=SHAPES),
        "corners": Anything(),
        "refine": Integer(least=0),
        "morphing": OneOf(choices=MORPHINGS),
        "geometry_modes": Integer(least=1),
        "discarded_energy": Real(low=0, high=1, closed="left"),
        "nu": Real(low=0, closed="neither", infinite=True),
        "n_restarts": Integer(least=0),
        "random_state": Integer(),
    }

    def __init__(
        self,
        *,
        shape: str = "square",
        corners: str | Sequence[Sequence[float]] = "auto",
        refine: int = 2,
        morphing: str = "floater",
        geometry_modes: int = 8,
        discarded_energy: float = 1e-6,
        nu: float = 2.5,
        n_restarts: int = 2,
        random_state: int = 0,
    ) -> None:
        self._store_hyperparameters(locals())

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(std=True, context=("mesh",), needs=("mesh",))

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, dataset: Dataset, ids: list[int] | None = None) -> MMGPSurrogate:
        """Map, transfer, reduce and regress the done samples ``ids`` (default: all)."""
        self.check_params()
        ids = self.check_data(dataset, ids)
        start = time.perf_counter()
        self.space_ = ParameterSpace(dataset.space.scalars)
        self.fields_ = dict(dataset.fields)
        self.mesh_ = None
        self.training_ids_ = ids
        samples = [dataset.sample(i) for i in ids]
        self.common_ = CommonMesh.of(samples[0].mesh, self.shape, self.corners, self.refine)
        transfers = [self._transfer(s.mesh) for s in samples]
        geometry = np.stack([t.geometry() for t in transfers])
        n_geo = min(self.geometry_modes, len(ids) - 1)
        self.geometry_pod_ = POD(n_modes=n_geo).fit(geometry)
        g = self.geometry_pod_.transform(geometry)
        self.input_low_, self.input_high_ = g.min(axis=0), g.max(axis=0)
        u = self._unit(dataset.parameters(ids))
        x = np.hstack([self._scale(g), u])
        self.pods_: dict[str, POD] = {}
        self.regressors_: dict[str, GPRegressor] = {}
        self.truncation_var_: dict[str, np.ndarray] = {}
        self.transfer_var_: dict[str, float] = {}
        self.channels_: dict[str, tuple[str, int]] = {}
        for name in self._point_fields():
            for key, component in self._channels(name):
                values = [_component(s.fields[name], component) for s in samples]
                self.channels_[key] = (name, component)
                self._fit_field(key, values, transfers, x)
        scalars = self._scalar_fields()
        if scalars:
            y = np.column_stack([[float(s.fields[n]) for s in samples] for n in scalars])
            self.scalar_regressor_ = self._gp(shared=False).fit(x, y)
            self.scalar_scale_ = loo_scale(self.scalar_regressor_)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def _check_kind_of_data(self, dataset: Dataset) -> None:
        if not dataset.per_sample_mesh:
            raise DatasetError(
                f"{dataset.path}: mmgp needs a mesh per sample (a varying geometry); this "
                "dataset has one mesh for all samples: use --model pod-gp"
            )
        _check_fields(dataset)

    def _fit_field(
        self, name: str, values: list[np.ndarray], transfers: list[Transfer], x: np.ndarray
    ) -> None:
        """POD of field ``name`` on the common mesh, its GP, truncation and transfer residuals."""
        pairs = list(zip(transfers, values, strict=True))
        common = np.stack([_apply(t.to_common, v) for t, v in pairs])
        flat = common.reshape(len(values), -1)
        pod = POD(discarded_energy=self.discarded_energy).fit(flat)
        z = pod.transform(flat)
        self.pods_[name] = pod
        self.truncation_var_[name] = np.mean((flat - pod.inverse_transform(z)) ** 2, axis=0)
        # The round trip sample -> common mesh -> sample: what the transfer itself loses.
        lost = [_apply(t.from_common, c) - v for (t, v), c in zip(pairs, common, strict=True)]
        self.transfer_var_[name] = float(np.mean(np.concatenate([d.ravel() ** 2 for d in lost])))
        self.regressors_[name] = self._gp(shared=True).fit(x, z)

    def _channels(self, name: str) -> list[tuple[str, int]]:
        """(key, component) of each reduced channel of field ``name``: a vector field's
        components are reduced and regressed apart (``u_1``, ``u_2``), as PLAID scores them;
        component -1 is a scalar field."""
        k = self.fields_[name].components
        return [(name, -1)] if k == 1 else [(f"{name}_{c + 1}", c) for c in range(k)]

    def _gp(self, shared: bool) -> GPRegressor:
        return GPRegressor(
            nu=self.nu,
            n_restarts=self.n_restarts,
            shared_kernel=shared,
            random_state=self.random_state,
            joint_scale=shared,
        )

    def _transfer(self, mesh: Mesh) -> Transfer:
        if self.morphing == "elasticity":
            corners = self.corners if self.shape == "square" else None
            return Transfer.by_elasticity(mesh, self.common_, corners)
        return Transfer.between(mesh, self.common_, self.shape, self.corners)

    def _scale(self, g: np.ndarray) -> np.ndarray:
        span = self.input_high_ - self.input_low_
        return (g - self.input_low_) / np.where(span > 0, span, 1.0)

    def _point_fields(self) -> list[str]:
        return [n for n, s in self.fields_.items() if s.location == "point"]

    def _scalar_fields(self) -> list[str]:
        return [n for n, s in self.fields_.items() if s.location == "global"]

    # -- prediction ------------------------------------------------------------------------
    def _predict_batch(
        self, batch: Prepared, return_std: bool, return_bound: bool, **context: Any
    ) -> tuple[Fields, Fields | None, Bounds | None]:
        """Fields on the nodes of ``context["mesh"]`` (the geometry, the same for every
        set of the batch; ``predict(mu, mesh=MESH)``), and scalar outputs."""
        u = batch.u
        transfer = self._transfer(context["mesh"])
        g = self.geometry_pod_.transform(transfer.geometry()[None])
        x = np.hstack([np.repeat(self._scale(g), len(u), axis=0), u])
        mean, std = self._predict_common(x, transfer, return_std)
        return mean, std, None

    def _predict_common(
        self, x: np.ndarray, transfer: Transfer, return_std: bool
    ) -> tuple[Fields, Fields | None]:
        n = len(x)
        n_nodes = transfer.points.shape[0]
        mean: Fields = {}
        std: Fields | None = {} if return_std else None
        weights = transfer.from_common
        for name in self._point_fields():
            parts = [self._predict_channel(key, x, weights, return_std) for key, _ in
                     self._channels(name)]  # fmt: skip
            k = len(parts)
            shape = (n, n_nodes, k) if k > 1 else (n, n_nodes)
            mean[name] = np.stack([m for m, _ in parts], axis=-1).reshape(shape)
            if return_std:
                std[name] = np.stack([s for _, s in parts], axis=-1).reshape(shape)
        scalars = self._scalar_fields()
        if scalars:
            if return_std:
                y, y_std = self.scalar_regressor_.predict(x, return_std=True)
                # A scalar of a mesh (a maximum over its nodes) varies with the mesh as
                # well: the learned nugget is part of what a new sample will show.
                gp = self.scalar_regressor_
                nugget = gp.noise_ * gp.y_std_**2
                total = self.scalar_scale_ * np.sqrt(y_std.reshape(n, -1) ** 2 + nugget)
                for j, name in enumerate(scalars):
                    std[name] = total[:, j]
            else:
                y = self.scalar_regressor_.predict(x)
            for j, name in enumerate(scalars):
                mean[name] = y.reshape(n, -1)[:, j]
        return mean, std

    def _predict_channel(
        self, key: str, x: np.ndarray, weights: Any, return_std: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Mean (n, n_nodes) and std of channel ``key`` on the nodes ``weights`` maps to."""
        pod = self.pods_[key]
        if return_std:
            z, z_std = self.regressors_[key].predict(x, return_std=True)
            var = (z_std**2) @ pod.modes_**2 + self.truncation_var_[key]
            nodal = np.asarray(weights @ np.sqrt(var).T).T  # an upper bound (weights >= 0)
            sd = np.sqrt(nodal**2 + self.transfer_var_[key])
        else:
            z, sd = self.regressors_[key].predict(x), None
        return np.asarray(weights @ pod.inverse_transform(z).T).T, sd

    # -- persistence -----------------------------------------------------------------------
    def _state_json(self) -> dict[str, Any]:
        return {
            "geometry_pod": self.geometry_pod_.to_json(),
            "fields": {
                name: {
                    "pod": self.pods_[name].to_json(),
                    "regressor": self.regressors_[name].to_json(),
                    "transfer_var": self.transfer_var_[name],
                    "channel": list(self.channels_[name]),
                }
                for name in self.pods_
            },
            "scalars": (self.scalar_regressor_.to_json() if self._scalar_fields() else None),
            "fit_seconds": self.fit_seconds_,
        }

    def _state_arrays(self) -> dict[str, np.ndarray]:
        arrays = {
            "common/morphed": self.common_.morphed,
            "common/triangles": self.common_.triangles,
            "input_low": self.input_low_,
            "input_high": self.input_high_,
        }
        arrays |= arrays_of(self.geometry_pod_, "geometry/pod/")
        for name in self.pods_:
            arrays |= arrays_of(self.pods_[name], f"{name}/pod/")
            arrays |= arrays_of(self.regressors_[name], f"{name}/regressor/")
            arrays[f"{name}/truncation_var"] = self.truncation_var_[name]
        if self._scalar_fields():
            arrays |= arrays_of(self.scalar_regressor_, "scalars/regressor/")
            arrays["scalars/scale"] = self.scalar_scale_
        return arrays

    @classmethod
    def _from_state(cls, state: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> MMGPSurrogate:
        model = cls(**cls.params_from_json(state["params"]))
        model.fit_seconds_ = float(state["fit_seconds"])
        model.common_ = CommonMesh(
            np.asarray(arrays["common/morphed"], dtype=float),
            np.asarray(arrays["common/triangles"], dtype=np.int64),
        )
        model.input_low_ = np.asarray(arrays["input_low"], dtype=float)
        model.input_high_ = np.asarray(arrays["input_high"], dtype=float)
        model.geometry_pod_ = POD.from_saved(
            state["geometry_pod"], arrays_under(arrays, "geometry/pod/")
        )
        model.pods_, model.regressors_, model.truncation_var_, model.transfer_var_ = {}, {}, {}, {}
        model.channels_ = {}
        for name, saved in state["fields"].items():
            field, component = saved["channel"]
            model.channels_[name] = (str(field), int(component))
            model.pods_[name] = POD.from_saved(saved["pod"], arrays_under(arrays, f"{name}/pod/"))
            model.regressors_[name] = GPRegressor.from_saved(
                saved["regressor"], arrays_under(arrays, f"{name}/regressor/")
            )
            model.truncation_var_[name] = np.asarray(arrays[f"{name}/truncation_var"])
            model.transfer_var_[name] = float(saved["transfer_var"])
        if state["scalars"] is not None:
            model.scalar_regressor_ = GPRegressor.from_saved(
                state["scalars"], arrays_under(arrays, "scalars/regressor/")
            )
            model.scalar_scale_ = np.asarray(arrays["scalars/scale"], dtype=float)
        return model

    def card_details(self) -> dict[str, Any]:
        """POD modes per field (geometry included)."""
        return {"modes": {name: int(pod.n_modes_) for name, pod in self.pods_.items()}}

    def summary(self) -> str:
        self._check_fitted()
        modes = ", ".join(f"{n} {p.n_modes_}" for n, p in self.pods_.items())
        return (
            f"mmgp: {len(self.training_ids_)} samples on a common mesh of "
            f"{len(self.common_.morphed)} nodes ({self.shape}); geometry "
            f"{self.geometry_pod_.n_modes_} modes; field modes {modes}; "
            f"{len(self._scalar_fields())} scalar outputs"
        )


def loo_scale(gp: GPRegressor) -> np.ndarray:
    """Per output, the RMS of the leave-one-out z-scores of a per-output GP's training data.

    With ``K`` the training covariance (nugget included) and ``alpha = K^-1 y``,
    the leave-one-out residual of sample i is ``alpha_i / [K^-1]_ii`` and its
    predictive variance ``1 / [K^-1]_ii`` (Rasmussen & Williams, 5.12), so its
    z-score is ``alpha_i / sqrt([K^-1]_ii)``. A calibrated GP has RMS z near 1;
    ML-II hyperparameters on a few samples in many dimensions are often
    overconfident (RMS z > 1), and the predictive std is scaled by it.
    """
    scales = []
    for k in range(gp.alpha_.shape[1]):
        factor = gp.cholesky_[k]
        inverse = np.linalg.solve(factor, np.eye(len(factor)))
        k_inv_diag = np.einsum("ij,ij->j", inverse, inverse)
        z = gp.alpha_[:, k] / np.sqrt(k_inv_diag)
        scales.append(float(np.sqrt(np.mean(z**2))))
    return np.array(scales)


def _component(values: Any, component: int) -> np.ndarray:
    """Component ``component`` of nodal values (n,) or (n, k); -1: the values themselves."""
    values = np.asarray(values, dtype=float)
    return values if component < 0 else values[:, component]


def _apply(operator: Any, values: np.ndarray) -> np.ndarray:
    """``operator @ values`` for values (n,) or (n, k)."""
    return np.asarray(operator @ values)


def _check_fields(dataset: Dataset) -> None:
    """Steady point fields and global fields only; DatasetError naming another."""
    for name, spec in dataset.fields.items():
        if spec.times is not None or spec.location not in ("point", "global"):
            raise DatasetError(
                f"{dataset.path}: field {name!r} ({spec.location}"
                f"{', time series' if spec.times else ''}): mmgp takes steady point fields "
                "and global (scalar) fields"
            )

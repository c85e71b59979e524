"""MMGP: the mesh-morphing Gaussian process (Casenave et al., 2023), for varying geometry.

Every sample's mesh is mapped onto a fixed shape (Floater's mean-value map,
:mod:`nirom.geometry.floater`), where the mapped mesh of the first training
sample (refined ``refine`` times; by default not at all, so the common mesh is
no finer than the data) is the *common mesh*. Each sample's fields, and its
physical node coordinates, are interpolated (P1) onto the common mesh's nodes
(:mod:`nirom.geometry.transfer`): the coordinates so carried are the geometry's
encoding, compressed by a POD (``geometry_modes`` modes, and at most one per
two training samples: ARD length scales of many inputs on a few samples
overfit); each output field component gets its own POD (``u`` as ``u_1`` and
``u_2``, the channels PLAID scores). A Gaussian process (Matern ``nu``, one
length scale per input, restarts) maps ``[geometry coefficients, scalar
parameters]`` (scaled to the unit cube) to each field's POD coefficients (one
kernel shared per channel, outputs scaled jointly so the energetic modes lead
the likelihood) and to the scalar outputs (one kernel for all, each output
standardised: a kernel per output overfits its length scales on a few samples).

Small training sets (the common case in design) are handled by measuring, not
by fixed thresholds:

- **Field modes by leave-one-out** (``field_modes="loo"``): among the modes
  ``discarded_energy`` keeps, the channel keeps the leading ``k`` that minimise
  the closed-form leave-one-out error of its GP (hyperparameters fixed,
  Rasmussen & Williams 5.12): a mode whose coefficient the other samples
  predict worse than its mean costs more than it brings
  (:func:`loo_mode_count`). Few samples keep fewer modes.
- **Scalar outputs on a shifted log scale** (``scalar_scale="auto"``): an output
  that is non-negative and spans more than a decade on the training samples
  (a maximum plastic strain that is zero for shapes that do not yield, a
  displacement over a range of loads) is regressed as ``log(y + c)``, ``c`` a
  tenth of the median positive value (:func:`scalar_scale`); predictions come
  back as ``exp(m) - c`` (the median), with a std whose +-1.96 band spans the
  log scale's 95 % interval.
- **Plastic strain as amplitude times shape** (``field_amplitude="auto"``): a
  channel whose samples' largest values span more than two decades (or
  include zero) is modelled as its amplitude (a GP on the shifted log scale)
  times its shape (values over amplitude, by the POD and GP), so a shape that
  barely yields gets a plastic strain right relative to its own size.
- **Calibrated bars**: each output's std is scaled so that 95 % of its 10-fold
  cross-validation errors fall within +-1.96 std (:func:`std_scale_95`; GPs
  refitted without each fold, hyperparameters included: ML-II fits of a few
  samples in many inputs are overconfident, which leave-one-out with fixed
  hyperparameters misses; fields over every node of the common mesh).
- **A warning** (:class:`SmallTrainingSetWarning` through ``warnings.warn``,
  kept in ``fit_warnings_``, saved, and shown in the model card) when an
  output's cross-validated RMS error exceeds ``warn_error`` of its largest
  training value: the training set is too small for that output.

Prediction for a new mesh: map it onto the shape, carry its coordinates to
the common nodes, encode them, predict, and interpolate the fields from the
common mesh back to the new mesh's nodes. The predictive variance goes along:
``var = scale^2 (z_std^2 @ modes^2 + truncation residual)`` on the common mesh
(as for POD + GP), carried to the nodes by the same interpolation weights
applied to the standard deviation (an upper bound of the std of the
interpolated value, the weights being non-negative), plus the mean squared
round-trip transfer error of the training samples (common mesh and back), so
the transfer's own error is in the bars; scalar outputs get their GP's std
plus its learned nugget (a maximum over a sample's nodes also varies with the
mesh). The reference implementation loses the field variance; this one keeps
it (tested by coverage in ``benchmarks/geometry.py``).

Fields: steady point fields (any components) and global fields (scalar
outputs). ``predict(mu, mesh=MESH)`` takes the scalar parameters only (the
geometry comes from the mesh; a field input a solver drew the outline from is
not an input of this model) and returns the fields on ``MESH``'s nodes.
"""

from __future__ import annotations

import time
import warnings
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
FIELD_MODES = ("loo", "energy")
SCALAR_SCALES = ("auto", "linear")
#: Training samples per geometry mode, at least (an ARD GP on few samples in many inputs
#: overfits its length scales; tensile2d, 16 samples: 4 geometry modes (one per four
#: samples) give sigma_22 an NRMSE of 9.1 %, 8 modes 4.3 %; 8 samples: 2 modes 12 %, 4 modes
#: 8.2 %, 7 modes 10 %).
SAMPLES_PER_GEOMETRY_MODE = 2
#: Folds of the cross-validation that calibrates the bars (refitted GPs; leave-one-out
#: below 10 samples). Tensile2d, 48 samples, 64 test shapes: 5 folds (GPs on 80 % of the
#: samples) gave over-wide bars, u_2 86.8 % and max_u2_top 100 % coverage; 10 folds
#: 91.4 % and 98.4 %.
CV_FOLDS = 10
#: A field channel is modelled as amplitude times shape when its samples' largest absolute
#: values span more than this (max over min; a zero included): a plastic strain.
AMPLITUDE_SPAN = 100.0
#: The two-sided 95 % standard normal quantile.
Z95 = 1.959963984540054


class SmallTrainingSetWarning(UserWarning):
    """The training set is too small for some outputs (their leave-one-out error is large)."""


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
        four): the transfer's round trip loses less on a finer common mesh, but
        the fields carry no more than their own meshes resolve (0: the first
        sample's mesh, as fine as the data).
    morphing : {"floater", "elasticity"}
        How samples meet the common mesh: each mesh mapped onto ``shape`` by
        Floater's map, or the common (first sample's) mesh deformed onto each
        sample's outline by incremental elasticity (``corners`` pair the
        boundaries; a disk shape pairs them from the consistent start).
    geometry_modes : int
        POD modes of the carried coordinates, at most: also at most
        ``n_train // 2`` (and ``n_train - 1``), at least 1.
    discarded_energy : float
        Energy fraction each field's POD discards (the most modes a field keeps).
    field_modes : {"loo", "energy"}
        "loo": each field keeps the leading modes that minimise its GP's
        leave-one-out error (at most those of ``discarded_energy``); "energy":
        all those ``discarded_energy`` keeps.
    scalar_scale : {"auto", "linear"}
        "auto": a non-negative scalar output spanning more than a decade is
        regressed on a shifted log scale; "linear": every output as it is.
    field_amplitude : {"auto", "linear"}
        "auto": a field channel whose largest absolute value spans more than two
        decades (or is zero) over the training samples is modelled as amplitude times shape:
        the amplitude by a GP on a shifted log scale, the shape (the values over
        the amplitude) by the POD and GP, so that a sample that barely yields gets
        a plastic strain right relative to its own size; "linear": the values.
    warn_error : float
        Leave-one-out RMS error, as a fraction of an output's largest training
        value, above which the fit warns that the training set is too small.
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
        "field_modes": OneOf(choices=FIELD_MODES),
        "scalar_scale": OneOf(choices=SCALAR_SCALES),
        "field_amplitude": OneOf(choices=SCALAR_SCALES),
        "warn_error": Real(low=0, closed="neither"),
        "nu": Real(low=0, closed="neither", infinite=True),
        "n_restarts": Integer(least=0),
        "random_state": Integer(),
    }

    def __init__(
        self,
        *,
        shape: str = "square",
        corners: str | Sequence[Sequence[float]] = "auto",
        refine: int = 0,
        morphing: str = "floater",
        geometry_modes: int = 8,
        discarded_energy: float = 1e-6,
        field_modes: str = "loo",
        scalar_scale: str = "auto",
        field_amplitude: str = "auto",
        warn_error: float = 0.1,
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
        self.geometry_pod_ = POD(n_modes=geometry_mode_count(self.geometry_modes, len(ids)))
        self.geometry_pod_.fit(geometry)
        g = self.geometry_pod_.transform(geometry)
        self.input_low_, self.input_high_ = g.min(axis=0), g.max(axis=0)
        u = self._unit(dataset.parameters(ids))
        x = np.hstack([self._scale(g), u])
        self.pods_: dict[str, POD] = {}
        self.regressors_: dict[str, GPRegressor] = {}
        self.truncation_var_: dict[str, np.ndarray] = {}
        self.transfer_var_: dict[str, float] = {}
        self.channels_: dict[str, tuple[str, int]] = {}
        self.std_scale_: dict[str, float] = {}
        self.cv_error_: dict[str, float] = {}
        self.amplitudes_: dict[str, tuple[float, GPRegressor]] = {}
        for name in self._point_fields():
            for key, component in self._channels(name):
                values = [_component(s.fields[name], component) for s in samples]
                self.channels_[key] = (name, component)
                self._fit_field(key, values, transfers, x)
        self.scalar_scales_: dict[str, tuple[str, float]] = {}
        if self._scalar_fields():
            self._fit_scalars(samples, x)
        self.fit_warnings_ = self._small_set_warnings()
        for message in self.fit_warnings_:
            warnings.warn(message, SmallTrainingSetWarning, stacklevel=2)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def _check_kind_of_data(self, dataset: Dataset) -> None:
        if not dataset.per_sample_mesh:
            raise DatasetError(
                f"{dataset.path}: mmgp needs a mesh per sample (a varying geometry); this "
                "dataset has one mesh for all samples: use --model pod-gp"
            )
        _check_fields(dataset)

    def _min_samples(self, dataset: Dataset) -> tuple[int, str]:
        return 3, " (its error bars are cross-validated)"

    def _fit_field(
        self, name: str, values: list[np.ndarray], transfers: list[Transfer], x: np.ndarray
    ) -> None:
        """POD of channel ``name`` on the common mesh (modes by leave-one-out; of each
        sample's shape, its values over its amplitude, when the amplitudes span over
        ``AMPLITUDE_SPAN``), its GPs, the calibration of its std (cross-validation),
        truncation and transfer residuals."""
        pairs = list(zip(transfers, values, strict=True))
        common = np.stack([_apply(t.to_common, v) for t, v in pairs])
        flat = common.reshape(len(values), -1)
        amplitude = np.max(np.abs(flat), axis=1)
        kind, shift = ("linear", 0.0)
        if self.field_amplitude == "auto":
            kind, shift = scalar_scale(amplitude, span=AMPLITUDE_SPAN)
        shapes = flat / np.where(amplitude > 0, amplitude, 1.0)[:, None] if kind == "log" else flat
        pod = POD(discarded_energy=self.discarded_energy).fit(shapes)
        z = pod.transform(shapes)
        gp = self._gp(shared=True).fit(x, z)
        if self.field_modes == "loo":
            k = loo_mode_count(gp, z)
            if k < z.shape[1]:  # the same leading modes, the GP refitted to them
                pod = POD(n_modes=k).fit(shapes)
                z = pod.transform(shapes)
                gp = self._gp(shared=True).fit(x, z)
        self.pods_[name], self.regressors_[name] = pod, gp
        self.truncation_var_[name] = np.mean((shapes - pod.inverse_transform(z)) ** 2, axis=0)
        if kind == "log":
            self.amplitudes_[name] = (shift, self._amplitude_gp(x, amplitude, shift))
        errors, var = self._cross_validate_field(name, x, z, amplitude, flat)
        self.std_scale_[name] = std_scale_95(errors, var)
        self.cv_error_[name] = _relative_rms(errors, flat)
        # The round trip sample -> common mesh -> sample: what the transfer itself loses.
        lost = [_apply(t.from_common, c) - v for (t, v), c in zip(pairs, common, strict=True)]
        self.transfer_var_[name] = float(np.mean(np.concatenate([d.ravel() ** 2 for d in lost])))

    def _amplitude_gp(
        self, x: np.ndarray, amplitude: np.ndarray, shift: float, restarts: int | None = None
    ) -> GPRegressor:
        """The GP of a channel's amplitudes on the shifted log scale."""
        t = to_scale(amplitude, "log", shift)[:, None]
        return self._gp(shared=False, restarts=restarts).fit(x, t)

    def _cross_validate_field(
        self, name: str, x: np.ndarray, z: np.ndarray, amplitude: np.ndarray, flat: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Errors and predicted variances (n, n_dof) of channel ``name`` on the common mesh
        for each sample, from GPs refitted without its fold (hyperparameters included; the
        basis is kept: its own error is in the truncation term)."""
        pod, truncation = self.pods_[name], self.truncation_var_[name]
        shift = self.amplitudes_[name][0] if name in self.amplitudes_ else None
        errors, var = np.empty_like(flat), np.empty_like(flat)
        for held, kept in _folds(len(x)):
            gp = self._gp(shared=True, restarts=0).fit(x[kept], z[kept])
            amp = None
            if shift is not None:
                amp = (shift, self._amplitude_gp(x[kept], amplitude[kept], shift, restarts=0))
            mean, v = _channel_on_common(pod, gp, amp, truncation, x[held], True)
            errors[held], var[held] = mean - flat[held], v
        return errors, var

    def _fit_scalars(self, samples: list[Any], x: np.ndarray) -> None:
        """One GP for the scalar outputs, each on its scale (:func:`scalar_scale`); their
        std calibration and errors by cross-validation."""
        names = self._scalar_fields()
        y = np.column_stack([[float(s.fields[n]) for s in samples] for n in names])
        auto = self.scalar_scale == "auto"
        self.scalar_scales_ = {
            n: scalar_scale(y[:, j]) if auto else ("linear", 0.0) for j, n in enumerate(names)
        }
        t = np.column_stack(
            [to_scale(y[:, j], *self.scalar_scales_[n]) for j, n in enumerate(names)]
        )
        self.scalar_regressor_ = self._gp(shared=False).fit(x, t)
        predicted, var = np.empty_like(t), np.empty_like(t)
        for held, kept in _folds(len(x)):
            gp = self._gp(shared=False, restarts=0).fit(x[kept], t[kept])
            mean, latent = gp.predict(x[held], return_std=True)
            predicted[held] = mean.reshape(len(held), -1)
            var[held] = latent.reshape(len(held), -1) ** 2 + gp.noise_ * gp.y_std_**2
        scales = []
        for j, n in enumerate(names):
            kind, shift = self.scalar_scales_[n]
            errors = from_scale(predicted[:, j], kind, shift) - y[:, j]
            scales.append(band_scale_95(errors, predicted[:, j], np.sqrt(var[:, j]), kind))
            self.cv_error_[n] = _relative_rms(errors, y[:, j])
        self.scalar_scale_ = np.array(scales)

    def _small_set_warnings(self) -> list[str]:
        """One message (for ``warnings.warn``) naming the outputs whose leave-one-out error
        exceeds ``warn_error``; none when every output is learnt."""
        poor = {n: e for n, e in self.cv_error_.items() if e > self.warn_error}
        if not poor:
            return []
        listed = ", ".join(f"{n} {100 * e:.0f} %" for n, e in poor.items())
        return [
            f"mmgp: {len(self.training_ids_)} training samples are too few for "
            f"{len(poor)} output(s): cross-validated RMS error above "
            f"{100 * self.warn_error:g} % of the largest value ({listed}); add samples, or "
            "expect these outputs to be off by that much"
        ]

    def _channels(self, name: str) -> list[tuple[str, int]]:
        """(key, component) of each reduced channel of field ``name``: a vector field's
        components are reduced and regressed apart (``u_1``, ``u_2``), as PLAID scores them;
        component -1 is a scalar field."""
        k = self.fields_[name].components
        return [(name, -1)] if k == 1 else [(f"{name}_{c + 1}", c) for c in range(k)]

    def _gp(self, shared: bool, restarts: int | None = None) -> GPRegressor:
        """A field's GP (``shared``: its modes scaled jointly, the energetic ones lead) or
        the scalar outputs' (each standardised); one kernel for all columns in both: on a
        few samples a kernel per scalar output overfits its length scales (tensile2d, 48
        samples: max_von_mises 19 % -> 15 %, max_u2_top 23 % -> 19 %). ``restarts``: the
        cross-validation's refits take one start (a third of the time at 2 restarts)."""
        return GPRegressor(
            nu=self.nu,
            n_restarts=self.n_restarts if restarts is None else restarts,
            shared_kernel=True,
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
        if self._scalar_fields():
            self._predict_scalars(x, mean, std)
        return mean, std

    def _predict_scalars(self, x: np.ndarray, mean: Fields, std: Fields | None) -> None:
        """Scalar outputs (and their std) into ``mean`` (and ``std``), on their own scale."""
        n = len(x)
        gp = self.scalar_regressor_
        if std is None:
            t, t_std = gp.predict(x).reshape(n, -1), None
        else:
            t, latent = gp.predict(x, return_std=True)
            # A scalar of a mesh (a maximum over its nodes) varies with the mesh as
            # well: the learned nugget is part of what a new sample will show.
            nugget = gp.noise_ * gp.y_std_**2
            t_std = self.scalar_scale_ * np.sqrt(latent.reshape(n, -1) ** 2 + nugget)
        for j, name in enumerate(self._scalar_fields()):
            kind, shift = self.scalar_scales_.get(name, ("linear", 0.0))
            mean[name] = from_scale(t[:, j], kind, shift)
            if std is not None:
                std[name] = std_from_scale(t[:, j], t_std[:, j], kind)

    def _predict_channel(
        self, key: str, x: np.ndarray, weights: Any, return_std: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Mean (n, n_nodes) and std of channel ``key`` on the nodes ``weights`` maps to."""
        mean, var = _channel_on_common(
            self.pods_[key],
            self.regressors_[key],
            self.amplitudes_.get(key),
            self.truncation_var_[key],
            x,
            return_std,
        )
        sd = None
        if var is not None:
            var *= self.std_scale_.get(key, 1.0) ** 2
            nodal = np.asarray(weights @ np.sqrt(var).T).T  # an upper bound (weights >= 0)
            sd = np.sqrt(nodal**2 + self.transfer_var_[key])
        return np.asarray(weights @ mean.T).T, sd

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
                    "std_scale": self.std_scale_[name],
                    "amplitude": (
                        {
                            "shift": self.amplitudes_[name][0],
                            "regressor": self.amplitudes_[name][1].to_json(),
                        }
                        if name in self.amplitudes_
                        else None
                    ),
                }
                for name in self.pods_
            },
            "scalars": (self.scalar_regressor_.to_json() if self._scalar_fields() else None),
            "scalar_scales": {n: list(v) for n, v in self.scalar_scales_.items()},
            "cv_error": dict(self.cv_error_),
            "fit_warnings": list(self.fit_warnings_),
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
            if name in self.amplitudes_:
                arrays |= arrays_of(self.amplitudes_[name][1], f"{name}/amplitude/")
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
        model.channels_, model.std_scale_, model.amplitudes_ = {}, {}, {}
        for name, saved in state["fields"].items():
            field, component = saved["channel"]
            model.channels_[name] = (str(field), int(component))
            model.pods_[name] = POD.from_saved(saved["pod"], arrays_under(arrays, f"{name}/pod/"))
            model.regressors_[name] = GPRegressor.from_saved(
                saved["regressor"], arrays_under(arrays, f"{name}/regressor/")
            )
            model.truncation_var_[name] = np.asarray(arrays[f"{name}/truncation_var"])
            model.transfer_var_[name] = float(saved["transfer_var"])
            model.std_scale_[name] = float(saved.get("std_scale", 1.0))  # older saves: none
            if saved.get("amplitude") is not None:
                regressor = GPRegressor.from_saved(
                    saved["amplitude"]["regressor"], arrays_under(arrays, f"{name}/amplitude/")
                )
                model.amplitudes_[name] = (float(saved["amplitude"]["shift"]), regressor)
        if state["scalars"] is not None:
            model.scalar_regressor_ = GPRegressor.from_saved(
                state["scalars"], arrays_under(arrays, "scalars/regressor/")
            )
            model.scalar_scale_ = np.asarray(arrays["scalars/scale"], dtype=float)
        model.scalar_scales_ = {
            str(n): (str(v[0]), float(v[1])) for n, v in state.get("scalar_scales", {}).items()
        }
        model.cv_error_ = {str(n): float(e) for n, e in state.get("cv_error", {}).items()}
        model.fit_warnings_ = [str(w) for w in state.get("fit_warnings", [])]
        return model

    def card_details(self) -> dict[str, Any]:
        """POD modes per field, geometry modes, scalar scales, leave-one-out errors and std
        calibration factors per output, and the fit's warnings."""
        return {
            "modes": {name: int(pod.n_modes_) for name, pod in self.pods_.items()},
            "geometry_modes": int(self.geometry_pod_.n_modes_),
            "amplitude_on_log_scale": sorted(self.amplitudes_),
            "scalar_scales": {n: _scale_words(k, c) for n, (k, c) in self.scalar_scales_.items()},
            "cv_error": {n: round(e, 4) for n, e in self.cv_error_.items()},
            "std_scale": {n: round(s, 3) for n, s in self.std_scale_.items()},
            "warnings": list(self.fit_warnings_),
        }

    def summary(self) -> str:
        self._check_fitted()
        modes = ", ".join(f"{n} {p.n_modes_}" for n, p in self.pods_.items())
        logs = [n for n, (k, _) in self.scalar_scales_.items() if k == "log"]
        return (
            f"mmgp: {len(self.training_ids_)} samples on a common mesh of "
            f"{len(self.common_.morphed)} nodes ({self.shape}); geometry "
            f"{self.geometry_pod_.n_modes_} modes; field modes {modes}; "
            f"{len(self._scalar_fields())} scalar outputs"
            + (f" ({', '.join(logs)} on a log scale)" if logs else "")
        )


def geometry_mode_count(asked: int, n_train: int) -> int:
    """Geometry modes for ``n_train`` samples: ``asked``, at most one per
    ``SAMPLES_PER_GEOMETRY_MODE`` samples and ``n_train - 1``, at least 1."""
    return max(1, min(asked, n_train // SAMPLES_PER_GEOMETRY_MODE, n_train - 1))


def loo_mode_count(gp: GPRegressor, z: np.ndarray) -> int:
    """The number k of leading POD modes minimising the leave-one-out error of a field.

    ``z`` (n, r) are the training coefficients the shared-kernel ``gp`` was fitted to. With
    k modes, sample i's left-out error is ``sum_{j<k} R_ij^2 + sum_{j>=k} (n/(n-1) z_ij)^2``
    (``R`` the leave-one-out residuals, :meth:`GPRegressor.loo_residuals`; a dropped mode
    is predicted by the others' mean, 0 for centred coefficients, up to the n/(n-1) the
    left-out sample adds); the modes being orthonormal, these add up to the squared L2
    error on the common mesh.
    """
    n = len(z)
    loo = np.sum((gp.loo_residuals()[0] * gp.y_std_) ** 2, axis=0)
    dropped = np.sum((z * n / max(n - 1, 1)) ** 2, axis=0)
    # total(k) = sum_{j<k} loo_j + sum_{j>=k} dropped_j, for k = 1..r
    total = np.cumsum(loo) + (dropped.sum() - np.cumsum(dropped))
    return int(np.argmin(total)) + 1


def std_scale_95(errors: np.ndarray, var: np.ndarray) -> float:
    """Factor on the std so that 95 % of the held-out ``errors`` fall within +-1.96 std,
    ``var`` their predicted variances.

    The quantile of the m scores ``|error| / std`` is split conformal prediction's
    finite-sample one, the ``ceil(0.95 (m + 1))``-th smallest (the largest when m < 19):
    on the few values of a scalar output, the plain 95 % quantile covers less than 95 %.
    Nodes without variance (a field fixed there in every sample) are left out; 1 when no
    node is left. The factor is not capped below 1: over-wide bars shrink too.
    """
    keep = var > 1e-300
    if not np.any(keep):
        return 1.0
    z = np.sort(np.abs(errors[keep]) / np.sqrt(var[keep]))
    rank = min(int(np.ceil(0.95 * (z.size + 1))), z.size)
    scale = float(z[rank - 1] / Z95)
    return scale if scale > 0 else 1.0


def band_scale_95(errors: np.ndarray, t: np.ndarray, t_std: np.ndarray, kind: str) -> float:
    """Factor on a scalar output's std on its regression scale (predictions ``t``, stds
    ``t_std``) so that the band +-1.96 :func:`std_from_scale` holds the conformal 95 % of
    the held-out ``errors`` (output units), as :func:`std_scale_95` does on a linear scale:
    on a log scale the band is not linear in the factor, which bisection finds."""
    if kind != "log":
        return std_scale_95(errors, t_std**2)
    need = min(int(np.ceil(0.95 * (errors.size + 1))), errors.size)

    def holds(factor: float) -> bool:
        band = Z95 * std_from_scale(t, factor * t_std, kind)
        return int(np.sum(np.abs(errors) <= band)) >= need

    low, high = 0.0, 1.0
    while not holds(high) and high < 1e6:
        low, high = high, 2 * high
    for _ in range(50):
        middle = 0.5 * (low + high)
        low, high = (low, middle) if holds(middle) else (middle, high)
    return high


def scalar_scale(y: np.ndarray, span: float = 10.0) -> tuple[str, float]:
    """The scale a scalar output is regressed on: ("log", c) for ``log(y + c)``, or
    ("linear", 0.0).

    Log when every training value is >= 0 and they span more than ``span`` (max over min;
    a zero included):
    ``c`` is a tenth of the median positive value, so values near zero stay apart from
    each other without dominating the fit.
    """
    y = np.asarray(y, dtype=float)
    positive = y[y > 0]
    if np.any(y < 0) or positive.size == 0 or not np.all(np.isfinite(y)):
        return ("linear", 0.0)
    if y.min() > 0 and y.max() <= span * y.min():
        return ("linear", 0.0)
    return ("log", 0.1 * float(np.median(positive)))


def to_scale(y: np.ndarray, kind: str, shift: float) -> np.ndarray:
    """Values ``y`` on the regression scale (:func:`scalar_scale`)."""
    return np.log(np.asarray(y, dtype=float) + shift) if kind == "log" else np.asarray(y)


def from_scale(t: np.ndarray, kind: str, shift: float) -> np.ndarray:
    """The inverse of :func:`to_scale` (on a log scale: the median of the prediction)."""
    return np.exp(t) - shift if kind == "log" else np.asarray(t)


def std_from_scale(t: np.ndarray, t_std: np.ndarray, kind: str) -> np.ndarray:
    """A std on the output's own scale: on a log scale, the one whose +-1.96 std band
    spans the log scale's 95 % interval, ``exp(t) sinh(1.96 t_std) / 1.96``."""
    if kind != "log":
        return np.asarray(t_std)
    return np.exp(t) * np.sinh(Z95 * np.asarray(t_std)) / Z95


def _folds(n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(held, kept) sample indices of ``CV_FOLDS`` interleaved folds (n for n < CV_FOLDS)."""
    k = min(CV_FOLDS, n)
    return [(np.arange(i, n, k), np.setdiff1d(np.arange(n), np.arange(i, n, k))) for i in range(k)]


def _channel_on_common(
    pod: POD,
    gp: GPRegressor,
    amplitude: tuple[float, GPRegressor] | None,
    truncation: np.ndarray,
    x: np.ndarray,
    return_std: bool,
) -> tuple[np.ndarray, np.ndarray | None]:
    """A channel's mean (n, n_dof) on the common mesh and, if asked, its variance (before
    calibration): ``z_std^2 @ modes^2 + truncation``; times an amplitude, ``a^2 var +
    shape^2 a_std^2`` (independent, to first order)."""
    if not return_std:
        mean = pod.inverse_transform(gp.predict(x))
        if amplitude is not None:
            mean *= _amplitude(amplitude, x, False)[0][:, None]
        return mean, None
    z, z_std = gp.predict(x, return_std=True)
    mean = pod.inverse_transform(z)
    var = (z_std**2) @ pod.modes_**2 + truncation
    if amplitude is not None:
        a, a_sd = _amplitude(amplitude, x, True)
        var = a[:, None] ** 2 * var + mean**2 * a_sd[:, None] ** 2
        mean *= a[:, None]
    return mean, var


def _amplitude(
    model: tuple[float, GPRegressor], x: np.ndarray, return_std: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """A channel's predicted amplitudes (n,) (its GP on ``log(a + shift)``) and their std."""
    shift, gp = model
    if not return_std:
        return from_scale(gp.predict(x)[:, 0], "log", shift), None
    t, latent = gp.predict(x, return_std=True)
    t_sd = np.sqrt(latent[:, 0] ** 2 + gp.noise_[0] * gp.y_std_[0] ** 2)
    return from_scale(t[:, 0], "log", shift), std_from_scale(t[:, 0], t_sd, "log")


def _scale_words(kind: str, shift: float) -> str:
    """How the card shows a scalar output's scale: "linear" or "log (shift c)"."""
    return f"log (shift {shift:.3g})" if kind == "log" else kind


def _relative_rms(errors: np.ndarray, values: np.ndarray) -> float:
    """RMS of ``errors`` over the largest absolute training value (0 when all are zero)."""
    top = float(np.max(np.abs(values)))
    return float(np.sqrt(np.mean(np.square(errors))) / top) if top > 0 else 0.0


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

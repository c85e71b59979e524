"""The `Surrogate` interface every surrogate shares: fit, predict (batched, error bars), save.

``fit(dataset)`` learns from a dataset's done samples; ``predict(mu)`` answers
a parameter set (a mapping, with arrays for field inputs) with one array per
field, or many parameter sets (a list of mappings, or for spaces of scalars
only an array of shape (n, dim), columns in ``space.scalar_names`` order)
with arrays of shape (n, *field_shape); ``return_std=True`` adds the
predictive standard deviation per value. Models whose ``capabilities.covariance``
is True also give the full predictive covariance, in low rank
(:meth:`Surrogate.predict_covariance`, a :class:`LowRankCovariance` per field),
so a caller gets the covariance between any outputs (sensors, quantities of
interest) without forming it on the mesh; ``return_std`` stays the cheap default
and equals the square root of its diagonal.

A surrogate is an :class:`~nirom.estimator.Estimator` (hyperparameters only
in the keyword-only constructor, declared rules, ``get_params``, ``clone``)
and a :class:`~nirom.saving.Saveable` registered in family ``"surrogate"``
under its ``kind``: ``save(path)`` writes ``to_json()`` and ``to_arrays()`` as
a model directory (:mod:`nirom.surrogates.format`), ``load(path)`` rebuilds it
with ``from_saved``, and ``summary()`` says in one line what was learned. A
subclass implements ``fit``, ``_predict_batch``, ``_state_json``,
``_state_arrays``, ``_from_state`` and ``summary``.
"""

from __future__ import annotations

import os
from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from nirom.dataset import Dataset, FieldSpec
from nirom.errors import DatasetError, ModelError, ParameterError
from nirom.estimator import Estimator, jsonable
from nirom.mesh import Mesh
from nirom.parameters import ParameterSpace
from nirom.saving import Saveable, registry
from nirom.surrogates.covariance import LowRankCovariance
from nirom.surrogates.format import FORMAT_NAME, FORMAT_VERSION, read_model, write_model
from nirom.surrogates.input_scale import UnitMap

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "Capabilities",
    "Fields",
    "Inputs",
    "LowRankCovariance",
    "ModelError",
    "Prepared",
    "Surrogate",
]

Fields = dict[str, np.ndarray]
Inputs = Mapping[str, Any] | Sequence[Mapping[str, Any]] | np.ndarray
#: Error bounds of a certified prediction: field name -> {bound name: values (n,)}.
Bounds = dict[str, dict[str, np.ndarray]]


@dataclass(frozen=True)
class Capabilities:
    """What a model of a kind can do: read by the CLI, the service, the report and
    evaluation, which never ask for a kind by name.

    std : ``predict(..., return_std=True)`` gives predictive standard deviations.
    bound : ``predict(..., return_bound=True)`` gives certified error bounds.
    context : keyword arguments ``predict`` takes beyond the parameters (``mesh``;
        ``history`` and ``times``), checked by the base.
    needs : the context entries a prediction cannot do without (``mesh`` for mmgp).
    fit_context : keyword arguments ``fit`` takes beyond the dataset and ids (``case``).
    all_fields : it predicts every field of the dataset it was fitted on (``rb``
        predicts the one it reduces; evaluation skips the others).
    diagnostics : outputs that are no dataset's fields (``hrom``'s ``indicator``).
    coordinates : it is built on a POD per field: ``reduced_basis(name)`` and
        ``predict_coordinates(name, mu)`` (projection floor, R2 per mode).
    time_series : its fields are time series (a load history's output times).
    covariance : :meth:`Surrogate.predict_covariance` gives the predictive covariance
        in low rank (pod-gp); its diagonal is the square of ``return_std``'s values.
    """

    std: bool = False
    bound: bool = False
    context: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    fit_context: tuple[str, ...] = ()
    all_fields: bool = True
    diagnostics: tuple[str, ...] = ()
    coordinates: bool = False
    time_series: bool = False
    covariance: bool = False


@dataclass
class Prepared:
    """Parameter sets checked and converted once (:meth:`Surrogate.prepare`).

    ``x`` (n, dim): physical scalar parameters, columns in ``space.scalar_names``
    order; ``u`` (n, dim): the coordinates the model regresses on (the unit cube on
    its scales), computed on first use; ``inputs``: field inputs ``{name: (n, *shape)}``;
    ``single``: one mapping was given (``predict`` then drops the batch axis).
    """

    x: np.ndarray
    inputs: Fields
    single: bool
    to_unit: Callable[[np.ndarray], np.ndarray] = field(repr=False)

    def __len__(self) -> int:
        return len(self.x)

    @cached_property
    def u(self) -> np.ndarray:
        return self.to_unit(self.x)

    @classmethod
    def concat(cls, parts: Sequence[Prepared]) -> Prepared:
        """One batch of several prepared requests (their rows in order; a batch)."""
        inputs = {k: np.concatenate([p.inputs[k] for p in parts]) for k in parts[0].inputs}
        x = np.concatenate([p.x for p in parts])
        return cls(x, inputs, False, parts[0].to_unit)


class Surrogate(Estimator, Saveable):
    """A fitted map from parameters to fields, with the same interface for every model.

    Register a subclass with ``@saveable("surrogate", KIND)`` (from
    :mod:`nirom.saving`); that sets ``kind``, the name saved models carry.
    """

    # fitted state every surrogate has
    space_: ParameterSpace
    fields_: dict[str, FieldSpec]
    mesh_: Mesh | None
    training_ids_: list[int] | None  # None: a model saved before they were recorded

    @abstractmethod
    def fit(self, dataset: Dataset, ids: list[int] | None = None) -> Surrogate:
        """Learn from the done samples ``ids`` of ``dataset`` (default: all); return self."""

    def check_data(self, dataset: Dataset, ids: Sequence[int] | None = None) -> list[int]:
        """The done samples ``ids`` to fit on (default: all), once ``dataset`` is found to
        meet this model's needs; a one-line :class:`DatasetError` naming the first unmet one
        (a kind of data, a number of samples) otherwise.

        It reads the dataset's description only, so ``fit`` calls it before any work, and
        a study calls it for every model before fitting the first.
        """
        ids = dataset.sample_ids() if ids is None else list(ids)
        self._check_kind_of_data(dataset)
        least, why = self._min_samples(dataset)
        if len(ids) < least:
            raise DatasetError(
                f"{dataset.path}: {self.label} needs at least {least} done "
                f"sample{'s' if least > 1 else ''}{why}, got "
                f"{len(ids)}: generate more samples or fit another model"
            )
        return ids

    def _check_kind_of_data(self, dataset: Dataset) -> None:
        """A :class:`DatasetError` if ``dataset`` lacks the kind of data this model needs
        (one mesh or a mesh per sample, operators, displacement series, grids)."""

    def _min_samples(self, dataset: Dataset) -> tuple[int, str]:
        """The fewest done samples this model fits on, and why (a phrase in parentheses,
        or empty)."""
        return 2, ""

    @abstractmethod
    def _predict_batch(
        self, batch: Prepared, return_std: bool, return_bound: bool, **context: Any
    ) -> tuple[Fields, Fields | None, Bounds | None]:
        """Fields (n, *shape) for the prepared parameter sets ``batch``, with the standard
        deviations and the error bounds when asked (None otherwise); ``context`` holds
        only what :attr:`capabilities` declares."""

    @property
    def capabilities(self) -> Capabilities:
        """What this model can do (see :class:`Capabilities`); a kind overrides it."""
        return Capabilities()

    @property
    def provides_std(self) -> bool:
        """Whether ``predict(..., return_std=True)`` gives error bars (``capabilities.std``)."""
        return self.capabilities.std

    def predict_covariance(
        self, mu: Inputs, rows: Mapping[str, Sequence[int] | np.ndarray | None] | None = None
    ) -> dict[str, LowRankCovariance]:
        """The predictive covariance of each field (or of the fields ``rows`` names, at the
        flat value indices it gives, None: every value) of one sample's field array, for
        the parameter sets ``mu`` (as :meth:`predict`;
        the batch axis is kept for one mapping), for models whose
        ``capabilities.covariance`` is True; a one-line :class:`ModelError` otherwise."""
        self._check_fitted()
        if not self.capabilities.covariance:
            raise ModelError(f"a {self.label} model gives no predictive covariance")
        return self.predict_covariance_prepared(self.prepare(mu), rows)

    def predict_covariance_prepared(
        self, batch: Prepared, rows: Mapping[str, Sequence[int] | np.ndarray | None] | None = None
    ) -> dict[str, LowRankCovariance]:
        """:meth:`predict_covariance` of a batch :meth:`prepare` made (the service prepares
        each request once and answers a batch of them with one call)."""
        if not self.capabilities.covariance:
            raise ModelError(f"a {self.label} model gives no predictive covariance")
        names = list(self.fields_) if rows is None else list(rows)
        unknown = [n for n in names if n not in self.fields_]
        if unknown:
            raise ModelError(
                f"no field {unknown[0]!r} in this {self.label} model: it has "
                f"{', '.join(self.fields_)}"
            )
        covs = self._predict_covariance(batch, names)
        if rows is None:
            return covs
        return {
            n: covs[n] if rows[n] is None else covs[n].restrict(np.asarray(rows[n], dtype=int))
            for n in names
        }

    def _predict_covariance(
        self, batch: Prepared, names: list[str]
    ) -> dict[str, LowRankCovariance]:
        """The low-rank covariance of the fields ``names`` (every value) for ``batch``."""
        raise ModelError(f"a {self.label} model gives no predictive covariance")

    def reduced_basis(self, name: str) -> Any:
        """The reduction (a fitted :class:`~nirom.reduction.POD`) of field ``name``'s
        snapshots, for models whose ``capabilities.coordinates`` is True."""
        raise ModelError(f"a {self.label} model is not built on a POD of its fields")

    def predict_coordinates(self, name: str, mu: Inputs) -> np.ndarray:
        """The predicted reduced coordinates (n, n_modes) of field ``name`` (models whose
        ``capabilities.coordinates`` is True)."""
        raise ModelError(f"a {self.label} model is not built on a POD of its fields")

    def evaluation_details(self, dataset: Dataset, ids: list[int]) -> dict[str, Any]:
        """A kind's own figures on the test samples ``ids`` of ``dataset``, reported by
        evaluation beside the metrics (hrom-dictionary: its classification accuracy)."""
        return {}

    def card_details(self) -> dict[str, Any]:
        """What the model card shows beyond the common entries (JSON-compatible); fitted."""
        return {}

    # -- prediction ------------------------------------------------------------------
    def predict(
        self, mu: Inputs, return_std: bool = False, *, return_bound: bool = False, **context: Any
    ) -> Fields | tuple[Any, ...]:
        """Predicted fields for one parameter set (mapping) or many (list or array (n, dim)).

        Returns a dict field name -> array, of shape ``field_shape`` for a
        mapping and ``(n, *field_shape)`` for a batch; with ``return_std`` and
        ``return_bound``, a tuple (mean, std, bounds) of those asked, in that order:
        std a dict like the mean, bounds ``{field: {bound name: (n,)}}``.
        ``context``: what the kind declares in ``capabilities.context`` (``mesh=`` for
        mmgp, ``history=`` and ``times=`` for hrom).
        """
        self._check_fitted()
        self._check_request(return_std, return_bound, context)
        return self.predict_prepared(self.prepare(mu), return_std, return_bound, **context)

    def predict_prepared(
        self,
        batch: Prepared,
        return_std: bool = False,
        return_bound: bool = False,
        **context: Any,
    ) -> Fields | tuple[Any, ...]:
        """:meth:`predict` on parameter sets already :meth:`prepare` d (the request
        checked by the caller with :meth:`check_request`)."""
        mean, std, bound = self._predict_batch(batch, return_std, return_bound, **context)
        if batch.single:
            mean = {k: v[0] for k, v in mean.items()}
            std = None if std is None else {k: v[0] for k, v in std.items()}
            bound = (
                None
                if bound is None
                else {k: {b: v[0] for b, v in d.items()} for k, d in bound.items()}
            )
        out = (mean, *((std,) if return_std else ()), *((bound,) if return_bound else ()))
        return out if len(out) > 1 else mean

    def check_request(
        self, return_std: bool = False, return_bound: bool = False, **context: Any
    ) -> None:
        """A one-line :class:`ModelError` if this model cannot answer such a request (error
        bars or bounds it has not, context it does not take or lacks)."""
        self._check_fitted()
        self._check_request(return_std, return_bound, context)

    def _check_request(
        self, return_std: bool, return_bound: bool, context: Mapping[str, Any]
    ) -> None:
        caps = self.capabilities
        if return_std and not caps.std:
            raise ModelError(f"a {self.label} model has no error bars (return_std=True)")
        if return_bound and not caps.bound:
            raise ModelError(f"a {self.label} model has no error bounds (return_bound=True)")
        unknown = sorted(k for k, v in context.items() if k not in caps.context)
        if unknown:
            takes = ", ".join(f"{k}=" for k in caps.context) or "the parameters only"
            raise ModelError(
                f"a {self.label} model takes no {', '.join(f'{k}=' for k in unknown)} "
                f"(it takes {takes})"
            )
        for name in caps.needs:
            if context.get(name) is None:
                raise ModelError(
                    f"a {self.label} model predicts on a given {name}: pass {name}= "
                    f"(nirom predict MODEL --{name} FILE)"
                )

    def prepare(self, mu: Inputs) -> Prepared:
        """Parameter sets checked and converted once: one mapping, a list of mappings or,
        for spaces of scalars only, an array (n, dim); a one-line :class:`ParameterError`
        naming the offending parameter otherwise. Field inputs may come at any grid the
        model accepts."""
        space = self.space_
        if isinstance(mu, Mapping):
            x = self._fast_scalars(mu)
            if x is not None:
                return Prepared(x, {}, True, self._unit)
            mus, single = [mu], True
        elif isinstance(mu, Sequence) and mu and all(isinstance(m, Mapping) for m in mu):
            mus, single = list(mu), False
        elif space.field_inputs:
            names = [p.name for p in space.field_inputs]
            raise ParameterError(
                f"this model takes field input(s) {names}: pass a mapping or a list of mappings"
            )
        else:
            return Prepared(space.validate_array(mu), {}, False, self._unit)
        checked = [self._validate(m) for m in mus]
        inputs = {p.name: _stack(p.name, [m[p.name] for m in checked]) for p in space.field_inputs}
        return Prepared(space.as_array(checked), inputs, single, self._unit)

    def _fast_scalars(self, mu: Mapping[str, Any]) -> np.ndarray | None:
        """``mu`` as a row (1, dim) when it is exactly the scalar parameters, as plain
        numbers within bounds (the common case, in microseconds); None otherwise (the full
        check then names what is wrong)."""
        space = self.space_
        fast = self.__dict__.get("_fast")
        if fast is None or fast[0] is not space:  # built once per fitted space
            names = tuple(space.scalar_names)
            bounds = tuple((p.low, p.high) for p in space.scalars)
            fast = (space, names, frozenset(names), bounds)
            self.__dict__["_fast"] = fast
        _, names, name_set, bounds = fast
        if space.field_inputs or len(mu) != len(names) or mu.keys() != name_set:
            return None
        values = [mu[n] for n in names]
        for v, (low, high) in zip(values, bounds, strict=True):
            # plain numbers within bounds (NaN fails the comparison); bool is no number here
            if not ((type(v) is float or type(v) is int) and low <= v <= high):
                return None
        return np.array([values], dtype=float)

    def _unit(self, x: np.ndarray) -> np.ndarray:
        """Checked physical scalar parameters (n, dim) on the unit cube the model regresses
        on: the declared scales (log for log-uniform) unless a model chose others
        (:meth:`_scales`)."""
        scales = self._scales()
        key = (self.space_, tuple(scales.items()))
        cached = self.__dict__.get("_unit_map")
        if cached is None or cached[0][0] is not key[0] or cached[0][1] != key[1]:
            cached = (key, UnitMap.of(self.space_, scales))
            self.__dict__["_unit_map"] = cached
        return cached[1](x)

    def _scales(self) -> Mapping[str, str]:
        """Parameter name -> "linear" or "log" where the model regresses on another scale
        than the declared one (none by default)."""
        return {}

    def _validate(self, mu: Mapping[str, Any]) -> dict[str, Any]:
        """One parameter set checked against the space (models free of the grid relax it)."""
        return self.space_.validate(mu)

    def _owner(self) -> str:
        return self.kind or type(self).__name__

    @property
    def label(self) -> str:
        """The model's name as the user chose it (``"pod-rbf"``, ``"fno"``), for messages."""
        return self._owner()

    def _check_fitted(self) -> None:
        if not hasattr(self, "fields_"):
            raise ModelError(f"this {type(self).__name__} is not fitted yet: call fit(dataset)")

    # -- persistence -------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """The model as JSON: kind, parameter space, fields, mesh cell types, its state."""
        self._check_fitted()
        return {
            "kind": self.kind,
            "space": self.space_.to_dict(),
            "fields": [f.to_dict() for f in self.fields_.values()],
            "mesh_cell_types": None if self.mesh_ is None else [t for t, _ in self.mesh_.cells],
            "state": {
                **jsonable(self._state_json()),
                "params": self.params_to_json(),
                "training_ids": None
                if self.training_ids_ is None
                else [int(i) for i in self.training_ids_],
            },
        }

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The model's arrays, and the mesh's (``mesh/points``, ``mesh/cells/<k>``)."""
        self._check_fitted()
        arrays = dict(self._state_arrays())
        if self.mesh_ is not None:
            arrays["mesh/points"] = self.mesh_.points
            for k, (_, conn) in enumerate(self.mesh_.cells):
                arrays[f"mesh/cells/{k}"] = conn
        return arrays

    @classmethod
    def from_saved(cls, state: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> Surrogate:
        """The fitted model of the kind ``state`` names, from :meth:`to_json` / :meth:`to_arrays`.

        ``Surrogate.from_saved`` rebuilds any kind; a subclass refuses another
        kind with a :class:`ModelError`.
        """
        kind = state.get("kind")
        known = registry("surrogate")
        if kind not in known:
            raise ModelError(f"unknown model kind {kind!r}")
        if not issubclass(known[kind], cls):
            raise ModelError(f"is a {kind!r} model, not a {cls.kind or cls.__name__} one")
        try:
            model = known[kind]._from_state(state["state"], arrays)
            model.check_params()  # a model edited by hand is refused like a bad option
            ids = state["state"].get("training_ids")  # absent from pod and fno saved before
            model.training_ids_ = None if ids is None else [int(i) for i in ids]
            model.space_ = ParameterSpace.from_dict(state["space"])
            model.fields_ = {d["name"]: FieldSpec.from_dict(d) for d in state["fields"]}
            types = state["mesh_cell_types"]
            model.mesh_ = None
            if types is not None:
                cells = [(t, arrays[f"mesh/cells/{k}"]) for k, t in enumerate(types)]
                model.mesh_ = Mesh(arrays["mesh/points"], cells)
            if not model.fields_:
                raise ValueError("no output fields")
        except ModelError:
            raise
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise ModelError(f"malformed model ({type(exc).__name__}: {exc})") from None
        return model

    @abstractmethod
    def _state_json(self) -> dict[str, Any]:
        """This kind's JSON state: hyperparameters and the state of its parts."""

    @abstractmethod
    def _state_arrays(self) -> dict[str, np.ndarray]:
        """This kind's arrays."""

    @classmethod
    @abstractmethod
    def _from_state(cls, state: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> Surrogate:
        """A fitted model of this kind from :meth:`_state_json` / :meth:`_state_arrays`."""

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the model directory ``path`` (replacing a model already there); see
        :mod:`nirom.surrogates.format`."""
        return write_model(path, self.to_json(), self.to_arrays())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Surrogate:
        """Load a model directory written by :meth:`save` (any kind from ``Surrogate.load``).

        A subclass (``FNOSurrogate.load``) refuses a model of another kind with a
        :class:`ModelError`, as does a damaged or foreign directory.
        """
        doc, arrays = read_model(path)
        try:
            return cls.from_saved(doc, arrays)
        except ModelError as exc:
            raise ModelError(f"{Path(path) / 'model.json'}: {exc}") from None


def _stack(name: str, values: list[np.ndarray]) -> np.ndarray:
    shapes = {v.shape for v in values}
    if len(shapes) > 1:
        raise ParameterError(
            f"field input {name!r}: one batch needs one shape, got {sorted(shapes)}"
        )
    return np.stack(values)

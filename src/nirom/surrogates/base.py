"""The `Surrogate` interface every surrogate shares: fit, predict (batched, error bars), save.

``fit(dataset)`` learns from a dataset's done samples; ``predict(mu)`` answers
a parameter set (a mapping, with arrays for field inputs) with one array per
field, or many parameter sets (a list of mappings, or for spaces of scalars
only an array of shape (n, dim), columns in ``space.scalar_names`` order)
with arrays of shape (n, *field_shape); ``return_std=True`` adds the
predictive standard deviation per value.

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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from nirom.dataset import Dataset, FieldSpec
from nirom.errors import DatasetError, ModelError, ParameterError
from nirom.estimator import Estimator, jsonable
from nirom.mesh import Mesh
from nirom.parameters import ParameterSpace
from nirom.saving import Saveable, registry
from nirom.surrogates.format import FORMAT_NAME, FORMAT_VERSION, read_model, write_model

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "Fields", "Inputs", "ModelError", "Surrogate"]

Fields = dict[str, np.ndarray]
Inputs = Mapping[str, Any] | Sequence[Mapping[str, Any]] | np.ndarray


class Surrogate(Estimator, Saveable):
    """A fitted map from parameters to fields, with the same interface for every model.

    Register a subclass with ``@saveable("surrogate", KIND)`` (from
    :mod:`nirom.saving`); that sets ``kind``, the name saved models carry.
    """

    #: Whether the model predicts every field of the dataset it was fitted on; ``rb``
    #: predicts only the field it reduces, and evaluation skips the others.
    predicts_all_fields: ClassVar[bool] = True
    #: Outputs that are no dataset's fields (``hrom``'s error ``indicator``): evaluation
    #: does not look for them in the test set.
    diagnostics: ClassVar[tuple[str, ...]] = ()

    # fitted state every surrogate has
    space_: ParameterSpace
    fields_: dict[str, FieldSpec]
    mesh_: Mesh | None

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
        self, u: np.ndarray, inputs: Fields, return_std: bool
    ) -> tuple[Fields, Fields | None]:
        """Fields (n, *shape) for unit-cube scalars ``u`` (n, dim) and field inputs (n, *shape)."""

    def reduced_basis(self, name: str) -> Any:
        """The reduction (a fitted :class:`~nirom.reduction.POD`) of field ``name``'s
        snapshots, for models built on one; None otherwise.

        A model that returns one also implements ``predict_coordinates(name, mu)``
        (the predicted reduced coordinates, shape (n, n_modes)), so evaluation
        reports the projection floor and R2 per mode for it.
        """
        return None

    def error_bound(self, mu: Inputs) -> dict[str, np.ndarray] | None:
        """Guaranteed upper bounds (n,) of each field's L2-norm error for a batch ``mu``,
        for certified models (``rb``); None for the others."""
        return None

    @property
    def provides_std(self) -> bool:
        """Whether ``predict(..., return_std=True)`` gives error bars."""
        return False

    def card_details(self) -> dict[str, Any]:
        """What the model card shows beyond the common entries (JSON-compatible); fitted."""
        return {}

    # -- prediction ------------------------------------------------------------------
    def predict(self, mu: Inputs, return_std: bool = False) -> Fields | tuple[Fields, Fields]:
        """Predicted fields for one parameter set (mapping) or many (list or array (n, dim)).

        Returns a dict field name -> array, of shape ``field_shape`` for a
        mapping and ``(n, *field_shape)`` for a batch; with ``return_std``,
        a pair (mean, standard deviation) of such dicts.
        """
        self._check_fitted()
        if return_std and not self.provides_std:
            raise ModelError(f"a {self.label} model has no error bars (return_std=True)")
        single = isinstance(mu, Mapping)
        u, inputs = self._batch(mu)
        mean, std = self._predict_batch(u, inputs, return_std)
        if single:
            mean = {k: v[0] for k, v in mean.items()}
            std = None if std is None else {k: v[0] for k, v in std.items()}
        return (mean, std) if return_std else mean

    def _batch(self, mu: Inputs) -> tuple[np.ndarray, Fields]:
        """Validated unit-cube scalars (n, dim) and stacked field inputs {name: (n, *shape)}."""
        space = self.space_
        if isinstance(mu, Mapping):
            mus = [mu]
        elif isinstance(mu, Sequence) and mu and all(isinstance(m, Mapping) for m in mu):
            mus = list(mu)
        elif space.field_inputs:
            names = [p.name for p in space.field_inputs]
            raise ParameterError(
                f"this model takes field input(s) {names}: pass a mapping or a list of mappings"
            )
        else:
            return self._unit(space.validate_array(mu)), {}
        checked = [self._validate(m) for m in mus]
        inputs = {p.name: _stack(p.name, [m[p.name] for m in checked]) for p in space.field_inputs}
        return self._unit(space.as_array(checked)), inputs

    def _unit(self, x: np.ndarray) -> np.ndarray:
        """Physical scalar parameters (n, dim) on the unit cube the model regresses on: the
        declared scales (log for log-uniform) unless a model chose others."""
        return self.space_.to_unit(x)

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
            "state": jsonable(self._state_json()),
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

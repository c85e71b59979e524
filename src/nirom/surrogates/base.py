"""The `Surrogate` interface every surrogate shares, and its safe on-disk format.

``fit(dataset)`` learns from a dataset's done samples; ``predict(mu)`` answers
a parameter set (a mapping, with arrays for field inputs) with one array per
field, or many parameter sets (a list of mappings, or for spaces of scalars
only an array of shape (n, dim), columns in ``space.scalar_names`` order)
with arrays of shape (n, *field_shape); ``return_std=True`` adds the
predictive standard deviation per value. ``save(path)`` writes a directory::

    MODEL/model.json   format stamp, kind, parameter space, fields, mesh flag,
                       hyperparameters, per-component state, SHA-256 of arrays
    MODEL/arrays.npz   every array (loaded with allow_pickle=False)

No pickle: loading a model never executes code. A truncated or edited file
fails its checksum or its parse with a :class:`ModelError` naming the file.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
import uuid
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from nirom.dataset import Dataset, FieldSpec
from nirom.errors import ModelError, ParameterError
from nirom.mesh import Mesh
from nirom.parameters import ParameterSpace

FORMAT_NAME = "nirom-surrogate"
FORMAT_VERSION = 1

Fields = dict[str, np.ndarray]
Inputs = Mapping[str, Any] | Sequence[Mapping[str, Any]] | np.ndarray


class Surrogate(ABC):
    """A fitted map from parameters to fields, with the same interface for every model."""

    kind: ClassVar[str] = ""
    _KINDS: ClassVar[dict[str, type[Surrogate]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            Surrogate._KINDS[cls.kind] = cls

    # fitted state every surrogate has
    space_: ParameterSpace
    fields_: dict[str, FieldSpec]
    mesh_: Mesh | None

    @abstractmethod
    def fit(self, dataset: Dataset, ids: list[int] | None = None) -> Surrogate:
        """Learn from the done samples ``ids`` of ``dataset`` (default: all); return self."""

    @abstractmethod
    def _predict_batch(
        self, u: np.ndarray, inputs: Fields, return_std: bool
    ) -> tuple[Fields, Fields | None]:
        """Fields (n, *shape) for unit-cube scalars ``u`` (n, dim) and field inputs (n, *shape)."""

    @property
    def provides_std(self) -> bool:
        """Whether ``predict(..., return_std=True)`` gives error bars."""
        return False

    @abstractmethod
    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """JSON-compatible state and named arrays that :meth:`_from_state` rebuilds."""

    @classmethod
    @abstractmethod
    def _from_state(cls, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> Surrogate:
        """Rebuild a fitted surrogate from :meth:`_state` output."""

    # -- prediction ------------------------------------------------------------------
    def predict(self, mu: Inputs, return_std: bool = False) -> Fields | tuple[Fields, Fields]:
        """Predicted fields for one parameter set (mapping) or many (list or array (n, dim)).

        Returns a dict field name -> array, of shape ``field_shape`` for a
        mapping and ``(n, *field_shape)`` for a batch; with ``return_std``,
        a pair (mean, standard deviation) of such dicts.
        """
        self._check_fitted()
        if return_std and not self.provides_std:
            raise ModelError(f"a {self.kind} model has no error bars (return_std=True)")
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
            return space.to_unit(space.validate_array(mu)), {}
        checked = [self._validate(m) for m in mus]
        inputs = {p.name: _stack(p.name, [m[p.name] for m in checked]) for p in space.field_inputs}
        return space.to_unit(space.as_array(checked)), inputs

    def _validate(self, mu: Mapping[str, Any]) -> dict[str, Any]:
        """One parameter set checked against the space (models free of the grid relax it)."""
        return self.space_.validate(mu)

    def _check_fitted(self) -> None:
        if not hasattr(self, "fields_"):
            raise ModelError(f"this {type(self).__name__} is not fitted yet: call fit(dataset)")

    # -- persistence -------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the model directory ``path`` (replacing a model already there)."""
        self._check_fitted()
        path = Path(path)
        if path.exists() and not (path / "model.json").is_file():
            raise ModelError(f"{path}: exists and is not a nirom model; choose another path")
        state, arrays = self._state()
        arrays = dict(arrays)
        if self.mesh_ is not None:
            arrays["mesh/points"] = self.mesh_.points
            for k, (_, conn) in enumerate(self.mesh_.cells):
                arrays[f"mesh/cells/{k}"] = conn
        tmp = path.parent / f".{path.name}.saving-{uuid.uuid4().hex[:8]}"
        tmp.mkdir(parents=True)
        try:
            np.savez(tmp / "arrays.npz", **arrays)
            doc = {
                "format": FORMAT_NAME,
                "format_version": FORMAT_VERSION,
                "kind": self.kind,
                "written_by": f"nirom {_version()}",
                "created_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                "space": self.space_.to_dict(),
                "fields": [f.to_dict() for f in self.fields_.values()],
                "mesh_cell_types": None if self.mesh_ is None else [t for t, _ in self.mesh_.cells],
                "state": state,
                "arrays_sha256": _sha256(tmp / "arrays.npz"),
            }
            (tmp / "model.json").write_text(json.dumps(doc, indent=1), encoding="utf-8")
            _replace_dir(tmp, path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Surrogate:
        """Load a model directory written by :meth:`save`.

        ``Surrogate.load`` loads any kind; a subclass (``FNOSurrogate.load``)
        refuses a model of another kind with a :class:`ModelError`.
        """
        path = Path(path)
        doc = _read_doc(path)
        kind = doc.get("kind")
        if kind not in Surrogate._KINDS:
            raise ModelError(f"{path}: unknown model kind {kind!r}")
        if not issubclass(Surrogate._KINDS[kind], cls):
            raise ModelError(f"{path}: is a {kind!r} model, not a {cls.kind or cls.__name__} one")
        arrays = _read_arrays(path, doc)
        try:
            model = Surrogate._KINDS[kind]._from_state(doc["state"], arrays)
            model.space_ = ParameterSpace.from_dict(doc["space"])
            model.fields_ = {d["name"]: FieldSpec.from_dict(d) for d in doc["fields"]}
            types = doc["mesh_cell_types"]
            model.mesh_ = None
            if types is not None:
                cells = [(t, arrays[f"mesh/cells/{k}"]) for k, t in enumerate(types)]
                model.mesh_ = Mesh(arrays["mesh/points"], cells)
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{path}: malformed model ({exc!r})") from None
        return model


def _stack(name: str, values: list[np.ndarray]) -> np.ndarray:
    shapes = {v.shape for v in values}
    if len(shapes) > 1:
        raise ParameterError(
            f"field input {name!r}: one batch needs one shape, got {sorted(shapes)}"
        )
    return np.stack(values)


def _version() -> str:
    from nirom import __version__

    return __version__


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_doc(path: Path) -> dict[str, Any]:
    meta = path / "model.json"
    if not meta.is_file():
        raise ModelError(f"{path}: not a nirom model (no model.json)")
    try:
        doc = json.loads(meta.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{meta}: damaged, not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
        raise ModelError(f"{meta}: not a nirom model file")
    if doc.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"{meta}: model format version {doc.get('format_version')!r} "
            f"(written by {doc.get('written_by')}); this nirom reads version {FORMAT_VERSION}"
        )
    return doc


def _read_arrays(path: Path, doc: Mapping[str, Any]) -> dict[str, np.ndarray]:
    npz = path / "arrays.npz"
    if not npz.is_file():
        raise ModelError(f"{npz}: missing")
    if _sha256(npz) != doc.get("arrays_sha256"):
        raise ModelError(f"{npz}: damaged or edited (checksum does not match model.json)")
    try:
        with np.load(npz, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ModelError(f"{npz}: unreadable ({exc})") from None


def _replace_dir(new: Path, target: Path) -> None:
    """Put directory ``new`` at ``target``, replacing an existing one without a gap in use."""
    if target.exists():
        trash = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
        os.rename(target, trash)
        os.rename(new, target)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.rename(new, target)

"""The model card: what a saved surrogate is, in JSON a person or a program reads.

Built from the public :class:`~nirom.surrogates.Surrogate` interface (kind,
parameter space, fields, mesh, error bars and whether the model gives its
predictive covariance, hyperparameters when the model has ``get_params``, and
what the kind adds: pod-gp's ``std_scale`` per mode and ``std_calibration``)
and, for a saved model, its ``model.json`` stamp and the fit record ``fit.json``
that ``nirom fit`` and studies write beside it (fit time in seconds, training
dataset, number of samples).
"""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from nirom.estimator import jsonable
from nirom.surrogates import Surrogate

FIT_RECORD = "fit.json"


def write_fit_record(
    model_dir: str | os.PathLike[str],
    fit_s: float,
    dataset: str | os.PathLike[str] | None,
    n_samples: int | None = None,
    warnings: Sequence[str] = (),
) -> Path:
    """Write ``MODEL/fit.json``: fit time (s), training dataset path, sample count and the
    warnings the fit raised (``fit_warnings``, when any)."""
    path = Path(model_dir) / FIT_RECORD
    record: dict[str, Any] = {
        "fit_s": float(fit_s),
        "dataset": None if dataset is None else str(Path(dataset).resolve()),
        "training_samples": n_samples,
    }
    if warnings:
        record["fit_warnings"] = list(warnings)
    path.write_text(json.dumps(record, indent=1), encoding="utf-8")
    return path


@contextlib.contextmanager
def recorded_warnings() -> Iterator[list[str]]:
    """Collect the user-facing warnings (``UserWarning`` and its kinds: a GP's convergence,
    mmgp's small training set, large strains) raised inside, each once as
    ``"Kind: first line"``, into the list it yields (filled on exit); every warning is
    still shown as it would have been."""
    messages: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        yield messages
    for w in caught:
        warnings.showwarning(w.message, w.category, w.filename, w.lineno)
        if issubclass(w.category, UserWarning):
            line = (
                f"{w.category.__name__}: {str(w.message).splitlines()[0] if str(w.message) else ''}"
            )
            if line not in messages:
                messages.append(line)


def read_fit_record(model_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The fit record of a saved model, or {} when there is none (or it is unreadable)."""
    path = Path(model_dir) / FIT_RECORD
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return record if isinstance(record, dict) else {}


def model_card(model: Surrogate, path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """JSON-compatible description of ``model`` (and of its directory ``path``, if saved)."""
    mesh = model.mesh_
    card: dict[str, Any] = {
        "kind": model.kind,
        "class": type(model).__name__,
        "error_bars": model.capabilities.std,
        "predictive_covariance": model.capabilities.covariance,
        "parameters": model.space_.to_dict()["parameters"],
        "fields": [spec.to_dict() for spec in model.fields_.values()],
        "mesh": None
        if mesh is None
        else {"n_points": mesh.n_points, "n_cells": mesh.n_cells, "cells": mesh.cell_counts()},
    }
    card["hyperparameters"] = jsonable(model.get_params(), finite=True)
    if model.training_ids_ is not None:
        card["training_samples"] = len(model.training_ids_)
    card.update(model.card_details())
    if path is not None:
        path = Path(path)
        card["path"] = str(path.resolve())
        try:
            doc = json.loads((path / "model.json").read_text(encoding="utf-8"))
            card["created_at"] = doc.get("created_at")
            card["written_by"] = doc.get("written_by")
        except (OSError, json.JSONDecodeError, UnicodeDecodeError):
            pass
        card["size_bytes"] = sum(p.stat().st_size for p in path.iterdir() if p.is_file())
        record = read_fit_record(path)
        card.update({k: v for k, v in record.items() if k in ("fit_s", "dataset", "fit_warnings")})
        if record.get("training_samples") is not None:
            card.setdefault("training_samples", record["training_samples"])
    return card

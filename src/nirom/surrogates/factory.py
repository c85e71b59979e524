"""Surrogates by name, as the command line and studies ask for them."""

from __future__ import annotations

import inspect
from typing import Any

from nirom.surrogates.base import ModelError, Surrogate
from nirom.surrogates.neural import DeepONetSurrogate, FNOSurrogate, NeuralOperatorSurrogate
from nirom.surrogates.pod import PODSurrogate

MODELS: dict[str, str] = {
    "pod-gp": "POD + Gaussian process (error bars)",
    "pod-rbf": "POD + radial basis functions",
    "pod-mlp": "POD + neural network (PCA-NN on field inputs)",
    "fno": "Fourier neural operator (grids, any resolution)",
    "deeponet": "deep operator network (grids)",
}


def make_surrogate(name: str, **params: Any) -> Surrogate:
    """An unfitted surrogate ``name`` (one of :data:`MODELS`) with hyperparameters ``params``."""
    if name not in MODELS:
        raise ModelError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    pod = name.startswith("pod-")
    cls: type[Surrogate] = PODSurrogate if pod else FNOSurrogate
    if name == "deeponet":
        cls = DeepONetSurrogate
    known = [k for k in hyperparameters(cls) if k != "regressor"]  # the name sets it
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ModelError(
            f"model {name!r}: unknown option(s) {', '.join(unknown)}; known: {', '.join(known)}"
        )
    if pod:
        return cls(regressor=name[len("pod-") :], **params)
    model = cls(**params)
    model.check_params()  # before any data is read
    return model


def hyperparameters(cls: type[Surrogate]) -> list[str]:
    """Names of the keyword hyperparameters of a surrogate class."""
    names = [
        p.name
        for p in inspect.signature(cls.__init__).parameters.values()
        if p.name != "self" and p.kind is not p.VAR_KEYWORD
    ]
    if issubclass(cls, NeuralOperatorSurrogate) and cls is not NeuralOperatorSurrogate:
        names += hyperparameters(NeuralOperatorSurrogate)
    return names

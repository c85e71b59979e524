"""Surrogates by name, as the command line and studies ask for them.

:data:`MODELS` lists the names; each is a surrogate kind (the registry name,
family ``"surrogate"`` of :mod:`nirom.saving`) plus the hyperparameters the
name fixes (``pod-gp`` is the ``pod`` kind with ``regressor="gp"``).
:func:`make_surrogate` builds one and checks every hyperparameter before any
data is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nirom.errors import ModelError
from nirom.saving import saved_class
from nirom.surrogates.base import Surrogate
from nirom.surrogates.hrom import HROMSurrogate  # noqa: F401 (registers)
from nirom.surrogates.hrom_dictionary import HROMDictionarySurrogate  # noqa: F401 (registers)
from nirom.surrogates.mmgp import MMGPSurrogate  # noqa: F401 (registers)
from nirom.surrogates.neural import DeepONetSurrogate, FNOSurrogate  # noqa: F401 (registers)
from nirom.surrogates.pod import PODSurrogate  # noqa: F401 (registers)
from nirom.surrogates.reduced_basis import RBSurrogate  # noqa: F401 (registers)


@dataclass(frozen=True)
class ModelSpec:
    """A model name as users ask for it: its surrogate kind (the registry name), the
    hyperparameters the name fixes and one line saying what it is. What data it needs
    the kind says itself (:meth:`Surrogate.check_data`), what it can do its
    :attr:`~nirom.surrogates.base.Surrogate.capabilities`."""

    name: str
    kind: str
    fixed: Mapping[str, Any]
    summary: str

    def cls(self) -> type[Surrogate]:
        return saved_class("surrogate", self.kind)


#: model name -> its spec, in the order ``--help`` lists them
MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec("pod-gp", "pod", {"regressor": "gp"}, "POD + Gaussian process (error bars)"),
        ModelSpec("pod-rbf", "pod", {"regressor": "rbf"}, "POD + radial basis functions"),
        ModelSpec(
            "pod-mlp", "pod", {"regressor": "mlp"}, "POD + neural network (PCA-NN on field inputs)"
        ),
        ModelSpec("fno", "fno", {}, "Fourier neural operator (grids, any resolution)"),
        ModelSpec("deeponet", "deeponet", {}, "deep operator network (grids)"),
        ModelSpec(
            "rb", "rb", {}, "certified reduced basis (datasets with operators; error bounds)"
        ),
        ModelSpec("mmgp", "mmgp", {}, "mesh-morphing GP (a mesh per sample; error bars)"),
        ModelSpec(
            "hrom",
            "hrom",
            {},
            "hyper-reduced model of a mechanics dataset (POD + ECM + reduced Newton)",
        ),
        ModelSpec(
            "hrom-dictionary",
            "hrom-dictionary",
            {},
            "local hyper-reduced models of clustered simulations + a classifier (ROM-net)",
        ),
    )
}


def make_surrogate(name: str, **params: Any) -> Surrogate:
    """An unfitted surrogate ``name`` (one of :data:`MODELS`) with hyperparameters ``params``.

    Unknown options and values that cannot work raise a :class:`ModelError`
    (a :class:`~nirom.errors.HyperparameterError` for the values) naming them,
    before any data is read.
    """
    if name not in MODELS:
        raise ModelError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    spec = MODELS[name]
    cls, fixed = spec.cls(), spec.fixed
    known = [k for k in hyperparameters(cls) if k not in fixed]
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ModelError(
            f"model {name!r}: unknown option(s) {', '.join(unknown)}; known: {', '.join(known)}"
        )
    model = cls(**fixed, **params)
    model.check_params()  # before any data is read
    return model


def hyperparameters(cls: type[Surrogate]) -> list[str]:
    """Names of the keyword hyperparameters of a surrogate class (its ``get_params`` keys)."""
    return cls._get_param_names()


def names_taking(*params: str) -> list[str]:
    """The model names whose kind has every hyperparameter ``params`` (and does not fix
    one), for messages and for options that apply to some kinds only."""
    return [
        spec.name
        for spec in MODELS.values()
        if all(p in hyperparameters(spec.cls()) and p not in spec.fixed for p in params)
    ]

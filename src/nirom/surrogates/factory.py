"""Surrogates by name, as the command line and studies ask for them.

:data:`MODELS` lists the names; each is a surrogate kind (the registry name,
family ``"surrogate"`` of :mod:`nirom.saving`) plus the hyperparameters the
name fixes (``pod-gp`` is the ``pod`` kind with ``regressor="gp"``).
:func:`make_surrogate` builds one and checks every hyperparameter before any
data is read.
"""

from __future__ import annotations

from typing import Any

from nirom.errors import ModelError
from nirom.saving import saved_class
from nirom.surrogates.base import Surrogate
from nirom.surrogates.hrom import HROMSurrogate  # noqa: F401 (registers)
from nirom.surrogates.mmgp import MMGPSurrogate  # noqa: F401 (registers)
from nirom.surrogates.neural import DeepONetSurrogate, FNOSurrogate  # noqa: F401 (registers)
from nirom.surrogates.pod import PODSurrogate  # noqa: F401 (registers)
from nirom.surrogates.reduced_basis import RBSurrogate  # noqa: F401 (registers)

MODELS: dict[str, str] = {
    "pod-gp": "POD + Gaussian process (error bars)",
    "pod-rbf": "POD + radial basis functions",
    "pod-mlp": "POD + neural network (PCA-NN on field inputs)",
    "fno": "Fourier neural operator (grids, any resolution)",
    "deeponet": "deep operator network (grids)",
    "rb": "certified reduced basis (datasets with operators; error bounds)",
    "mmgp": "mesh-morphing GP (a mesh per sample; error bars)",
    "hrom": "hyper-reduced model of a mechanics dataset (POD + ECM + reduced Newton)",
}
#: model name -> (surrogate kind, hyperparameters the name fixes)
RECIPES: dict[str, tuple[str, dict[str, Any]]] = {
    "pod-gp": ("pod", {"regressor": "gp"}),
    "pod-rbf": ("pod", {"regressor": "rbf"}),
    "pod-mlp": ("pod", {"regressor": "mlp"}),
    "fno": ("fno", {}),
    "deeponet": ("deeponet", {}),
    "rb": ("rb", {}),
    "mmgp": ("mmgp", {}),
    "hrom": ("hrom", {}),
}


def make_surrogate(name: str, **params: Any) -> Surrogate:
    """An unfitted surrogate ``name`` (one of :data:`MODELS`) with hyperparameters ``params``.

    Unknown options and values that cannot work raise a :class:`ModelError`
    (a :class:`~nirom.errors.HyperparameterError` for the values) naming them,
    before any data is read.
    """
    if name not in MODELS:
        raise ModelError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    kind, fixed = RECIPES[name]
    cls = saved_class("surrogate", kind)
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

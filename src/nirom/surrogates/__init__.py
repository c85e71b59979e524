"""Surrogates: one interface (fit, predict with error bars, save, load) for every model."""

from nirom.surrogates.base import ModelError, Surrogate
from nirom.surrogates.factory import MODELS, make_surrogate
from nirom.surrogates.neural import DeepONetSurrogate, FNOSurrogate
from nirom.surrogates.pod import PODSurrogate

__all__ = [
    "MODELS",
    "DeepONetSurrogate",
    "FNOSurrogate",
    "ModelError",
    "PODSurrogate",
    "Surrogate",
    "make_surrogate",
]

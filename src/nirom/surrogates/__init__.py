"""Surrogates: one interface (fit, predict with error bars, save, load) for every model."""

from nirom.surrogates.base import ModelError, Surrogate
from nirom.surrogates.pod import PODSurrogate

__all__ = ["ModelError", "PODSurrogate", "Surrogate"]

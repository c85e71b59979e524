"""Errors nirom raises for bad input.

Every error a user can cause derives from :class:`NiromError`; its message is
one line that names the culprit (parameter, field, file, sample). The command
line prints that line without a traceback.
"""

from __future__ import annotations


class NiromError(Exception):
    """Base class of errors caused by user input or on-disk state."""


class ParameterError(NiromError, ValueError):
    """A parameter value or a parameter-space definition is invalid."""


class MeshError(NiromError, ValueError):
    """A mesh is malformed, unreadable, or does not match the reference mesh."""


class DatasetError(NiromError):
    """A dataset store is missing, malformed, or was asked for something it lacks."""


class SchemaError(DatasetError):
    """A directory is not a nirom dataset, or was written by an incompatible version."""


class FieldError(DatasetError, ValueError):
    """A field is missing, has the wrong shape, or holds NaN/infinite values."""


class SampleExistsError(DatasetError):
    """A sample with this id is already done (perhaps written by another process)."""


class SampleMissingError(DatasetError):
    """No sample with this id is on disk."""


class MetricError(NiromError, ValueError):
    """Predictions and references cannot be compared (shapes, NaN, zero reference)."""


class ModelError(NiromError, ValueError):
    """A model cannot be built, loaded or used.

    An unknown model name or option, a model used before it is fitted, a saved
    model (or a part of one) missing, damaged, of another format or of another kind.
    """


class HyperparameterError(ParameterError, ModelError):
    """A hyperparameter of an estimator (reduction, regressor, surrogate) cannot work.

    Raised by ``check_params()`` before any data is read. It is a
    :class:`ParameterError` (so a ``ValueError``, as scikit-learn raises) and a
    :class:`ModelError` (what building a model by name raises).
    """


class StudyError(NiromError, ValueError):
    """A study file is missing, unreadable, or has a wrong or missing entry."""


class TorchMissingError(NiromError, ImportError):
    """PyTorch, needed to train neural models, is not installed."""

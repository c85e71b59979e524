"""Offline reduction: compress snapshot sets into a few modes.

:class:`POD` is the proper orthogonal decomposition (exact, randomized,
method-of-snapshots and streaming incremental algorithms; optional finite
element inner product), a scikit-learn transformer from fields to
coefficients and back.
"""

from nirom.reduction.pod import POD

__all__ = ["POD"]

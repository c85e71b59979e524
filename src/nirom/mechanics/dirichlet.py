"""Dirichlet conditions: constrained dofs, free dofs, imposed values, lifting.

The solver eliminates the constrained dofs: it solves for the free dofs only,
with the full displacement ``u = lift(u_free, t)`` holding the imposed values
on the constrained ones. A reduced model does the same with its basis on the
free dofs (:attr:`DirichletConditions.free`) and the lifting of the imposed
values (:meth:`DirichletConditions.lift` with ``u_free = 0``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nirom.mechanics.amplitudes import Amplitude


class DirichletConditions:
    """Imposed displacements ``value * amplitude(t)`` on sets of dofs.

    Parameters
    ----------
    n_dofs : int
        Number of dofs of the space.
    imposed : sequence of (dofs, value, amplitude)
        Dof indices, the value imposed on them (length unit) and its amplitude.
        A dof listed twice keeps its last condition.

    Attributes
    ----------
    dofs : ndarray of int
        Constrained dofs, sorted.
    free : ndarray of int
        The other dofs, sorted.
    """

    def __init__(self, n_dofs: int, imposed: Sequence[tuple[np.ndarray, float, Amplitude]]) -> None:
        self.n_dofs = int(n_dofs)
        owner = np.full(self.n_dofs, -1)
        for k, (dofs, _, _) in enumerate(imposed):
            owner[np.asarray(dofs, dtype=np.int64)] = k
        self.dofs = np.flatnonzero(owner >= 0)
        self.free = np.flatnonzero(owner < 0)
        self._owner = owner[self.dofs]
        self._terms = [(value, amplitude) for _, value, amplitude in imposed]

    def values(self, t: float) -> np.ndarray:
        """Imposed values on :attr:`dofs` at time ``t``, in the length unit."""
        scale = np.array([value * float(amplitude(t)) for value, amplitude in self._terms])
        return scale[self._owner] if self._terms else np.zeros(0)

    def lift(self, u_free: np.ndarray, t: float) -> np.ndarray:
        """Full dof vector from free values and the values imposed at time ``t``."""
        u = np.zeros(self.n_dofs)
        u[self.free] = u_free
        u[self.dofs] = self.values(t)
        return u

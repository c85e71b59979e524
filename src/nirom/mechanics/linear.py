"""Sparse linear solvers for the Newton tangent systems, chosen by measurement.

``make_linear_solver("auto")`` picks by measurement (``benchmarks/mechanics.py
--linear-solvers`` on plate-hole tangents; figures in ARCHITECTURE.md):

- ``"pardiso"``: Intel MKL PARDISO through ``pypardiso`` (the ``mechanics``
  extra; a PyPI wheel), real unsymmetric mode, so it also takes the unsymmetric
  consistent tangents of Armstrong-Frederick hardening; its symbolic analysis is
  reused while the pattern stays. About 2.7x faster than SuperLU at 10k
  unknowns and 2.2x at 100k, but slower below a few thousand (thread start-up),
  so "auto" uses it from :data:`PARDISO_FROM` unknowns on;
- ``"superlu"``: SciPy's SuperLU (``splu``, symmetric minimum-degree ordering),
  always there: the small systems, and the fallback when pypardiso is absent.

``"amg"`` (pyamg smoothed-aggregation preconditioned GMRES, restarted) is
available by name: slower than the direct solvers at these sizes (see the
figures), and unreliable on the near-singular tangents of collapsing plastic zones.
Every solver raises :class:`LinearSolveError` when the matrix is singular or the
result is not finite, which the Newton solver treats as a failed iteration
(it cuts the step).
"""

from __future__ import annotations

import importlib.util
import os
from abc import ABC, abstractmethod

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from nirom.errors import NiromError, ParameterError


class LinearSolveError(NiromError, RuntimeError):
    """A tangent system could not be solved (singular matrix, non-finite result)."""


class LinearSolver(ABC):
    """Solves ``K x = b`` for one matrix at a time (a new factorization per call)."""

    name: str = ""

    @abstractmethod
    def _solve(self, matrix: sp.csr_matrix, rhs: np.ndarray) -> np.ndarray: ...

    def solve(self, matrix: sp.csr_matrix, rhs: np.ndarray) -> np.ndarray:
        """``x`` with ``matrix @ x = rhs``; LinearSolveError if singular or not finite."""
        try:
            x = self._solve(matrix, rhs)
        except (RuntimeError, ValueError, ArithmeticError) as exc:
            raise LinearSolveError(f"{self.name}: {exc}") from None
        if not np.all(np.isfinite(x)):
            raise LinearSolveError(f"{self.name}: the solution holds NaN or infinite values")
        return x


class SuperLU(LinearSolver):
    name = "superlu"

    def _solve(self, matrix: sp.csr_matrix, rhs: np.ndarray) -> np.ndarray:
        lu = spla.splu(matrix.tocsc(), permc_spec="MMD_AT_PLUS_A")
        return lu.solve(rhs)


class Pardiso(LinearSolver):
    """MKL PARDISO (real unsymmetric). The symbolic analysis (fill-reducing ordering) is
    kept while the sparsity pattern stays the same, as it does across Newton iterations,
    so each later call only factorizes numerically and solves."""

    name = "pardiso"

    def __init__(self) -> None:
        # MKL's OpenMP threads otherwise spin for 200 ms after each solve, taking
        # shared cores from the assembly and the law that follow (a precaution: on this
        # loaded 2-core machine the effect was within the noise). Only effective before
        # MKL's runtime loads, i.e. here.
        os.environ.setdefault("KMP_BLOCKTIME", "0")
        import pypardiso

        self._solver = pypardiso.PyPardisoSolver()  # mtype 11: real unsymmetric
        self._solver.set_statistical_info_off()
        self._pattern: tuple[np.ndarray, np.ndarray] | None = None

    def _solve(self, matrix: sp.csr_matrix, rhs: np.ndarray) -> np.ndarray:
        matrix = sp.csr_matrix(matrix)
        matrix.sort_indices()
        rhs = np.asarray(rhs, dtype=float)
        pattern = self._pattern
        same = (
            pattern is not None
            and np.array_equal(pattern[0], matrix.indptr)
            and np.array_equal(pattern[1], matrix.indices)
        )
        if not same:
            self._solver.set_phase(11)  # analysis
            self._solver._call_pardiso(matrix, rhs)
            self._pattern = (matrix.indptr.copy(), matrix.indices.copy())
        self._solver.set_phase(23)  # numerical factorization and solve
        return self._solver._call_pardiso(matrix, rhs)


class AMG(LinearSolver):
    name = "amg"

    def __init__(self, rtol: float = 1e-10, maxiter: int = 500) -> None:
        import pyamg  # noqa: F401 - fail at construction if absent

        self.rtol, self.maxiter = rtol, maxiter

    def _solve(self, matrix: sp.csr_matrix, rhs: np.ndarray) -> np.ndarray:
        import pyamg

        ml = pyamg.smoothed_aggregation_solver(matrix.tocsr(), symmetry="nonsymmetric")
        residuals: list[float] = []
        x = ml.solve(rhs, tol=self.rtol, maxiter=self.maxiter, accel="gmres", residuals=residuals)
        if residuals and residuals[-1] > 10 * self.rtol * max(residuals[0], 1e-300):
            raise RuntimeError(
                f"GMRES stopped at relative residual {residuals[-1] / residuals[0]:.2g}"
            )
        return x


#: Unknowns from which "auto" prefers PARDISO to SuperLU (measured crossover).
PARDISO_FROM = 5000


class Auto(LinearSolver):
    """SuperLU below :data:`PARDISO_FROM` unknowns, PARDISO from there (if installed)."""

    name = "auto"

    def __init__(self) -> None:
        self._small = SuperLU()
        self._large: LinearSolver | None = None  # PARDISO, loaded (MKL) on first need

    def _solve(self, matrix: sp.csr_matrix, rhs: np.ndarray) -> np.ndarray:
        return self.choice(matrix.shape[0])._solve(matrix, rhs)

    def choice(self, n: int) -> LinearSolver:
        """The solver used for ``n`` unknowns."""
        if n < PARDISO_FROM:
            return self._small
        if self._large is None:
            pardiso = "pardiso" in available_linear_solvers()
            self._large = Pardiso() if pardiso else self._small
        return self._large


_SOLVERS: dict[str, tuple[type[LinearSolver], str | None]] = {
    "auto": (Auto, None),
    "pardiso": (Pardiso, "pypardiso"),
    "superlu": (SuperLU, None),
    "amg": (AMG, "pyamg"),
}


def available_linear_solvers() -> list[str]:
    """Names of the linear solvers whose packages are installed."""
    return [
        name
        for name, (_, module) in _SOLVERS.items()
        if module is None or importlib.util.find_spec(module) is not None
    ]


def make_linear_solver(name: str = "auto") -> LinearSolver:
    """The linear solver ``name``: "auto" (measured choice by size), "pardiso", "superlu", "amg"."""
    available = available_linear_solvers()
    if name not in _SOLVERS:
        raise ParameterError(f"unknown linear solver {name!r}; choose one of {', '.join(_SOLVERS)}")
    if name not in available:
        raise ParameterError(
            f"linear solver {name!r} needs the package {_SOLVERS[name][1]!r}, which is not "
            f"installed (installed: {', '.join(available)})"
        )
    return _SOLVERS[name][0]()

"""Viscous Burgers: a periodic one-dimensional flow from a random initial condition.

Equations (nondimensional units)::

    u_t + (u**2 / 2)_x = nu u_xx   for x in [0, 1) periodic, t in (0, T]
               u(x, 0) = u0(x)

with ``nu = 0.1`` and ``T = 1`` by default. The input is the initial
condition ``u0`` at the ``n`` points ``x_j = j / n`` (``n = resolution``); the
output ``u`` is ``u(x_j, T)`` at the same points. The mesh has those points
(1-D coordinates) and the ``n - 1`` line cells ``(j, j + 1)``; the periodic
wrap-around cell ``(n - 1, 0)`` is omitted.

Prior of ``u0`` (:meth:`Burgers.draw_field_inputs`), as in the Fourier neural
operator paper (Li et al. 2021): the periodic Gaussian random field
``N(0, 625 (-Laplacian + 25 I)**(-2))`` (``sigma = 25``, ``tau = 5``,
``gamma = 2``, :func:`nirom.random_fields.grf_periodic_1d`) at the ``n``
points, constant mode dropped.

Discretisation: Fourier pseudo-spectral on ``N = solve_resolution`` points
(real FFTs), the quadratic term dealiased by the 2/3 rule (``u`` truncated to
wavenumbers ``|k| <= (N - 1) // 3`` before squaring, the product truncated
likewise); in time, the fourth-order exponential time-differencing
Runge-Kutta scheme ETDRK4 of Cox & Matthews with the phi-functions evaluated
by contour integrals (Kassam & Trefethen, SIAM J. Sci. Comput. 26, 2005).
The ``ceil(T / dt)`` steps are equal, ``T / ceil(T / dt) <= dt``, so the last
one lands on ``T``. When ``N > n`` the input is interpolated
to the solve grid by zero-padding its Fourier series, and the output is the
solve-grid solution at the ``n`` output points.

The default step ``dt = 1e-3`` is the largest of a convergence study
(64 prior draws, ``n = 1024``, against ``dt = 1e-4``) that keeps the relative
L2 error at ``T = 1`` near ``1e-8``: median ``2e-9``, largest ``1.6e-8``
(``dt = 2e-3`` gives ``1.2e-8`` and ``8.5e-8``). The rough prior draws (in
``H^s`` only for ``s < 3/2``) reduce the observed order of ETDRK4 with equal
steps to about 3; smooth data (the Cole-Hopf solutions of the tests) show
order 4. The spatial error at ``n = 1024`` is at round-off level.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp

from nirom.checks import check_integer, check_number
from nirom.dataset.schema import FieldSpec
from nirom.errors import ParameterError
from nirom.mesh import Mesh
from nirom.parameters import FieldInput, ParameterSpace
from nirom.random_fields import grf_periodic_1d, sample_rng
from nirom.solvers.base import Solver, SolverError, check_finite, register

# Points of the contour integrals for the ETDRK4 coefficients (upper half circle).
_CONTOUR_POINTS = 32


def etdrk4_coefficients(
    linear: np.ndarray, h: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """ETDRK4 coefficients ``(E, E2, Q, f1, f2, f3)`` of a diagonal real linear part.

    ``linear`` holds the eigenvalues ``L`` (real, <= 0 here), ``h`` the step;
    with ``z = h L``: ``E = exp(z)``, ``E2 = exp(z / 2)``, and ``Q``, ``f1``,
    ``f2``, ``f3`` the step-scaled phi-function combinations of Kassam &
    Trefethen (2005), each evaluated as the mean over points of a circle of
    radius 1 around ``z`` (no cancellation near ``z = 0``).
    """
    z = h * np.asarray(linear, dtype=float)
    r = np.exp(1j * np.pi * (np.arange(1, _CONTOUR_POINTS + 1) - 0.5) / _CONTOUR_POINTS)
    lr = z[..., None] + r
    ex = np.exp(lr)

    def mean(values: np.ndarray) -> np.ndarray:
        return h * np.real(values.mean(axis=-1))

    q = mean((np.exp(lr / 2) - 1) / lr)
    f1 = mean((-4 - lr + ex * (4 - 3 * lr + lr**2)) / lr**3)
    f2 = mean((2 + lr + ex * (-2 + lr)) / lr**3)
    f3 = mean((-4 - 3 * lr - lr**2 + ex * (4 - lr)) / lr**3)
    return np.exp(z), np.exp(z / 2), q, f1, f2, f3


def line_mesh(n: int) -> Mesh:
    """The points ``j / n`` of ``[0, 1)`` and line cells ``(j, j + 1)`` (no wrap-around cell)."""
    j = np.arange(n - 1)
    return Mesh(np.arange(n, dtype=float)[:, None] / n, [("line", np.stack([j, j + 1], axis=1))])


@register("burgers")
class Burgers(Solver):
    """Fourier pseudo-spectral / ETDRK4 solver of the periodic viscous Burgers equation.

    Parameters
    ----------
    resolution : int
        Number ``n`` of input/output points ``x_j = j / n``.
    solve_resolution : int or None
        Number ``N`` of collocation points of the solve, a multiple of ``n``;
        None means ``n``.
    viscosity : float
        Kinematic viscosity ``nu`` (> 0).
    t_final : float
        Final time ``T`` (> 0).
    dt : float
        Largest time step; the ``ceil(T / dt)`` steps are equal.
    sigma, tau, gamma : float
        Prior of ``u0``: covariance ``sigma**2 (-Laplacian + tau**2)**(-gamma)``.
    """

    def __init__(
        self,
        resolution: int = 1024,
        solve_resolution: int | None = None,
        viscosity: float = 0.1,
        t_final: float = 1.0,
        dt: float = 1e-3,
        sigma: float = 25.0,
        tau: float = 5.0,
        gamma: float = 2.0,
    ) -> None:
        n = check_integer("resolution", resolution, 4)
        fine = (
            n
            if solve_resolution is None
            else check_integer("solve_resolution", solve_resolution, 4)
        )
        if fine % n:
            raise ParameterError(f"solve_resolution {fine} must be a multiple of resolution {n}")
        self.viscosity = check_number("viscosity", viscosity, "positive")
        self.t_final = check_number("t_final", t_final, "positive")
        dt = check_number("dt", dt, "positive")
        self.sigma = check_number("sigma", sigma, "nonnegative")
        self.tau = check_number("tau", tau, "nonnegative")
        self.gamma = check_number("gamma", gamma, "positive")
        self.resolution, self.solve_resolution = n, fine
        self.n_steps = max(1, math.ceil(self.t_final / dt * (1 - 1e-12)))
        self.dt = self.t_final / self.n_steps
        self.options = {
            "resolution": n,
            "solve_resolution": None if solve_resolution is None else fine,
            "viscosity": self.viscosity,
            "t_final": self.t_final,
            "dt": dt,
            "sigma": self.sigma,
            "tau": self.tau,
            "gamma": self.gamma,
        }
        self.space = ParameterSpace([FieldInput("u0", (n,), unit="1")])
        self.fields = [FieldSpec("u", location="point", unit="1")]
        self.mesh = line_mesh(n)
        index = np.arange(fine // 2 + 1)
        wavenumber = 2 * np.pi * index
        self._mask = index <= (fine - 1) // 3
        # -(u**2 / 2)_x is -i k / 2 times the Fourier coefficients of u**2.
        self._g = -0.5j * wavenumber * self._mask
        self._coefficients = etdrk4_coefficients(-self.viscosity * wavenumber**2, self.dt)

    def draw_field_inputs(self, sample_id: int, seed: int) -> dict[str, np.ndarray]:
        """Gaussian initial condition of sample ``sample_id``: {"u0": (n,)}."""
        rng = sample_rng(seed, sample_id)
        return {"u0": grf_periodic_1d(self.resolution, rng, self.sigma, self.tau, self.gamma)}

    def mass_matrix(self) -> sp.csr_matrix:
        """``I / n``: ``u^T M u`` is the squared L2 norm of the trigonometric interpolant of ``u``.

        This is the trapezoidal rule on the periodic grid, exact for the
        interpolant; unlike ``self.mesh.mass_matrix()`` it includes the
        wrap-around interval ``[(n - 1) / n, 1)``.
        """
        n = self.resolution
        return sp.diags(np.full(n, 1.0 / n)).tocsr()

    def _nonlinear(self, v: np.ndarray) -> np.ndarray:
        """Dealiased Fourier coefficients of ``-(u**2 / 2)_x`` for coefficients ``v`` of ``u``."""
        u = np.fft.irfft(v * self._mask, n=self.solve_resolution, axis=-1)
        return self._g * np.fft.rfft(u * u, axis=-1)

    def _to_solve_grid(self, u0: np.ndarray) -> np.ndarray:
        """Fourier coefficients on the solve grid of the trigonometric interpolant of ``u0``."""
        n, fine = self.resolution, self.solve_resolution
        v = np.fft.rfft(u0, axis=-1)
        if fine == n:
            return v
        if n % 2 == 0:
            v[..., n // 2] *= 0.5  # the Nyquist mode splits between +-n/2 on the finer grid
        padded = np.zeros((*v.shape[:-1], fine // 2 + 1), dtype=complex)
        padded[..., : v.shape[-1]] = v * (fine / n)
        return padded

    def _integrate(self, u0: np.ndarray) -> np.ndarray:
        """Solution at ``t = T`` at the output points for initial values ``u0`` (..., n)."""
        v = self._to_solve_grid(u0)
        with np.errstate(over="ignore", invalid="ignore"):  # a blow-up is reported as NaN
            v = self._steps(v)
        u = np.fft.irfft(v, n=self.solve_resolution, axis=-1)
        return u[..., :: self.solve_resolution // self.resolution]

    def _steps(self, v: np.ndarray) -> np.ndarray:
        """``n_steps`` ETDRK4 steps from Fourier coefficients ``v`` on the solve grid."""
        e, e2, q, f1, f2, f3 = self._coefficients
        for _ in range(self.n_steps):
            nv = self._nonlinear(v)
            a = e2 * v + q * nv
            na = self._nonlinear(a)
            b = e2 * v + q * na
            nb = self._nonlinear(b)
            c = e2 * a + q * (2 * nb - nv)
            nc = self._nonlinear(c)
            v = e * v + nv * f1 + 2 * (na + nb) * f2 + nc * f3
        return v

    def solve(self, mu: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Solution at ``t = T`` at the ``n`` points from ``u(x, 0) = mu["u0"]``: {"u": (n,)}."""
        u0 = self.space.validate(mu)["u0"]
        return check_finite(self.name, {"u": self._integrate(u0)})

    def solve_batch(self, u0: np.ndarray) -> np.ndarray:
        """Solutions at ``t = T`` for the initial conditions in the rows of ``u0`` (m, n): (m, n).

        Vectorized over the rows; each row is the result :meth:`solve` gives
        (up to round-off from the batched FFTs).
        """
        try:
            u0 = np.asarray(u0, dtype=float)
        except (TypeError, ValueError):
            raise ParameterError("field input 'u0': values must be numbers") from None
        if u0.ndim != 2 or u0.shape[1] != self.resolution:
            raise ParameterError(
                f"field input 'u0': expected a batch of shape (m, {self.resolution}), "
                f"got {u0.shape}"
            )
        bad = np.flatnonzero(~np.isfinite(u0).all(axis=1))
        if bad.size:
            raise ParameterError(
                f"field input 'u0': row {bad[0]} has NaN or infinite values ({bad.size} bad rows)"
            )
        u = self._integrate(u0)
        bad = np.flatnonzero(~np.isfinite(u).all(axis=1))
        if bad.size:
            raise SolverError(
                f"{self.name}: field 'u' has NaN or infinite values in row {bad[0]} "
                f"({bad.size} bad rows)"
            )
        return u

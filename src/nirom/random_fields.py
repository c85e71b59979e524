"""Seeded Gaussian random fields by Karhunen-Loeve (spectral) expansion.

Every field here is a centred Gaussian field with covariance operator::

    C = sigma**2 * (-Laplacian + tau**2 I)**(-alpha)

on the unit interval or square, expanded in the eigenfunctions ``phi_k`` of
the Laplacian: ``u = sum_k sigma * lambda_k**(-alpha/2) * xi_k * phi_k`` with
``lambda_k`` the eigenvalue of ``-Laplacian + tau**2 I`` and ``xi_k`` i.i.d.
standard normal. The constant mode ``k = 0`` is dropped, as in the data code
of the Fourier neural operator paper (Li et al. 2021, ``GRF1.m`` and
``GRF.m``), so periodic draws have zero spatial mean. Fields are evaluated
exactly (no quadrature, no interpolation) at grid points, so the covariance of
the returned values is the truncated series' covariance at those points.

* Periodic on ``[0, 1)**d`` (:func:`grf_periodic_1d`, :func:`grf_periodic_2d`):
  Fourier modes ``exp(2 pi i k.x)``, ``lambda_k = (2 pi |k|)**2 + tau**2``,
  sampled at the ``n`` points ``x_j = j / n`` per axis. With
  ``sigma = 25, tau = 5, alpha = 2`` this is the initial-condition prior of
  the FNO Burgers data.
* Neumann on ``[0, 1]**2`` (:func:`grf_neumann_2d`): modes
  ``cos(pi k1 x) cos(pi k2 y)``, ``lambda_k = pi**2 |k|**2 + tau**2``, sampled
  at the ``s x s`` nodes ``x_j = j / (s - 1)``. With ``tau = 3, alpha = 2``,
  thresholded at 0, this is the FNO Darcy coefficient prior.

Two-dimensional arrays are indexed ``[iy, ix]``: ``u[iy, ix]`` is the value
at ``(x_ix, y_iy)``. All randomness comes from the ``numpy.random.Generator``
passed in, in a documented order, so a seeded generator reproduces a field.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.fft

from nirom.checks import check_integer, check_number
from nirom.errors import ParameterError


def _check_generator(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ParameterError(
            f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {rng!r}"
        )
    return rng


def _grf_periodic(
    n: int,
    dim: int,
    rng: np.random.Generator,
    sigma: float,
    tau: float,
    alpha: float,
    n_modes: int | None,
) -> np.ndarray:
    n = check_integer("number of points n", n)
    k_max = n // 2 if n_modes is None else check_integer("n_modes", n_modes)
    sigma = check_number("sigma", sigma, "nonnegative")
    tau = check_number("tau", tau, "nonnegative")
    alpha = check_number("alpha", alpha, "positive")
    rng = _check_generator(rng)
    k = np.arange(-k_max, k_max + 1)
    grids = np.meshgrid(*([k] * dim), indexing="ij")
    k_squared = sum(g.astype(float) ** 2 for g in grids)
    with np.errstate(divide="ignore"):
        amplitude = sigma * ((2 * np.pi) ** 2 * k_squared + tau**2) ** (-alpha / 2)
    amplitude[(k_max,) * dim] = 0.0  # drop the constant mode (and a 0**-alpha)
    xi = rng.standard_normal((2, *amplitude.shape))
    coefficients = amplitude * (xi[0] + 1j * xi[1])
    # Fold each wavenumber onto its grid frequency k mod n: exact values at x_j = j / n.
    folded = np.zeros((n,) * dim, dtype=complex)
    np.add.at(folded, tuple(g % n for g in grids), coefficients)
    return np.ascontiguousarray(np.real(scipy.fft.ifftn(folded, norm="forward")))


def grf_periodic_1d(
    n: int,
    rng: np.random.Generator,
    sigma: float,
    tau: float,
    alpha: float,
    n_modes: int | None = None,
) -> np.ndarray:
    """Periodic Gaussian random field on ``[0, 1)`` at the points ``x_j = j / n``.

    Covariance ``sigma**2 (-d^2/dx^2 + tau**2)**(-alpha)`` without its constant
    mode: the draw is::

        u(x) = Re sum_{0 < |k| <= K} sigma ((2 pi k)**2 + tau**2)**(-alpha/2)
                                     (xi_k + i eta_k) exp(2 pi i k x)

    whose covariance ``sum_{k=1..K} 2 sigma**2 ((2 pi k)**2 + tau**2)**(-alpha)
    cos(2 pi k (x - y))`` is that of the FNO paper's ``GRF1.m`` (coefficients
    ``sqrt(2) sigma ((2 pi k)**2 + tau**2)**(-alpha/2)`` on ``cos``/``sin``).

    Parameters
    ----------
    n : int
        Number of grid points.
    rng : numpy.random.Generator
        Source of ``(xi, eta) = rng.standard_normal((2, 2K + 1))``, indexed by
        ``k + K`` (the ``k = 0`` entries are drawn and unused).
    sigma : float
        Amplitude (the field's unit).
    tau : float
        Inverse length scale, in 1 / (domain length).
    alpha : float
        Smoothness exponent (> 0); draws are in ``H^s`` for ``s < alpha - 1/2``.
    n_modes : int or None
        Truncation ``K``; ``None`` means ``n // 2``. Modes above the Nyquist
        frequency alias exactly as the continuous field's point values do.

    Returns
    -------
    ndarray of shape (n,)
    """
    return _grf_periodic(n, 1, rng, sigma, tau, alpha, n_modes)


def grf_periodic_2d(
    n: int,
    rng: np.random.Generator,
    sigma: float,
    tau: float,
    alpha: float,
    n_modes: int | None = None,
) -> np.ndarray:
    """Periodic Gaussian random field on ``[0, 1)**2`` at the ``n x n`` points ``j / n``.

    As :func:`grf_periodic_1d` with wavenumbers ``k = (k_y, k_x)``,
    ``|k_x|, |k_y| <= K``, ``k != 0``, eigenvalues ``(2 pi |k|)**2 + tau**2``,
    and ``(xi, eta) = rng.standard_normal((2, 2K + 1, 2K + 1))`` indexed
    ``[., k_y + K, k_x + K]``. Covariance
    ``sum_{k != 0} sigma**2 ((2 pi |k|)**2 + tau**2)**(-alpha) cos(2 pi k.(x - y))``.

    Returns
    -------
    ndarray of shape (n, n), indexed ``[iy, ix]``
    """
    return _grf_periodic(n, 2, rng, sigma, tau, alpha, n_modes)


def neumann_eigenvalues(s: int, tau: float) -> np.ndarray:
    """Eigenvalues ``pi**2 |k|**2 + tau**2`` for ``0 <= k_x, k_y < s``, indexed ``[k_y, k_x]``."""
    k = np.arange(s, dtype=float)
    return np.pi**2 * (k[:, None] ** 2 + k[None, :] ** 2) + tau**2


def grf_neumann_2d(
    s: int,
    rng: np.random.Generator,
    tau: float,
    alpha: float,
    sigma: float | None = None,
) -> np.ndarray:
    """Gaussian random field on ``[0, 1]**2`` with Neumann modes, at the nodes ``j / (s - 1)``.

    The draw is the Karhunen-Loeve sum over ``0 <= k_x, k_y < s``, ``k != 0``::

        u(x, y) = sum_k sigma (pi**2 |k|**2 + tau**2)**(-alpha/2) xi_k phi_k(x, y)

    with the orthonormal cosines ``phi_k = c_kx cos(pi k_x x) c_ky cos(pi k_y y)``,
    ``c_0 = 1``, ``c_k = sqrt(2)`` for ``k > 0``: covariance
    ``sigma**2 (-Laplacian + tau**2)**(-alpha)`` with zero normal derivative
    on the boundary, constant mode dropped. This is the FNO paper's ``GRF.m``
    (which evaluates the same sum at cell centres with ``idct2``), whose
    amplitude is ``sigma = tau**(alpha - 1)``, the default.

    Parameters
    ----------
    s : int
        Nodes per side (>= 2); also the number of modes per axis.
    rng : numpy.random.Generator
        Source of ``xi = rng.standard_normal((s, s))``, indexed ``[k_y, k_x]``
        (``xi[0, 0]`` is drawn and unused).
    tau : float
        Inverse length scale, in 1 / (domain length).
    alpha : float
        Smoothness exponent (> 0).
    sigma : float or None
        Amplitude; ``None`` means ``tau**(alpha - 1)``.

    Returns
    -------
    ndarray of shape (s, s), indexed ``[iy, ix]`` (node ``(ix / (s-1), iy / (s-1))``)
    """
    s = check_integer("number of nodes per side s", s, least=2)
    tau = check_number("tau", tau, "nonnegative")
    alpha = check_number("alpha", alpha, "positive")
    sigma = tau ** (alpha - 1) if sigma is None else check_number("sigma", sigma, "nonnegative")
    rng = _check_generator(rng)
    with np.errstate(divide="ignore"):
        coefficients = sigma * neumann_eigenvalues(s, tau) ** (-alpha / 2)
    coefficients[0, 0] = 0.0
    norm = np.full(s, math.sqrt(2.0))
    norm[0] = 1.0
    coefficients *= rng.standard_normal((s, s)) * norm[:, None] * norm[None, :]
    return cosine_sum_at_nodes(coefficients)


def cosine_sum_at_nodes(coefficients: np.ndarray) -> np.ndarray:
    """``sum_{k_y, k_x} c[k_y, k_x] cos(pi k_x x) cos(pi k_y y)`` at the nodes ``j / (s - 1)``.

    Evaluated exactly with a type-1 discrete cosine transform; ``coefficients``
    is ``(s, s)``, ``s >= 2``, indexed ``[k_y, k_x]``; the result is indexed
    ``[iy, ix]``.
    """
    c = np.array(coefficients, dtype=float)
    if c.ndim != 2 or c.shape[0] != c.shape[1] or c.shape[0] < 2:
        raise ParameterError(f"cosine coefficients must have shape (s, s), s >= 2, got {c.shape}")
    # The unnormalized DCT-I weights its interior terms by 2: halve them.
    c[1:-1, :] *= 0.5
    c[:, 1:-1] *= 0.5
    return scipy.fft.dctn(c, type=1)


def sample_rng(seed: int, sample_id: int) -> np.random.Generator:
    """Generator of sample ``sample_id`` of a run seeded ``seed``: ``default_rng([seed, id])``.

    It depends on the pair only, so any worker draws the same field for a
    sample, in any order.
    """
    seed = check_integer("seed", seed, least=0)
    sample_id = check_integer("sample_id", sample_id, least=0)
    return np.random.default_rng([seed, sample_id])

"""Truncated discrete Fourier transforms as matrix products, for spectral convolutions.

A spectral convolution keeps only the lowest ``m`` modes per axis, so it needs
``rfft`` restricted to those modes and ``irfft`` of a spectrum that is zero
elsewhere. Computed as products with ``(n, m)`` DFT matrices, these cost
``O(n m)`` per axis and run as dense matrix multiplications: on a CPU they are
several times faster than ``torch.fft`` for the grids and mode counts of
neural operators (pocketfft is slow on small and on prime-factor lengths such
as 94 or 141), and the result equals the FFT path up to rounding at any grid
size, so resolution independence is unchanged.

Conventions match ``torch.fft``: forward ``X_k = sum_j x_j exp(-2 pi i k j / n)``;
the inverse is ``irfft``'s, which takes the real part of the zero (and Nyquist)
frequency along the last axis.
"""

from __future__ import annotations

import functools
import math

import torch
from torch import Tensor


def kept_frequencies(n: int, m: int, both_signs: bool) -> list[int]:
    """Frequencies kept on an axis of ``n`` points: ``0..m-1``, then ``-m..-1`` if both signs."""
    return list(range(m)) + (list(range(-m, 0)) if both_signs else [])


@functools.lru_cache(maxsize=64)
def _matrices(
    n: int, m: int, both_signs: bool, device: torch.device, dtype: torch.dtype
) -> tuple[Tensor, Tensor]:
    """Forward (n, K) and inverse (K, n) complex DFT matrices of the kept frequencies."""
    k = torch.tensor(kept_frequencies(n, m, both_signs), dtype=torch.float64)
    j = torch.arange(n, dtype=torch.float64)
    angle = 2.0 * math.pi * torch.outer(j, k) / n
    forward = torch.polar(torch.ones_like(angle), -angle)
    inverse = torch.polar(torch.ones_like(angle), angle).T / n
    complex_dtype = torch.complex64 if dtype == torch.float32 else torch.complex128
    return forward.to(device, complex_dtype), inverse.to(device, complex_dtype)


def _irfft_weights(n: int, m: int, device: torch.device, dtype: torch.dtype) -> Tensor:
    """Hermitian weights of the half spectrum: 1 for frequency 0 (and n/2), 2 otherwise."""
    w = torch.full((m,), 2.0, dtype=dtype, device=device)
    w[0] = 1.0
    if 2 * (m - 1) == n:
        w[-1] = 1.0
    return w


def rfft_modes(x: Tensor, modes: tuple[int, ...]) -> Tensor:
    """Kept Fourier coefficients of real ``x`` (batch, channels, *grid), complex.

    1-D: shape (batch, channels, m). 2-D: (batch, channels, 2 m0, m1), the first
    axis holding frequencies ``0..m0-1`` then ``-m0..-1``, as ``rfft2`` ordered
    and sliced by a spectral convolution.
    """
    grid = x.shape[2:]
    last_f, _ = _matrices(grid[-1], modes[-1], False, x.device, x.dtype)
    h = torch.matmul(x.to(last_f.dtype), last_f)  # (..., n1) @ (n1, m1)
    if len(grid) == 2:
        first_f, _ = _matrices(grid[0], modes[0], True, x.device, x.dtype)
        h = torch.einsum("bcxl,xk->bckl", h, first_f)
    return h


def irfft_modes(coeffs: Tensor, grid: tuple[int, ...], dtype: torch.dtype) -> Tensor:
    """Real field on ``grid`` from kept coefficients, as ``irfftn`` of a zero-padded spectrum."""
    modes = (coeffs.shape[2] // 2, coeffs.shape[-1]) if len(grid) == 2 else (coeffs.shape[-1],)
    h = coeffs
    if len(grid) == 2:
        _, first_i = _matrices(grid[0], modes[0], True, coeffs.device, dtype)
        h = torch.einsum("bckl,kx->bcxl", h, first_i)
    _, last_i = _matrices(grid[-1], modes[-1], False, coeffs.device, dtype)
    h = h * _irfft_weights(grid[-1], modes[-1], coeffs.device, dtype)
    # Real part of the inverse along the last axis: Re(h) @ Re(E) - Im(h) @ Im(E).
    return torch.matmul(h.real, last_i.real) - torch.matmul(h.imag, last_i.imag)

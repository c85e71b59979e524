"""Symmetric second- and fourth-order tensors in Mandel notation (small strains, 3D).

Convention (the whole of :mod:`nirom.mechanics` uses it): a symmetric tensor ``t``
(strain, stress, back stress, plastic strain) is a vector of 6 components

    (t11, t22, t33, sqrt2 t23, sqrt2 t13, sqrt2 t12)

and a batch of ``n`` of them an array of shape ``(n, 6)``. In this notation the
double contraction ``a : b`` is the dot product ``a @ b``, the norm is the
Euclidean norm, and a fourth-order tensor with minor symmetries (an elastic
stiffness, a consistent tangent ``d sigma / d eps``) is a ``(6, 6)`` matrix that
maps strains to stresses by a matrix product, with no factor 2 on shear terms.
The symmetric fourth-order identity is the ``(6, 6)`` identity matrix.

Output (datasets, ParaView) uses physical components in Voigt order
(xx, yy, zz, yz, xz, xy): :func:`mandel_to_voigt` divides the shear entries by
sqrt2 (tensor components; ``engineering_shear=True`` gives gamma = 2 eps_ij for strains).

Plane strain: the strain has zero 33, 23 and 13 components; the in-plane
components are :data:`PLANE_STRAIN_COMPONENTS` = (0, 1, 5) (11, 22, sqrt2 12).

Units: whatever the caller uses (the built-in cases: MPa for stresses and moduli).
"""

from __future__ import annotations

import numpy as np

SQRT2 = float(np.sqrt(2.0))

#: Mandel indices of the in-plane components (11, 22, sqrt2 12) used in plane strain.
PLANE_STRAIN_COMPONENTS: tuple[int, int, int] = (0, 1, 5)

#: Voigt order of the physical components returned by :func:`mandel_to_voigt`.
VOIGT_NAMES: tuple[str, ...] = ("xx", "yy", "zz", "yz", "xz", "xy")

#: Mandel indices of the stress components a solve reports, per dimension: in plane
#: strain (2) the 23 and 13 components are zero and left out, sigma_33 is kept.
STRESS_COMPONENTS: dict[int, tuple[int, ...]] = {2: (0, 1, 2, 5), 3: (0, 1, 2, 3, 4, 5)}

_ONE = np.array([1.0, 1.0, 1.0, 0.0, 0.0, 0.0])
_ONE.setflags(write=False)
_DEV = np.eye(6) - np.outer(_ONE, _ONE) / 3.0
_DEV.setflags(write=False)
# (row, col) of the 3x3 matrix entry that each Mandel component stands for.
_PAIRS = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))


def identity() -> np.ndarray:
    """The second-order identity, shape (6,)."""
    return _ONE.copy()


def identity_outer() -> np.ndarray:
    """``1 (x) 1``, shape (6, 6): maps a strain to its trace times the identity."""
    return np.outer(_ONE, _ONE)


def deviatoric_projector() -> np.ndarray:
    """``P = I - (1/3) 1 (x) 1``, shape (6, 6): ``P @ t`` is the deviator of ``t``."""
    return _DEV.copy()


def trace(t: np.ndarray) -> np.ndarray:
    """Trace ``t11 + t22 + t33`` of tensors of shape (..., 6): shape (...)."""
    return t[..., 0] + t[..., 1] + t[..., 2]


def deviator(t: np.ndarray) -> np.ndarray:
    """Deviatoric part ``t - (tr t / 3) 1`` of tensors of shape (..., 6), same shape."""
    d = np.array(t, dtype=float, copy=True)
    d[..., :3] -= trace(t)[..., None] / 3.0
    return d


def von_mises(t: np.ndarray) -> np.ndarray:
    """Von Mises equivalent ``sqrt(3/2 s : s)`` (s the deviator) of tensors (..., 6): shape (...).

    For a uniaxial stress ``sigma`` it is ``|sigma|``; for a pure shear ``tau`` it is
    ``sqrt(3) |tau|``.
    """
    s = deviator(t)
    return np.sqrt(1.5 * np.einsum("...i,...i->...", s, s))


def mandel_to_voigt(t: np.ndarray, engineering_shear: bool = False) -> np.ndarray:
    """Physical components (xx, yy, zz, yz, xz, xy) of Mandel tensors (..., 6).

    The shear entries are the tensor components ``t_ij``, or ``2 t_ij`` (engineering
    shear strains) if ``engineering_shear``.
    """
    out = np.array(t, dtype=float, copy=True)
    out[..., 3:] *= SQRT2 if engineering_shear else 1.0 / SQRT2
    return out


def voigt_to_mandel(v: np.ndarray, engineering_shear: bool = False) -> np.ndarray:
    """Mandel tensors (..., 6) from physical components (xx, yy, zz, yz, xz, xy).

    Inverse of :func:`mandel_to_voigt` with the same ``engineering_shear`` flag.
    """
    scale = 1.0 / SQRT2 if engineering_shear else SQRT2
    out = np.array(v, dtype=float, copy=True)
    out[..., 3:] *= scale
    return out


def mandel_stress(sigma: np.ndarray, dim: int) -> np.ndarray:
    """Mandel stresses (..., 6) from the physical Voigt components a ``dim``-D solve
    reports (..., 4 in plane strain: xx, yy, zz, xy; ..., 6 in 3D): the components left
    out (:data:`STRESS_COMPONENTS`) are zero."""
    full = np.zeros((*np.shape(sigma)[:-1], 6))
    full[..., list(STRESS_COMPONENTS[dim])] = sigma
    return voigt_to_mandel(full)


def mandel_to_matrix(t: np.ndarray) -> np.ndarray:
    """Symmetric 3x3 matrices (..., 3, 3) from Mandel tensors (..., 6)."""
    v = mandel_to_voigt(t)
    m = np.empty((*v.shape[:-1], 3, 3))
    for k, (i, j) in enumerate(_PAIRS):
        m[..., i, j] = v[..., k]
        m[..., j, i] = v[..., k]
    return m


def matrix_to_mandel(m: np.ndarray) -> np.ndarray:
    """Mandel tensors (..., 6) from 3x3 matrices (..., 3, 3) (symmetrized first)."""
    m = np.asarray(m, dtype=float)
    sym = 0.5 * (m + np.swapaxes(m, -1, -2))
    v = np.stack([sym[..., i, j] for i, j in _PAIRS], axis=-1)
    return voigt_to_mandel(v)


def lame_constants(E: float, nu: float) -> tuple[float, float]:
    """Lame's ``(lambda, mu)`` from Young's modulus ``E`` and Poisson's ratio ``nu``.

    ``mu`` is the shear modulus G; both in the unit of ``E``.
    """
    lam = E * nu / ((1.0 + nu) * (1.0 - 2.0 * nu))
    mu = E / (2.0 * (1.0 + nu))
    return lam, mu


def elastic_stiffness(E: float, nu: float) -> np.ndarray:
    """Isotropic elastic stiffness ``lambda 1 (x) 1 + 2 mu I`` in Mandel notation, (6, 6).

    ``E`` Young's modulus (stress unit), ``nu`` Poisson's ratio; ``stiffness @ eps`` is
    the stress for the strain ``eps`` (Mandel).
    """
    return elastic_stiffness_lame(*lame_constants(E, nu))


def elastic_stiffness_lame(lam: float, mu: float) -> np.ndarray:
    """``lambda 1 (x) 1 + 2 mu I`` (Mandel, (6, 6)) from Lame's constants (stress unit)."""
    return lam * identity_outer() + 2.0 * mu * np.eye(6)


def elastic_stress(strain: np.ndarray, lam: float, mu: float) -> np.ndarray:
    """Isotropic Hooke's law ``lambda tr(eps) 1 + 2 mu eps`` for strains (..., 6).

    Computed component by component, so each point's result does not depend on the batch
    it is in (a matrix product may round differently for different batch sizes).
    """
    strain = np.asarray(strain, dtype=float)
    stress = 2.0 * mu * strain
    stress[..., :3] += lam * trace(strain)[..., None]
    return stress


def outer(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Batched outer products ``a (x) b`` of (n, 6) arrays: shape (n, 6, 6)."""
    return a[:, :, None] * b[:, None, :]

"""Compiled (numba) reduced assembly: strains, law, residual and tangent at the kept points.

One call of :func:`reduced_forces` is one reduced Newton evaluation at the
``n`` cubature points (weights ``z > 0``), with the mode strains ``E``
(n, a, k) and the lifting's strains ``lift`` (n, a)::

    eps_l = E_l q + lift_l                  (active Mandel components ``comps``)
    sigma_l, C_l, state_l = law(eps_l)      (nirom.mechanics.laws.compiled)
    f_int = sum_l z_l E_l^T sigma_l         (k,)
    absf  = sum_l |E_l|^T |z_l sigma_l|     (k,)  the residual's scale
    W[(l, c), :] = z_l (C_l E_l)[c, :]      (n a, k)

and the caller forms the reduced tangent ``K = E^T W`` with one BLAS product
(the dense linear algebra the flop count in the benchmark counts). No Python
runs between points. :func:`strains_at` gives the strains of points that only
rebuild dual quantities (Gappy-POD's, weight 0): they are integrated once per
converged step, not at every iteration.
"""

from __future__ import annotations

import numpy as np

from nirom.mechanics.laws.compiled import OK, numba, point


def _fast(fn):
    """Compiled with reassociation and fused multiply-adds allowed (vectorised mode loops;
    results differ from strict order by round-off only, NaN and infinities still seen)."""
    if numba is None:  # pragma: no cover
        return fn
    flags = {"reassoc", "contract"}
    return numba.njit(cache=True, error_model="numpy", nogil=True, fastmath=flags)(fn)


@_fast
def reduced_forces(
    kind,
    prm,
    E,
    z,
    comps,
    q,
    lift,
    eps_p,
    X,
    p,
    dt,
    stress,
    tangent,
    eps_p_out,
    X_out,
    p_out,
    f_int,
    absf,
    W,
):
    """See the module docstring; returns (local iterations, status, failing points)."""
    n, a, k = E.shape
    work = np.empty((5, 6))
    strain = np.zeros((n, 6))
    iterations, status, failing = 0, OK, 0
    f_int[:] = 0.0
    absf[:] = 0.0
    for l in range(n):  # noqa: E741 - a point, as in the papers
        for c in range(a):
            s = 0.0
            for m in range(k):
                s += E[l, c, m] * q[m]
            strain[l, comps[c]] = s + lift[l, c]
        p_out[l], its, code = point(
            kind, prm, strain, eps_p, X, p, dt, stress, tangent, eps_p_out, X_out, work, l
        )
        iterations = max(iterations, its)
        if code != OK:
            failing += 1
            status = max(status, code)
        zl = z[l]
        for c in range(a):
            zs = zl * stress[l, comps[c]]
            azs = abs(zs)
            row = l * a + c
            for m in range(k):
                f_int[m] += E[l, c, m] * zs
                absf[m] += abs(E[l, c, m]) * azs
                W[row, m] = 0.0
            for d in range(a):
                cd = zl * tangent[l, comps[c], comps[d]]
                for m in range(k):
                    W[row, m] += cd * E[l, d, m]
    return iterations, status, failing


@_fast
def strains_at(E, comps, q, lift, out):
    """Mandel strains (n, 6) of the coordinates ``q`` at points with mode strains ``E``."""
    n, a, k = E.shape
    for l in range(n):  # noqa: E741
        for i in range(6):
            out[l, i] = 0.0
        for c in range(a):
            s = 0.0
            for m in range(k):
                s += E[l, c, m] * q[m]
            out[l, comps[c]] = s + lift[l, c]
    return out


KERNELS = (reduced_forces, strains_at)


def warm_up() -> None:
    """Compile (or load) the kernels on tiny inputs."""
    n, a, k = 1, 3, 2
    E, z, comps = np.zeros((n, a, k)), np.ones(n), np.array([0, 1, 5])
    q, lift, s6 = np.zeros(k), np.zeros((n, a)), np.zeros((n, 6))
    for kind, prm in ((0, np.ones(2)), (1, np.ones(6))):
        reduced_forces(kind, prm, E, z, comps, q, lift, s6, s6, np.zeros(n), 1.0, s6.copy(),
                       np.zeros((n, 6, 6)), s6.copy(), s6.copy(), np.zeros(n), np.zeros(k),
                       np.zeros(k), np.zeros((n * a, k)))  # fmt: skip
    strains_at(E, comps, q, lift, s6.copy())

"""Darcy flow: steady diffusion with a spatially varying coefficient field as input.

Equations (nondimensional units)::

    -div(a(x, y) grad u) = f   in Omega = (0, 1)^2
                       u = 0   on the boundary of Omega

The input is the coefficient field ``a`` given by its values at the
``s x s`` nodes ``(ix / (s - 1), iy / (s - 1))`` of a uniform grid
(``s = resolution``, boundary nodes included), as an array ``a[iy, ix]``;
the output ``u`` is the solution at the same nodes. Mesh points are ordered
with x fastest (point ``iy * s + ix``), so ``u.reshape(s, s)[iy, ix]`` is
aligned with ``a[iy, ix]``; the cells are the grid's quads, counter-clockwise.
``f`` is 1 by default.

Prior of ``a`` (:meth:`Darcy.draw_field_inputs`), as in the Fourier neural
operator paper (Li et al. 2021): a Gaussian random field
``N(0, (-Laplacian + 9 I)**(-2))`` with Neumann modes (``tau = 3``,
``alpha = 2``, :func:`nirom.random_fields.grf_neumann_2d`) drawn at the
``s x s`` nodes and thresholded: ``a = 12`` where the field is ``>= 0``,
``a = 3`` elsewhere.

Discretisation: second-order five-point finite differences on a finer
uniform grid of ``S = solve_resolution`` nodes per side (``S - 1`` a multiple
of ``s - 1``, so the output nodes are fine nodes). The coefficient on the fine
grid is the piecewise-bilinear interpolant of the nodal values, so any nodal
field is a valid input and a dataset's input and output are exactly
consistent; the coefficient on the face between two fine nodes is the mean of
their two values. The symmetric positive definite system (``(S - 2)**2``
unknowns) is solved by a sparse LU factorization (SuperLU, minimum-degree
ordering of ``A + A^T``, diagonal pivots); its sparsity pattern is fixed, so
the map from face coefficients to matrix entries is built once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from nirom.checks import check_integer, check_number
from nirom.dataset.schema import FieldSpec
from nirom.errors import ParameterError
from nirom.mesh import Mesh
from nirom.parameters import FieldInput, ParameterSpace
from nirom.random_fields import grf_neumann_2d, sample_rng
from nirom.solvers.base import Solver, SolverError, check_finite, register

Source = float | Callable[[np.ndarray, np.ndarray], np.ndarray]


def grid_mesh(s: int) -> Mesh:
    """Quad mesh of the ``s x s`` nodes of the unit square, x fastest, cells counter-clockwise."""
    axis = np.linspace(0.0, 1.0, s)
    x, y = np.meshgrid(axis, axis)  # [iy, ix]
    corner = (np.arange(s - 1)[:, None] * s + np.arange(s - 1)[None, :]).ravel()
    quads = np.stack([corner, corner + 1, corner + s + 1, corner + s], axis=1)
    return Mesh(np.column_stack([x.ravel(), y.ravel()]), [("quad", quads)])


def linear_interpolation(s: int, fine: int) -> sp.csr_matrix:
    """``(fine, s)`` matrix interpolating nodal values linearly from ``s`` to ``fine`` nodes.

    Both grids are uniform on ``[0, 1]`` with end points; ``fine - 1`` must be
    a multiple of ``s - 1``, so every coarse node is a fine node.
    """
    ratio = (fine - 1) // (s - 1)
    j = np.arange(fine)
    left = np.minimum(j // ratio, s - 2)
    weight = (j - left * ratio) / ratio  # weight of the right coarse node, in [0, 1]
    rows = np.concatenate([j, j])
    cols = np.concatenate([left, left + 1])
    return sp.csr_matrix((np.concatenate([1.0 - weight, weight]), (rows, cols)), shape=(fine, s))


def _five_point_pattern(n: int) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Sparsity pattern of the five-point operator on ``n x n`` nodes, interior unknowns.

    Returns ``(W, indices, indptr)``: the CSC structure of the matrix and the
    sparse map ``W`` with ``data = W @ faces``, where ``faces`` concatenates
    the horizontal-face coefficients ``(n, n - 1)`` (face between nodes
    ``[iy, ix]`` and ``[iy, ix + 1]``) and the vertical ones ``(n - 1, n)``
    (between ``[iy, ix]`` and ``[iy + 1, ix]``), both flattened row-major.
    """
    m = n - 2
    inner = np.arange(1, n - 1)
    iy, ix = np.repeat(inner, m), np.tile(inner, m)  # interior nodes, x fastest
    node = (iy - 1) * m + (ix - 1)
    n_horizontal = n * (n - 1)
    east, west = iy * (n - 1) + ix, iy * (n - 1) + ix - 1
    north, south = n_horizontal + iy * n + ix, n_horizontal + (iy - 1) * n + ix
    rows, cols, faces, signs = [], [], [], []
    for face, neighbour, inside in (
        (east, node + 1, ix < n - 2),
        (west, node - 1, ix > 1),
        (north, node + m, iy < n - 2),
        (south, node - m, iy > 1),
    ):
        rows += [node, node[inside]]
        cols += [node, neighbour[inside]]
        faces += [face, face[inside]]
        signs += [np.ones(node.size), -np.ones(int(inside.sum()))]
    keys = np.concatenate(cols).astype(np.int64) * m * m + np.concatenate(rows)
    unique, entry = np.unique(keys, return_inverse=True)
    n_faces = n_horizontal + (n - 1) * n
    w = sp.csr_matrix(
        (np.concatenate(signs), (entry, np.concatenate(faces))), shape=(unique.size, n_faces)
    )
    indices = (unique % (m * m)).astype(np.int32)
    indptr = np.searchsorted(unique // (m * m), np.arange(m * m + 1)).astype(np.int32)
    return w, indices, indptr


@register("darcy")
class Darcy(Solver):
    """Five-point finite-difference Darcy solver with a nodal coefficient field as input.

    Parameters
    ----------
    resolution : int
        Nodes per side ``s`` of the input/output grid (boundary included).
    solve_resolution : int
        Nodes per side ``S`` of the grid the equation is solved on;
        ``S - 1`` must be a multiple of ``s - 1``.
    a_values : (float, float)
        Prior coefficient values where the Gaussian field is ``>= 0`` and ``< 0``.
    tau, alpha : float
        Inverse length scale and smoothness exponent of the prior's Gaussian
        field (covariance ``(-Laplacian + tau**2)**(-alpha)``, Neumann modes).
    source : float or callable
        Source ``f``: a constant or ``f(x, y)`` on arrays of coordinates.
    """

    def __init__(
        self,
        resolution: int = 85,
        solve_resolution: int = 421,
        a_values: tuple[float, float] = (12.0, 3.0),
        tau: float = 3.0,
        alpha: float = 2.0,
        source: Source = 1.0,
    ) -> None:
        s = check_integer("resolution", resolution, 2)
        fine = check_integer("solve_resolution", solve_resolution, 3)
        if (fine - 1) % (s - 1):
            raise ParameterError(
                f"solve_resolution - 1 = {fine - 1} must be a multiple of resolution - 1 = "
                f"{s - 1} (solve_resolution {fine}, resolution {s})"
            )
        if isinstance(a_values, (str, bytes)) or np.ndim(a_values) != 1 or len(a_values) != 2:
            raise ParameterError(f"a_values must be two numbers (high, low), got {a_values!r}")
        a_values = (
            check_number("a_values[0]", a_values[0], "positive"),
            check_number("a_values[1]", a_values[1], "positive"),
        )
        self.tau = check_number("tau", tau)
        self.alpha = check_number("alpha", alpha, "positive")
        if self.tau < 0:
            raise ParameterError(f"tau must be a finite number >= 0, got {tau!r}")
        self.resolution, self.solve_resolution, self.a_values = s, fine, a_values
        self.options = {
            "resolution": s,
            "solve_resolution": fine,
            "a_values": list(a_values),
            "tau": self.tau,
            "alpha": self.alpha,
            "source": source,
        }
        self.space = ParameterSpace([FieldInput("a", (s, s), unit="1")])
        self.fields = [FieldSpec("u", location="point", unit="1")]
        self.mesh = grid_mesh(s)
        self._interpolation = linear_interpolation(s, fine)
        self._pattern = _five_point_pattern(fine)
        self._rhs = self._load(source)

    def _load(self, source: Source) -> np.ndarray:
        """Source at the interior fine nodes, in unknown order (x fastest)."""
        inner = np.linspace(0.0, 1.0, self.solve_resolution)[1:-1]
        x, y = np.meshgrid(inner, inner)
        f = source(x, y) if callable(source) else check_number("source", source)
        return np.array(np.broadcast_to(np.asarray(f, dtype=float), x.shape)).ravel()

    def draw_field_inputs(self, sample_id: int, seed: int) -> dict[str, np.ndarray]:
        """Thresholded Gaussian coefficient of sample ``sample_id``: {"a": (s, s)}."""
        field = grf_neumann_2d(self.resolution, sample_rng(seed, sample_id), self.tau, self.alpha)
        high, low = self.a_values
        return {"a": np.where(field >= 0.0, high, low)}

    def fine_coefficient(self, a: np.ndarray) -> np.ndarray:
        """Bilinear interpolant of nodal ``a[iy, ix]`` at the ``S x S`` fine nodes."""
        p = self._interpolation
        return np.asarray(p @ (p @ np.asarray(a, dtype=float)).T).T

    def matrix(self, a_fine: np.ndarray) -> sp.csc_matrix:
        """Five-point matrix of ``-div(a grad .)`` on the interior fine nodes (x fastest)."""
        h = 1.0 / (self.solve_resolution - 1)
        horizontal = 0.5 * (a_fine[:, 1:] + a_fine[:, :-1])
        vertical = 0.5 * (a_fine[1:] + a_fine[:-1])
        faces = np.concatenate([horizontal.ravel(), vertical.ravel()])
        w, indices, indptr = self._pattern
        n = indptr.size - 1
        return sp.csc_matrix(((w @ faces) / h**2, indices, indptr), shape=(n, n))

    def mass_matrix(self) -> sp.csr_matrix:
        """Q1 mass matrix on the output nodes: ``u^T M u`` is the squared L2 norm."""
        return self.mesh.mass_matrix()

    def solve(self, mu: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Solution at the ``s x s`` nodes for the nodal coefficient ``mu["a"]``: {"u": (s*s,)}."""
        a = self.space.validate(mu)["a"]
        if a.min() <= 0.0:
            iy, ix = np.unravel_index(int(np.argmin(a)), a.shape)
            raise ParameterError(
                f"field input 'a': the coefficient must be > 0, got {a.min():g} at [iy, ix] = "
                f"[{iy}, {ix}]"
            )
        try:
            lu = spla.splu(
                self.matrix(self.fine_coefficient(a)),
                permc_spec="MMD_AT_PLUS_A",
                diag_pivot_thresh=0.0,
                options={"SymmetricMode": True},
            )
        except RuntimeError as exc:  # singular factor
            raise SolverError(f"{self.name}: factorization failed ({exc})") from None
        fine = self.solve_resolution
        u = np.zeros((fine, fine))
        u[1:-1, 1:-1] = lu.solve(self._rhs).reshape(fine - 2, fine - 2)
        step = (fine - 1) // (self.resolution - 1)
        return check_finite(self.name, {"u": u[::step, ::step].ravel()})

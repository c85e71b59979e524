"""Thermal block: stationary heat conduction with piecewise-constant conductivity.

Equations (nondimensional units)::

    -div(k(x) grad u) = f   in Omega = (0, 1)^2
                    u = 0   on the boundary of Omega

The square is split into ``nx_blocks x ny_blocks`` equal blocks; ``k`` is the
constant ``k_i`` on block ``i`` (blocks numbered row by row from the bottom
left). The parameters ``k_0 ... k_{B-1}`` are log-uniform on ``[0.1, 10]``
by default (``k_distribution="uniform"`` declares them uniform, as a user
unaware of their logarithmic action might), the source ``f`` is 1.
Discretisation: P1 Lagrange elements on a uniform triangulation with
``resolution`` squares per side, each cut into two triangles. The stiffness
matrix is affine in the parameters, ``A(mu) = sum_i k_i A_i``, so the
``A_i`` are assembled once and each solve costs one sparse combination and
one sparse direct solve.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import skfem

from nirom.checks import check_integer
from nirom.dataset.schema import FieldSpec
from nirom.errors import ParameterError
from nirom.mesh import Mesh
from nirom.parameters import LogUniform, ParameterSpace, Uniform
from nirom.solvers.base import Solver, check_finite, register
from nirom.solvers.forms import laplace, mass
from nirom.solvers.operators import AffineDecomposition

_DISTRIBUTIONS: dict[str, type[LogUniform] | type[Uniform]] = {
    "loguniform": LogUniform,
    "uniform": Uniform,
}


@register("thermal-block")
class ThermalBlock(Solver):
    """P1 finite-element thermal-block solver.

    Parameters
    ----------
    nx_blocks, ny_blocks : int
        Number of conductivity blocks along x and y.
    resolution : int
        Squares per side of the unit square (must be a multiple of both
        block counts); ``(resolution - 1)**2`` unknowns.
    k_bounds : (float, float)
        Bounds of the log-uniform block conductivities.
    source : float or callable
        Heat source ``f``: a constant or ``f(x, y)`` on arrays of coordinates.
    k_distribution : {"loguniform", "uniform"}
        How the conductivities are declared, so sampled (and regressed by
        default): uniformly in their logarithm, or uniformly.
    """

    def __init__(
        self,
        nx_blocks: int = 3,
        ny_blocks: int = 3,
        resolution: int = 48,
        k_bounds: tuple[float, float] = (0.1, 10.0),
        source: float | Callable[[np.ndarray, np.ndarray], np.ndarray] = 1.0,
        k_distribution: str = "loguniform",
    ) -> None:
        nx_blocks = check_integer("nx_blocks", nx_blocks)
        ny_blocks = check_integer("ny_blocks", ny_blocks)
        resolution = check_integer("resolution", resolution)
        if resolution % nx_blocks or resolution % ny_blocks:
            raise ParameterError(
                f"resolution {resolution} must be a multiple of the block counts "
                f"({nx_blocks} x {ny_blocks})"
            )
        self.nx_blocks, self.ny_blocks, self.resolution = nx_blocks, ny_blocks, resolution
        k_bounds = (float(k_bounds[0]), float(k_bounds[1]))
        self.options = {
            "nx_blocks": nx_blocks,
            "ny_blocks": ny_blocks,
            "resolution": resolution,
            "k_bounds": list(k_bounds),
            "source": source,
        }
        if k_distribution not in _DISTRIBUTIONS:
            raise ParameterError(
                f"k_distribution must be one of {', '.join(_DISTRIBUTIONS)}, got {k_distribution!r}"
            )
        if k_distribution != "loguniform":  # recorded only when set: older datasets still resume
            self.options["k_distribution"] = k_distribution
        n_blocks = nx_blocks * ny_blocks
        kind = _DISTRIBUTIONS[k_distribution]
        self.space = ParameterSpace([kind(f"k_{i}", *k_bounds) for i in range(n_blocks)])
        self.fields = [FieldSpec("u", location="point", unit="1")]
        grid = np.linspace(0.0, 1.0, resolution + 1)
        self.fem_mesh = skfem.MeshTri.init_tensor(grid, grid)
        self.mesh = Mesh.from_skfem(self.fem_mesh)
        self.basis = skfem.Basis(self.fem_mesh, skfem.ElementTriP1())
        self._assemble(source)

    def _assemble(self, source: float | Callable[[np.ndarray, np.ndarray], np.ndarray]) -> None:
        centroids = self.fem_mesh.p[:, self.fem_mesh.t].mean(axis=1)
        bx = np.minimum((centroids[0] * self.nx_blocks).astype(int), self.nx_blocks - 1)
        by = np.minimum((centroids[1] * self.ny_blocks).astype(int), self.ny_blocks - 1)
        block_of_element = by * self.nx_blocks + bx
        self.interior = self.basis.complement_dofs(self.basis.get_dofs())
        inner = np.ix_(self.interior, self.interior)
        self._blocks = []
        for b in range(self.nx_blocks * self.ny_blocks):
            sub = skfem.Basis(
                self.fem_mesh, skfem.ElementTriP1(), elements=np.flatnonzero(block_of_element == b)
            )
            self._blocks.append(laplace.assemble(sub).tocsr()[inner])

        @skfem.LinearForm
        def load(v: Any, w: Any) -> Any:
            f = source(*w.x) if callable(source) else source
            return f * v

        self._rhs = load.assemble(self.basis)[self.interior]

    def mass_matrix(self) -> sp.csr_matrix:
        """P1 mass matrix M on all nodes: ``u^T M u`` is the squared L2 norm."""
        return mass.assemble(self.basis).tocsr()

    def affine_decomposition(self) -> AffineDecomposition:
        """``A(mu) = sum_i k_i A_i`` (block stiffness matrices on the interior nodes) and
        ``f`` (one constant term); unknown i is node ``interior[i]``, the boundary is 0."""
        return AffineDecomposition(
            matrices=list(self._blocks),
            matrix_coefficients=list(self.space.scalar_names),
            vectors=[self._rhs],
            vector_coefficients=[None],
            free=self.interior,
            dirichlet=np.zeros(self.basis.N),
        )

    def product_matrix(self) -> sp.csr_matrix:
        """Energy product at the reference ``k_i = 1`` (the H1_0 seminorm): ``sum_i A_i``."""
        return sp.csr_matrix(sum(self._blocks))

    def solve(self, mu: Mapping[str, float]) -> dict[str, np.ndarray]:
        """Temperature at the mesh nodes for conductivities ``mu``: {"u": (n_points,)}."""
        mu = self.space.validate(mu)
        k = [mu[name] for name in self.space.scalar_names]
        stiffness = sum(ki * a for ki, a in zip(k, self._blocks, strict=True))
        u = np.zeros(self.basis.N)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", spla.MatrixRankWarning)  # reported as NaN below
            u[self.interior] = spla.spsolve(stiffness.tocsc(), self._rhs)
        return check_finite(self.name, {"u": u})

"""Transient heat: time-dependent heat conduction with a source and a boundary flux.

Equations (nondimensional units: length, time and temperature scaled to 1)::

    du/dt - div(k grad u) = f(x, y)   in Omega x (0, T],  Omega = (0, 1)^2
                  u(x, y, 0) = 0       in Omega
                           u = 0       on the left edge x = 0
                     k du/dn = q       on the right edge x = 1 (heat flowing in for q > 0)
                     k du/dn = 0       on the bottom and top edges y = 0, 1 (insulated)

with the Gaussian heat source of amplitude ``s`` centred in the square::

    f(x, y) = s * exp(-((x - 0.5)**2 + (y - 0.5)**2) / 0.02)

The parameters are the conductivity ``k`` (log-uniform on ``[0.1, 10]``), the
source amplitude ``s`` (uniform on ``[0, 10]``) and the boundary flux ``q``
(uniform on ``[-1, 1]``). The output ``u`` is the temperature at the mesh
nodes at ``n_outputs`` equally spaced times ``0, T/(n_outputs-1), ..., T``
(``t = 0`` included, where ``u = 0``): an array of shape ``(n_outputs, n_points)``.

Discretisation: P1 Lagrange elements on a uniform triangulation with
``resolution`` squares per side, each cut into two triangles (consistent mass
matrix); in time, Crank-Nicolson (theta = 1/2, second order) with ``n_steps``
equal steps ``dt = T / n_steps``. The flux switched on at ``t = 0`` against
the initial ``u = 0`` excites stiff modes that Crank-Nicolson barely damps, so
the first two steps are each replaced by two backward-Euler half-steps
(Rannacher start-up): they damp those modes and, being a fixed number of
steps, keep the scheme second order. A backward-Euler half-step has the same
matrix as a Crank-Nicolson step, so each solve factorizes one matrix,
``M + dt/2 k K``, and reuses it for every step. Mass ``M``, stiffness ``K``
(for ``k = 1``), source and flux load vectors are affine in the parameters
and assembled once.

For reduced bases: :meth:`HeatTransient.transient_decomposition` gives the
operator ``k K`` as an affine decomposition, the mass matrix, the source and
flux load vectors with their time functions, the initial state and the
scheme's substeps (:class:`TransientDecomposition`); :meth:`HeatTransient.trajectory`
the unknowns after every substep; :meth:`HeatTransient.product_matrix` the
energy product ``K`` (``k = 1``, the centre of the range).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import skfem

from nirom.checks import check_integer
from nirom.dataset.schema import FieldSpec
from nirom.errors import ParameterError
from nirom.mesh import Mesh
from nirom.parameters import LogUniform, ParameterSpace, Uniform
from nirom.solvers.base import Solver, SolverError, check_finite, register
from nirom.solvers.forms import laplace, mass
from nirom.solvers.operators import AffineDecomposition, TransientDecomposition

# Backward-Euler half-step pairs replacing the first Crank-Nicolson steps.
_STARTUP_STEPS = 2
# Width parameter of the Gaussian source: exp(-r**2 / _SOURCE_WIDTH).
_SOURCE_WIDTH = 0.02
# Conductivity of the energy product: the centre (geometric mean) of [0.1, 10].
_K_REFERENCE = 1.0

TimeFunction = Callable[[np.ndarray, np.ndarray, float], np.ndarray]


def _gaussian(x: np.ndarray, y: np.ndarray, t: float) -> np.ndarray:
    return np.exp(-((x - 0.5) ** 2 + (y - 0.5) ** 2) / _SOURCE_WIDTH)


def _unit_flux(x: np.ndarray, y: np.ndarray, t: float) -> np.ndarray:
    return np.ones_like(x)


def _quadrature_load(basis: skfem.AbstractBasis) -> tuple[sp.csr_matrix, np.ndarray]:
    """Matrix ``Q`` and points ``xq`` with ``Q @ g(xq)`` the load vector of ``g`` on ``basis``.

    ``(Q @ g)_i`` is the quadrature of ``g * phi_i`` over the basis' cells or
    facets, so a load vector for a new ``g`` costs one sparse product.
    """
    n_elements, n_quad = basis.dx.shape
    dofs = np.repeat(basis.element_dofs[:, :, None], n_quad, axis=2)
    points = np.arange(n_elements * n_quad).reshape(n_elements, n_quad)
    columns = np.broadcast_to(points, dofs.shape)
    values = np.stack([np.asarray(phi[0]) * basis.dx for phi in basis.basis])
    q = sp.csr_matrix(
        (values.ravel(), (dofs.ravel(), columns.ravel())), shape=(basis.N, n_elements * n_quad)
    )
    return q, np.asarray(basis.global_coordinates()).reshape(2, -1)


@register("heat-transient")
class HeatTransient(Solver):
    """P1 / Crank-Nicolson transient heat conduction solver.

    Parameters
    ----------
    resolution : int
        Squares per side of the unit square; ``resolution * (resolution + 1)``
        unknowns (the nodes off the Dirichlet edge).
    n_steps : int
        Number of time steps to ``t_final``; a multiple of ``n_outputs - 1``.
    t_final : float
        Final time ``T`` (nondimensional).
    n_outputs : int
        Number of equally spaced output times, ``t = 0`` and ``t = T`` included.
    source : callable or None
        Verification hook: source shape ``g(x, y, t)`` on arrays of
        coordinates, multiplied by ``s``; None is the Gaussian blob above.
    flux : callable or None
        Verification hook: flux shape ``h(x, y, t)`` on the right edge,
        multiplied by ``q``; None is the constant 1.
    """

    def __init__(
        self,
        resolution: int = 32,
        n_steps: int = 100,
        t_final: float = 1.0,
        n_outputs: int = 11,
        source: TimeFunction | None = None,
        flux: TimeFunction | None = None,
    ) -> None:
        resolution = check_integer("resolution", resolution, 1)
        n_steps = check_integer("n_steps", n_steps, 1)
        n_outputs = check_integer("n_outputs", n_outputs, 2)
        try:
            t_final = float(t_final)
        except (TypeError, ValueError):
            t_final = float("nan")
        if not (np.isfinite(t_final) and t_final > 0):
            raise ParameterError(f"t_final must be a finite number > 0, got {t_final!r}")
        if n_steps % (n_outputs - 1):
            raise ParameterError(
                f"n_steps {n_steps} must be a multiple of n_outputs - 1 = {n_outputs - 1} "
                "so that every output time is a time step"
            )
        self.resolution, self.n_steps, self.t_final = resolution, n_steps, t_final
        self.n_outputs = n_outputs
        self.dt = t_final / n_steps
        self.options = {
            "resolution": resolution,
            "n_steps": n_steps,
            "t_final": t_final,
            "n_outputs": n_outputs,
            "source": source,
            "flux": flux,
        }
        self.space = ParameterSpace(
            [LogUniform("k", 0.1, 10.0), Uniform("s", 0.0, 10.0), Uniform("q", -1.0, 1.0)]
        )
        self.times = t_final * np.arange(n_outputs) / (n_outputs - 1)
        self.fields = [FieldSpec("u", location="point", times=tuple(self.times), unit="1")]
        grid = np.linspace(0.0, 1.0, resolution + 1)
        self.fem_mesh = skfem.MeshTri.init_tensor(grid, grid)
        self.mesh = Mesh.from_skfem(self.fem_mesh)
        self.basis = skfem.Basis(self.fem_mesh, skfem.ElementTriP1())
        self._assemble(source, flux)

    def _assemble(self, source: TimeFunction | None, flux: TimeFunction | None) -> None:
        p = self.fem_mesh.p
        self.dirichlet = np.flatnonzero(np.isclose(p[0], 0.0))
        self.interior = self.basis.complement_dofs(self.dirichlet)
        self.stiffness = laplace.assemble(self.basis).tocsr()
        self.mass = mass.assemble(self.basis).tocsr()
        inner = np.ix_(self.interior, self.interior)
        self._k_inner, self._m_inner = self.stiffness[inner], self.mass[inner]
        # A finer quadrature for the loads resolves the Gaussian on coarse meshes.
        cells = skfem.Basis(self.fem_mesh, skfem.ElementTriP1(), intorder=4)
        right = self.fem_mesh.facets_satisfying(lambda x: np.isclose(x[0], 1.0))
        edge = skfem.FacetBasis(self.fem_mesh, skfem.ElementTriP1(), facets=right, intorder=4)
        self._source_quad = (*_quadrature_load(cells), _gaussian if source is None else source)
        self._flux_quad = (*_quadrature_load(edge), _unit_flux if flux is None else flux)
        # Production shapes do not depend on time: one load vector each.
        self._source_fixed = None if source is not None else self._load(self._source_quad, 0.0)
        self._flux_fixed = None if flux is not None else self._load(self._flux_quad, 0.0)

    @staticmethod
    def _load(quad: tuple[sp.csr_matrix, np.ndarray, TimeFunction], t: float) -> np.ndarray:
        q, xq, shape = quad
        return q @ np.broadcast_to(np.asarray(shape(xq[0], xq[1], t), dtype=float), xq[0].shape)

    def source_load(self, t: float = 0.0) -> np.ndarray:
        """Load vector of the source shape (``s = 1``) at time ``t``, all nodes."""
        if self._source_fixed is not None:
            return self._source_fixed
        return self._load(self._source_quad, t)

    def flux_load(self, t: float = 0.0) -> np.ndarray:
        """Load vector of the right-edge flux shape (``q = 1``) at time ``t``, all nodes."""
        if self._flux_fixed is not None:
            return self._flux_fixed
        return self._load(self._flux_quad, t)

    def mass_matrix(self) -> sp.csr_matrix:
        """P1 mass matrix M on all nodes: ``u^T M u`` is the squared L2 norm."""
        return self.mass.copy()

    def product_matrix(self) -> sp.csr_matrix:
        """The energy product on the unknowns: the stiffness at the centre ``k = 1`` of
        the log-uniform range (``u^T X u = ||grad u||^2``), SPD thanks to the Dirichlet edge."""
        return (_K_REFERENCE * self._k_inner).tocsr()

    def transient_decomposition(self) -> TransientDecomposition | None:
        """What a time-dependent reduced basis needs (:class:`TransientDecomposition`).

        None with a verification hook (``source`` or ``flux``): their shapes
        ``g(x, y, t)`` are not separable in space and time.
        """
        if self._source_fixed is None or self._flux_fixed is None:
            return None
        interior = self.interior
        affine = AffineDecomposition(
            matrices=[self._k_inner.tocsr()],
            matrix_coefficients=["k"],
            vectors=[self._source_fixed[interior], self._flux_fixed[interior]],
            vector_coefficients=["s", "q"],
            free=interior.astype(np.int64),
            dirichlet=np.zeros(self.basis.N),
        )
        sizes, thetas = self.step_scheme()
        every = self.n_steps // (self.n_outputs - 1)
        # Substep index of each output time: the start-up adds one half-step per step.
        outputs = np.array([_substep_of(n, every) for n in range(self.n_outputs)])
        return TransientDecomposition(
            affine=affine,
            mass=self._m_inner.tocsr(),
            initial=np.zeros(interior.size),
            step_sizes=sizes,
            step_thetas=thetas,
            load_weights=np.ones((sizes.size, 2)),
            output_steps=outputs,
            times=self.times.copy(),
        )

    def step_scheme(self) -> tuple[np.ndarray, np.ndarray]:
        """Substep sizes ``tau_j`` and weights ``theta_j`` (each (J,)) of the time scheme.

        Substep ``j`` solves ``(M + theta tau A) u_j = (M - (1 - theta) tau A) u_(j-1)
        + tau f``: ``2 * _STARTUP_STEPS`` backward-Euler half-steps (``theta = 1``,
        ``tau = dt / 2``), then Crank-Nicolson steps (``theta = 1/2``, ``tau = dt``).
        """
        startup = min(_STARTUP_STEPS, self.n_steps)
        n_half, n_cn = 2 * startup, self.n_steps - startup
        sizes = np.concatenate([np.full(n_half, 0.5 * self.dt), np.full(n_cn, self.dt)])
        thetas = np.concatenate([np.ones(n_half), np.full(n_cn, 0.5)])
        return sizes, thetas

    def trajectory(self, mu: Mapping[str, float]) -> np.ndarray:
        """The unknowns at every substep (J + 1, n_unknowns), the initial state first.

        Exactly the states :meth:`solve` passes through (half-steps included).
        """
        states = [np.zeros(self.interior.size)]
        for _, u in self._march(self.space.validate(mu)):
            states.append(u)
        return np.array(states)

    def solve(self, mu: Mapping[str, float]) -> dict[str, np.ndarray]:
        """Temperature at the nodes at the output times: {"u": (n_outputs, n_points)}."""
        mu = self.space.validate(mu)
        every = self.n_steps // (self.n_outputs - 1)
        out = np.zeros((self.n_outputs, self.basis.N))
        for n, u in self._march(mu):
            if n is not None and (n + 1) % every == 0:
                out[(n + 1) // every, self.interior] = u
        return check_finite(self.name, {"u": out})

    def _march(self, mu: Mapping[str, float]) -> Iterator[tuple[int | None, np.ndarray]]:
        """The unknowns after every substep: ``(n, u)`` after full step ``n`` and
        ``(None, u)`` after the first half of a start-up step (validated ``mu``)."""
        k, s, q = mu["k"], mu["s"], mu["q"]
        dt, interior = self.dt, self.interior
        if self._source_fixed is not None and self._flux_fixed is not None:
            forcing = (s * self._source_fixed + q * self._flux_fixed)[interior]

            def load(t: float) -> np.ndarray:
                return forcing

        else:

            def load(t: float) -> np.ndarray:
                return (s * self.source_load(t) + q * self.flux_load(t))[interior]

        half = 0.5 * dt * k * self._k_inner
        try:
            # A symmetric fill-reducing ordering: about half the fill of COLAMD here.
            lu = spla.splu((self._m_inner + half).tocsc(), permc_spec="MMD_AT_PLUS_A")
        except RuntimeError as exc:  # singular factor
            raise SolverError(f"{self.name}: factorization failed for {mu} ({exc})") from None
        explicit = (self._m_inner - half).tocsr()
        u = np.zeros(interior.size)
        f_now = load(0.0)
        for n in range(self.n_steps):
            t = n * dt
            if n < _STARTUP_STEPS:
                # Two backward-Euler half-steps, matrix M + dt/2 k K as for Crank-Nicolson.
                u = lu.solve(self._m_inner @ u + 0.5 * dt * load(t + 0.5 * dt))
                yield None, u
                f_now = load(t + dt)
                u = lu.solve(self._m_inner @ u + 0.5 * dt * f_now)
            else:
                f_next = load(t + dt)
                u = lu.solve(explicit @ u + 0.5 * dt * (f_now + f_next))
                f_now = f_next
            yield n, u


def _substep_of(output: int, every: int) -> int:
    """Substep index (0: the initial state) of output ``output`` (step ``output * every``)."""
    n = output * every
    return n + min(n, _STARTUP_STEPS)

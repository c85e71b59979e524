"""Elasticity: a loaded L-shaped bracket in 2-D linear elasticity (plane stress).

Equations (SI units: m, Pa, N/m; thickness 1 m)::

    -div sigma(u) = f                     in Omega
         sigma(u) = lam* tr(eps(u)) I + 2 mu eps(u),   eps(u) = (grad u + grad u^T) / 2
                u = 0                     on Gamma_D = {y = L, 0 <= x <= L/2}
       sigma(u) n = load (cos a, sin a)   on Gamma_N = {x = L, 0 <= y <= L/2}
       sigma(u) n = 0                     on the rest of the boundary

with the plane-stress Lame constants ``lam* = E nu / (1 - nu^2)`` and
``mu = E / (2 (1 + nu))`` (the out-of-plane stress is zero) and no body
force (``f = 0``). The bracket ``Omega = [0, L]^2 minus (L/2, L] x (L/2, L]``
(``L = length``, 1 m by default) is ``skfem.MeshTri.init_lshaped()``, the
square ``[-1, 1]^2`` without its upper-right quarter, mapped by
``x -> L (x + 1) / 2``: a vertical arm ``[0, L/2] x [0, L]`` clamped at its
top end (a wall mount) and a horizontal arm ``[0, L] x [0, L/2]`` whose
free end ``x = L`` carries a uniform traction of magnitude ``load`` (Pa, so
``load`` N per metre of edge for the unit thickness; total force
``load * L / 2`` N) at angle ``a`` (degrees from +x, counter-clockwise, so
90 pulls up). The re-entrant corner ``(L/2, L/2)`` concentrates the stress:
the exact stress is singular there (about ``r**-0.46``), so the peak von Mises
value grows by about 1.36x per refinement while the displacement converges.

Discretisation: vector P1 Lagrange elements (``ElementVector(ElementTriP1())``)
on the 6-triangle L-shape refined uniformly ``refine`` times: ``6 * 4**refine``
triangles, ``2 * n_points - 2 * (2**refine + 1)`` unknowns once the clamped
nodes are removed:

=========  =========  =========  ==========
refine     points     cells      unknowns
=========  =========  =========  ==========
2          65         96         120
3          225        384        432
4          833        1,536      1,632
6          12,545     24,576     24,960
8          197,633    393,216    394,752
9          788,481    1,572,864  1,575,936
=========  =========  =========  ==========

The stiffness is affine in the Lame constants,
``K(E, nu) = lam* K_div + 2 mu K_eps`` with ``K_div = (div u, div v)`` and
``K_eps = (eps(u), eps(v))``, and the load is linear in
``(load cos a, load sin a)``; the pieces are assembled once and each solve
costs one sparse combination and one sparse direct solve. Outputs: the nodal
displacement, and the plane-stress von Mises stress
``sqrt(sxx^2 - sxx syy + syy^2 + 3 sxy^2)`` per triangle (P1 strains are
constant on each triangle).

Two parametrizations (option ``parameters``):

- ``"young"`` (default): ``E`` (Pa, log-uniform), ``nu`` (uniform), ``load``
  (Pa) and ``angle`` (deg), as above. The operator is not affine in these
  parameters, so this solver gives no affine decomposition (its system
  matrices it does give: ``nirom generate --operators``).
- ``"lame"``: ``lam`` (plane-stress ``lam*``, Pa, log-uniform), ``mu_s`` (the
  shear modulus ``mu``, Pa, log-uniform), ``tx`` and ``ty`` (the traction's
  components, Pa, uniform), so that exactly

      K = lam K_div + mu_s (2 K_eps),      f = tx f_x + ty f_y

  (:meth:`Elasticity.affine_decomposition`), for certified reduced bases.
  The default bounds are those the default ``E_bounds`` and ``nu_bounds``
  imply (``lam`` in [1.04e10, 1.69e11] Pa, ``mu_s`` in [1.72e10, 1.25e11]
  Pa) and ``tx``, ``ty`` in ``[-max load, max load]``. The box of
  ``(lam, mu_s)`` also holds pairs whose Poisson ratio
  (``lam / mu_s = 2 nu / (1 - nu)`` in plane stress) lies above 0.5; the
  operator is still symmetric positive definite there (both terms are
  positive semidefinite, their sum definite once clamped, and ``lam`` and
  ``mu_s`` are positive).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import skfem
from skfem.helpers import ddot, div, sym_grad

from nirom.dataset.schema import FieldSpec
from nirom.errors import ParameterError
from nirom.mesh import Mesh
from nirom.parameters import LogUniform, ParameterSpace, Uniform
from nirom.solvers.base import Solver, SolverError, check_finite, register
from nirom.solvers.forms import mass
from nirom.solvers.operators import AffineDecomposition, LinearSystem

#: The two parametrizations (see the module's docstring).
PARAMETRIZATIONS = ("young", "lame")

VectorFunction = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@skfem.BilinearForm
def _div_div(u: Any, v: Any, w: Any) -> Any:
    return div(u) * div(v)


@skfem.BilinearForm
def _eps_eps(u: Any, v: Any, w: Any) -> Any:
    return ddot(sym_grad(u), sym_grad(v))


def _strain_form(i: int, j: int) -> skfem.BilinearForm:
    """``(eps_ij(u), q)`` for a P1 vector trial ``u`` and a P0 test ``q``."""

    @skfem.BilinearForm
    def form(u: Any, q: Any, w: Any) -> Any:
        return sym_grad(u)[i, j] * q

    return form


def _unit_load(component: int) -> skfem.LinearForm:
    """``(e_component, v)`` on the facets: the load vector of a unit traction."""

    @skfem.LinearForm
    def form(v: Any, w: Any) -> Any:
        return v[component]

    return form


@register("elasticity")
class Elasticity(Solver):
    """Vector-P1 plane-stress solver for the clamped, end-loaded L bracket.

    Parameters
    ----------
    length : float
        Outer side ``L`` of the bracket in m; each arm is ``L/2`` wide.
    refine : int
        Uniform refinements of the 6-triangle L-shape; about
        ``6 * 4**refine`` unknowns (432 at 3, 1,632 at 4, 394,752 at 8).
    E_bounds : (float, float)
        Bounds of the log-uniform Young's modulus ``E`` in Pa.
    nu_bounds : (float, float)
        Bounds of the uniform Poisson ratio ``nu``, inside ``(-1, 0.5]``.
    load_bounds : (float, float)
        Bounds of the uniform traction magnitude ``load`` in Pa (N/m per unit
        thickness).
    angle_bounds : (float, float)
        Bounds of the uniform traction direction ``angle`` in degrees
        (0 = +x, 90 = +y).
    body_force : callable or None
        Verification only: body force ``f(x, y) -> (fx, fy)`` in N/m^3 on
        arrays of coordinates; ``None`` is no body force.
    dirichlet : callable or None
        Verification only: ``g(x, y) -> (gx, gy)`` imposed as ``u = g`` on
        the *whole* boundary (replacing the clamp and the traction, so
        ``load`` and ``angle`` then have no effect); ``None`` is the bracket.
    parameters : {"young", "lame"}
        The parameter space: ``(E, nu, load, angle)`` or ``(lam, mu_s, tx, ty)``
        (affine; see the module's docstring).
    lam_bounds, mu_s_bounds : (float, float), optional
        ``"lame"`` only: bounds in Pa (positive) of the log-uniform ``lam``
        and ``mu_s``; default: the range ``E_bounds`` and ``nu_bounds`` imply.
    traction_bounds : (float, float), optional
        ``"lame"`` only: bounds in Pa of the uniform ``tx`` and ``ty``;
        default ``(-load_bounds[1], load_bounds[1])``.
    """

    def __init__(
        self,
        length: float = 1.0,
        refine: int = 4,
        E_bounds: tuple[float, float] = (50e9, 300e9),
        nu_bounds: tuple[float, float] = (0.2, 0.45),
        load_bounds: tuple[float, float] = (1e5, 1e6),
        angle_bounds: tuple[float, float] = (0.0, 360.0),
        body_force: VectorFunction | None = None,
        dirichlet: VectorFunction | None = None,
        parameters: str = "young",
        lam_bounds: tuple[float, float] | None = None,
        mu_s_bounds: tuple[float, float] | None = None,
        traction_bounds: tuple[float, float] | None = None,
    ) -> None:
        length = float(length)
        if not (math.isfinite(length) and length > 0):
            raise ParameterError(f"bracket length must be positive, got {length}")
        if isinstance(refine, bool) or not isinstance(refine, (int, np.integer)) or refine < 0:
            raise ParameterError(f"refine must be a non-negative integer, got {refine!r}")
        bounds = {
            name: (float(b[0]), float(b[1]))
            for name, b in (
                ("E", E_bounds),
                ("nu", nu_bounds),
                ("load", load_bounds),
                ("angle", angle_bounds),
            )
        }
        if not (bounds["nu"][0] > -1.0 and bounds["nu"][1] <= 0.5):
            raise ParameterError(f"nu_bounds must lie in (-1, 0.5], got {list(bounds['nu'])}")
        self.length, self.refine = length, int(refine)
        self.options = {
            "length": length,
            "refine": self.refine,
            "E_bounds": list(bounds["E"]),
            "nu_bounds": list(bounds["nu"]),
            "load_bounds": list(bounds["load"]),
            "angle_bounds": list(bounds["angle"]),
            "body_force": body_force,
            "dirichlet": dirichlet,
        }
        if parameters not in PARAMETRIZATIONS:
            raise ParameterError(
                f"parameters must be one of {list(PARAMETRIZATIONS)}, got {parameters!r}"
            )
        self.parametrization = parameters
        if parameters == "young":
            if (lam_bounds, mu_s_bounds, traction_bounds) != (None, None, None):
                raise ParameterError(
                    "lam_bounds, mu_s_bounds and traction_bounds need parameters='lame'"
                )
            self.space = ParameterSpace(
                [
                    LogUniform("E", *bounds["E"], unit="Pa"),
                    Uniform("nu", *bounds["nu"], unit="1"),
                    Uniform("load", *bounds["load"], unit="Pa"),
                    Uniform("angle", *bounds["angle"], unit="deg"),
                ]
            )
        else:
            lame = _lame_bounds(bounds, lam_bounds, mu_s_bounds, traction_bounds)
            self.options.update({"parameters": parameters, **{k: list(v) for k, v in lame.items()}})
            self.space = ParameterSpace(
                [
                    LogUniform("lam", *lame["lam_bounds"], unit="Pa"),
                    LogUniform("mu_s", *lame["mu_s_bounds"], unit="Pa"),
                    Uniform("tx", *lame["traction_bounds"], unit="Pa"),
                    Uniform("ty", *lame["traction_bounds"], unit="Pa"),
                ]
            )
        self.fields = [
            FieldSpec("displacement", location="point", components=2, unit="m"),
            FieldSpec("von_mises", location="cell", unit="Pa"),
        ]
        lshape = skfem.MeshTri.init_lshaped().refined(self.refine)
        self.fem_mesh = skfem.MeshTri(0.5 * length * (lshape.p + 1.0), lshape.t)
        self.mesh = Mesh.from_skfem(self.fem_mesh)
        self.basis = skfem.Basis(self.fem_mesh, skfem.ElementVector(skfem.ElementTriP1()))
        self._assemble(body_force, dirichlet)

    def _facets(self, on: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
        """Boundary facets whose midpoints satisfy ``on(x, y)``."""
        return self.fem_mesh.facets_satisfying(lambda x: on(*x), boundaries_only=True)

    def _assemble(
        self, body_force: VectorFunction | None, dirichlet: VectorFunction | None
    ) -> None:
        L, tol = self.length, 1e-9 * self.length
        self.clamped = self.basis.get_dofs(
            self._facets(lambda x, y: (np.abs(y - L) < tol) & (x < 0.5 * L + tol))
        ).flatten()
        fixed = self.basis.get_dofs().flatten() if dirichlet is not None else self.clamped
        self.free = self.basis.complement_dofs(fixed)
        inner = np.ix_(self.free, self.free)
        k_div = _div_div.assemble(self.basis).tocsr()
        k_eps = _eps_eps.assemble(self.basis).tocsr()
        # 2 K_eps is exact in floating point, so shear * (2 K_eps) == (2 shear) K_eps.
        self._k_div, self._k_eps2 = k_div[inner].tocsr(), (2.0 * k_eps[inner]).tocsr()
        # Dof d is entry value_of_dof[d] of the displacement (n_points, 2) flattened
        # row by row (node-major, components interleaved).
        self._value_of_dof = np.empty(self.basis.N, dtype=np.int64)
        self._value_of_dof[self.basis.nodal_dofs.T.ravel()] = np.arange(self.basis.N)

        # Load pieces on all dofs: unit tractions in x and y on Gamma_N, and the body force.
        loaded = skfem.FacetBasis(
            self.fem_mesh,
            self.basis.elem,
            facets=self._facets(lambda x, y: (np.abs(x - L) < tol) & (y < 0.5 * L + tol)),
        )
        self._load_x = _unit_load(0).assemble(loaded)
        self._load_y = _unit_load(1).assemble(loaded)
        self._body = np.zeros(self.basis.N)
        if body_force is not None:

            @skfem.LinearForm
            def body(v: Any, w: Any) -> Any:
                fx, fy = body_force(*w.x)
                return fx * v[0] + fy * v[1]

            self._body = body.assemble(self.basis)

        # Dirichlet data (verification) and its lifting, split like the stiffness.
        self._u_fixed = np.zeros(self.basis.N)
        self._lift_div = self._lift_eps = np.zeros(self.free.size)
        if dirichlet is not None:
            gx, gy = dirichlet(*self.fem_mesh.p)
            self._u_fixed[self.basis.nodal_dofs[0]] = gx
            self._u_fixed[self.basis.nodal_dofs[1]] = gy
            self._u_fixed[self.free] = 0.0
            self._lift_div = (k_div @ self._u_fixed)[self.free]
            self._lift_eps = (k_eps @ self._u_fixed)[self.free]

        # Cell strains (constant per triangle) from the dofs: P0-projected P1 strains.
        cells = skfem.Basis(self.fem_mesh, skfem.ElementTriP0())
        inv_area = sp.diags(1.0 / mass.assemble(cells).diagonal())
        self._strain = [
            (inv_area @ _strain_form(i, j).assemble(self.basis, cells)).tocsr()
            for i, j in ((0, 0), (1, 1), (0, 1))
        ]

    def mass_matrix(self) -> sp.csr_matrix:
        """Scalar P1 mass matrix M on the mesh nodes, shape (n_points, n_points).

        For a displacement ``U`` of shape (n_points, 2),
        ``U[:, 0] @ M @ U[:, 0] + U[:, 1] @ M @ U[:, 1]`` is ``||u||_L2^2``.
        """
        return mass.assemble(skfem.Basis(self.fem_mesh, skfem.ElementTriP1())).tocsr()

    def system(self, mu: Mapping[str, Any]) -> LinearSystem:
        """``K(mu) x = f(mu)`` on the free dofs, either parametrization.

        Unknown ``i`` is entry ``free[i]`` of the displacement (n_points, 2)
        flattened row by row (``2 * node + component``); ``dirichlet`` holds
        the imposed values on that same flattening. ``K`` in N/m, ``f`` in N.
        """
        lam, shear, rhs = self._system_parts(self.space.validate(mu))
        matrix = lam * self._k_div + shear * self._k_eps2
        return LinearSystem(matrix.tocsr(), rhs, self._value_of_dof[self.free], self._imposed())

    def affine_decomposition(self) -> AffineDecomposition | None:
        """``K = lam K_div + mu_s (2 K_eps)``, ``f = tx f_x + ty f_y`` (``parameters="lame"``).

        Terms on the free dofs, laid out as :meth:`system`; a body force adds
        a constant term and imposed values (verification) the liftings
        ``-K_div g`` (``lam``) and ``-2 K_eps g`` (``mu_s``). None for
        ``parameters="young"``: ``K`` is not affine in ``E`` and ``nu``.
        """
        if self.parametrization != "lame":
            return None
        free = self.free
        vectors = [self._load_x[free], self._load_y[free]]
        names: list[str | None] = ["tx", "ty"]
        for vector, name in (
            (self._body[free], None),
            (-self._lift_div, "lam"),
            (-2.0 * self._lift_eps, "mu_s"),
        ):
            if np.any(vector != 0.0):
                vectors.append(vector)
                names.append(name)
        return AffineDecomposition(
            matrices=[self._k_div.copy(), self._k_eps2.copy()],
            matrix_coefficients=["lam", "mu_s"],
            vectors=vectors,
            vector_coefficients=names,
            free=self._value_of_dof[free],
            dirichlet=self._imposed(),
        )

    def product_matrix(self) -> sp.csr_matrix | None:
        """Energy product at the centre of the ``"lame"`` space (geometric means of
        ``lam`` and ``mu_s``): ``lam_c K_div + mu_c (2 K_eps)``; None for ``"young"``."""
        if self.parametrization != "lame":
            return None
        centre = self.space.as_dict(self.space.from_unit(np.full((1, self.space.dim), 0.5))[0])
        return sp.csr_matrix(centre["lam"] * self._k_div + centre["mu_s"] * self._k_eps2)

    def _imposed(self) -> np.ndarray:
        """Imposed displacement values, flattened as the displacement (2 * n_points,)."""
        out = np.empty(self.basis.N)
        out[self._value_of_dof] = self._u_fixed
        return out

    def stiffness_matrix(self, mu: Mapping[str, float]) -> sp.csr_matrix:
        """Full stiffness ``K(E, nu)`` on all dofs, before boundary conditions.

        Assembled afresh on each call (for reaction forces and checks; ``solve``
        does not use it). Dof ``basis.nodal_dofs[c, i]`` is component ``c`` of
        node ``i``.
        """
        lam, shear = self._lame(self.space.validate(mu))
        k_div, k_eps = _div_div.assemble(self.basis), _eps_eps.assemble(self.basis)
        return (lam * k_div + 2.0 * shear * k_eps).tocsr()

    def load_vector(self, mu: Mapping[str, float]) -> np.ndarray:
        """Full load vector on all dofs (traction plus body force) in N."""
        return self._load(self.space.validate(mu))

    def _load(self, mu: Mapping[str, float]) -> np.ndarray:
        if self.parametrization == "lame":
            tx, ty = mu["tx"], mu["ty"]
        else:
            a = math.radians(mu["angle"])
            tx, ty = mu["load"] * math.cos(a), mu["load"] * math.sin(a)
        return tx * self._load_x + ty * self._load_y + self._body

    def _lame(self, mu: Mapping[str, float]) -> tuple[float, float]:
        """Plane-stress ``(lam*, mu)`` in Pa: from ``E`` and ``nu``, or the parameters."""
        if self.parametrization == "lame":
            return mu["lam"], mu["mu_s"]
        E, nu = mu["E"], mu["nu"]
        return E * nu / (1.0 - nu * nu), E / (2.0 * (1.0 + nu))

    def _system_parts(self, mu: Mapping[str, float]) -> tuple[float, float, np.ndarray]:
        """``lam*``, ``mu`` and the right-hand side on the free dofs for validated ``mu``."""
        lam, shear = self._lame(mu)
        rhs = self._load(mu)[self.free] - lam * self._lift_div - 2.0 * shear * self._lift_eps
        return lam, shear, rhs

    def solve(self, mu: Mapping[str, float]) -> dict[str, np.ndarray]:
        """Displacement and von Mises stress for ``mu``.

        Returns ``{"displacement": (n_points, 2) in m, "von_mises": (n_cells,) in Pa}``
        (``mu``: the parameters of the solver's parametrization).
        """
        mu = self.space.validate(mu)
        lam, shear, rhs = self._system_parts(mu)
        stiffness = (lam * self._k_div + shear * self._k_eps2).tocsc()
        u = self._u_fixed.copy()
        try:
            # K is symmetric positive definite: a symmetric ordering without pivoting keeps
            # the fill low (SuperLU's default COLAMD with partial pivoting fills ~30% more).
            lu = spla.splu(
                stiffness,
                permc_spec="MMD_AT_PLUS_A",
                diag_pivot_thresh=0.0,
                options={"SymmetricMode": True},
            )
        except RuntimeError as exc:  # "Factor is exactly singular"
            raise SolverError(f"{self.name}: stiffness factorisation failed ({exc})") from None
        u[self.free] = lu.solve(rhs)
        exx, eyy, exy = (s @ u for s in self._strain)
        trace = exx + eyy
        sxx, syy = lam * trace + 2.0 * shear * exx, lam * trace + 2.0 * shear * eyy
        sxy = 2.0 * shear * exy
        von_mises = np.sqrt(np.maximum(sxx * sxx - sxx * syy + syy * syy + 3.0 * sxy * sxy, 0.0))
        displacement = u[self.basis.nodal_dofs].T
        return check_finite(self.name, {"displacement": displacement, "von_mises": von_mises})


def _lame_bounds(
    bounds: Mapping[str, tuple[float, float]],
    lam_bounds: tuple[float, float] | None,
    mu_s_bounds: tuple[float, float] | None,
    traction_bounds: tuple[float, float] | None,
) -> dict[str, tuple[float, float]]:
    """Bounds of ``lam``, ``mu_s`` (Pa, positive) and ``tx``, ``ty`` (Pa) for ``"lame"``.

    Defaults: the plane-stress ``lam* = E nu / (1 - nu^2)`` and
    ``mu = E / (2 (1 + nu))`` over the box of ``E`` and ``nu`` (``lam*`` grows
    with both for ``nu`` in (0, 0.5], ``mu`` falls with ``nu``), and the traction
    components up to the largest load magnitude either way.
    """
    (e_lo, e_hi), (nu_lo, nu_hi), (_, load_hi) = bounds["E"], bounds["nu"], bounds["load"]
    out = {
        "lam_bounds": lam_bounds
        or (e_lo * nu_lo / (1.0 - nu_lo**2), e_hi * nu_hi / (1.0 - nu_hi**2)),
        "mu_s_bounds": mu_s_bounds or (e_lo / (2.0 * (1.0 + nu_hi)), e_hi / (2.0 * (1.0 + nu_lo))),
        "traction_bounds": traction_bounds or (-abs(load_hi), abs(load_hi)),
    }
    out = {k: (float(v[0]), float(v[1])) for k, v in out.items()}
    for name in ("lam_bounds", "mu_s_bounds"):
        low, high = out[name]
        if not (0.0 < low <= high and math.isfinite(high)):
            raise ParameterError(
                f"{name} must be positive and increasing (min-theta needs lam, mu_s > 0), "
                f"got {[low, high]}"
            )
    return out

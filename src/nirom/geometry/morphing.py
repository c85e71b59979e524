"""Elasticity-based mesh morphing: a reference mesh deformed onto a target outline.

The reference mesh's boundary nodes are paired with points of the target
outline (a closed polygon, counterclockwise) by arc length: with corners (four
points, or "auto": the four sharpest turns of each boundary) side by side,
otherwise from the consistent start (the boundary point nearest the bounding
box's lower-left corner) around the whole loop. The boundary displacement
``d`` (distance of each boundary node to its target point) is then imposed in
``steps`` increments; each increment solves linear elasticity on the current
mesh (P1, Young's modulus of each cell proportional to the inverse of its area
so that small cells move rigidly, Poisson's ratio ``poisson``) with the
increment imposed on the boundary, and moves the nodes. The samples of a shape
family so share the reference mesh's connectivity (the ROM morphing of
Dolbeau/Casenave-style elasticity morphing). An increment that inverts a cell
is an error naming the step (more ``steps`` help).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import skfem
from skfem.helpers import ddot, sym_grad, trace

from nirom.checks import check_integer, check_number
from nirom.errors import MeshError
from nirom.geometry.floater import corner_positions
from nirom.geometry.triangles import arc_length, planar_triangles, signed_areas, single_loop
from nirom.mesh import Mesh


def morph_elastic(
    mesh: Mesh,
    target: np.ndarray,
    *,
    corners: str | Sequence[Sequence[float]] | None = None,
    steps: int = 4,
    poisson: float = 0.3,
) -> np.ndarray:
    """Node coordinates (n, 2) of ``mesh`` deformed so that its boundary lies on ``target``.

    Parameters
    ----------
    mesh : Mesh
        The reference: planar, disk-like triangle mesh.
    target : ndarray of shape (k, 2)
        The target outline, a closed counterclockwise polygon (first point not repeated).
    corners : None, "auto" or four points
        How boundary and outline are paired (see the module docstring).
    steps : int
        Elasticity solves the boundary displacement is split into.
    poisson : float
        Poisson's ratio of the pseudo-material, in [0, 0.5).
    """
    steps = check_integer("steps", steps, 1)
    poisson = check_number("poisson", poisson, "nonnegative")
    points, triangles = planar_triangles(mesh, "reference mesh")
    outline = _outline(target)
    loop = single_loop(triangles, "reference mesh")
    goal = boundary_targets(points, loop, outline, corners)
    current = points.copy()
    for step in range(steps):
        increment = (goal - current[loop]) / (steps - step)
        current = current + _elastic_step(current, triangles, loop, increment, poisson)
        bad = np.flatnonzero(signed_areas(current, triangles) <= 0)
        if bad.size:
            raise MeshError(
                f"morphing step {step + 1} of {steps} inverted {bad.size} cell(s), first cell "
                f"{bad[0]}; use more steps or a reference closer to the target"
            )
    current[loop] = goal
    return current


def _outline(target: np.ndarray) -> np.ndarray:
    outline = np.asarray(target, dtype=float)
    if outline.ndim != 2 or outline.shape[1] != 2 or len(outline) < 3:
        raise MeshError(
            f"target outline must be a polygon of shape (k >= 3, 2), got {outline.shape}"
        )
    area = 0.5 * np.sum(
        outline[:, 0] * np.roll(outline[:, 1], -1) - np.roll(outline[:, 0], -1) * outline[:, 1]
    )
    return outline if area > 0 else outline[::-1]


def boundary_targets(
    points: np.ndarray,
    loop: np.ndarray,
    outline: np.ndarray,
    corners: str | Sequence[Sequence[float]] | None,
) -> np.ndarray:
    """Points (len(loop), 2) of ``outline`` paired with the boundary ``loop`` by arc length."""
    ring = np.arange(len(outline))
    if corners is None:
        mine = np.array([_nearest_lower_left(points[loop])])
        theirs = np.array([_nearest_lower_left(outline)])
    else:
        mine = corner_positions(points, loop, corners)
        theirs = corner_positions(outline, ring, corners)
    goal = np.empty((loop.size, 2))
    for k in range(len(mine)):
        a, b = mine[k], mine[(k + 1) % len(mine)]
        c, d = theirs[k], theirs[(k + 1) % len(theirs)]
        idx = np.arange(a, a + ((b - a - 1) % loop.size) + 2) % loop.size
        poly = outline[np.arange(c, c + ((d - c - 1) % len(outline)) + 2) % len(outline)]
        s = arc_length(points[loop[idx]])
        goal[idx] = _along(poly, s / s[-1])
    return goal


def _nearest_lower_left(ring: np.ndarray) -> int:
    return int(np.argmin(np.hypot(*(ring - ring.min(axis=0)).T)))


def _along(poly: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Points at fractions ``t`` of the arc length of the polyline ``poly``."""
    s = arc_length(poly)
    s = s / s[-1]
    return np.column_stack([np.interp(t, s, poly[:, 0]), np.interp(t, s, poly[:, 1])])


def _elastic_step(
    points: np.ndarray,
    triangles: np.ndarray,
    boundary: np.ndarray,
    increment: np.ndarray,
    poisson: float,
) -> np.ndarray:
    """Nodal displacement (n, 2) of the linear-elastic pseudo-solid with ``increment`` imposed."""
    fem = skfem.MeshTri(points.T.copy(), triangles.T.copy())
    basis = skfem.Basis(fem, skfem.ElementVector(skfem.ElementTriP1()))
    area = signed_areas(points, triangles)
    stiffness = skfem.Basis(fem, skfem.ElementTriP0()).interpolate(area.mean() / area)
    lam_factor = poisson / ((1 + poisson) * (1 - 2 * poisson))
    mu_factor = 0.5 / (1 + poisson)

    @skfem.BilinearForm
    def form(u, v, w):
        eu, ev = sym_grad(u), sym_grad(v)
        return w["e"] * (lam_factor * trace(eu) * trace(ev) + 2 * mu_factor * ddot(eu, ev))

    k = form.assemble(basis, e=stiffness)
    x = np.zeros(basis.N)
    dofs = np.stack([2 * boundary, 2 * boundary + 1], axis=1)
    x[dofs.ravel()] = increment.ravel()
    return skfem.solve(*skfem.condense(k, x=x, D=dofs.ravel())).reshape(-1, 2)

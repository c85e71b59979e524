"""Finite-element forms the built-in scalar solvers share (scikit-fem)."""

from __future__ import annotations

from typing import Any

import skfem
from skfem.helpers import dot, grad


@skfem.BilinearForm
def laplace(u: Any, v: Any, w: Any) -> Any:
    """Stiffness of -Lap u: the integral of grad u . grad v."""
    return dot(grad(u), grad(v))


@skfem.BilinearForm
def mass(u: Any, v: Any, w: Any) -> Any:
    """Mass: the integral of u v (the L2 inner product of P1 functions)."""
    return u * v

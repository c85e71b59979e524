"""Small-strain solid mechanics: material laws and a quasi-static finite-element solver.

Conventions: Mandel notation inside (strain and stress ``(n, 6)``:
``(11, 22, 33, sqrt2 23, sqrt2 13, sqrt2 12)``, :mod:`nirom.mechanics.tensors`),
physical Voigt components outside (datasets, ParaView: xx, yy, zz, yz, xz, xy);
plane strain on triangles (the law sees zero out-of-plane strains; sigma_33 is
tracked), 3D on tetrahedra; units N, mm, MPa, s in the built-in cases.

Modules, one concept each:

- :mod:`~nirom.mechanics.laws`: the material laws (elastic, J2 plasticity, Norton
  viscoplasticity), vectorised over integration points;
- :mod:`~nirom.mechanics.space`: :class:`DisplacementSpace` (P1/P2, triangles or
  tetrahedra, node and dof numbering, the quadrature rule and weights);
- :mod:`~nirom.mechanics.strain`: :class:`StrainOperator` B (dofs -> Mandel strains
  at the quadrature points, cell-major; ``.matrix()`` as a sparse matrix);
- :mod:`~nirom.mechanics.assembly`: :class:`Assembler`, internal force
  ``B^T (w sigma)`` and tangent ``B^T (w C) B``;
- :mod:`~nirom.mechanics.amplitudes` and :mod:`~nirom.mechanics.loads`: load
  histories (amplitude(t) x pressure, traction, body force, imposed displacement),
  JSON-describable; :mod:`~nirom.mechanics.dirichlet`: free dofs, imposed values, lifting;
- :mod:`~nirom.mechanics.linear`: the sparse linear solvers (PARDISO, SuperLU, AMG);
- :mod:`~nirom.mechanics.solver`: :class:`QuasiStaticSolver` (Newton-Raphson with the
  consistent tangent, step cutting, output at every step);
- :mod:`~nirom.mechanics.output`: the dataset fields (u, sigma, von_mises, p at
  nodes; sigma_qp, p_qp at quadrature points);
- :mod:`~nirom.mechanics.meshes`: the built-in cases' meshes.
"""

from nirom.mechanics.amplitudes import Constant, Cyclic, Ramp, Table, amplitude_from_dict
from nirom.mechanics.assembly import Assembler
from nirom.mechanics.dirichlet import DirichletConditions
from nirom.mechanics.laws import LawIntegrationError, MaterialLaw, law_names, make_law
from nirom.mechanics.linear import available_linear_solvers, make_linear_solver
from nirom.mechanics.loads import (
    BodyForce,
    Displacement,
    LoadHistory,
    Pressure,
    Traction,
    assemble_loads,
)
from nirom.mechanics.output import NodalProjection, dataset_fields, field_specs
from nirom.mechanics.solver import ConvergenceError, QuasiStaticResult, QuasiStaticSolver
from nirom.mechanics.space import DisplacementSpace
from nirom.mechanics.strain import StrainOperator, active_components

__all__ = [
    "Assembler",
    "BodyForce",
    "Constant",
    "ConvergenceError",
    "Cyclic",
    "DirichletConditions",
    "Displacement",
    "DisplacementSpace",
    "LawIntegrationError",
    "LoadHistory",
    "MaterialLaw",
    "NodalProjection",
    "Pressure",
    "QuasiStaticResult",
    "QuasiStaticSolver",
    "Ramp",
    "StrainOperator",
    "Table",
    "Traction",
    "active_components",
    "amplitude_from_dict",
    "assemble_loads",
    "available_linear_solvers",
    "dataset_fields",
    "field_specs",
    "law_names",
    "make_law",
    "make_linear_solver",
]

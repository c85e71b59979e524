"""tensile2d: a plane-strain plate with a random outline per sample, pulled on its top edge.

The shape-family case of varying geometry (after PLAID's Tensile2d). Each
sample's outline (:mod:`nirom.geometry.outline`: straight bottom and top edges
of width ``width``, sides ``x = d_L(y)`` and ``x = width - d_R(y)`` through
``n_controls`` random inward offsets per side in ``[0, max_offset]``) is the
field input ``outline`` (shape ``(2, n_controls)``, mm), drawn from
``numpy.random.default_rng([seed, sample_id])``; gmsh meshes it (element size
``mesh_size``), so every sample has its own mesh, which the dataset stores.

Loads: the traction ``(0, P)`` (MPa) on the top edge, ramped from 0 at t = 0
to P at t = ``duration`` in ``steps`` output steps; the bottom edge is fixed
vertically and its left corner horizontally (no rigid motion, free lateral
contraction). Plane strain; the ``viscoplasticity`` law (Norton with threshold
R0, Armstrong-Frederick kinematic hardening). Sampled: ``P`` and the law
parameters chosen by ``parameters`` (default P, R0, K, C, D):

=======  ========  ===============  ===============
name     nominal   bounds           unit
=======  ========  ===============  ===============
P        90        [60, 120]        MPa
E        200000    [150000, 250000] MPa
nu       0.3       [0.25, 0.35]     -
R0       140       [100, 180]       MPa
K        150       [100, 300]       MPa s^(1/n)
n        5         [3, 10]          -
C        20000     [10000, 40000]   MPa
D        200       [100, 400]       -
=======  ========  ===============  ===============

Outputs at t = ``duration`` (steady fields, on the sample's nodes): ``u``
(2 components, mm), ``sigma_11``, ``sigma_12``, ``sigma_22`` (MPa, L2
projections of the quadrature values) and ``p`` (cumulated plastic strain,
projected); and the scalar outputs (global fields) ``max_von_mises`` and
``max_p`` (largest quadrature-point values), ``max_u2_top`` (largest vertical
displacement on the top edge) and ``max_sigma22_top`` (largest nodal
sigma_22 on the top edge).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from nirom.checks import check_integer, check_number
from nirom.dataset.schema import FieldSpec
from nirom.errors import NiromError
from nirom.geometry.gmsh_mesh import mesh_sides
from nirom.geometry.outline import draw_offsets, outline_sides
from nirom.mechanics.assembly import Assembler
from nirom.mechanics.loads import Displacement, LoadHistory, Traction
from nirom.mechanics.output import NodalProjection, voigt_stress
from nirom.mechanics.solver import ConvergenceError, QuasiStaticSolver
from nirom.mechanics.space import DisplacementSpace
from nirom.mechanics.strain import StrainOperator
from nirom.mechanics.tensors import von_mises
from nirom.mesh import Mesh
from nirom.parameters import FieldInput, ParameterSpace
from nirom.solvers.base import SolverError, check_finite, register
from nirom.solvers.mechanics_case import MechanicsCase, parameter_space

_TABLE = {
    "P": (90.0, 60.0, 120.0, "MPa", False),
    "E": (200e3, 150e3, 250e3, "MPa", False),
    "nu": (0.3, 0.25, 0.35, "1", False),
    "R0": (140.0, 100.0, 180.0, "MPa", False),
    "K": (150.0, 100.0, 300.0, "MPa s^(1/n)", False),
    "n": (5.0, 3.0, 10.0, "1", False),
    "C": (20e3, 10e3, 40e3, "MPa", False),
    "D": (200.0, 100.0, 400.0, "1", False),
}
#: The scalar outputs (name -> unit), in the order the dataset lists them.
SCALAR_OUTPUTS = {
    "max_von_mises": "MPa",
    "max_p": "1",
    "max_u2_top": "mm",
    "max_sigma22_top": "MPa",
}


class _PinnedSpace(DisplacementSpace):
    """A displacement space with named single nodes besides the named facet sets."""

    def __init__(self, fem_mesh: Any, pins: Mapping[str, int]) -> None:
        super().__init__(fem_mesh, 1)
        self.pins = dict(pins)

    def boundary_nodes(self, name: str) -> np.ndarray:
        if name in self.pins:
            return np.array([self.pins[name]])
        return super().boundary_nodes(name)


@register("tensile2d")
class Tensile2d(MechanicsCase):
    """Plate with a random spline outline per sample, top traction, elastoviscoplastic.

    Parameters
    ----------
    parameters : sequence of str
        The sampled scalar parameters (see the table), default P, R0, K, C, D.
    n_controls : int
        Control offsets per side.
    max_offset : float
        Largest inward offset of a control point, mm (less than ``width / 2``).
    width, height : float
        Plate width and height, mm.
    mesh_size : float
        gmsh element size, mm (0.1: about 450 triangles, about a second a sample).
    steps : int
        Output steps of the load ramp (the solver cuts them if Newton needs).
    duration : float
        Ramp time, s (the Norton law is rate-dependent).
    linear_solver : str
        See :mod:`nirom.mechanics.linear`.
    bounds : mapping name -> [low, high], optional
        Bounds replacing the table's for sampled parameters.
    """

    table = _TABLE
    law_name = "viscoplasticity"
    law_parameters = ("E", "nu", "R0", "K", "n", "C", "D")
    per_sample_mesh = True

    def __init__(
        self,
        parameters: Sequence[str] = ("P", "R0", "K", "C", "D"),
        n_controls: int = 3,
        max_offset: float = 0.3,
        width: float = 1.0,
        height: float = 2.0,
        mesh_size: float = 0.1,
        steps: int = 5,
        duration: float = 1.0,
        linear_solver: str = "superlu",
        bounds: Mapping[str, Sequence[float]] | None = None,
    ) -> None:
        self.n_controls = check_integer("n_controls", n_controls, 1)
        self.width = check_number("width", width, "positive")
        self.height = check_number("height", height, "positive")
        self.max_offset = check_number("max_offset", max_offset, "nonnegative")
        if 2 * self.max_offset >= self.width:
            raise SolverError(f"tensile2d: max_offset {max_offset} closes a plate of width {width}")
        self.mesh_size = check_number("mesh_size", mesh_size, "positive")
        self.steps = check_integer("steps", steps, 1)
        self.duration = check_number("duration", duration, "positive")
        self.times = self.duration * np.arange(self.steps + 1) / self.steps
        self.linear_solver = linear_solver
        self.options = {
            "parameters": list(parameters),
            "n_controls": self.n_controls,
            "max_offset": self.max_offset,
            "width": self.width,
            "height": self.height,
            "mesh_size": self.mesh_size,
            "steps": self.steps,
            "duration": self.duration,
            "linear_solver": linear_solver,
            "bounds": {k: [float(v) for v in b] for k, b in (bounds or {}).items()},
        }
        scalars = parameter_space(self.table, list(parameters), bounds)
        outline = FieldInput("outline", (2, self.n_controls), 0.0, self.max_offset, unit="mm")
        self.space = ParameterSpace([*scalars.parameters, outline])
        self.mesh = None
        self.quadrature = None
        self.fields = [
            FieldSpec("u", "point", 2, None, "mm"),
            FieldSpec("sigma_11", "point", 1, None, "MPa"),
            FieldSpec("sigma_12", "point", 1, None, "MPa"),
            FieldSpec("sigma_22", "point", 1, None, "MPa"),
            FieldSpec("p", "point", 1, None, "1"),
            *(FieldSpec(name, "global", 1, None, unit) for name, unit in SCALAR_OUTPUTS.items()),
        ]
        self.run_info: dict[str, Any] = {}
        self.sample_mesh: Mesh | None = None

    def draw_field_inputs(self, sample_id: int, seed: int) -> dict[str, np.ndarray]:
        """The outline's control offsets of ``sample_id`` (seeded by ``(seed, sample_id)``)."""
        offsets = draw_offsets(sample_id, seed, self.n_controls, 0.0, self.max_offset)
        return {"outline": offsets}

    def fe_space_of(self, offsets: np.ndarray) -> DisplacementSpace:
        """The P1 displacement space on the gmsh mesh of ``offsets`` (corner pinned)."""
        sides = outline_sides(offsets, self.width, self.height)
        fem_mesh = mesh_sides(sides, self.mesh_size)
        corner = int(np.argmin(np.hypot(*fem_mesh.p)))
        return _PinnedSpace(fem_mesh, {"corner": corner})

    def history(self, mu: Mapping[str, float]) -> LoadHistory:
        """Ramped traction on "top"; "bottom" fixed vertically, its left corner horizontally."""
        load = self.values(mu)["P"]
        return LoadHistory(
            [
                (Traction("top", (0.0, load)), {"kind": "ramp", "duration": self.duration}),
                (Displacement("bottom", (1,)), 1.0),
                (Displacement("corner", (0,)), 1.0),
            ]
        )

    def solve(self, mu: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Fields and scalar outputs at the end of the ramp; ``sample_mesh`` is the mesh."""
        mu = self.space.validate(mu)
        try:
            space = self.fe_space_of(mu["outline"])
            solver = QuasiStaticSolver(
                space,
                self.law(mu),
                self.history(mu),
                linear_solver=self.linear_solver,
                assembler=Assembler(StrainOperator(space)),
            )
            result = solver.run(self.times)
        except (ConvergenceError, NiromError) as exc:
            raise SolverError(f"{self.name}: {exc}") from None
        self.run_info = {**result.summary(), "n_nodes": space.n_nodes}
        self.sample_mesh = space.mesh
        return check_finite(self.name, self._fields(space, result))

    def _fields(self, space: DisplacementSpace, result: Any) -> dict[str, np.ndarray]:
        stress_qp = voigt_stress(result.stress[-1], 2)  # (n_qp, 4): xx, yy, zz, xy
        p_qp = result.p[-1]
        nodal = NodalProjection(space)(np.column_stack([stress_qp, p_qp]))
        u = result.u[-1].reshape(space.n_nodes, 2)
        top = space.boundary_nodes("top")
        return {
            "u": u,
            "sigma_11": nodal[:, 0],
            "sigma_12": nodal[:, 3],
            "sigma_22": nodal[:, 1],
            "p": nodal[:, 4],
            "max_von_mises": np.array(von_mises(result.stress[-1]).max()),
            "max_p": np.array(p_qp.max()),
            "max_u2_top": np.array(u[top, 1].max()),
            "max_sigma22_top": np.array(nodal[top, 1].max()),
        }

"""plate-hole: a plane-strain plate with a central hole under cyclic traction, elastoviscoplastic.

Geometry (mm): a plate ``2 width x 2 height`` with a central hole of ``radius``
(defaults 50 x 100 half-sizes, radius 10: hole diameter / width = 0.2), modelled
by its quarter ``x, y >= 0`` with symmetry conditions ``u_x = 0`` on ``x = 0``
and ``u_y = 0`` on ``y = 0``. The edge ``y = height`` carries the traction
``(0, load * sin(2 pi t / period))`` (MPa), fully reversed, for ``cycles``
periods; the hole and ``x = width`` are free. Plane strain.

Material: Norton elastoviscoplasticity with Armstrong-Frederick kinematic
hardening (the ``viscoplasticity`` law: E, nu, R0, K, n, C, D). The sampled
parameters are chosen by the ``parameters`` option among the load and the law's
parameters (default ``load``, ``R0``, ``C``); the others stay at nominal values:

=======  ========  ===============  ==============
name     nominal   bounds           unit
=======  ========  ===============  ==============
load     110       [80, 140]        MPa
E        200000    [150000, 250000] MPa
nu       0.3       [0.25, 0.35]     -
R0       140       [100, 180]       MPa
K        150       [100, 300]       MPa s^(1/n)
n        5         [3, 10]          -
C        20000     [10000, 40000]   MPa
D        200       [100, 400]       -
=======  ========  ===============  ==============

With a stress concentration near 3.1, even the lowest load overstresses the
hole's edge beyond the highest threshold R0, and the fully reversed cycle
yields it again in compression, so the cumulated plastic strain grows every
half cycle (tested on generated samples).

Discretisation: P1 or P2 (isoparametric: the hole's edge nodes on the circle)
triangles, graded towards the hole; ``resolution`` cells along each half of the
quarter hole:

==========  =====================  ========
resolution  P2 dofs (free)         P1 dofs
==========  =====================  ========
9           2,090 (2,034)          560
20          9,922 (9,800)          2,562
65          102,442 (102,050)      25,872
130         -                      102,442
==========  =====================  ========

Outputs at ``steps_per_cycle`` equal steps per period (t = 0 included): the
fields of :mod:`nirom.mechanics.output`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from nirom.cases.description import CaseDescription, LoadSpec
from nirom.checks import check_integer, check_number
from nirom.solvers.base import register
from nirom.solvers.case import CaseSolver, sampled_parameters

_TABLE = {
    "load": (110.0, 80.0, 140.0, "MPa", False),
    "E": (200e3, 150e3, 250e3, "MPa", False),
    "nu": (0.3, 0.25, 0.35, "1", False),
    "R0": (140.0, 100.0, 180.0, "MPa", False),
    "K": (150.0, 100.0, 300.0, "MPa s^(1/n)", False),
    "n": (5.0, 3.0, 10.0, "1", False),
    "C": (20e3, 10e3, 40e3, "MPa", False),
    "D": (200.0, 100.0, 400.0, "1", False),
}
_LAW = ("E", "nu", "R0", "K", "n", "C", "D")


@register("plate-hole")
class PlateHole(CaseSolver):
    """Quarter plate with a hole, cyclic traction, Norton + Armstrong-Frederick law.

    The options build the case's description (:class:`~nirom.cases.description.CaseDescription`;
    ``nirom/cases/builtin/plate-hole.toml`` is the default one as a case file).

    Parameters
    ----------
    parameters : sequence of str
        The sampled parameters (see the table), default ``("load", "R0", "C")``.
    cycles : int
        Load cycles.
    period : float
        Period of a cycle in s.
    steps_per_cycle : int
        Output steps per cycle (the solver cuts them if Newton needs).
    degree : {1, 2}
        Element degree.
    resolution : int
        Cells along each half of the quarter hole (sizes in the module docstring).
    radius, width, height : float
        Hole radius and plate half-width / half-height in mm.
    linear_solver : str
        "auto", "pardiso", "superlu" or "amg" (see :mod:`nirom.mechanics.linear`).
    bounds : mapping name -> [low, high], optional
        Bounds replacing the table's for sampled parameters.
    layers : int
        0 (default): plane strain. ``n >= 1``: a 3D plate of thickness ``2 thickness``,
        its half ``0 <= z <= thickness`` modelled by the plane mesh extruded in ``n``
        layers of tetrahedra (symmetry ``u_z = 0`` on "back", z = 0; "front" free), so
        the hole's edge has a 3D stress state at the free face. Resolution 9 with 5
        layers: 34,485 P2 unknowns, 29,160 integration points.
    thickness : float
        Half-thickness in mm (3D only).
    """

    table = _TABLE

    def __init__(
        self,
        parameters: Sequence[str] = ("load", "R0", "C"),
        cycles: int = 2,
        period: float = 10.0,
        steps_per_cycle: int = 20,
        degree: int = 2,
        resolution: int = 9,
        radius: float = 10.0,
        width: float = 50.0,
        height: float = 100.0,
        linear_solver: str = "auto",
        bounds: Mapping[str, Sequence[float]] | None = None,
        layers: int = 0,
        thickness: float = 10.0,
    ) -> None:
        self.cycles = check_integer("cycles", cycles, 1)
        self.period = check_number("period", period, "positive")
        steps = check_integer("steps_per_cycle", steps_per_cycle, 4)
        degree = check_integer("degree", degree, 1)
        self.layers = check_integer("layers", layers, 0)
        mesh = {"radius": float(radius), "width": float(width), "height": float(height)}
        mesh["resolution"] = check_integer("resolution", resolution, 1)
        if self.layers:
            mesh.update(
                layers=self.layers, thickness=check_number("thickness", thickness, "positive")
            )
        description = CaseDescription(
            name="plate-hole",
            mesh={"generator": "plate-with-hole", "options": mesh, "degree": degree},
            law="viscoplasticity",
            nominal={name: _TABLE[name][0] for name in _LAW},
            loads=self._loads(3 if self.layers else 2),
            times=self.period * np.arange(self.cycles * steps + 1) / steps,
            parameters=sampled_parameters(_TABLE, parameters, bounds, scales=("load",)),
            scales={"load": _TABLE["load"][0]},
            solver={"linear_solver": linear_solver},
            description=__doc__.splitlines()[0],
        )
        self._build(description)
        self.options = {
            "parameters": list(parameters),
            "cycles": self.cycles,
            "period": self.period,
            "steps_per_cycle": steps,
            "degree": degree,
            "resolution": int(resolution),
            "radius": float(radius),
            "width": float(width),
            "height": float(height),
            "linear_solver": linear_solver,
            "bounds": {k: [float(v) for v in b] for k, b in (bounds or {}).items()},
        }
        if self.layers:  # 3D options only where they act, so 2D recipes stay as they were
            self.options.update(layers=self.layers, thickness=float(thickness))

    def _loads(self, dim: int) -> list[LoadSpec]:
        """Fully reversed sine traction on "top" (value per unit of "load"); symmetry on
        "left" and "bottom" (and on "back", z = 0, in 3D)."""
        loads = [
            LoadSpec(
                {"kind": "traction", "boundary": "top", "value": [0.0, 1.0, 0.0][:dim]},
                "load",
                {"kind": "cyclic", "period": self.period},
            ),
            LoadSpec({"kind": "displacement", "boundary": "left", "components": [0]}),
            LoadSpec({"kind": "displacement", "boundary": "bottom", "components": [1]}),
        ]
        if dim == 3:
            loads.append(LoadSpec({"kind": "displacement", "boundary": "back", "components": [2]}))
        return loads

"""thick-cylinder: a thick-walled tube under internal pressure (plane strain), for verification.

Geometry (mm): inner radius ``inner`` (10) and outer radius ``outer`` (20),
modelled by the quarter cross-section ``x, y >= 0`` with symmetry conditions
(``u_x = 0`` on ``x = 0``, ``u_y = 0`` on ``y = 0``); plane strain (a long tube
with its ends held). The inner surface carries the pressure
``pressure * a(t)``, ramped from 0 at t = 0 to its maximum at t = 1 s and back
to 0 at t = 2 s (unloading shows the residual stresses); the outer surface is
free.

Material: J2 plasticity (the ``plasticity`` law: E, nu, sigma_y, H, C, D) by
default, or the ``elastic`` law (E, nu). Sampled parameters among:

========  ========  ===============  ====
name      nominal   bounds           unit
========  ========  ===============  ====
pressure  120       [50, 140]        MPa
E         200000    [150000, 250000] MPa
nu        0.3       [0.25, 0.35]     -
sigma_y   250       [200, 300]       MPa
H         0         [0, 5000]        MPa
C         0         [0, 20000]       MPa
D         0         [0, 200]         -
========  ========  ===============  ====

Closed forms checked by the tests: elastic stresses (Lame) ``sigma_rr = A - B /
r^2``, ``sigma_tt = A + B / r^2``, ``sigma_zz = 2 nu A`` with ``A = p a^2 / (b^2 -
a^2)``, ``B = p a^2 b^2 / (b^2 - a^2)``; first yield near ``p = sigma_y (1 - a^2 /
b^2) / sqrt(3)``; perfectly plastic limit pressure ``(2 / sqrt 3) sigma_y ln(b /
a)`` (0.80 sigma_y here, so the default bounds stay below it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from nirom.cases.description import CaseDescription, LoadSpec
from nirom.checks import check_integer, check_number
from nirom.errors import ParameterError
from nirom.solvers.base import register
from nirom.solvers.case import CaseSolver, sampled_parameters

_TABLE = {
    "pressure": (120.0, 50.0, 140.0, "MPa", False),
    "E": (200e3, 150e3, 250e3, "MPa", False),
    "nu": (0.3, 0.25, 0.35, "1", False),
    "sigma_y": (250.0, 200.0, 300.0, "MPa", False),
    "H": (0.0, 0.0, 5000.0, "MPa", False),
    "C": (0.0, 0.0, 20e3, "MPa", False),
    "D": (0.0, 0.0, 200.0, "1", False),
}
_LAWS = {"plasticity": ("E", "nu", "sigma_y", "H", "C", "D"), "elastic": ("E", "nu")}


@register("thick-cylinder")
class ThickCylinder(CaseSolver):
    """Quarter of a thick cylinder under internal pressure, load then unload.

    The options build the case's description (``nirom/cases/builtin/thick-cylinder.toml``
    is the default one as a case file).

    Parameters
    ----------
    parameters : sequence of str
        Sampled parameters (see the table), default ``("pressure", "sigma_y")``.
    law : {"plasticity", "elastic"}
    steps : int
        Output steps of the loading (and as many of the unloading).
    degree : {1, 2}
    resolution : int
        Cells through the wall (twice as many around the quarter).
    inner, outer : float
        Radii in mm.
    linear_solver : str
        "auto", "pardiso", "superlu" or "amg" (see :mod:`nirom.mechanics.linear`).
    bounds : mapping name -> [low, high], optional
        Bounds replacing the table's for sampled parameters (e.g. pressures past the
        limit pressure, whose samples then fail).
    """

    table = _TABLE

    def __init__(
        self,
        parameters: Sequence[str] = ("pressure", "sigma_y"),
        law: str = "plasticity",
        steps: int = 10,
        degree: int = 2,
        resolution: int = 8,
        inner: float = 10.0,
        outer: float = 20.0,
        linear_solver: str = "auto",
        bounds: Mapping[str, Sequence[float]] | None = None,
    ) -> None:
        if law not in _LAWS:
            raise ParameterError(f"law must be one of {', '.join(_LAWS)}, got {law!r}")
        sampled = list(parameters)
        extra = [p for p in sampled if p != "pressure" and p not in _LAWS[law]]
        if extra:
            raise ParameterError(f"parameters {extra} are not parameters of the {law} law")
        steps = check_integer("steps", steps, 1)
        degree = check_integer("degree", degree, 1)
        inner = check_number("inner", inner, "positive")
        outer = check_number("outer", outer, "positive")
        mesh = {"inner": inner, "outer": outer, "resolution": int(resolution)}
        table = {k: v for k, v in _TABLE.items() if k == "pressure" or k in _LAWS[law]}
        description = CaseDescription(
            name="thick-cylinder",
            mesh={"generator": "quarter-annulus", "options": mesh, "degree": degree},
            law=law,
            nominal={name: _TABLE[name][0] for name in _LAWS[law]},
            loads=[
                LoadSpec(
                    {"kind": "pressure", "boundary": "inner", "value": 1.0},
                    "pressure",
                    {"kind": "table", "times": [0.0, 1.0, 2.0], "values": [0.0, 1.0, 0.0]},
                ),
                LoadSpec({"kind": "displacement", "boundary": "left", "components": [0]}),
                LoadSpec({"kind": "displacement", "boundary": "bottom", "components": [1]}),
            ],
            times=np.linspace(0.0, 2.0, 2 * steps + 1),
            parameters=sampled_parameters(table, sampled, bounds, scales=("pressure",)),
            scales={"pressure": _TABLE["pressure"][0]},
            solver={"linear_solver": linear_solver},
            description=__doc__.splitlines()[0],
        )
        self._build(description)
        self.options = {
            "parameters": sampled,
            "law": law,
            "steps": steps,
            "degree": degree,
            "resolution": int(resolution),
            "inner": inner,
            "outer": outer,
            "linear_solver": linear_solver,
            "bounds": {k: [float(v) for v in b] for k, b in (bounds or {}).items()},
        }

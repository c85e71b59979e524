"""High-fidelity solvers: the `Solver` interface, built-in solvers, external programs.

Built-in solvers register under a name (``make_solver("thermal-block")``);
``CommandSolver`` ("command") runs any external program from a templated
input folder and ``CaseSolver`` ("mechanics") a mechanics case file
(:mod:`nirom.cases`, the case as data, which the solvers build on).
"""

from nirom.solvers.base import (
    Solver,
    SolverError,
    check_finite,
    make_solver,
    recorded_solver,
    register,
    resolve_solver,
    solver_names,
)
from nirom.solvers.burgers import Burgers
from nirom.solvers.case import CaseSolver, load_case
from nirom.solvers.command import CommandSolver
from nirom.solvers.darcy import Darcy
from nirom.solvers.elasticity import Elasticity
from nirom.solvers.heat_transient import HeatTransient
from nirom.solvers.plate_hole import PlateHole
from nirom.solvers.tensile2d import Tensile2d
from nirom.solvers.thermal_block import ThermalBlock
from nirom.solvers.thick_cylinder import ThickCylinder

__all__ = [
    "Burgers",
    "CaseSolver",
    "CommandSolver",
    "Darcy",
    "Elasticity",
    "HeatTransient",
    "PlateHole",
    "Solver",
    "SolverError",
    "Tensile2d",
    "ThermalBlock",
    "ThickCylinder",
    "check_finite",
    "load_case",
    "make_solver",
    "recorded_solver",
    "register",
    "resolve_solver",
    "solver_names",
]

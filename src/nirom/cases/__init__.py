"""Mechanics cases as data: a case file (TOML) or a built-in case's options describe the
mesh (a file or a built-in generator, with named boundaries), the material law, the loads
with their scales and amplitudes, the sampled parameters and the output times.

- :class:`~nirom.cases.description.CaseDescription`: the checked description (TOML/JSON);
- :mod:`~nirom.cases.meshes`: its mesh as a scikit-fem mesh with named boundaries;
- :class:`~nirom.cases.case.CaseSolver`: the case as a solver (``nirom generate case.toml``),
  and the mechanics case a hyper-reduced model is built on (``--case case.toml``);
- ``builtin/*.toml``: the built-in cases' defaults as case files (:func:`load_case`).
"""

# The solver registry first: its plate-hole and thick-cylinder solvers are cases, built on
# nirom.cases.case, which in turn registers with nirom.solvers.base.
import nirom.solvers  # noqa: F401 (this order breaks the import cycle)
from nirom.cases.case import BUILTIN, CaseSolver, load_case
from nirom.cases.description import CaseDescription, LoadSpec, SampledParameter

__all__ = [
    "BUILTIN",
    "CaseDescription",
    "CaseSolver",
    "LoadSpec",
    "SampledParameter",
    "load_case",
]

"""Mechanics cases as data: a case file (TOML) or a built-in case's options describe the
mesh (a file or a built-in generator, with named boundaries), the material law, the loads
with their scales and amplitudes, the sampled parameters and the output times.

- :class:`~nirom.cases.description.CaseDescription`: the checked description (TOML/JSON);
- :mod:`~nirom.cases.meshes`: its mesh as a scikit-fem mesh with named boundaries;
- ``builtin/*.toml``: the built-in cases' defaults as case files (:data:`BUILTIN`).

The case as a solver builds on this data: :class:`~nirom.solvers.case.CaseSolver`
(``nirom generate case.toml``, and the mechanics case a hyper-reduced model is built on,
``--case case.toml``), :func:`~nirom.solvers.case.load_case` and the built-in cases
(:mod:`nirom.solvers.plate_hole`, :mod:`nirom.solvers.thick_cylinder`).
"""

from nirom.cases.description import BUILTIN, CaseDescription, LoadSpec, SampledParameter

__all__ = [
    "BUILTIN",
    "CaseDescription",
    "LoadSpec",
    "SampledParameter",
]

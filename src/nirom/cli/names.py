"""Names the command line shows in its help, kept here so ``--help`` imports nothing heavy.

:data:`MODELS` are the surrogate names of :data:`nirom.surrogates.factory.MODELS`
and :data:`SOLVERS` the built-in solvers of :func:`nirom.solvers.solver_names`, in
their order; ``tests/test_cli_startup.py`` checks both against the registries.
"""

from __future__ import annotations

#: surrogate names ``nirom fit --model`` takes (the factory checks the value)
MODELS: tuple[str, ...] = (
    "pod-gp",
    "pod-rbf",
    "pod-mlp",
    "fno",
    "deeponet",
    "rb",
    "mmgp",
    "hrom",
    "hrom-dictionary",
)

#: registered solver names ``nirom generate CASE`` takes, sorted
SOLVERS: tuple[str, ...] = (
    "burgers",
    "command",
    "darcy",
    "elasticity",
    "heat-transient",
    "mechanics",
    "plate-hole",
    "tensile2d",
    "thermal-block",
    "thick-cylinder",
)

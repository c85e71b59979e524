"""Certified reduced basis from a linear solver's matrices.

Galerkin reduced models of ``A(mu) x = f(mu)`` with an affine operator
(:mod:`~nirom.reduced_basis.model`), X-orthonormal bases
(:mod:`~nirom.reduced_basis.basis`), the residual dual norm through Riesz
representers (:mod:`~nirom.reduced_basis.residual`), the min-theta coercivity
bound (:mod:`~nirom.reduced_basis.coercivity`), the weak greedy
(:mod:`~nirom.reduced_basis.greedy`) and POD-Galerkin from a dataset with
operators (:mod:`~nirom.reduced_basis.pod_galerkin`); for time-dependent
problems, the transient model with its trajectory bound
(:mod:`~nirom.reduced_basis.transient`) and the POD-greedy
(:mod:`~nirom.reduced_basis.pod_greedy`). The ``rb`` surrogate
(:mod:`nirom.surrogates.reduced_basis`) wraps a model for fit/predict/save.
"""

from nirom.reduced_basis.greedy import GreedyResult, weak_greedy
from nirom.reduced_basis.model import ReducedBasisModel
from nirom.reduced_basis.pod_galerkin import pod_galerkin
from nirom.reduced_basis.pod_greedy import PODGreedyResult, pod_greedy
from nirom.reduced_basis.transient import TransientRBModel

__all__ = [
    "GreedyResult",
    "PODGreedyResult",
    "ReducedBasisModel",
    "TransientRBModel",
    "pod_galerkin",
    "pod_greedy",
    "weak_greedy",
]

"""The POD algorithms as plain functions, and the discarded_energy name (energy its alias)."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import scipy.sparse as sp

from nirom.errors import HyperparameterError
from nirom.reduction import POD
from nirom.reduction.algorithms import (
    PODResult,
    pod_exact,
    pod_randomized,
    pod_snapshots,
    truncation_rank,
)
from nirom.reduction.incremental import pod_incremental
from nirom.reduction.inner_product import check_product


def spectrum_data(s: np.ndarray, n: int = 30, d: int = 80, seed: int = 0) -> np.ndarray:
    """Centred (n, d) snapshots whose singular values are exactly ``s``."""
    rng = np.random.default_rng(seed)
    U = np.linalg.qr(rng.standard_normal((n, len(s) + 1)))[0]
    U = U[:, 1:] - U[:, 1:].mean(axis=0)  # columns orthogonal to ones: centred rows
    U = np.linalg.qr(U)[0]
    V = np.linalg.qr(rng.standard_normal((d, len(s))))[0].T
    return (U * s) @ V


S = np.array([8.0, 4.0, 2.0, 1.0, 0.5])


@pytest.mark.parametrize("algorithm", ["exact", "snapshots", "incremental", "randomized"])
def test_every_algorithm_returns_the_spectrum_and_an_orthonormal_basis(algorithm: str) -> None:
    X = spectrum_data(S)
    if algorithm == "randomized":
        result = pod_randomized(X, 5)
    else:
        call = {"exact": pod_exact, "snapshots": pod_snapshots, "incremental": pod_incremental}
        result = call[algorithm](
            X, n_modes=5, **({"batch_size": 7} if algorithm != "exact" else {})
        )
    assert isinstance(result, PODResult) and result.method == algorithm
    np.testing.assert_allclose(result.singular_values[:5], S, rtol=1e-6)
    np.testing.assert_allclose(result.modes @ result.modes.T, np.eye(5), atol=1e-10)
    assert result.total_energy == pytest.approx(float(S @ S), rel=1e-10)
    np.testing.assert_allclose(result.mean, X.mean(axis=0), atol=1e-12)


def test_snapshots_streams_a_dask_array_with_a_mass_matrix() -> None:
    X = spectrum_data(S)
    mass = sp.diags(np.linspace(1.0, 2.0, X.shape[1]))
    product = check_product(mass, X.shape[1])
    lazy = pod_snapshots(da.from_array(X, chunks=(4, -1)), product, n_modes=3, batch_size=5)
    eager = pod_snapshots(X, product, n_modes=3)
    np.testing.assert_allclose(np.abs(lazy.modes), np.abs(eager.modes), atol=1e-8)
    gram = lazy.modes @ product.apply(lazy.modes).T
    np.testing.assert_allclose(gram, np.eye(3), atol=1e-10)


def test_truncation_rank_by_modes_and_by_discarded_energy() -> None:
    total = float(S @ S)
    assert truncation_rank(S, total, 1e-12) == 5
    assert truncation_rank(S, total, 1e-12, n_modes=2) == 2
    # squared values 64, 16, 4, 1, 0.25 of 85.25: 2 modes keep 93.8 %, 3 keep 98.5 %, 4 keep 99.7 %
    assert truncation_rank(S, total, 1e-12, discarded_energy=0.1) == 2
    assert truncation_rank(S, total, 1e-12, discarded_energy=0.01) == 4


def test_energy_is_an_alias_of_discarded_energy() -> None:
    X = spectrum_data(S)
    by_new = POD(discarded_energy=0.01).fit(X)
    by_old = POD(energy=0.01).fit(X)
    assert by_new.n_modes_ == by_old.n_modes_ == 4
    np.testing.assert_array_equal(by_new.modes_, by_old.modes_)
    POD(energy=0.01, discarded_energy=0.01).fit(X)
    with pytest.raises(HyperparameterError, match="energy is another name for discarded_energy"):
        POD(energy=0.01, discarded_energy=0.1).fit(X)
    with pytest.raises(HyperparameterError, match="discarded_energy must be a number in"):
        POD(discarded_energy=2).fit(X)


def test_the_constructor_only_stores_and_is_keyword_only() -> None:
    pod = POD(n_modes=-3, method="nope")  # refused at fit, not here
    assert pod.get_params()["n_modes"] == -3
    with pytest.raises(HyperparameterError, match="n_modes must be a positive integer"):
        pod.check_params()
    with pytest.raises(TypeError):
        POD(3)

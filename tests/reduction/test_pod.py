"""POD on small problems with known answers: exact-rank data, prescribed spectra, M-norms."""

from __future__ import annotations

import io
import json
import tracemalloc

import dask.array as da
import numpy as np
import pytest
import scipy.linalg as sla
import scipy.sparse as sp
from sklearn.base import clone
from threadpoolctl import threadpool_limits

from nirom.reduction import POD
from nirom.solvers import ThermalBlock

METHODS = ["exact", "snapshots", "randomized", "incremental"]


def orthonormal_rows(rng: np.random.Generator, k: int, d: int) -> np.ndarray:
    """A random (k, d) matrix with orthonormal rows."""
    return np.linalg.qr(rng.standard_normal((d, k)))[0].T


def rank_r_data(n: int = 60, d: int = 400, r: int = 5, seed: int = 0):
    """Snapshots ``mean + coeffs @ basis`` of exact rank r around the mean; returns (X, basis)."""
    rng = np.random.default_rng(seed)
    basis = orthonormal_rows(rng, r, d)
    coeffs = rng.standard_normal((n, r)) * np.geomspace(3.0, 0.3, r)
    return coeffs @ basis + 10.0 * rng.standard_normal(d), basis


def prescribed(s: np.ndarray, n: int, d: int, seed: int = 0) -> np.ndarray:
    """A (n, d) matrix with singular values ``s`` (len(s) <= min(n, d))."""
    rng = np.random.default_rng(seed)
    U = orthonormal_rows(rng, len(s), n).T
    return (U * s) @ orthonormal_rows(rng, len(s), d)


def projector(pod: POD) -> np.ndarray:
    return pod.modes_.T @ pod.modes_


def fit(method: str, X, **kwargs) -> POD:
    """Fit, giving the randomized method the n_modes it needs (it then warns about the rank)."""
    if method == "randomized" and "n_modes" not in kwargs:
        with pytest.warns(UserWarning, match="numerical rank"):
            return POD(method=method, n_modes=12, **kwargs).fit(X)
    return POD(method=method, **kwargs).fit(X)


def m_residual(pod: POD, X: np.ndarray, M) -> float:
    """``sum_i ||xc_i - Phi^T Phi M xc_i||_M^2`` for the centred training snapshots."""
    Xc = X - X.mean(axis=0)
    E = Xc - (Xc @ (M @ pod.modes_.T)) @ pod.modes_
    return float(np.einsum("ij,ij->", E, (M @ E.T).T))


# -- exact-rank data --------------------------------------------------------------
@pytest.mark.parametrize("lazy", [False, True], ids=["numpy", "dask"])
@pytest.mark.parametrize("energy", [None, 1e-12], ids=["rank", "energy"])
@pytest.mark.parametrize("method", METHODS)
def test_exact_rank_data_is_recovered(method: str, energy: float | None, lazy: bool) -> None:
    X, basis = rank_r_data()
    exact_s = np.linalg.svd(X - X.mean(axis=0), compute_uv=False)
    data = da.from_array(X, chunks=(16, -1)) if lazy else X
    pod = fit(method, data, energy=energy, batch_size=16)
    assert pod.n_modes_ == 5
    assert np.abs(pod.inverse_transform(pod.transform(data)) - X).max() < 1e-12 * np.abs(X).max()
    assert np.max(sla.subspace_angles(pod.modes_.T, basis.T)) < 1e-10
    rtol = 1e-8 if method == "randomized" else 1e-10
    np.testing.assert_allclose(pod.singular_values_[:5], exact_s[:5], rtol=rtol)
    np.testing.assert_allclose(pod.modes_ @ pod.modes_.T, np.eye(5), atol=1e-12)
    np.testing.assert_allclose(pod.mean_, X.mean(axis=0), rtol=1e-13)
    assert pod.explained_energy_[-1] == pytest.approx(1.0, abs=1e-12)


def test_methods_agree_on_a_generic_matrix() -> None:
    X = prescribed(np.geomspace(1.0, 1e-4, 40), 40, 150) + 3.0
    ref = POD(method="exact").fit(X)
    assert ref.n_modes_ == 39  # centring removes one dimension
    others = [
        POD(method="snapshots").fit(X),
        POD(method="incremental", n_modes=30, batch_size=16).fit(X),  # basis keeps 40
        POD(method="snapshots").fit(da.from_array(X, chunks=(7, -1))),
    ]
    for pod in others:
        np.testing.assert_allclose(pod.singular_values_[:39], ref.singular_values_[:39], atol=1e-12)
    # uncentred, the mean dominates (s_1 ~ 232): the Gram matrix resolves s_i to ~eps s_1^2 / s_i
    uncentred = POD(method="exact", center=False, n_modes=10).fit(X)
    lazy = POD(method="snapshots", center=False, n_modes=10)
    lazy.fit(da.from_array(X, chunks=(7, -1)))
    s_1 = uncentred.singular_values_[0]
    np.testing.assert_allclose(lazy.singular_values_, uncentred.singular_values_, atol=1e-10 * s_1)
    np.testing.assert_allclose(projector(lazy), projector(uncentred), atol=1e-9)
    leading = [POD(method=m, n_modes=8).fit(X) for m in METHODS]
    for pod in leading:
        np.testing.assert_allclose(projector(pod), projector(leading[0]), atol=1e-10)
        # the sign convention makes the modes themselves reproducible
        np.testing.assert_allclose(pod.modes_, leading[0].modes_, atol=1e-9)


@pytest.mark.parametrize(
    ("energy", "expected"), [(0.05, 2), (0.01, 3), (1e-3, 5), (1e-5, 6), (1e-9, 7)]
)
@pytest.mark.parametrize("method", ["exact", "snapshots", "incremental"])
def test_energy_truncation_on_prescribed_spectrum(method: str, energy: float, expected: int):
    s = np.array([10.0, 5.0, 2.0, 1.0, 0.5, 0.1, 0.01])
    X = prescribed(s, 30, 80)
    pod = POD(method=method, energy=energy, center=False, batch_size=8).fit(X)
    assert pod.n_modes_ == expected
    np.testing.assert_allclose(pod.singular_values_[:7], s, rtol=1e-9)
    np.testing.assert_allclose(pod.explained_energy_, np.cumsum(s**2)[:expected] / np.sum(s**2))
    assert POD(method=method, energy=energy, n_modes=2, center=False).fit(X).n_modes_ == 2


def test_n_modes_above_the_rank_keeps_the_rank_and_warns() -> None:
    X, _ = rank_r_data()
    with pytest.warns(UserWarning, match="n_modes=8 exceeds the numerical rank 5"):
        assert POD(method="exact", n_modes=8).fit(X).n_modes_ == 5


def test_incremental_warns_when_its_basis_misses_the_energy_target() -> None:
    X = np.random.default_rng(0).standard_normal((40, 60))
    with pytest.warns(UserWarning, match="give n_modes, or a larger batch_size"):
        pod = POD(method="incremental", energy=1e-6, batch_size=8).fit(X)
    assert pod.n_modes_ == 8  # the basis holds batch_size modes without n_modes


def test_auto_picks_the_method() -> None:
    X, _ = rank_r_data(n=60, d=400)
    assert POD().fit(X).method_ == "snapshots"  # n_dof > 4 n_samples
    assert POD().fit(X[:, :200]).method_ == "exact"
    lumped = sp.diags(np.full(400, 2.0))
    assert POD(product=lumped).fit(X).method_ == "snapshots"
    assert POD(method="exact", product=lumped).fit(X).method_ == "exact"  # diagonal: scaled


# -- inner products ------------------------------------------------------------------
@pytest.fixture(scope="module")
def thermal() -> tuple[np.ndarray, sp.csr_matrix]:
    """Thermal-block snapshots (30, 169) and the P1 mass matrix."""
    solver = ThermalBlock(resolution=12)
    design = solver.space.sample(30, design="sobol", seed=0)
    X = np.array([solver.solve(solver.space.as_dict(row))["u"] for row in design])
    return X, solver.mass_matrix()


def random_spd(d: int, seed: int = 0) -> sp.csr_matrix:
    """A sparse SPD matrix with a diagonal spread over four decades."""
    rng = np.random.default_rng(seed)
    B = sp.random(d, d, density=0.02, random_state=rng)
    return (B @ B.T + sp.diags(np.geomspace(1e-2, 1e2, d))).tocsr()


@pytest.mark.parametrize("method", ["snapshots", "exact", "randomized", "auto"])
def test_mass_matrix_modes_are_m_orthonormal(thermal, method: str) -> None:
    X, M = thermal
    pod = POD(method=method, n_modes=6, product=M).fit(X)
    assert pod.method_ == "snapshots"  # a non-diagonal product needs the Gram matrix
    np.testing.assert_allclose(pod.modes_ @ M @ pod.modes_.T, np.eye(6), atol=1e-10)
    lazy = POD(method=method, n_modes=6, product=M).fit(da.from_array(X, chunks=(4, -1)))
    np.testing.assert_allclose(projector(lazy), projector(pod), atol=1e-10)
    np.testing.assert_allclose(lazy.transform(X), pod.transform(X), atol=1e-10)


@pytest.mark.parametrize("data", ["thermal", "random"])
def test_m_weighted_pod_minimises_the_m_norm_error(thermal, data: str) -> None:
    if data == "thermal":
        X, M = thermal
    else:
        X = prescribed(np.geomspace(1.0, 1e-3, 20), 40, 300, seed=3) + 1.0
        M = random_spd(300)
    k = 4
    weighted = POD(n_modes=k, product=M, method="snapshots").fit(X)
    euclidean = POD(n_modes=k, method="snapshots").fit(X)
    best = m_residual(weighted, X, M)
    # the optimum is the sum of the discarded squared singular values
    assert best == pytest.approx(np.sum(weighted.singular_values_[k:] ** 2), rel=1e-8)
    assert best <= m_residual(euclidean, X, M) * (1 + 1e-12)
    if data == "random":
        assert best < 0.9 * m_residual(euclidean, X, M)


def test_diagonal_product_works_with_every_method(thermal) -> None:
    X, M = thermal
    lumped = sp.diags(np.asarray(M.sum(axis=1)).ravel())
    # 20 modes: the randomized range and the incremental basis (30) then hold every snapshot
    pods = [POD(method=m, n_modes=20, product=lumped, batch_size=8).fit(X) for m in METHODS]
    assert [p.method_ for p in pods] == METHODS
    for pod in pods:
        np.testing.assert_allclose(pod.modes_ @ lumped @ pod.modes_.T, np.eye(20), atol=1e-10)
        np.testing.assert_allclose(projector(pod), projector(pods[0]), atol=1e-8)
    lazy = POD(method="incremental", n_modes=20, product=lumped.toarray(), batch_size=8)
    lazy.fit(da.from_array(X, chunks=(3, -1)))
    np.testing.assert_allclose(projector(lazy), projector(pods[0]), atol=1e-8)


# -- incremental: streaming ---------------------------------------------------------------
def test_incremental_on_dask_matches_exact() -> None:
    X, _ = rank_r_data(n=100, d=400, r=6, seed=2)
    X = X + 1e-6 * np.random.default_rng(5).standard_normal(X.shape)  # rank 6 + tiny noise
    exact = POD(method="exact", n_modes=6).fit(X)
    lazy = POD(method="incremental", n_modes=6, batch_size=32)
    lazy.fit(da.from_array(X, chunks=(16, -1)))
    assert lazy.method_ == "incremental"
    assert np.max(sla.subspace_angles(lazy.modes_.T, exact.modes_.T)) < 1e-8
    np.testing.assert_allclose(lazy.singular_values_[:6], exact.singular_values_[:6], rtol=1e-10)
    np.testing.assert_allclose(lazy.mean_, exact.mean_, rtol=1e-12)
    assert lazy.total_energy_ == pytest.approx(exact.total_energy_, rel=1e-12)


def lazy_low_rank(n: int, d: int, chunk: int, rank: int, reads: list[int]) -> da.Array:
    """A Dask array of ``rank``-dimensional snapshots plus noise, each block generated on demand.

    ``reads`` collects the index of every block computed.
    """

    def block(block_id: tuple[int, int]) -> np.ndarray:
        reads.append(block_id[0])
        basis = np.random.default_rng(0).standard_normal((rank, d))
        rng = np.random.default_rng(1 + block_id[0])
        out = rng.standard_normal((chunk, rank)) @ basis
        out += 1e-3 * rng.standard_normal((chunk, d))
        return out

    return da.map_blocks(block, chunks=((chunk,) * (n // chunk), (d,)), dtype=np.float64)


@pytest.mark.parametrize(
    ("n_dof", "limit_mb"),
    [(20_000, 45), (200_000, 300)],
    ids=["82MB", "819MB"],
)
def test_incremental_streams_without_materialising(n_dof: int, limit_mb: int) -> None:
    """512 lazily generated snapshots; the fit's traced peak stays far below the data size.

    One BLAS thread: on a busy machine, OpenBLAS threads waiting for each
    other make the tall-skinny QR many times slower (the 819 MB case takes
    about 9 s with one thread, 25 s with two on a loaded 2-core machine).
    """
    n, chunk, rank = 512, 16, 5
    reads: list[int] = []
    X = lazy_low_rank(n, n_dof, chunk, rank, reads)
    assert X.nbytes == 8 * n * n_dof
    pod = POD(method="incremental", n_modes=rank, batch_size=32)
    tracemalloc.start()
    try:
        with threadpool_limits(1):
            pod.fit(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sorted(reads) == list(range(n // chunk))  # every block read once
    assert peak < limit_mb * 1e6, f"peak traced memory {peak / 1e6:.0f} MB"
    truth = np.random.default_rng(0).standard_normal((rank, n_dof))
    assert np.max(sla.subspace_angles(pod.modes_.T, truth.T)) < 1e-3


# -- using the basis -------------------------------------------------------------------
def test_transform_round_trip_and_dask_input() -> None:
    X = prescribed(np.geomspace(5.0, 1e-3, 30), 50, 120) + 2.0
    pod = POD(n_modes=6)
    Z = pod.fit_transform(X)
    assert Z.shape == (50, 6)
    np.testing.assert_allclose(Z, pod.transform(X), atol=1e-12)
    np.testing.assert_allclose(pod.transform(pod.inverse_transform(Z)), Z, atol=1e-12)
    np.testing.assert_allclose(Z, pod.transform(da.from_array(X, chunks=(8, -1))), atol=1e-12)
    assert isinstance(pod.transform(da.from_array(X, chunks=(8, -1))), np.ndarray)
    full = POD().fit(X)
    np.testing.assert_allclose(full.inverse_transform(full.transform(X)), X, atol=1e-12)


def test_projection_error_known_answers() -> None:
    X, basis = rank_r_data(40, 200, 4)
    pod = POD(n_modes=4, center=False).fit(X - X.mean(axis=0))
    inside = np.random.default_rng(1).standard_normal((3, 4)) @ basis
    outside = np.random.default_rng(2).standard_normal(200)
    outside -= basis.T @ (basis @ outside)
    errors = pod.projection_error(np.vstack([inside, outside, np.zeros(200)]))
    np.testing.assert_allclose(errors, [0, 0, 0, 1, 0], atol=1e-12)
    # on the training set: squared absolute errors sum to the discarded energy
    X = prescribed(np.geomspace(1.0, 1e-2, 12), 20, 60) + 1.0
    pod = POD(n_modes=3).fit(X)
    absolute = pod.projection_error(X) * np.linalg.norm(X, axis=1)
    assert np.sum(absolute**2) == pytest.approx(np.sum(pod.singular_values_[3:] ** 2))
    lazy = pod.projection_error(da.from_array(X, chunks=(6, -1)))
    np.testing.assert_allclose(lazy, pod.projection_error(X), rtol=1e-12)


def test_projection_error_in_the_m_norm(thermal) -> None:
    X, M = thermal
    pod = POD(n_modes=3, product=M).fit(X)
    absolute = pod.projection_error(X) * np.sqrt(np.einsum("ij,ij->i", X, (M @ X.T).T))
    assert np.sum(absolute**2) == pytest.approx(m_residual(pod, X, M), rel=1e-8)


# -- saving without pickle ---------------------------------------------------------------
def save_and_load(pod: POD, **kwargs) -> POD:
    params = json.loads(json.dumps(pod.to_json()))
    buffer = io.BytesIO()
    np.savez(buffer, **pod.to_arrays())
    buffer.seek(0)
    with np.load(buffer) as arrays:
        return POD.from_saved(params, dict(arrays), **kwargs)


def test_save_round_trip_gives_identical_results() -> None:
    X = prescribed(np.geomspace(5.0, 1e-3, 30), 50, 120) + 2.0
    pod = POD(n_modes=6, method="snapshots", random_state=3).fit(X)
    loaded = save_and_load(pod)
    assert np.array_equal(loaded.transform(X), pod.transform(X))
    assert np.array_equal(
        loaded.inverse_transform(pod.transform(X)), pod.inverse_transform(pod.transform(X))
    )
    assert np.array_equal(loaded.projection_error(X), pod.projection_error(X))
    for name in ("modes_", "mean_", "singular_values_", "explained_energy_"):
        assert np.array_equal(getattr(loaded, name), getattr(pod, name))
    assert loaded.get_params() == pod.get_params()
    assert (loaded.n_modes_, loaded.method_, loaded.n_features_in_) == (6, "snapshots", 120)


def test_save_round_trip_with_a_product(thermal) -> None:
    X, M = thermal
    pod = POD(n_modes=4, product=M).fit(X)
    assert "dual_modes" in pod.to_arrays()
    loaded = save_and_load(pod)  # no product: transform still works
    assert np.array_equal(loaded.transform(X), pod.transform(X))
    with pytest.raises(ValueError, match="pass product= to POD.from_saved"):
        loaded.projection_error(X)
    with_m = save_and_load(pod, product=M)
    np.testing.assert_allclose(with_m.projection_error(X), pod.projection_error(X), rtol=1e-12)
    with pytest.raises(ValueError, match="does not match"):
        save_and_load(pod, product=2 * M)


def test_from_saved_rejects_bad_input() -> None:
    pod = POD(n_modes=2).fit(prescribed(np.array([3.0, 2.0, 1.0]), 10, 20))
    with pytest.raises(ValueError, match="not a saved POD"):
        POD.from_saved({"type": "other"}, pod.to_arrays())
    arrays = pod.to_arrays()
    arrays["modes"] = arrays["modes"][:, :5]
    with pytest.raises(ValueError, match=r"'modes' has shape \(2, 5\); expected \(2, 20\)"):
        POD.from_saved(pod.to_json(), arrays)
    with pytest.raises(ValueError, match="'mean' is missing"):
        POD.from_saved(pod.to_json(), {"modes": pod.modes_})


# -- validation and scikit-learn conventions -------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_modes": 0}, "n_modes must be a positive integer"),
        ({"n_modes": 2.5}, "n_modes must be a positive integer"),
        ({"energy": 0.0}, r"energy must be a number in \(0, 1\)"),
        ({"energy": 1.5}, r"energy must be a number in \(0, 1\)"),
        ({"method": "svd"}, "method must be one of auto, exact"),
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"center": "yes"}, "center must be True or False"),
        ({"random_state": "seed"}, "random_state must be an integer"),
        ({"method": "randomized"}, "method='randomized' needs n_modes"),
        ({"product": np.eye(7)}, r"product has shape \(7, 7\); expected \(20, 20\)"),
        ({"product": np.triu(np.ones((20, 20)))}, "product must be symmetric"),
        ({"product": -np.eye(20)}, "product must be positive definite"),
        ({"product": [[1.0]]}, "product must be a scipy sparse matrix or a NumPy array"),
        (
            {"method": "incremental", "product": random_spd(20)},
            "product: method='incremental' supports only a diagonal product",
        ),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs: dict, message: str) -> None:
    X = np.random.default_rng(0).standard_normal((10, 20))
    with pytest.raises(ValueError, match=message):
        POD(**kwargs).fit(X)


def test_bad_shapes_raise_clear_errors() -> None:
    X = np.random.default_rng(0).standard_normal((10, 20))
    with pytest.raises(ValueError, match=r"X has shape \(20,\); expected \(n_samples, n_dof\)"):
        POD().fit(X[0])
    with pytest.raises(ValueError, match=r"X has shape \(2, 5, 2\)"):
        POD().fit(X[:2].reshape(2, 5, 4)[..., :2])
    with pytest.raises(ValueError, match="contains NaN or infinite"):
        POD().fit(np.where(X > 1.5, np.nan, X))
    with pytest.raises(ValueError, match="all zero"):
        POD().fit(np.ones((5, 20)))
    pod = POD(n_modes=3).fit(X)
    with pytest.raises(ValueError, match=r"X has shape \(4, 19\); this POD was fitted on 20"):
        pod.transform(X[:4, :19])
    with pytest.raises(ValueError, match=r"Z has shape \(4, 2\); expected \(n_samples, 3\)"):
        pod.inverse_transform(np.zeros((4, 2)))
    lazy = da.from_array(np.where(X > 1.5, np.nan, X), chunks=(5, -1))
    with pytest.raises(ValueError, match="NaN or infinite"):
        POD(method="incremental", n_modes=2).fit(lazy)


def test_scikit_learn_conventions() -> None:
    pod = POD(n_modes=3)
    twin = clone(pod)
    assert twin.get_params() == pod.get_params()
    assert twin.get_params()["n_modes"] == 3 and twin is not pod
    assert POD().set_params(energy=1e-3).energy == 1e-3
    X = np.random.default_rng(0).standard_normal((10, 20))
    assert pod.fit(X) is pod
    assert not hasattr(twin, "modes_")
    assert not hasattr(clone(pod), "modes_")
    assert pod.n_features_in_ == 20 and pod.n_modes_ == 3

"""hrom-dictionary: subspace dissimilarity, k-medoids, the classifier, the local models."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp

from nirom.cli import main
from nirom.evaluation import evaluate
from nirom.hyperreduction.classifier import ParameterClassifier
from nirom.hyperreduction.clustering import choose_clusters, k_medoids, silhouette, with_overlap
from nirom.hyperreduction.dissimilarity import dissimilarity, dissimilarity_matrix, local_basis
from nirom.surrogates import Surrogate
from nirom.surrogates.hrom_dictionary import HROMDictionarySurrogate, _expected_points


def _orthonormal(rng: np.random.Generator, n: int, k: int, M: sp.spmatrix) -> np.ndarray:
    """A basis of a random k-dimensional subspace, orthonormal in M (diagonal)."""
    q = np.linalg.qr(rng.normal(size=(n, k)))[0]
    return q / np.sqrt(M.diagonal())[:, None]


def test_dissimilarity_is_zero_for_one_subspace_symmetric_and_one_when_orthogonal() -> None:
    rng = np.random.default_rng(0)
    M = sp.diags(rng.uniform(0.5, 2.0, 40))
    a = _orthonormal(rng, 40, 4, M)
    rotation = np.linalg.qr(rng.normal(size=(4, 4)))[0]
    assert dissimilarity(a, a @ rotation, M) == pytest.approx(0.0, abs=1e-7)  # another basis
    b = _orthonormal(rng, 40, 6, M)
    assert dissimilarity(a, b, M) == pytest.approx(dissimilarity(b, a, M), abs=1e-14)
    assert 0 < dissimilarity(a, b, M) < 1
    e = np.eye(40)
    assert dissimilarity(e[:, :3], e[:, 3:6]) == pytest.approx(1.0)
    assert dissimilarity(e[:, :1], e[:, :4]) == pytest.approx(np.sqrt(1 - 1 / 4))  # nested
    D = dissimilarity_matrix([a, b, a @ rotation], M)
    np.testing.assert_allclose(D, D.T, atol=0)
    assert np.all(np.diag(D) == 0) and D[0, 2] < 1e-7


def test_a_simulation_basis_is_orthonormal_in_the_product_and_truncated() -> None:
    rng = np.random.default_rng(1)
    M = sp.diags(rng.uniform(0.5, 2.0, 30))
    modes = rng.normal(size=(3, 30))
    snapshots = rng.normal(size=(12, 3)) @ modes + 1e-9 * rng.normal(size=(12, 30))
    V = local_basis(snapshots, 1e-4, M)
    assert V.shape == (30, 3)
    np.testing.assert_allclose(V.T @ (M @ V), np.eye(3), atol=1e-10)


def _three_groups() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    truth = np.repeat(np.arange(3), [6, 9, 5])
    points = centres[truth] + rng.normal(scale=0.5, size=(truth.size, 2))
    order = rng.permutation(truth.size)
    points, truth = points[order], truth[order]
    return np.linalg.norm(points[:, None] - points[None], axis=-1), truth


def test_k_medoids_recovers_well_separated_clusters_and_silhouette_chooses_three() -> None:
    D, truth = _three_groups()
    clustering = k_medoids(D, 3, seed=0)
    for c in range(3):  # one found cluster per true group, whatever the numbering
        assert np.unique(truth[clustering.labels == c]).size == 1
    assert np.all(clustering.labels[clustering.medoids] == np.arange(3))
    chosen, tried = choose_clusters(D, max_clusters=5)
    assert chosen.n_clusters == 3 and tried[3] == max(tried.values()) and tried[3] > 0.8
    second = max((k for k in tried if k != 3), key=tried.get)  # 3 refused: the next silhouette
    assert choose_clusters(D, 5, accept=lambda c: c.n_clusters != 3)[0].n_clusters == second
    assert np.isnan(silhouette(D, np.zeros(len(D), dtype=int)))
    assert choose_clusters(np.zeros((6, 6)), 3)[0].n_clusters == 1  # no structure: one


def test_a_cost_chooses_among_the_accepted_numbers_of_clusters() -> None:
    D, _ = _three_groups()
    _, tried = choose_clusters(D, max_clusters=5)
    assert max(tried, key=tried.get) == 3  # the silhouette alone takes 3
    costs = []

    def cost(clustering) -> float:
        costs.append(clustering.n_clusters)
        return float(clustering.n_clusters == 3)

    chosen, _ = choose_clusters(
        D, 5, min_silhouette=0.0, accept=lambda c: c.n_clusters < 5, cost=cost
    )
    assert chosen.n_clusters != 3 and 3 in costs and 5 not in costs  # refused: never costed
    alone = choose_clusters(D, 5, accept=lambda c: c.n_clusters == 3, cost=cost)[0]
    assert alone.n_clusters == 3


def test_auto_takes_the_clusters_of_fewest_expected_cubature_points() -> None:
    D, truth = _three_groups()
    rng = np.random.default_rng(4)
    u = np.eye(3)[truth] * 0.8 + 0.1 * rng.random((truth.size, 3))  # separable parameters
    points = {2: [30, 10], 3: [200, 100, 150]}  # three clusters: more points

    def local_models(clustering):
        k = clustering.n_clusters
        models = [SimpleNamespace(model_=SimpleNamespace(n_cubature_points=n)) for n in points[k]]
        model.expected_points_[k] = _expected_points(clustering.labels, models)
        return models

    model = HROMDictionarySurrogate(max_clusters=3, min_accuracy=0.0)
    model.expected_points_ = {}
    clustering, tried, _ = model._cluster(D, u, local_models)
    assert max(tried, key=tried.get) == 3 and clustering.n_clusters == 2
    assert set(model.expected_points_) == {2, 3}
    share = np.bincount(clustering.labels) / truth.size
    assert model.expected_points_[2] == pytest.approx(share @ np.array([30.0, 10.0]))


def test_overlap_adds_the_nearest_outsiders_to_the_medoid() -> None:
    D, _ = _three_groups()
    clustering = k_medoids(D, 3, seed=0)
    sizes = np.bincount(clustering.labels)
    members = with_overlap(D, clustering, 0.5)
    for c, m in enumerate(members):
        assert m.size == sizes[c] + int(np.ceil(0.5 * sizes[c]))
        outsiders = np.setdiff1d(np.arange(len(D)), np.flatnonzero(clustering.labels == c))
        added = np.setdiff1d(m, np.flatnonzero(clustering.labels == c))
        farthest_added = D[clustering.medoids[c], added].max()
        assert np.sum(D[clustering.medoids[c], outsiders] < farthest_added) < added.size


def test_the_classifier_separates_regimes_and_keeps_its_state_as_arrays() -> None:
    rng = np.random.default_rng(3)
    u = rng.random((40, 2))
    labels = (u[:, 0] > 0.3 + 0.4 * u[:, 1]).astype(int) + (u[:, 0] > 0.9).astype(int)
    model = ParameterClassifier.fit(u, labels, 3)
    p = model.probabilities(u)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert np.mean(np.argmax(p, axis=1) == labels) >= 0.95
    assert model.cv["folds"] == 40 and model.cv["accuracy"] >= 0.8
    again = ParameterClassifier.from_saved(model.to_json(), model.to_arrays())
    np.testing.assert_array_equal(again.probabilities(u), p)


# -- the surrogate on the plate-hole samples of conftest -------------------------------------
@pytest.fixture(scope="module")
def two_clusters(plate_dataset):
    ds, ids = plate_dataset.dataset, plate_dataset.ids
    return HROMDictionarySurrogate(n_clusters=2, tolerance=1e-6).fit(ds, ids[:4])


def test_one_cluster_is_the_global_hrom(plate_dataset) -> None:
    ds, ids = plate_dataset.dataset, plate_dataset.ids
    dictionary = HROMDictionarySurrogate(n_clusters=1, tolerance=1e-6).fit(ds, ids[:4])
    mu = ds.parameter_sets(ids[4:])
    expected = plate_dataset.model.predict(mu)
    got = dictionary.predict(mu)
    assert got.keys() == expected.keys()
    for k in expected:
        np.testing.assert_array_equal(got[k], expected[k])
    (route,) = dictionary.routes(mu)
    assert route["used"] == 0 and route["fallback"] is None and route["probability"] == 1.0


def _unsure(model: HROMDictionarySurrogate, top: int, p_top: float) -> None:
    """Make the classifier answer ``p_top`` for cluster ``top`` everywhere."""
    intercept = np.log(np.full(2, 1 - p_top))
    intercept[top] = np.log(p_top)
    model.classifier_ = ParameterClassifier(np.zeros_like(model.classifier_.coef), intercept)


def test_an_unsure_classifier_falls_back_on_the_richer_neighbour(plate_dataset, two_clusters):
    model = two_clusters
    modes = [m.model_.n_modes for m in model.locals_]
    assert modes[0] != modes[1], "the test needs local models of different sizes"
    poor, rich = int(np.argmin(modes)), int(np.argmax(modes))
    mu = plate_dataset.dataset.parameter_sets(plate_dataset.ids[4:])
    saved = model.classifier_
    try:
        _unsure(model, poor, 0.6)  # below the threshold 0.7
        (route,) = model.routes(mu)
        assert route["cluster"] == poor and route["fallback"] == "unsure" and route["used"] == rich
        np.testing.assert_array_equal(model.predict(mu)["u"], model.locals_[rich].predict(mu)["u"])
        _unsure(model, poor, 0.8)  # sure, the indicator low enough: the poorer model answers
        model.indicator_factor = 1e12
        (route,) = model.routes(mu)
        assert route["used"] == poor and route["fallback"] is None
        model.indicator_factor = 1e-12  # sure, but the indicator rises: the richer answers
        (route,) = model.routes(mu)
        assert route["used"] == rich and route["fallback"] == "indicator"
        _unsure(model, rich, 0.6)  # unsure, but the neighbour is poorer: kept
        (route,) = model.routes(mu)
        assert route["used"] == rich and route["fallback"] is None
    finally:
        model.classifier_, model.indicator_factor = saved, 2.0


_FRESH = """
import sys
import numpy as np
from nirom import Dataset
from nirom.surrogates import Surrogate
model = Surrogate.load(sys.argv[1])
ds = Dataset(sys.argv[2])
mu = ds.parameter_sets([int(sys.argv[3])])
np.savez(sys.argv[4], probabilities=model.probabilities(mu), **model.predict(mu))
"""


def test_save_and_load_in_a_fresh_process_predicts_identically(
    plate_dataset, two_clusters, tmp_path
) -> None:
    path = two_clusters.save(tmp_path / "dictionary.model")
    out = tmp_path / "fresh.npz"
    last = plate_dataset.ids[4]
    args = [sys.executable, "-c", _FRESH, str(path), str(plate_dataset.dataset.path), str(last)]
    subprocess.run([*args, str(out)], check=True)
    mu = plate_dataset.dataset.parameter_sets([last])
    here = two_clusters.predict(mu)
    with np.load(out) as fresh:
        np.testing.assert_array_equal(fresh["probabilities"], two_clusters.probabilities(mu))
        for k, v in here.items():
            np.testing.assert_array_equal(fresh[k], v)
    loaded = Surrogate.load(path)
    assert loaded.summary() == two_clusters.summary()
    assert loaded.card_details()["cluster_sizes"] == two_clusters.card_details()["cluster_sizes"]


def test_evaluation_details_give_the_classification_accuracy(plate_dataset, two_clusters):
    ds, ids = plate_dataset.dataset, plate_dataset.ids
    details = two_clusters.evaluation_details(ds, ids[:4])
    assert details["clusters"] == 2
    truth = two_clusters.true_clusters(ds, ids[:4])
    np.testing.assert_array_equal(truth, two_clusters.clustering_.labels)  # own medoids
    predicted = np.argmax(two_clusters.probabilities(ds.parameter_sets(ids[:4])), axis=1)
    assert details["classification_accuracy"] == np.mean(predicted == truth)
    report = evaluate(two_clusters, ds, ids[4:], n_timing=1)  # nirom evaluate shows it
    assert report["model_details"] == two_clusters.evaluation_details(ds, ids[4:])


def test_fit_from_the_command_line(plate_dataset, tmp_path, capsys) -> None:
    out = tmp_path / "cli.model"
    ds = plate_dataset.dataset
    rc = main(["fit", str(ds.path), "--model", "hrom-dictionary", "--out", str(out)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "hrom-dictionary: " in printed and "local model" in printed
    loaded = Surrogate.load(out)
    assert loaded.kind == "hrom-dictionary" and loaded.training_ids_ == ds.sample_ids()


def test_more_clusters_than_samples_is_refused_naming_both(plate_dataset) -> None:
    from nirom.errors import ParameterError

    with pytest.raises(ParameterError) as info:
        HROMDictionarySurrogate(n_clusters=9).fit(plate_dataset.dataset, plate_dataset.ids[:4])
    assert str(info.value).splitlines()[0] == "n_clusters=9 is more than the 4 training samples"

"""The predictive covariance in low rank (issue 22): pod-gp's equals the dense one built by
brute force, its diagonal is ``return_std`` squared, quantities carry their variances
through it, and the leave-one-out std factors are saved and shown."""

from __future__ import annotations

import numpy as np
import pytest

from nirom.apps.quantities import parse_quantities, quantity_covariance
from nirom.report.card import model_card
from nirom.surrogates import ModelError, PODSurrogate, Surrogate

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

MU = np.array([[0.3, 2.0, 0.7, 5.0], [4.0, 0.2, 1.0, 0.5]])


def dense_covariance(model: PODSurrogate, x: np.ndarray, name: str) -> np.ndarray:
    """Cov (n, N, N) of field ``name``'s values, by brute force: the POD modes, one GP per
    mode's variance, and the truncation variance, multiplied out on every value."""
    _, z_std = model.regressors_[name].predict(model._features(model.prepare(x).u, {}), True)
    modes = model.pods_[name].modes_  # (r, N)
    out = np.empty((len(x), modes.shape[1], modes.shape[1]))
    for i, s in enumerate(z_std):
        out[i] = modes.T @ np.diag(s**2) @ modes + np.diag(model.truncation_var_[name])
    return out


def test_low_rank_covariance_equals_the_dense_one(small_block) -> None:
    model = small_block.gp
    assert model.capabilities.covariance
    cov = model.predict_covariance(MU)["u"]
    dense = dense_covariance(model, MU, "u")
    np.testing.assert_allclose(cov.dense(), dense, rtol=1e-10, atol=1e-14 * dense.max())
    _, std = model.predict(MU, return_std=True)
    np.testing.assert_allclose(np.sqrt(cov.variance()), std["u"], rtol=1e-12)
    rows = np.array([3, 40, 41, 100])
    restricted = model.predict_covariance(MU, rows={"u": rows})["u"]
    np.testing.assert_allclose(restricted.dense(), dense[:, rows][:, :, rows], rtol=1e-10)


def test_quantities_carry_their_variance_through_the_covariance(small_block) -> None:
    model = small_block.gp
    texts = ["mean(u)", "mean(u, 0:0.5, 0:0.5)", "max(u)", "at(u, 0.25, 0.25)", "u[40]"]
    quantities = parse_quantities(texts, model.fields_, model.mesh_)
    mean = model.predict(MU)
    cov = model.predict_covariance(MU)
    dense = dense_covariance(model, MU, "u")
    weights = np.zeros((len(MU), len(texts), dense.shape[1]))
    for j, q in enumerate(quantities):
        idx, w = q.linearisation(mean)
        for i in range(len(MU)):
            weights[i, j, idx if idx.ndim == 1 else idx[i]] = w if w.ndim == 1 else w[i]
    expected = np.einsum("nia,nab,njb->nij", weights, dense, weights)
    np.testing.assert_allclose(quantity_covariance(quantities, mean, cov), expected, rtol=1e-9)
    variances = np.column_stack([q.variance(mean, cov) for q in quantities])
    np.testing.assert_allclose(variances, np.diagonal(expected, axis1=1, axis2=2), rtol=1e-9)
    # a mean's std from the covariance is below the perfectly correlated bound
    _, std = model.predict(MU, return_std=True)
    assert np.all(quantities[0].std(mean, cov=cov) < quantities[0].std(mean, std))


def test_models_without_it_say_so(small_block) -> None:
    assert not small_block.rbf.capabilities.covariance
    with pytest.raises(ModelError, match="a pod-rbf model gives no predictive covariance"):
        small_block.rbf.predict_covariance(MU)
    with pytest.raises(ModelError, match="no field 'T' in this pod-gp model"):
        small_block.gp.predict_covariance(MU, rows={"T": [0]})


def test_std_factors_are_saved_shown_and_can_be_turned_off(small_block, tmp_path) -> None:
    model = small_block.gp
    factors = model.regressors_["u"].std_scale_
    assert model.regressors_["u"].rescale_std and not np.allclose(factors, 1.0)
    loaded = Surrogate.load(model.save(tmp_path / "m.model"))
    np.testing.assert_array_equal(loaded.regressors_["u"].std_scale_, factors)
    np.testing.assert_array_equal(
        loaded.predict(MU, return_std=True)[1]["u"], model.predict(MU, return_std=True)[1]["u"]
    )
    card = model_card(loaded)
    assert card["std_calibration"] == "8-fold cross-validation" and card["predictive_covariance"]
    assert card["std_scale"]["u"] == [round(float(f), 4) for f in factors]
    off = PODSurrogate(
        regressor="gp", energy=1e-6, regressor_params={"n_restarts": 0, "rescale_std": False}
    ).fit(small_block.train)
    assert model_card(off)["std_calibration"] == "off"
    _, std_off = off.predict(MU, return_std=True)
    _, std_on = model.predict(MU, return_std=True)
    assert not np.allclose(std_off["u"], std_on["u"])

"""Regressors recover known maps; tuning, voting guarantee, metrics and selection."""

import numpy as np
import pytest
from sklearn.linear_model import Ridge as SkRidge

from surrogates.wear import regressors as reg
from surrogates.wear.metrics import PAPER_TABLE7, regression_scores
from surrogates.wear.selection import ZScore, select_by_mutual_information
from surrogates.wear.voting import Tuned, Voting, grid, tune

RNG = np.random.default_rng(0)
X = RNG.standard_normal((160, 5))
XT = RNG.standard_normal((80, 5))
W = np.array([1.5, -2.0, 0.5, 0.0, 3.0])


def _linear(x):
    return x @ W + 4.0


def _nonlinear(x):
    return np.sin(1.5 * x[:, 0]) * 2.0 + 0.5 * x[:, 1] ** 2


def _r2(model, f):
    return regression_scores(f(XT), model.fit(X, f(X)).predict(XT))["r2"]


def test_ridge_matches_sklearn_and_least_squares():
    y = _linear(X) + np.random.default_rng(1).normal(size=160)
    # ours standardises y; ridge on (y - ȳ)/s with α equals sklearn ridge on y with α
    ours = reg.Ridge(alpha=3.0).fit(X, y)
    np.testing.assert_allclose(
        ours.predict(XT), SkRidge(alpha=3.0).fit(X, y).predict(XT), rtol=1e-4, atol=1e-4
    )
    exact = reg.Ridge(alpha=0.0).fit(X, _linear(X))
    np.testing.assert_allclose(exact.predict(XT), _linear(XT), atol=1e-3)


@pytest.mark.parametrize(
    "model",
    [reg.SGDLinear(epochs=30), reg.LinearSVR(epsilon=0.01, epochs=150)],
    ids=["sgd", "linear_svr"],
)
def test_gradient_linear_models_recover_linear_map(model):
    assert _r2(model, _linear) > 0.99


@pytest.mark.parametrize(
    ("model", "r2_min"),
    [
        (reg.KernelRidge(gamma=1.0, alpha=1e-3), 0.9),
        (reg.GaussianProcess(steps=40), 0.9),
        (reg.KernelSVR(gamma=1.0, epsilon=0.01, alpha=1e-4, epochs=200), 0.75),
        (reg.MLP(epochs=60, hidden=(32, 32), dropout=0.0, learning_rate=1e-2), 0.8),
    ],
    ids=["kernel_ridge", "gp", "kernel_svr", "mlp"],
)
def test_nonlinear_models_recover_nonlinear_map(model, r2_min):
    assert _r2(model, _nonlinear) > r2_min
    assert _r2(reg.Ridge(alpha=1e-3), _nonlinear) < 0.7  # the map is truly nonlinear


def test_knn_interpolates_training_points():
    model = reg.KNN(k=1).fit(X, _nonlinear(X))
    np.testing.assert_allclose(model.predict(X), _nonlinear(X), atol=1e-4)
    with pytest.raises(ValueError, match="weights"):
        reg.KNN(weights="gauss").fit(X, _nonlinear(X))


def test_tune_picks_lowest_cv_error_and_voting_never_worse_than_worst():
    y, yt = _nonlinear(X), _nonlinear(XT)
    members = [
        tune("ridge", reg.Ridge, grid(alpha=[0.1, 100.0]), X, y, folds=3, seed=0),
        tune("kr", reg.KernelRidge, grid(gamma=[0.1, 1.0], alpha=[1e-2]), X, y, folds=3),
        tune("knn", reg.KNN, grid(k=[3, 8]), X, y, folds=3, seed=0),
    ]
    for m in members:
        assert m.cv_mse == min(s for _, s in m.grid_scores)
    for weights in ("mean", "inverse_cv"):
        ens = Voting(members, weights=weights)
        assert ens.w.sum() == pytest.approx(1.0) and np.all(ens.w >= 0)
        member_mse = [np.mean((p - yt) ** 2) for p in ens.member_predictions(XT)]
        mse = np.mean((ens.predict(XT) - yt) ** 2)
        assert mse <= np.dot(ens.w, member_mse) + 1e-12 <= max(member_mse) + 1e-12


def test_voting_rejects_bad_weights():
    m = Tuned("ridge", reg.Ridge().fit(X, _linear(X)), {}, 1.0)
    with pytest.raises(ValueError, match="weights"):
        Voting([m], weights="median")


def test_scores_by_hand_and_paper_table_consistency():
    s = regression_scores(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 2.0, 3.0, 6.0]))
    assert s["mse"] == pytest.approx(1.0) and s["rmse"] == pytest.approx(1.0)
    assert s["mae"] == pytest.approx(0.5) and s["r2"] == pytest.approx(1 - 4 / 5)
    # Paper Table 7: MSE = RMSE² and the same test variance MSE/(1 − R²) for every model
    variances = [mse / (1 - r2) for r2, rmse, mse, _ in PAPER_TABLE7.values()]
    assert np.ptp(variances) < 0.01
    for _r2_paper, rmse, mse, _ in PAPER_TABLE7.values():
        assert rmse**2 == pytest.approx(mse, rel=2e-3)


def test_zscore_and_mutual_information_selection():
    x = np.column_stack([RNG.normal(size=300), RNG.normal(size=300) * 50 + 7, np.ones(300)])
    y = np.sin(x[:, 1] / 20.0)
    z = ZScore.fit(x)
    t = z.transform(x)
    np.testing.assert_allclose(t[:, :2].mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(t[:, :2].std(0), 1, atol=1e-12)
    assert np.all(t[:, 2] == 0)
    sel = select_by_mutual_information(t, y, k=1, seed=0)
    assert sel.indices.tolist() == [1] and sel.apply(t).shape == (300, 1)

"""Regressors recover known maps; the JAX MLP is a scikit-learn estimator; tuning, voting
guarantee, metrics and selection."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import VotingRegressor
from sklearn.linear_model import Ridge
from sklearn.model_selection import GroupKFold

from surrogates.wear.metrics import PAPER_TABLE7, regression_scores
from surrogates.wear.regressors import MLPRegressor, model_grids
from surrogates.wear.selection import ZScore, select_by_mutual_information
from surrogates.wear.voting import fit_voting, member_predictions, tune, voting_weights

RNG = np.random.default_rng(0)
X = RNG.standard_normal((160, 5))
XT = RNG.standard_normal((80, 5))
W = np.array([1.5, -2.0, 0.5, 0.0, 3.0])


def _linear(x):
    return x @ W + 4.0


def _nonlinear(x):
    return np.sin(1.5 * x[:, 0]) * 2.0 + 0.5 * x[:, 1] ** 2


def _r2(model, f):
    return regression_scores(f(XT), clone(model).fit(X, f(X)).predict(XT))["r2"]


GRIDS = model_grids(quick=True, seed=0)


@pytest.mark.parametrize("name", ["ridge", "sgd", "linear_svr"])
def test_linear_models_recover_linear_map(name):
    est, grid = GRIDS[name]
    params = {k: v[0] for k, v in grid.items()}
    assert _r2(clone(est).set_params(**params), _linear) > 0.99


@pytest.mark.parametrize(
    ("name", "params", "r2_min"),
    [
        ("kernel_ridge", {"regressor__gamma": 0.1, "regressor__alpha": 1e-2}, 0.9),
        ("gaussian_process", {}, 0.9),
        ("kernel_svr", {"regressor__gamma": 0.1, "regressor__C": 10.0}, 0.9),
        ("knn", {"n_neighbors": 5}, 0.55),
    ],
)
def test_nonlinear_models_recover_nonlinear_map(name, params, r2_min):
    est = clone(GRIDS[name][0]).set_params(**params)
    assert _r2(est, _nonlinear) > r2_min
    assert _r2(Ridge(alpha=1e-3), _nonlinear) < 0.7  # the map is truly nonlinear


def test_jax_mlp_is_an_sklearn_estimator():
    mlp = MLPRegressor(hidden=(32, 32), dropout=0.0, learning_rate=1e-2, epochs=60, seed=0)
    assert mlp.get_params()["epochs"] == 60
    copy = clone(mlp).set_params(epochs=61)
    assert copy.get_params()["epochs"] == 61 and mlp.epochs == 60
    assert _r2(mlp, _nonlinear) > 0.8
    with pytest.raises(ValueError):
        MLPRegressor(epochs=5).fit(X, _nonlinear(X)).predict(XT[:, :3])  # wrong width
    ens = VotingRegressor([("mlp", mlp), ("ridge", Ridge())]).fit(X, _nonlinear(X))
    assert ens.predict(XT).shape == (80,)


def test_tune_picks_lowest_cv_error_and_voting_never_worse_than_worst():
    y, yt = _nonlinear(X), _nonlinear(XT)
    members = [
        tune("ridge", Ridge(), {"alpha": [0.1, 100.0]}, X, y, folds=3, seed=0),
        tune("kr", *GRIDS["kernel_ridge"], X, y, folds=3, seed=0),
        tune("knn", *GRIDS["knn"], X, y, folds=3, seed=0),
    ]
    for m in members:
        assert m.cv_mse == min(s for _, s in m.grid_scores)
    ensembles = fit_voting(members, X, y)
    for ens in ensembles.values():
        w = voting_weights(ens)
        assert w.sum() == pytest.approx(1.0) and np.all(w >= 0)
        member_mse = [np.mean((p - yt) ** 2) for p in member_predictions(ens, XT)]
        mse = np.mean((ens.predict(XT) - yt) ** 2)
        # convexity of the squared error; relative margin for round-off
        assert mse <= np.dot(w, member_mse) * (1 + 1e-9) <= max(member_mse) * (1 + 1e-9)


def test_grouped_tuning_keeps_groups_apart():
    groups = np.repeat(np.arange(4), 40)
    seen = []

    class Spy(GroupKFold):
        def split(self, x, y=None, groups=None):
            for tr, va in super().split(x, y, groups):
                seen.append((set(groups[tr]), set(groups[va])))
                yield tr, va

    tune("ridge", Ridge(), {"alpha": [1.0]}, X, _linear(X), cv=Spy(n_splits=4), groups=groups)
    assert len(seen) == 4 and all(not (a & b) for a, b in seen)


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
    # z-scores: NumPy's pairwise/SIMD sums differ by a few ulp between CPUs, so 1e-10
    np.testing.assert_allclose(t[:, :2].mean(0), 0, atol=1e-10)
    np.testing.assert_allclose(t[:, :2].std(0), 1, atol=1e-10)
    np.testing.assert_allclose(t[:, 2], 0.0, atol=1e-12)
    sel = select_by_mutual_information(t, y, k=1, seed=0)
    assert sel.indices.tolist() == [1] and sel.apply(t).shape == (300, 1)

"""The two protocols, the baselines and the tool-reference features on small known cases."""

import numpy as np
import pytest

from surrogates.wear.pipeline import (
    GROUPED,
    RANDOM,
    run_protocol,
    tool_reference_features,
    usage_baseline,
)


def _data(n_groups=3, n=30, seed=0):
    rng = np.random.default_rng(seed)
    x, y, g, u = [], [], [], []
    for k in range(n_groups):
        cut = np.arange(1.0, n + 1)
        vb = 50 * (1 - np.exp(-cut / 5)) + 2.0 * cut + rng.normal(0, 1, n)
        x.append(np.column_stack([0.5 * vb + rng.normal(0, 1, n), rng.normal(size=(n, 3))]))
        y.append(vb)
        g += [f"T{k}"] * n
        u.append(cut)
    return np.vstack(x), np.concatenate(y), np.array(g), np.concatenate(u)


def test_tool_reference_subtracts_each_tools_first_records():
    x = np.array([[1.0, 10.0], [3.0, 14.0], [5.0, 0.0], [7.0, 2.0], [100.0, 1.0]])
    groups = np.array(["a", "a", "b", "b", "a"])
    usage = np.array([2.0, 1.0, 1.0, 2.0, 3.0])  # tool a's first record by usage is row 1
    out = tool_reference_features(x, groups, usage, n_ref=1)
    assert out.shape == (5, 4)
    np.testing.assert_allclose(out[:, :2], x)
    np.testing.assert_allclose(
        out[:, 2:], x - np.array([[3, 14], [3, 14], [5, 0], [5, 0], [3, 14]])
    )


def test_usage_baseline_follows_a_smooth_wear_curve():
    u = np.linspace(0, 4, 60).reshape(-1, 1)
    vb = 60 * (1 - np.exp(-u[:, 0] / 0.25)) + 35 * u[:, 0]
    pred = usage_baseline().fit(u, vb).predict(u)
    assert np.sqrt(np.mean((pred - vb) ** 2)) < 0.1 * np.std(vb)


def test_grouped_protocol_scores_each_held_out_group():
    x, y, g, u = _data()
    res = run_protocol(
        x,
        y,
        protocol=GROUPED,
        groups=g,
        usage=u,
        k_features=2,
        folds=2,
        quick=True,
        models=["ridge", "knn"],
    )
    assert res.groups == ["T0", "T1", "T2"]
    for name in ("ridge", "knn", "voting", "voting_weighted", "baseline_mean", "baseline_usage"):
        s = res.scores[name]
        assert set(s["folds"]) == {"T0", "T1", "T2"}
        assert s["rmse"] == pytest.approx(np.mean(list(s["folds"].values())))
    assert res.scores["ridge"]["rmse"] < 0.3 * res.scores["baseline_mean"]["rmse"]
    assert len(res.y_test) == len(y)  # every record is tested exactly once


def test_random_protocol_is_80_20_and_grouped_needs_three_groups():
    x, y, g, u = _data()
    res = run_protocol(x, y, protocol=RANDOM, k_features=2, folds=2, quick=True, models=["ridge"])
    assert (res.n_train, res.n_test) == (72, 18) and "baseline_usage" not in res.scores
    x2, y2, g2, _ = _data(n_groups=2)
    with pytest.raises(ValueError, match="at least 3 groups"):
        run_protocol(x2, y2, protocol=GROUPED, groups=g2, models=["ridge"])
    with pytest.raises(ValueError, match="protocol must be one of"):
        run_protocol(x, y, protocol="kfold")

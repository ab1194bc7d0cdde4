"""Held-out scoring of the factorial, equal optimiser-step budgets, baselines (issue 17)."""

import numpy as np
import pytest
from flax import nnx

from surrogates.compensation.factorial import (
    SCORE_NAMES,
    AgedData,
    no_compensation,
    ridge_baseline,
    train_grid,
)
from surrogates.compensation.model import CompensationNet
from surrogates.compensation.transfer import CONDITION_SETS, FineTuneConfig


def _aged(n=12, fresh=2, seed=0):
    rng = np.random.default_rng(seed)
    data = {}
    for name in [f"H{i}" for i in range(1, 21)] + [f"F{k}" for k in range(1, fresh + 1)]:
        x = rng.normal(size=(n, 1, 3)).astype(np.float32)
        data[name] = (x, (2.0 * x[:, 0, 0] - x[:, 0, 1] + 0.05 * rng.normal(size=n)).astype(
            np.float32))  # fmt: skip
    return AgedData(data)


def test_score_conditions_are_in_no_training_set():
    used = {n for names in CONDITION_SETS.values() for n in names}
    assert SCORE_NAMES == ["H9", "H11", "H14", "H16"]
    assert not used & set(SCORE_NAMES)
    assert not used & {"H19", "H20"}


def test_score_columns_and_nan_for_touched_members():
    aged = _aged()
    pred = np.zeros((2, len(aged.y)))
    s = aged.score_predictions(pred, [["H1"], ["H9"]])
    rms = {n: float(np.sqrt(np.mean(aged.data[n][1] ** 2))) for n in aged.names}
    assert s["rmse"][0] == pytest.approx(np.mean([rms[n] for n in SCORE_NAMES]), rel=1e-5)
    assert np.isnan(s["rmse"][1])  # trained on a score condition: no held-out score
    assert s["rmse_test"][0] == pytest.approx(rms["H20"], rel=1e-5)
    assert s["rmse_fresh"][0] == pytest.approx((rms["F1"] + rms["F2"]) / 2, rel=1e-5)
    eq5 = (np.mean([rms[f"H{i}"] for i in range(1, 19)]) + rms["H19"] + rms["H20"]) / 3
    assert s["rmse_eq5"][0] == pytest.approx(eq5, rel=1e-5)
    assert no_compensation(aged)["rmse"] == pytest.approx(s["rmse"][0], rel=1e-5)


def test_ridge_baseline_learns_the_linear_map():
    aged = _aged()
    r = ridge_baseline(aged, CONDITION_SETS["C9"])
    assert r["rmse"] < 0.2 * no_compensation(aged)["rmse"]


def test_training_on_validation_or_test_condition_is_refused():
    aged = _aged()
    pre = CompensationNet(rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="validation/test"):
        train_grid(("none", "none", "none", "dense"), pre, aged, b_levels=["B1"], c_levels=["X"],
                   repeats=1, seed=0, config=FineTuneConfig(epochs=1),
                   condition_sets={"X": ["H1", "H20"]})  # fmt: skip


def test_equal_step_budget_is_the_same_for_every_condition_set():
    aged = _aged(n=40)
    paper, equal = FineTuneConfig(epochs=3), FineTuneConfig(epochs=3, steps_per_epoch=5)
    sizes = {c: len(aged.ids(CONDITION_SETS[c])) for c in ("C2", "C3")}
    assert paper.member_steps(sizes["C2"]) < paper.member_steps(sizes["C3"])
    assert equal.member_steps(sizes["C2"]) == equal.member_steps(sizes["C3"]) == 15
    pre = CompensationNet(rngs=nnx.Rngs(0))
    table, _ = train_grid(("none", "none", "none", "dense"), pre, aged, b_levels=["B1"],
                          c_levels=["C2", "C3"], repeats=1, seed=0, config=equal)  # fmt: skip
    assert list(table.C) == ["C2", "C3"] and np.all(np.isfinite(table.rmse))

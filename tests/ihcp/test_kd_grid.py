"""KD grid and student search on tiny synthetic windows (no FEM): grid layout, the choice on
validation, the two losses agree where they must (λ = 1: both are the label MSE), the cost
proxy by hand, the search's reference row and its pick."""

from __future__ import annotations

import numpy as np
import pytest

from surrogates.ihcp.distill import distill
from surrogates.ihcp.estimator import build_member
from surrogates.ihcp.kd_grid import choose, grid_points, kd_grid, train_grid
from surrogates.ihcp.student_search import (
    candidate_shapes,
    fastest_within,
    macs_per_window,
    search_students,
)
from surrogates.ihcp.windows import MinMaxScaler
from surrogates.training import TrainConfig, predict

SPEC = {"filters": [8], "units": [6], "n_features": 7}


def _windows(seed: int, n: int, w: int = 8):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(n, w, 7)).astype(np.float32)
    y = np.tanh(x[:, -3:, 3:].mean(axis=(1, 2)) + 0.3 * x[:, -1, 0]).astype(np.float32)
    return x, y


def test_grid_points_regression_once_per_lambda_and_bad_values():
    pts = grid_points([1.0, 7.0], [0.2, 0.8])
    assert [p for p in pts if p[0] == "paper"] == [
        ("paper", t, lam) for t in (1.0, 7.0) for lam in (0.2, 0.8)
    ]
    assert [p for p in pts if p[0] == "regression"] == [
        ("regression", None, 0.2),
        ("regression", None, 0.8),
    ]
    with pytest.raises(ValueError, match="losses"):
        grid_points([1.0], [0.5], ["hinton"])
    with pytest.raises(ValueError, match="T > 0"):
        grid_points([0.0], [0.5])
    with pytest.raises(ValueError, match="T > 0"):
        grid_points([1.0], [1.5])


def test_choose_takes_the_lowest_validation_error_per_loss():
    rows = [
        {"loss": "paper", "val_mse_scaled": 0.3, "test_r2": 0.99},
        {"loss": "paper", "val_mse_scaled": 0.1, "test_r2": 0.10},
        {"loss": "regression", "val_mse_scaled": 0.2, "test_r2": 0.5},
    ]
    best = choose(rows)
    assert best["paper"] is rows[1]  # validation decides, not the (better) test score
    assert best["regression"] is rows[2]


def test_kd_grid_rows_and_losses_agree_at_lambda_one():
    train, val, test = _windows(0, 120), _windows(1, 40), _windows(2, 40)
    teacher = build_member(SPEC, seed=5)
    scaler = MinMaxScaler(np.array(-1.0), np.array(1.0))
    cfg = TrainConfig(epochs=2, batch_size=20, seed=3)
    seen = []
    rows = kd_grid(
        lambda: build_member(SPEC, seed=1), teacher, train, val, test,
        y_scaler=scaler, config=cfg, temperatures=[2.0], lambdas=[1.0, 0.3], on_row=seen.append,
    )  # fmt: skip
    assert seen == rows and len(rows) == 4
    assert [(r["loss"], r["temperature"], r["lam"]) for r in rows] == [
        ("paper", 2.0, 1.0), ("paper", 2.0, 0.3), ("regression", None, 1.0),
        ("regression", None, 0.3),
    ]  # fmt: skip
    for r in rows:
        assert np.isfinite([r["val_mse_scaled"], r["test_r2"], r["test_rmse_K"]]).all()
        assert r["n_params"] == 4 * 7 * 8 + 8 + 3 * (6 * (6 + 8) + 2 * 6) + 6 + 1
    # λ = 1: both losses are the label MSE; same weights, same batches -> the same student
    paper, regression = rows[0], rows[2]
    assert paper["val_mse_scaled"] == pytest.approx(regression["val_mse_scaled"], rel=1e-3)
    assert paper["test_mse_scaled"] == pytest.approx(regression["test_mse_scaled"], rel=1e-3)


def test_macs_by_hand_and_candidates():
    # window 20, k 4: conv 17 steps x 4 x 7 x 148, GRU 17 x 3 x 90 x (148 + 90), head 90
    assert macs_per_window([148], [90], window=20) == 17 * 4 * 7 * 148 + 17 * 3 * 90 * 238 + 90
    # teacher: conv 17 x 4 x 7 x 132, conv 14 x 4 x 132 x 164, two GRUs over 14 steps
    teacher = 17 * 4 * 7 * 132 + 14 * 4 * 132 * 164 + 14 * 3 * 50 * 214 + 14 * 3 * 50 * 100 + 50
    assert macs_per_window([132, 164], [50, 50], window=20) == teacher
    cands = candidate_shapes(fractions=[0.5], shapes=[(148, 90), (16, 16)])
    assert cands[0] == {"label": "table4", "filters": 148, "units": 90}
    assert len({(c["filters"], c["units"]) for c in cands}) == len(cands)  # 148x90 once
    assert cands[-1]["label"] == "16x16"


def test_search_reference_row_and_fastest_pick():
    train, val, test = _windows(0, 120), _windows(1, 40), _windows(2, 40)
    teacher = build_member({"filters": [132, 164], "units": [50, 50], "n_features": 7}, seed=0)
    scaler = MinMaxScaler(np.array(-1.0), np.array(1.0))
    rows = search_students(
        [{"label": "a", "filters": 8, "units": 6}], teacher, train, val, test,
        y_scaler=scaler, config=TrainConfig(epochs=2, batch_size=20, seed=1), teacher_r2=0.5,
    )  # fmt: skip
    ref, a = rows
    assert ref["label"] == "teacher" and ref["kd"] is None
    assert ref["time_reduction"] == pytest.approx(0.0, abs=1e-12)
    assert ref["macs_fraction"] == pytest.approx(1.0) and a["macs_fraction"] < 0.05
    assert a["kd"] == "regression" and a["r2_loss"] == pytest.approx(0.5 - a["test_r2"])
    fake = [
        {"kd": None, "r2_loss": 0.0, "seconds_per_epoch": 0.1},
        {"kd": "regression", "r2_loss": 0.005, "seconds_per_epoch": 2.0},
        {"kd": "regression", "r2_loss": 0.002, "seconds_per_epoch": 1.0},
        {"kd": "regression", "r2_loss": 0.05, "seconds_per_epoch": 0.5},
    ]
    assert fastest_within(fake) is fake[2]  # the reference teacher and too lossy rows excluded
    assert fastest_within(fake, max_r2_loss=0.001) is None


def test_vmapped_grid_is_distill_point_by_point():
    train, val = _windows(0, 130), _windows(1, 40)
    teacher = build_member(SPEC, seed=5)
    cfg = TrainConfig(epochs=3, batch_size=20, seed=3)
    grid = train_grid(
        lambda: build_member(SPEC, seed=1), teacher, train, val, kind="paper",
        temperatures=[2.0, 7.0], lambdas=[0.3, 0.8], config=cfg,
    )  # fmt: skip
    for (student, epoch, val_mse), (t, lam) in zip(grid, [(2.0, 0.3), (7.0, 0.8)], strict=True):
        ref = build_member(SPEC, seed=1)
        res = distill(
            ref, teacher, train, config=cfg, val=val, kind="paper", temperature=t, lam=lam
        )
        assert epoch == res.best_epoch
        assert val_mse == pytest.approx(float(res.val_loss[res.best_epoch]), rel=1e-3)
        a, b = np.asarray(predict(student, val[0])), np.asarray(predict(ref, val[0]))
        assert np.max(np.abs(a - b)) < 1e-3 * max(1.0, np.max(np.abs(b)))

"""A tiny CNN-GRU teacher and a distilled student learn the synthetic known-answer problem;
metrics, checkpoints and figures on the trained models.

The synthetic stand-in (``surrogates.ihcp.synthetic``) has an exact causal inverse from two sensor
samples, so a window of 8 steps determines the label; the stated goal on the held-out case 24 is
R2 >= 0.95 and RMSE <= 10 °C (the F1 rise is ~200–450 K).
"""

import numpy as np
import pytest
from flax import nnx

from surrogates.ihcp.checkpoint import load_metadata, restore_checkpoint, save_best
from surrogates.ihcp.distill import distill
from surrogates.ihcp.metrics import regression_report
from surrogates.ihcp.models import ConvRecurrent
from surrogates.ihcp.plots import plot_fit, plot_loss_curves
from surrogates.ihcp.study import score, score_on_noisy_case, student_sweep
from surrogates.ihcp.synthetic import synthetic_cases
from surrogates.ihcp.windows import prepare_dataset
from surrogates.training import TrainConfig, fit, predict

CONFIG = TrainConfig(epochs=80, batch_size=64, learning_rate=1e-2, seed=0)


def tiny_teacher(seed):
    return ConvRecurrent(filters=(8, 8), units=(8, 8), rngs=nnx.Rngs(seed))


def tiny_student(seed):
    return ConvRecurrent(filters=(6,), units=(6,), rngs=nnx.Rngs(seed))


@pytest.fixture(scope="module")
def trained():
    cases = synthetic_cases(seed=0, n_steps=40, dt=0.3)
    data = prepare_dataset(cases, window=8, seed=0)
    teacher = tiny_teacher(0)
    t_res = fit(teacher, (data.train.x, data.train.y), config=CONFIG, val=(data.val.x, data.val.y))
    student = tiny_student(1)
    s_res = distill(
        student,
        teacher,
        (data.train.x, data.train.y),
        config=CONFIG,
        val=(data.val.x, data.val.y),
        kind="regression",
        lam=0.8,
    )
    return data, teacher, t_res, student, s_res, cases


def _report(data, model):
    pred = np.asarray(predict(model, data.test.x))
    return pred, regression_report(data.test.y, pred, y_scaler=data.y_scaler)


def test_teacher_and_kd_student_learn_known_inverse(trained):
    data, teacher, t_res, student, s_res, _ = trained
    for model in (teacher, student):
        _, rep = _report(data, model)
        assert rep["r2"] >= 0.95, rep
        assert rep["rmse_c"] <= 10.0, rep
    assert t_res.train_loss[-1] < 0.1 * t_res.train_loss[0]
    assert s_res.val_loss[s_res.best_epoch] == s_res.val_loss.min()


def test_metrics_in_celsius_follow_the_label_scale(trained):
    data, teacher, *_ = trained
    pred, rep = _report(data, teacher)
    half_span = (data.y_scaler.data_max - data.y_scaler.data_min) / 2
    assert rep["mse_c2"] == pytest.approx(rep["mse_scaled"] * half_span**2, rel=1e-6)
    assert rep["rmse_c"] == pytest.approx(np.sqrt(rep["mse_c2"]))


def test_checkpoint_round_trip_gives_identical_predictions(trained, tmp_path):
    data, _, _, student, s_res, _ = trained
    path = save_best(s_res, tmp_path / "student", metadata={"model": "student"})
    fresh = tiny_student(seed=7)
    assert not np.allclose(predict(fresh, data.test.x), predict(student, data.test.x))
    restore_checkpoint(path, model=fresh)
    # restored weights, same code, one process and machine: bit-identical predictions
    np.testing.assert_array_equal(predict(fresh, data.test.x), predict(student, data.test.x))
    meta = load_metadata(path)
    assert meta["model"] == "student" and meta["best_epoch"] == s_res.best_epoch
    assert sorted(p.name for p in tmp_path.iterdir()) == ["student"]  # no temporary left
    with pytest.raises(ValueError, match="checkpoint of another layout"):
        restore_checkpoint(path, model=tiny_teacher(0))


def test_figures_are_written(trained, tmp_path):
    data, teacher, t_res, student, s_res, _ = trained
    mask = data.test.case == 24
    truth = data.y_scaler.inverse_transform(data.test.y[mask])
    preds = {
        name: data.y_scaler.inverse_transform(np.asarray(predict(m, data.test.x[mask])))
        for name, m in (("teacher", teacher), ("student_kd", student))
    }
    fit_png = plot_fit(data.test.step[mask] * 0.3, truth, preds, tmp_path / "fit.png")
    loss_png = plot_loss_curves(
        {"teacher": (t_res.train_loss, t_res.val_loss), "kd": (s_res.train_loss, [])},
        tmp_path / "loss.png",
    )
    for png in (fit_png, loss_png):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="prediction 'x'"):
        plot_fit(np.arange(3.0), np.zeros(3), {"x": np.zeros(4)}, tmp_path / "bad.png")


def test_noise_scoring_matches_clean_score_at_zero_sigma(trained):
    data, teacher, t_res, *_, cases = trained
    clean = score(teacher, data, t_res)
    assert clean["params"] == 8 * 4 * 7 + 8 + 8 * 4 * 8 + 8 + 3 * (8 * 16 + 16) * 2 + 9
    zero = score_on_noisy_case(teacher, cases[24], data, sigma=0.0, seed=0)
    assert zero["mse_c2"] == pytest.approx(clean["mse_c2"], rel=1e-6)
    noisy = score_on_noisy_case(teacher, cases[24], data, sigma=10.0, seed=0)
    assert noisy["mse_c2"] > zero["mse_c2"]


@pytest.mark.slow
def test_student_sweep_rows(trained):
    data, teacher, *_ = trained
    cfg = TrainConfig(epochs=3, batch_size=64, learning_rate=1e-2, seed=0)
    rows = student_sweep(data, teacher, fractions=(0.5, 0.9), config=cfg, seed=0)
    assert [(r["fraction"], r["kd"]) for r in rows] == [
        (0.5, False),
        (0.5, True),
        (0.9, False),
        (0.9, True),
    ]
    assert rows[0]["params"] == rows[1]["params"] < rows[2]["params"]
    assert all(np.isfinite(r["r2"]) for r in rows)


@pytest.mark.slow
def test_same_seed_same_training_and_paper_kd_runs():
    data = prepare_dataset(synthetic_cases(seed=0, n_steps=30, dt=0.4), window=8, seed=0)
    cfg = TrainConfig(epochs=3, batch_size=64, learning_rate=1e-2, seed=0)
    a = fit(tiny_student(0), (data.train.x, data.train.y), config=cfg, val=(data.val.x, data.val.y))
    b = fit(tiny_student(0), (data.train.x, data.train.y), config=cfg, val=(data.val.x, data.val.y))
    # bit identity of two seeded fits in one process (same machine and library build)
    np.testing.assert_array_equal(a.train_loss, b.train_loss)
    np.testing.assert_array_equal(a.val_loss, b.val_loss)
    res = distill(
        tiny_student(1),
        a.model,
        (data.train.x, data.train.y),
        config=cfg,
        val=(data.val.x, data.val.y),
        kind="paper",
        temperature=7.0,
        lam=0.8,
    )
    assert np.all(np.isfinite(res.train_loss)) and res.train_loss[-1] < res.train_loss[0]


def test_train_on_records_learns_the_synthetic_inverse():
    """Records in, estimators out: the teacher and students trained on sensor records (the
    randomised records' path) predict held-out synthetic cases far better than the label mean."""
    import numpy as np

    from surrogates.ihcp.inverse_method import NeuralMethod
    from surrogates.ihcp.recon_training import EstimatorTraining, train_on_records
    from surrogates.ihcp.synthetic import synthetic_cases

    cases = synthetic_cases(seed=0, n_steps=40)
    train = [cases[c] for c in range(1, 21)]
    val = [cases[c] for c in range(21, 25)]
    test = [cases[c] for c in range(25, 28)]
    config = EstimatorTraining(window=8, teacher_epochs=8, student_epochs=8, n_students=2)
    teacher, students, report = train_on_records(train, val, config, test=test)
    assert report["records"] == {"train": 20, "val": 4, "test": 3}
    assert len(students.members) == 2
    for est in (teacher, students):
        errs, spread = [], []
        for rec in test:
            pred = NeuralMethod(est).estimate(rec).values
            errs.append(np.sqrt(np.mean((pred - rec.truth) ** 2)))
            spread.append(np.std(rec.truth))
        assert np.mean(errs) < 0.5 * np.mean(spread)

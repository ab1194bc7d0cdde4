"""Neural F1 estimators of the reconstruction: windows, ensemble, storage, seeded retraining."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from surrogates.ihcp.estimator import NeuralInverse, build_member, max_weight_difference
from surrogates.ihcp.recon_training import EstimatorTraining, train_estimators
from surrogates.ihcp.windows import MinMaxScaler, features, pad_start, window_cases
from surrogates.training import predict
from thermo.inverse.record import SensorRecord

SPEC = {"filters": [4], "units": [3], "n_features": 7}
PARAMS = {"n_rpm": 509.0, "fz_mm": 0.075, "ae_mm": 0.2}


def _scalers():
    xs = MinMaxScaler(
        data_min=np.array([382.0, 0.05, 0.1, 20, 20, 20, 20]),
        data_max=np.array([636.0, 0.1, 0.3, 400, 300, 200, 100]),
    )
    return xs, MinMaxScaler(data_min=np.array(20.0), data_max=np.array(700.0))


def _estimator(n_members: int = 3, *, window: int = 6, dt: float = 0.1) -> NeuralInverse:
    xs, ys = _scalers()
    members = [build_member(SPEC, seed=k) for k in range(n_members)]
    return NeuralInverse("student", members, SPEC, xs, ys, window, dt)


def _record(n_t: int = 31, dt: float = 0.1):
    t = dt * np.arange(n_t)
    rise = 1.0 - np.exp(-t / 1.5)
    return t, 20.0 + np.outer(rise, [300.0, 200.0, 120.0, 60.0])


def test_pad_start_gives_one_window_per_step():
    feats = np.arange(10.0).reshape(5, 2)
    padded = pad_start(feats, window=3)
    assert padded.shape == (7, 2)
    np.testing.assert_array_equal(padded[:3], np.repeat(feats[:1], 3, axis=0))
    case = SensorRecord(np.arange(5.0), np.ones((5, 4)), ("S1", "S2", "S3", "S4"),
                        params={"n_rpm": 500.0, "fz_mm": 0.1, "ae_mm": 0.2},
                        truth=np.arange(5.0))  # fmt: skip
    xs, ys = MinMaxScaler.fit(features(case)), MinMaxScaler.fit(case.truth)
    kw = {"x_scaler": xs, "y_scaler": ys, "window": 3}
    full = window_cases({1: case}, [1], padded=True, **kw)
    plain = window_cases({1: case}, [1], **kw)
    assert full.y.size == 5 and plain.y.size == 3
    np.testing.assert_array_equal(full.step, np.arange(5))
    np.testing.assert_allclose(full.x[2:], plain.x)  # padding only adds the early windows


def test_ensemble_matches_members_and_band():
    est = _estimator(3)
    t, measured = _record()
    members = est.predict_members(t, measured, PARAMS)
    assert members.shape == (3, t.size) and np.all(np.isfinite(members))
    # the vmapped ensemble equals each member's own forward pass
    p = np.array([PARAMS["n_rpm"], PARAMS["fz_mm"], PARAMS["ae_mm"]])
    feats = np.concatenate([np.tile(p, (t.size, 1)), measured], axis=1)
    scaled = pad_start(est.x_scaler.transform(feats), window=est.window)
    x = np.swapaxes(np.lib.stride_tricks.sliding_window_view(scaled, est.window, axis=0), 1, 2)
    # two XLA programs (vmapped ensemble, one member) in float32 (eps 1.2e-7 relative) on
    # outputs of 20 … 700 °C: 1e-4 relative + 0.01 K is some 1000 float32 ulp, far below the
    # kelvins a wrong member or window order gives
    for k, m in enumerate(est.members):
        own = est.y_scaler.inverse_transform(np.asarray(predict(m, x.astype(np.float32))))
        np.testing.assert_allclose(members[k], own, rtol=1e-4, atol=1e-2)
    mean, band = est.estimate(t, measured, PARAMS, z=2.0)
    np.testing.assert_allclose(mean, members.mean(0), rtol=1e-12)  # the same NumPy reduction
    np.testing.assert_allclose(band[:, 1] - band[:, 0], 4.0 * members.std(0, ddof=1), rtol=1e-9)
    _, none = _estimator(1).estimate(t, measured, PARAMS)
    assert none is None


def test_resamples_records_on_another_grid():
    est = _estimator(2, dt=0.1)
    slopes = np.array([90.0, 60.0, 30.0, 10.0])  # K/s: linear records interpolate exactly

    def ramp(n_t, dt):
        t = dt * np.arange(n_t)
        return t, 20.0 + np.outer(t, slopes)

    out = est.predict_members(*ramp(16, 0.2), PARAMS)  # 0 … 3 s at 0.2 s
    fine = est.predict_members(*ramp(31, 0.1), PARAMS)
    assert out.shape == (2, 16)
    # same grid points, same answer up to the float32 network on inputs resampled in float64
    # (a rounding of the input can move an output by a few float32 ulp; 1e-4 ≈ 800 ulp)
    np.testing.assert_allclose(out, fine[:, ::2], rtol=1e-4)


def test_bad_input_is_refused():
    est = _estimator(2)
    t, measured = _record()
    with pytest.raises(ValueError, match="measured needs shape"):
        est.predict_members(t, measured[:, :3], PARAMS)
    with pytest.raises(ValueError, match="machining parameters"):
        est.predict_members(t, measured, {"n_rpm": 500.0})
    with pytest.raises(ValueError, match="increasing"):
        est.predict_members(t[::-1], measured, PARAMS)


def test_save_load_round_trip(tmp_path):
    est = _estimator(2)
    est.meta = {"note": "unit test"}
    est.save(tmp_path / "student")
    back = NeuralInverse.load(tmp_path / "student")
    assert max_weight_difference(est, back) == 0.0  # file round trip: the stored bits
    t, measured = _record()
    # same weights, same code, one process and machine: bit-identical predictions
    np.testing.assert_array_equal(
        est.predict_members(t, measured, PARAMS), back.predict_members(t, measured, PARAMS)
    )
    assert back.meta == {"note": "unit test"} and back.window == est.window
    other = _estimator(2)
    other.members[1] = build_member(SPEC, seed=9)
    assert max_weight_difference(est, other) > 0.0
    with pytest.raises(FileNotFoundError):
        NeuralInverse.load(tmp_path / "missing")


@pytest.fixture(scope="module")
def toy_training(toy_ihcp_dataset):
    ds = toy_ihcp_dataset
    config = EstimatorTraining(window=8, teacher_epochs=1, student_epochs=1, n_students=2)
    return ds, config, train_estimators(ds, config)


def test_training_holds_out_the_reconstruction_conditions(toy_training):
    ds, config, (teacher, students, report) = toy_training
    used = set(report["split"]["train"]) | set(report["split"]["val"])
    assert not used & {5, 14, 23, 24} and len(used) == 23
    # clean + one noisy version of each case, one window per step (padded)
    assert report["n_windows"]["train"] == 2 * len(report["split"]["train"]) * ds.times.size
    assert len(students.members) == 2 and len(teacher.members) == 1
    assert report["params"] == {"teacher": 138_335, "student": 69_183}
    for r in [report["test_case"]["teacher"], *report["test_case"]["students"]]:
        assert np.isfinite(r["rmse_c"]) and r["rmse_c"] > 0


def test_training_is_reproducible_bit_for_bit(toy_training):
    ds, config, (teacher, students, _) = toy_training
    # bit identity of two seeded trainings in one process, on the same machine and library
    # build (XLA's CPU kernels may round differently elsewhere: no claim across machines)
    teacher2, students2, _ = train_estimators(ds, config)
    assert max_weight_difference(teacher, teacher2) == 0.0
    assert max_weight_difference(students, students2) == 0.0
    # the members differ from each other: different seeds, not one network copied
    one = replace(students, members=students.members[:1])
    two = replace(students, members=students.members[1:])
    assert max_weight_difference(one, two) > 0.0

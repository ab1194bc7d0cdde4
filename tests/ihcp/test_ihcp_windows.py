"""Sliding windows, min–max scaling, case split, synthetic stand-in (paper 000, eq. 1–2)."""

import numpy as np
import pytest

from surrogates.ihcp.synthetic import exact_inverse, synthetic_case, synthetic_cases
from surrogates.ihcp.windows import (
    MinMaxScaler,
    add_sensor_noise,
    cases_from_arrays,
    features,
    label,
    prepare_dataset,
    sliding_windows,
    split_cases,
)
from thermo.inverse.record import SensorRecord

P = {"n_rpm": 1.0, "fz_mm": 1.0, "ae_mm": 1.0}
NAMES4 = ("S1", "S2", "S3", "S4")


def test_windows_match_hand_made_example():
    feats = np.arange(10.0).reshape(5, 2)  # rows [0,1],[2,3],...,[8,9]
    labels = np.array([10.0, 11.0, 12.0, 13.0, 14.0])
    x, y = sliding_windows(feats, labels, window=3)
    assert x.shape == (3, 3, 2)
    np.testing.assert_array_equal(x[0], [[0, 1], [2, 3], [4, 5]])
    np.testing.assert_array_equal(x[2], [[4, 5], [6, 7], [8, 9]])
    np.testing.assert_array_equal(y, [12.0, 13.0, 14.0])  # label at each window's last step


def test_windows_reject_bad_input():
    with pytest.raises(ValueError, match="window must be"):
        sliding_windows(np.zeros((4, 2)), np.zeros(4), window=5)
    with pytest.raises(ValueError, match="labels"):
        sliding_windows(np.zeros((4, 2)), np.zeros(3), window=2)


def test_scaler_maps_to_minus_one_one_and_round_trips():
    rng = np.random.default_rng(0)
    data = rng.normal(50.0, 20.0, size=(100, 3))
    data[:, 2] = 7.0  # constant feature -> 0
    sc = MinMaxScaler.fit(data)
    z = sc.transform(data)
    np.testing.assert_allclose(z[:, :2].min(axis=0), -1.0)
    np.testing.assert_allclose(z[:, :2].max(axis=0), 1.0)
    np.testing.assert_array_equal(z[:, 2], 0.0)
    np.testing.assert_allclose(sc.inverse_transform(z), data, rtol=1e-12, atol=1e-10)
    # scalar labels: x = 5 on [0, 10] -> 0
    lab = MinMaxScaler.fit(np.array([0.0, 10.0, 4.0]))
    assert lab.transform(np.array([5.0]))[0] == pytest.approx(0.0)


def test_split_case_24_is_test_and_80_20_by_seed():
    s = split_cases(range(1, 28), seed=3)
    assert s["test"] == [24]
    assert len(s["train"]) == 21 and len(s["val"]) == 5
    assert sorted(s["train"] + s["val"] + s["test"]) == list(range(1, 28))
    assert s == split_cases(range(1, 28), seed=3)
    assert s != split_cases(range(1, 28), seed=4)
    with pytest.raises(ValueError, match="test case 24"):
        split_cases(range(1, 10), seed=0)


def test_scalers_fitted_on_training_split_only():
    cases = synthetic_cases(seed=0, n_steps=40)
    data = prepare_dataset(cases, window=8, seed=1)
    train_feats = np.concatenate([features(cases[c]) for c in data.split["train"]])
    np.testing.assert_allclose(data.x_scaler.data_min, train_feats.min(axis=0))
    np.testing.assert_allclose(data.x_scaler.data_max, train_feats.max(axis=0))
    train_labels = np.concatenate([cases[c].truth for c in data.split["train"]])
    assert data.y_scaler.data_max == train_labels.max()
    assert data.train.x.min() >= -1.0 - 1e-12 and data.train.x.max() <= 1.0 + 1e-12
    # the test case's windows are the hand-windowed, train-scaled test case
    x24, y24 = sliding_windows(
        data.x_scaler.transform(features(cases[24])),
        data.y_scaler.transform(cases[24].truth),
        window=8,
    )
    np.testing.assert_allclose(data.test.x, x24)
    np.testing.assert_allclose(data.y_scaler.inverse_transform(data.test.y), cases[24].truth[7:])
    assert data.train.x.shape[1:] == (8, 7) and set(data.test.case) == {24}


def test_training_records_validate_shapes_params_label_and_nan():
    t = np.arange(5.0)
    with pytest.raises(KeyError, match="ae_mm"):
        features(SensorRecord(t, np.ones((5, 4)), NAMES4, params={"n_rpm": 1.0, "fz_mm": 1.0}))
    with pytest.raises(ValueError, match="values need shape"):
        SensorRecord(t, np.ones(5), NAMES4, params=P, truth=t)
    bad = np.ones((5, 4))
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        SensorRecord(t, bad, NAMES4, params=P, truth=t)
    with pytest.raises(ValueError, match="needs its F1 truth"):
        label(SensorRecord(t, np.ones((5, 4)), NAMES4, params=P))


def test_synthetic_stand_in_has_exact_inverse_and_noise_is_seeded():
    case = synthetic_case(5, seed=0)
    for j in range(4):
        np.testing.assert_allclose(exact_inverse(case, sensor=j), case.truth[1:], rtol=1e-10)
    a = add_sensor_noise(case, sigma=5.0, seed=1)
    b = add_sensor_noise(case, sigma=5.0, seed=1)
    np.testing.assert_array_equal(a.values, b.values)  # same seed, same process
    assert np.std(a.values - case.values) == pytest.approx(5.0, rel=0.15)
    np.testing.assert_array_equal(a.truth, case.truth)


def t5():
    return np.arange(5.0)


def test_cases_from_stacked_arrays_in_data_set_layout():
    cases = synthetic_cases(seed=0, case_ids=(3, 24), n_steps=10)
    ids = np.array([3, 24])
    stacked = cases_from_arrays(
        case_ids=ids,
        params=np.stack([cases[c].param_vector() for c in ids]),
        times=cases[3].times,
        f1=np.stack([cases[c].truth for c in ids]),
        sensors=np.stack([cases[c].values for c in ids]),
    )
    assert sorted(stacked) == [3, 24]
    np.testing.assert_array_equal(features(stacked[24]), features(cases[24]))
    with pytest.raises(ValueError, match=r"sensors has shape \(2, 9\)"):
        cases_from_arrays(
            case_ids=ids,
            params=np.ones((2, 3)),
            times=np.arange(10.0),
            f1=np.ones((2, 10)),
            sensors=np.ones((2, 9, 4)),
        )
    three = SensorRecord(t5(), np.ones((5, 3)), ("S1", "S2", "S3"), params=P, truth=np.ones(5))
    assert features(three).shape == (5, 6)  # leave-one-sensor-out: 3 + 3 features

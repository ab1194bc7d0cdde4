"""Virtual IHCP data set (thermo.inverse.dataset): numbering, reproducibility, files and CSV
records."""

import numpy as np
import pytest
from scipy.special import erfc

from thermo.inverse.dataset import build_dataset, load_dataset, merge_datasets
from thermo.inverse.design import RECONSTRUCTION_CASES, TEST_CASE, case_params
from thermo.inverse.duhamel import DuhamelOperator
from thermo.inverse.record import SensorRecord, on_case_grid, read_record_csv, write_record_csv

TIMES = np.linspace(0.0, 12.0, 121)


def _forward():
    depths = np.array([1.0, 2.0, 3.0, 4.0]) * 1e-3
    step = np.zeros((TIMES.size, 4))
    step[1:] = erfc(depths / (2.0 * np.sqrt(2.6e-5 * TIMES[1:, None])))
    op = DuhamelOperator(step, y0=20.0)
    return lambda f1: op(f1 - 20.0)


def test_numbering():
    assert case_params(1) == {"n_rpm": 382.0, "fz_mm": 0.05, "ae_mm": 0.1}
    assert case_params(TEST_CASE) == {"n_rpm": 636.0, "fz_mm": 0.075, "ae_mm": 0.3}
    for c, n in zip(RECONSTRUCTION_CASES, (382.0, 509.0, 636.0), strict=True):
        assert case_params(c) == {"n_rpm": n, "fz_mm": 0.075, "ae_mm": 0.2}
    all_params = {tuple(case_params(c).values()) for c in range(1, 28)}
    assert len(all_params) == 27
    with pytest.raises(ValueError, match="1..27"):
        case_params(28)


def test_build_save_load_and_split(tmp_path):
    names = ("S1", "S2", "S3", "S4")
    ds = build_dataset(_forward(), times=TIMES, sensor_names=names, sigmas=(0.0, 5.0), seed=7)
    assert ds.f1.shape == (27, 121) and ds.noisy.shape == (2, 27, 121, 4)
    np.testing.assert_allclose(ds.noisy[0], ds.clean)
    assert np.std(ds.noisy[1] - ds.clean) == pytest.approx(5.0, rel=0.05)
    assert np.all(ds.f1[:, 0] == 20.0) and np.all(ds.clean[:, 0] == 20.0)
    ds.save(tmp_path / "ihcp")
    again = load_dataset(tmp_path / "ihcp")
    np.testing.assert_array_equal(again.noisy, ds.noisy)
    assert again.meta["test_case"] == 24 and again.sensor_names == names
    # building the cases in two parts (as two MPI ranks do) gives the same numbers
    a = build_dataset(
        _forward(),
        times=TIMES,
        sensor_names=names,
        sigmas=(0.0, 5.0),
        seed=7,
        cases=range(1, 28, 2),
    )
    b = build_dataset(
        _forward(),
        times=TIMES,
        sensor_names=names,
        sigmas=(0.0, 5.0),
        seed=7,
        cases=range(2, 28, 2),
    )
    merged = merge_datasets([a, b])
    # bit identity of the same per-case computations in one process (same machine and build)
    np.testing.assert_array_equal(merged.noisy, ds.noisy)
    np.testing.assert_array_equal(merged.cases, np.arange(1, 28))
    one = ds.case(24, sigma=5.0)
    assert one.values.shape == (121, 4) and one.param_vector().tolist() == [636.0, 0.075, 0.3]
    np.testing.assert_array_equal(one.values, ds.noisy[1, 23])
    np.testing.assert_array_equal(one.clean, ds.clean[23])
    np.testing.assert_array_equal(one.truth, ds.f1[23])
    assert one.meta == {"case": 24, "sigma_K": 5.0}


def test_record_csv_round_trip_and_errors(tmp_path):
    values = np.arange(12.0).reshape(4, 3) + 20.0
    record = SensorRecord(
        np.arange(4) * 0.1,
        values,
        ("A", "B", "C"),
        params={"n_rpm": 509},
        truth=np.full(4, 500.0),
        meta={"operator": "me"},
    )
    path = write_record_csv(tmp_path / "m.csv", record)
    m = read_record_csv(path)
    np.testing.assert_array_equal(m.values, values)
    assert m.names == ("A", "B", "C") and m.params == {"n_rpm": 509.0}
    assert m.meta == {"operator": "me", "source": str(path)}
    np.testing.assert_array_equal(m.truth, 500.0)
    bad = tmp_path / "bad.csv"
    bad.write_text("time_s,A\n0.0,20\n0.1,nan\n")
    with pytest.raises(ValueError, match=r"bad.csv: row 3, column 'A'"):
        read_record_csv(bad)
    bad.write_text("t,A\n0.0,20\n")
    with pytest.raises(ValueError, match="time_s"):
        read_record_csv(bad)
    bad.write_text("time_s,A\n0.0,20\n0.2,21\n0.1,22\n")
    with pytest.raises(ValueError, match=r"strictly increasing; row 4 \(0.1 s\)"):
        read_record_csv(bad)


def test_record_csv_takes_the_users_column_names_and_units(tmp_path):
    path = tmp_path / "lab.csv"
    path.write_text(
        "# n_rpm = 382\nt [ms],TC_a,TC_b,ref\n0,20,20,20\n50,21,20.5,300\n100,22,21,310\n"
    )
    m = read_record_csv(
        path, time_column="t [ms]", time_unit="ms", sensor_columns=["TC_b"], truth_column="ref"
    )
    np.testing.assert_allclose(m.times, [0.0, 0.05, 0.1], rtol=1e-12)
    assert m.names == ("TC_b",) and m.params == {"n_rpm": 382.0}
    np.testing.assert_array_equal(m.truth, [20.0, 300.0, 310.0])
    with pytest.raises(ValueError, match=r"sensor columns \['S9'\] not in the header"):
        read_record_csv(path, time_column="t [ms]", sensor_columns=["S9"])


def test_sampling_must_match_the_case_grid():
    rec = SensorRecord(np.array([0.0, 0.1, 0.2]), np.zeros((3, 1)), ("S1",))
    assert on_case_grid(rec, dt=0.05, t_end=1.0, where="r.csv") is rec  # every 2nd step: fine
    fine = SensorRecord(0.01 * np.arange(21), np.arange(21.0)[:, None], ("S1",))
    dec = on_case_grid(fine, dt=0.05, t_end=1.0, where="r.csv")  # 100 Hz against dt 0.05 s
    np.testing.assert_allclose(dec.times, 0.05 * np.arange(5), atol=1e-12)
    np.testing.assert_array_equal(dec.values[:, 0], [0.0, 5.0, 10.0, 15.0, 20.0])
    with pytest.raises(ValueError, match="not on the case's time grid"):
        on_case_grid(rec, dt=0.03, t_end=1.0, where="r.csv")
    ms = SensorRecord(np.array([0.0, 100.0, 200.0]), np.zeros((3, 1)), ("S1",))
    with pytest.raises(ValueError, match=r"beyond the case's t_end = 0.2 s \(times in ms"):
        on_case_grid(ms, dt=0.1, t_end=0.2, where="r.csv")


def test_record_rejects_bad_shapes_and_values():
    with pytest.raises(ValueError, match="values need shape"):
        SensorRecord(np.arange(3.0), np.zeros((3, 2)), ("S1",))
    with pytest.raises(ValueError, match="NaN/inf"):
        SensorRecord(np.arange(3.0), np.array([[1.0], [np.nan], [2.0]]), ("S1",))
    with pytest.raises(ValueError, match="repeat"):
        SensorRecord(np.arange(3.0), np.zeros((3, 2)), ("S1", "S1"))


def test_flux_dataset_uses_heat_input():
    # a linear "sensor" that reads 1e-4 K per W/m² keeps the check independent of the FEM
    ds = build_dataset(
        lambda q: 20.0 + 1e-4 * np.stack([q, 0.5 * q], axis=1),
        times=TIMES,
        sensor_names=("A", "B"),
        kind="flux",
        sigmas=(0.0,),
        cases=[14],
    )
    assert ds.kind == "flux" and np.all(ds.f1[0, TIMES <= 0.5] == 0.0)
    assert ds.f1[0].max() > 1e5  # W/m²
    np.testing.assert_allclose(ds.clean[0, :, 1] - 20.0, 0.5e-4 * ds.f1[0])
    with pytest.raises(ValueError, match="expected"):
        build_dataset(lambda q: np.zeros((3, 3)), times=TIMES, sensor_names=("A",), cases=[1])

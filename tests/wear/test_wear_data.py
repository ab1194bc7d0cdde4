"""Loaders of users' force records: round trips and error messages."""

import numpy as np
import pandas as pd
import pytest

from surrogates.wear.data import load_feature_table, load_records, save_records_npz
from surrogates.wear.forces import ForceRecord


def _record(seed, n=200):
    return ForceRecord(
        forces=np.random.default_rng(seed).normal(size=(n, 3)), fs_hz=50_000.0, vb_um=10.0 * seed
    )


def test_csv_round_trip(tmp_path):
    for i in range(2):
        rec = _record(i)
        t = np.arange(len(rec.forces)) / rec.fs_hz
        pd.DataFrame(
            {"time": t, "Fx": rec.forces[:, 0], "Fy": rec.forces[:, 1], "Fz": rec.forces[:, 2]}
        ).to_csv(tmp_path / f"r{i}.csv", index=False)
    pd.DataFrame({"file": ["r0.csv", "r1.csv"], "vb_mm": [0.0, 0.01]}).to_csv(
        tmp_path / "labels.csv", index=False
    )
    records = load_records(tmp_path / "labels.csv")
    assert [r.vb_um for r in records] == pytest.approx([0.0, 10.0])
    assert records[1].fs_hz == pytest.approx(50_000.0)
    np.testing.assert_allclose(records[1].forces, _record(1).forces)


def test_npz_round_trip(tmp_path):
    path = save_records_npz(tmp_path / "recs.npz", [_record(1), _record(2)])
    records = load_records(path)
    assert [r.vb_um for r in records] == [10.0, 20.0]
    np.testing.assert_allclose(records[0].forces, _record(1).forces)


def test_bad_inputs_name_file_and_field(tmp_path):
    pd.DataFrame({"fx": [1.0] * 20, "fy": [1.0] * 20}).to_csv(tmp_path / "r.csv", index=False)
    pd.DataFrame({"file": ["r.csv"], "vb_um": [1.0]}).to_csv(tmp_path / "l.csv", index=False)
    with pytest.raises(ValueError, match=r"r\.csv: missing force column\(s\) \['fz'\]"):
        load_records(tmp_path / "l.csv", fs_hz=1000.0)
    pd.DataFrame({"file": ["r.csv"], "wear": [1.0]}).to_csv(tmp_path / "l2.csv", index=False)
    with pytest.raises(ValueError, match="vb_um"):
        load_records(tmp_path / "l2.csv")
    np.savez(tmp_path / "bad.npz", forces=np.zeros((2, 50, 3)), vb_um=np.zeros(3), fs_hz=1.0)
    with pytest.raises(ValueError, match="n_records"):
        load_records(tmp_path / "bad.npz")
    with pytest.raises(ValueError, match=".csv labels index or a .npz"):
        load_records(tmp_path / "x.h5")


def test_labels_carry_tool_and_usage(tmp_path):
    t = np.arange(200) / 50_000.0
    for i in range(3):
        f = _record(i).forces
        pd.DataFrame({"time": t, "fx": f[:, 0], "fy": f[:, 1], "fz": f[:, 2]}).to_csv(
            tmp_path / f"r{i}.csv", index=False
        )
    labels = pd.DataFrame(
        {"file": ["r0.csv", "r1.csv", "r2.csv"], "vb_um": [1.0, 2.0, 3.0]}
        | {"tool": ["a", "a", "b"], "usage": [1.0, 2.0, 1.0]}
    )
    labels.to_csv(tmp_path / "l.csv", index=False)
    records = load_records(tmp_path / "l.csv")
    assert [r.meta["tool"] for r in records] == ["a", "a", "b"]
    assert [r.meta["usage"] for r in records] == [1.0, 2.0, 1.0]
    labels.assign(usage=[2.0, 1.0, 1.0]).to_csv(tmp_path / "l.csv", index=False)
    with pytest.raises(ValueError, match=r"l\.csv: column 'usage'.*increase.*group 'a'"):
        load_records(tmp_path / "l.csv")
    labels.assign(usage=[1.0, np.inf, 1.0]).to_csv(tmp_path / "l.csv", index=False)
    with pytest.raises(ValueError, match=r"l\.csv: column 'usage' must hold finite"):
        load_records(tmp_path / "l.csv")


@pytest.mark.parametrize(
    ("time", "message"),
    [
        ([0.0, 1e-3, np.nan], r"column 'time' must hold finite numbers; row 2"),
        ([0.0, 2e-3, 1e-3], r"column 'time' must increase strictly"),
    ],
)
def test_bad_time_column_names_file_and_column(tmp_path, time, message):
    n = 20
    t = np.concatenate([time, 1.0 + np.arange(n - 3) * 1e-3])
    pd.DataFrame({"time": t, "fx": np.ones(n), "fy": np.ones(n), "fz": np.ones(n)}).to_csv(
        tmp_path / "r.csv", index=False
    )
    pd.DataFrame({"file": ["r.csv"], "vb_um": [1.0]}).to_csv(tmp_path / "l.csv", index=False)
    with pytest.raises(ValueError, match=r"r\.csv: " + message):
        load_records(tmp_path / "l.csv")


def test_nan_force_and_label_name_the_column(tmp_path):
    n = 20
    fx = np.ones(n)
    fx[5] = np.nan
    pd.DataFrame({"fx": fx, "fy": np.ones(n), "fz": np.ones(n)}).to_csv(
        tmp_path / "r.csv", index=False
    )
    pd.DataFrame({"file": ["r.csv"], "vb_um": [1.0]}).to_csv(tmp_path / "l.csv", index=False)
    with pytest.raises(ValueError, match=r"r\.csv: column 'fx' must hold finite numbers; row 5"):
        load_records(tmp_path / "l.csv", fs_hz=1000.0)
    pd.DataFrame({"file": ["r.csv"], "vb_um": ["x"]}).to_csv(tmp_path / "l.csv", index=False)
    with pytest.raises(ValueError, match=r"l\.csv: column 'vb_um' must hold finite"):
        load_records(tmp_path / "l.csv", fs_hz=1000.0)


def _feature_csv(path, **changes):
    rng = np.random.default_rng(1)
    table = pd.DataFrame(
        {
            "tool": np.repeat(["A", "B"], 5),
            "cut": np.tile(np.arange(1.0, 6.0), 2),
            "wear": rng.uniform(10, 100, 10),
            "f_rms": rng.normal(size=10),
            "any name": rng.normal(size=10),
        }
    )
    for col, (row, value) in changes.items():
        table[col] = table[col].astype(object)
        table.loc[row, col] = value
    table.to_csv(path, index=False)
    return path


def test_feature_table_reads_any_feature_names(tmp_path):
    t = load_feature_table(
        _feature_csv(tmp_path / "f.csv"), target="wear", group="tool", usage="cut"
    )
    assert t.names == ["f_rms", "any name"] and t.x.shape == (10, 2)
    assert list(t.groups[:2]) == ["A", "A"] and t.usage[5] == 1.0


@pytest.mark.parametrize(
    ("changes", "kwargs", "message"),
    [
        ({"f_rms": (3, "nan")}, {}, r"column 'f_rms' must hold finite numbers; row 3"),
        ({"wear": (0, "inf")}, {}, r"column 'wear' must hold finite"),
        ({"cut": (2, 1.0)}, {}, r"column 'cut' \(time in use\) must increase strictly"),
        ({}, {"target": "VB"}, r"no column 'VB' \(given as --target\)"),
        ({"f_rms": (1, "high")}, {}, r"column 'f_rms' must hold finite numbers; row 1 is 'high'"),
    ],
)
def test_feature_table_errors_name_file_and_column(tmp_path, changes, kwargs, message):
    path = _feature_csv(tmp_path / "f.csv", **changes)
    with pytest.raises(ValueError, match=r"f\.csv: " + message):
        load_feature_table(path, **({"target": "wear", "group": "tool", "usage": "cut"} | kwargs))

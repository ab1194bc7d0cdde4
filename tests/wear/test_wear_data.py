"""Loaders of users' force records: round trips and error messages."""

import numpy as np
import pandas as pd
import pytest

from surrogates.wear.data import load_records, save_records_npz
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

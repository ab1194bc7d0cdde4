"""Bad input to the compensation case: one line ``PROG: error: ...`` naming file and column,
exit status 2, nothing simulated or written (issue 12)."""

import numpy as np
import pandas as pd
import pytest

from cases.exits import run_main
from surrogates.compensation.data import read_records_csv

PROG = "cases.thermal_compensation"


def _records_csv(path, *, nan_at=None, time_swap=False):
    rng = np.random.default_rng(0)
    rows = []
    for cond in ("H1", "H2"):
        for k in range(8):
            rows.append({"condition": cond, "time_s": 60.0 * k, "S25": 20 + 0.1 * k,
                         "B1": 20 + rng.normal(0, 0.1), "dz_um": 0.5 * k})  # fmt: skip
    table = pd.DataFrame(rows)
    if nan_at is not None:
        table.loc[nan_at, "S25"] = np.nan
    if time_swap:
        table.loc[11, "time_s"] = 0.0  # H2's 4th sample goes back in time
    table.to_csv(path, index=False)
    return path


def _run(argv, capsys):
    code = run_main(__import__("cases.thermal_compensation", fromlist=["main"]).main, PROG, argv)
    err = capsys.readouterr().err.strip().splitlines()
    return code, err


def test_nan_in_aged_csv_is_one_line_error(tmp_path, capsys):
    data = _records_csv(tmp_path / "aged.csv", nan_at=3)
    out = tmp_path / "out"
    code, err = _run(["--out", str(out), "--quick", "--data-aged", str(data)], capsys)
    assert code == 2 and len(err) == 1
    assert err[0].startswith(f"{PROG}: error: {data}: column 'S25'")
    assert "line 5" in err[0] and "finite" in err[0]
    assert not out.exists()


def test_time_going_back_is_one_line_error(tmp_path, capsys):
    data = _records_csv(tmp_path / "aged.csv", time_swap=True)
    code, err = _run(
        ["--out", str(tmp_path / "o"), "--quick", "--data-delivery", str(data)], capsys
    )
    assert code == 2 and len(err) == 1
    assert f"{data}: column 'time_s' does not increase strictly on line 13" in err[0]
    assert "'H2'" in err[0]


def test_single_repeat_and_file_as_out_are_refused(tmp_path, capsys):
    code, err = _run(["--out", str(tmp_path / "tc"), "--quick", "--repeats", "1"], capsys)
    assert code == 2 and len(err) == 1 and "needs >= 2 repeats" in err[0]
    target = tmp_path / "file.txt"
    target.write_text("keep me")
    code, err = _run(["--out", str(target), "--quick"], capsys)
    assert code == 2 and len(err) == 1 and "is a file" in err[0]
    assert target.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


def test_read_records_csv_round_trip_and_missing_column(tmp_path):
    path = _records_csv(tmp_path / "ok.csv")
    rec = read_records_csv(path)
    assert list(rec) == ["H1", "H2"] and list(rec["H1"].columns) == ["time_s", "S25", "B1", "dz_um"]
    pd.read_csv(path).drop(columns="dz_um").to_csv(path, index=False)
    with pytest.raises(ValueError, match="missing column 'dz_um'"):
        read_records_csv(path)

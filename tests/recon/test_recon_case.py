"""End-to-end ``python -m cases.milling_reconstruction --quick``: files, bounds, reproducibility."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

from cases.milling_reconstruction import main
from cases.recon_report import comparable_numbers, run_differences

SIGMA = 5.0


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("recon")
    common = ["--quick", "--cache", str(base / "cache"), "--no-progress", "--seed", "7"]
    assert main(["--out", str(base / "a"), *common]) == 0
    assert main(["--out", str(base / "b"), *common]) == 0  # second run: cached response
    assert main(["--out", str(base / "n"), *common, "--data", "nominal"]) == 0
    return base


def _metrics(path):
    return json.loads((path / "metrics.json").read_text(encoding="utf-8"))


def test_quick_run_writes_everything(runs):
    out = runs / "a"
    for name in (
        "fig10_fields.png",
        "fig10_sensors.png",
        "boundary.png",
        "metrics.json",
        "report.md",
    ):
        assert (out / name).stat().st_size > 0, name
    m = _metrics(out)
    assert len(m["conditions"]) == 3 and not m["response_cached"]
    for label in m["conditions"]:
        for f in ("T.xdmf", "T.h5", "sensors.csv"):
            assert (out / label / f).stat().st_size > 0
        assert f"{label}/T.xdmf" in m["conditions"][label]["paraview"]
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| quantity | paper 000 §4.2 | ours |" in report and "fig10_fields.png" in report
    assert not list(runs.glob(".a.partial-*"))


def test_methods_side_by_side(runs):
    m = _metrics(runs / "a")
    assert m["method"] == "student"
    assert m["methods"] == ["student", "teacher", "tikhonov", "fir", "params-only"]
    assert m["weights"]["student"]["members"] >= 2 and m["weights"]["teacher"]["members"] == 1
    for label, c in m["conditions"].items():
        assert set(c["methods"]) == {"student", "teacher", "tikhonov", "fir", "params-only"}
        assert c["methods"]["student"]["sensors"] == c["sensors"]  # rendered = student
        for name in ("student", "teacher"):
            r = c["methods"][name]
            # loose physical bounds: the networks were trained on the fine mesh, this is the
            # coarse quick mesh, so only sanity is asserted here (accuracy: the main job)
            assert 0.0 < r["boundary"]["rmse"] < 150.0
            assert r["loso"] is None  # the networks need all four sensors
            assert r["sensors"]["all"]["r2"] > 0.0 and r["reconstruct_s"] > 0.0
        assert 0.0 <= c["band_coverage"] <= 1.0  # ensemble band of the student
        csv = np.genfromtxt(runs / "a" / label / "sensors.csv", delimiter=",", names=True)
        assert {"F1_student", "F1_teacher", "F1_tikhonov", "F1_truth"} <= set(csv.dtype.names)
        for name in ("fir", "params-only"):  # baselines: finite, LOSO for the FIR filter
            assert math.isfinite(c["methods"][name]["boundary"]["rmse"])
        assert c["methods"]["fir"]["loso"]["mean"]["rmse"] > 0.0
    report = (runs / "a" / "report.md").read_text(encoding="utf-8")
    assert "## Methods side by side" in report and "| tikhonov |" in report


def test_records_come_from_the_generating_model(runs):
    """Default ``--data generating``: held-out records of the generating model (test draws of
    scenario 'all'); the nominal Tikhonov then carries model error (lag, contact, positions), so
    its sensor fit is worse than on the inverse's own data (``--data nominal``)."""
    gen, nom = _metrics(runs / "a"), _metrics(runs / "n")
    assert gen["data"]["source"] == "generating" and nom["data"]["source"] == "nominal"
    assert gen["data"]["data_model"]["generating"]["size_factor"] != gen["mesh_size_factor"]
    report = (runs / "a" / "report.md").read_text(encoding="utf-8")
    assert "no inverse crime" in report and "inverse-crime demonstrations" not in report
    assert "inverse-crime demonstrations" in (runs / "n" / "report.md").read_text("utf-8")

    def clean_misfit(m):
        return np.mean(
            [
                c["methods"]["tikhonov"]["sensors"]["all"]["rmse_clean"]
                for c in m["conditions"].values()
            ]
        )

    assert clean_misfit(gen) > clean_misfit(nom)
    # bands calibrated on validation records (scale per method; raw coverage kept beside)
    cal = gen["calibration"]
    assert set(cal) == set(gen["methods"]) and all(c["n_records"] > 0 for c in cal.values())
    assert all(math.isfinite(c["scale"]) and c["scale"] > 0.0 for c in cal.values())
    assert cal["student"]["banded"] and not cal["teacher"]["banded"]
    for c in gen["conditions"].values():
        s = c["methods"]["student"]
        assert 0.0 <= s["band_coverage"] <= 1.0 and 0.0 <= s["band_coverage_raw"] <= 1.0
    assert "split-conformal" in report
    for c in gen["conditions"].values():
        for name, r in c["methods"].items():
            assert math.isfinite(r["boundary"]["rmse"]) and r["boundary"]["rmse"] > 0.0, name


def test_metrics_finite_and_physical(runs):
    m = _metrics(runs / "n")  # the inverse's own model: misfit at the noise level
    for c in (c["methods"]["tikhonov"] for c in m["conditions"].values()):
        for name in ("S1", "S2", "S3", "S4"):
            s = c["sensors"][name]
            assert 0.9 < s["r2"] <= 1.0
            assert 0.5 * SIGMA < s["rmse"] < 2.0 * SIGMA  # misfit about the noise level
            assert 0.0 < s["rmse_clean"] < SIGMA
        assert 0.0 < c["boundary"]["rmse"] < 30.0  # K, on an F1 rise of about 500 K
        assert 0.0 < c["loso"]["mean"]["rmse"] < 3.0 * SIGMA
        assert 0.5 < c["band_coverage"] <= 1.0
        assert all(math.isfinite(v) for v in c["boundary"].values())


def test_reproducible_with_seed(runs):
    # exact equality of two runs in one process on the same machine and library build (the
    # second reads the cached response); not a claim across machines
    a, b = _metrics(runs / "a"), _metrics(runs / "b")
    assert b["response_cached"]
    for label in a["conditions"]:
        ca, cb = a["conditions"][label], b["conditions"][label]
        assert ca["sensors"] == cb["sensors"] and ca["boundary"] == cb["boundary"]
        assert ca["methods"]["teacher"]["sensors"] == cb["methods"]["teacher"]["sensors"]
    ya = np.loadtxt(runs / "a" / label / "sensors.csv", delimiter=",", skiprows=1)
    yb = np.loadtxt(runs / "b" / label / "sensors.csv", delimiter=",", skiprows=1)
    np.testing.assert_array_equal(ya, yb)


def _user_csv(runs, path, *, edit=None):
    """The 509 r/min condition's measured sensors as a user's CSV (optionally edited)."""
    from thermo.inverse.record import SensorRecord, write_record_csv

    src = runs / "a" / "N509_fz0.075_ae0.2" / "sensors.csv"
    data = np.genfromtxt(src, delimiter=",", names=True)
    names = ("S1", "S2", "S3", "S4")
    times = data["time_s"]
    values = np.stack([data[f"{n}_measured"] for n in names], axis=1)
    record = SensorRecord(
        times, values, names, params={"n_rpm": 509, "fz_mm": 0.075, "ae_mm": 0.2},
        truth=data["F1_truth"],
    )  # fmt: skip
    path = write_record_csv(path, record)
    if edit is not None:
        path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    return path


def _nan_in_s2(text):
    lines = text.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("time_s"))
    cells = lines[head + 5].split(",")
    cells[2] = "nan"
    lines[head + 5] = ",".join(cells)
    return "\n".join(lines) + "\n"


def _times_in_ms(text):
    out = []
    for line in text.splitlines():
        if line and line[0].isdigit():
            t, rest = line.split(",", 1)
            line = f"{float(t) * 1000.0!r},{rest}"
        out.append(line)
    return "\n".join(out) + "\n"


def _sampled_at_another_rate(text):
    out = []
    for line in text.splitlines():
        if line and line[0].isdigit():
            t, rest = line.split(",", 1)
            line = f"{float(t) * 0.73!r},{rest}"
        out.append(line)
    return "\n".join(out) + "\n"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_nan_in_s2, r"rec.csv: row \d+, column 'S2': NaN/inf not allowed"),
        (_times_in_ms, r"beyond the case's t_end = 12 s \(times in ms"),
        (_sampled_at_another_rate, r"not on the case's time grid \(dt = 0.2 s\)"),
    ],
)
def test_bad_user_csv_exits_2_with_one_line(runs, tmp_path, capsys, edit, message):
    from cases.exits import run_main

    csv = _user_csv(runs, tmp_path / "rec.csv", edit=edit)
    out = tmp_path / "never"
    argv = ["--quick", "--cache", str(runs / "cache"), "--no-progress", "--out", str(out)]
    code = run_main(main, "cases.milling_reconstruction", [*argv, "--measurements", str(csv)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "Traceback" not in err
    assert err.startswith("cases.milling_reconstruction: error: ")
    assert re.search(message, err), err
    assert not out.exists() and not list(tmp_path.glob(".never.*"))


def test_output_folder_that_is_a_file_is_refused(runs, tmp_path, capsys):
    from cases.exits import run_main

    user_file = tmp_path / "results.txt"
    user_file.write_text("keep me")
    argv = ["--quick", "--cache", str(runs / "cache"), "--no-progress", "--out", str(user_file)]
    assert run_main(main, "cases.milling_reconstruction", argv) == 2
    assert "is a file" in capsys.readouterr().err and user_file.read_text() == "keep me"


def test_user_measurement_csv(runs, tmp_path):
    csv = _user_csv(runs, tmp_path / "rec.csv")
    out = tmp_path / "user"
    args = ["--quick", "--cache", str(runs / "cache"), "--no-progress", "--measurements", str(csv)]
    assert main(["--out", str(out), *args]) == 0
    m = _metrics(out)
    ((label, c),) = m["conditions"].items()
    ref = _metrics(runs / "a")["conditions"][label]
    for name in ("tikhonov", "student"):
        got, want = c["methods"][name], ref["methods"][name]
        for key in ("sensors", "boundary"):
            a = got[key]["S1"]["rmse"] if key == "sensors" else got[key]["rmse"]
            b = want[key]["S1"]["rmse"] if key == "sensors" else want[key]["rmse"]
            assert a == pytest.approx(b, rel=1e-6), (name, key)


def _toy_record_set(ds, folder):
    """The toy data set as generating-model-like records (``records.npz/.json``, the layout
    ``cases.ihcp_robustness`` writes): scenario ``all``, the held-out cases as split ``test``."""
    from dataclasses import replace

    from thermo.inverse.record import RecordSet

    recs = []
    for case in (int(c) for c in ds.cases):
        split = "test" if case in (5, 14, 23, 24) else "train"
        for sigma in (None, 5.0):
            r = ds.case(case, sigma=sigma)
            meta = {"case": case, "realisation": 0, "split": split, "scenario": "all"}
            recs.append(replace(r, meta=meta | {"sigma_K": float(sigma or 0.0)}))
    RecordSet(tuple(recs), meta={"data_model": {"toy": "conftest.toy_ihcp_dataset"}}).save(
        folder / "records"
    )


def test_retrain_on_a_given_record_set(tmp_path, toy_ihcp_dataset):
    """``--retrain --dataset``: trains on the record set's training records, writes the weights
    with their provenance, uses them; seeded, so twice equal."""
    _toy_record_set(toy_ihcp_dataset, tmp_path / "ds")
    common = ["--quick", "--cache", str(tmp_path / "cache"), "--no-progress", "--retrain"]
    common += ["--dataset", str(tmp_path / "ds"), "--compare", "tikhonov"]
    common += ["--data", "nominal"]  # the toy records run to 3 s, not the case's 12 s
    assert main(["--out", str(tmp_path / "r1"), *common]) == 0
    weights_r1 = ["--weights", str(tmp_path / "r1" / "weights")]
    assert main(["--out", str(tmp_path / "r2"), *common, *weights_r1]) == 0
    record = json.loads((tmp_path / "r2" / "weights" / "training.json").read_text())
    assert record["max_abs_difference_to_shipped"] == 0.0  # same process, same machine
    # bit identity of two seeded trainings in one process (same machine and library build)
    w1, w2 = (np.load(tmp_path / r / "weights" / "student.npz") for r in ("r1", "r2"))
    assert w1.files == w2.files and all(np.array_equal(w1[k], w2[k]) for k in w1.files)
    # provenance: data model, split by case (held-out cases only in the test set), seeds
    assert record["data_model"]["toy"] == "conftest.toy_ihcp_dataset"
    split = record["split"]
    assert not {5, 14, 23, 24} & (set(split["train_cases"]) | set(split["val_cases"]))
    assert split["val_cases"] and split["test_cases"] == [5, 14, 23, 24]
    assert record["seeds"]["students"] == [1, 2]
    # the held-out table beside the baselines (no Tikhonov: a record set has no FEM model)
    held = record["held_out"]["boundary_rmse"]
    assert {"student", "teacher", "fir", "params-only"} <= set(held)
    assert all(math.isfinite(held[m]["all"]["5"]["mean"]) for m in held)
    assert len(record["check_records"]["records"]) == 2  # case 24, realisation 0, σ 0 and 5
    m = _metrics(tmp_path / "r1")
    assert m["weights"]["source"] == "retrained" and m["methods"] == ["student", "tikhonov"]
    assert m["weights"]["default"]["method"] == "student"
    assert m["weights"]["default"]["best_all"] in held
    report = (tmp_path / "r1" / "report.md").read_text(encoding="utf-8")
    assert "## Default method" in report and "Default `--method`: `student`" in report


def test_report_states_the_default_and_why(runs):
    """The shipped weights carry the held-out measurement; the report states the default with
    it (the figures of the generating model's held-out records, baselines beside)."""
    m = _metrics(runs / "a")
    d = m["weights"]["default"]
    assert d["method"] == "student" and d["held_out"]["sigma_K"] == 5.0
    under_all = d["held_out"]["boundary_rmse"]["all"]
    assert {"student", "teacher", "tikhonov", "fir", "params-only"} <= set(under_all)
    assert d["best_all"] == min(under_all, key=under_all.get)
    report = (runs / "a" / "report.md").read_text(encoding="utf-8")
    assert "## Default method" in report and "| tikhonov |" in report
    assert "no inverse crime" in report  # default --data generating


@pytest.mark.mpi
def test_two_ranks_agree_with_serial(runs, tmp_path, mpirun):
    """``mpirun -n 2 python -m cases.milling_reconstruction``: the response computed on 2 ranks,
    the sensors, estimates and metrics equal the serial run's to 1e-8 relative; the cached
    field factors (gathered in input-node order) give the same fields; ParaView files of the
    whole mesh are written by both ranks."""
    import subprocess
    import sys
    from pathlib import Path

    from thermo.inverse.linear_response import LinearResponse

    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "virtual_lab").symlink_to(runs / "cache" / "virtual_lab")  # records, not response
    out = tmp_path / "p2"
    cmd = [str(mpirun), "-n", "2", sys.executable, "-m", "cases.milling_reconstruction"]
    cmd += ["--quick", "--cache", str(cache), "--no-progress", "--seed", "7", "--out", str(out)]
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    serial, parallel = _metrics(runs / "a"), _metrics(out)
    assert (serial["n_ranks"], parallel["n_ranks"]) == (1, 2)
    assert not parallel["response_cached"]
    a, b = comparable_numbers(serial), comparable_numbers(parallel)
    assert a.keys() == b.keys() and len(a) > 100
    diff = run_differences(runs / "a", out)
    print(f"serial vs 2 ranks: {diff}")
    assert diff["n_numbers"] == len(a) and diff["metrics_rel"] <= 1e-8
    assert diff["csv_rel"] <= 1e-8  # every column of every sensors.csv
    assert len(list(out.glob("*/sensors.csv"))) == len(serial["conditions"])
    for label, cond in serial["conditions"].items():
        xdmf = [(d / label / "T.xdmf").read_text(encoding="utf-8") for d in (runs / "a", out)]
        dims = [re.findall(r'Dimensions="([0-9 ]+)"', t) for t in xdmf]  # global sizes
        assert dims[0] == dims[1] and len(dims[0]) > 2
        assert (out / label / "T.h5").stat().st_size > 0 and cond["paraview"]
    assert (out / "fig10_fields.png").stat().st_size > 10_000
    # the cached factors: one in input-node order per rank count, same fields
    (s_path,) = (runs / "cache").glob("response_*.npz")
    (p_path,) = cache.glob("response_*.npz")
    s_resp, p_resp = LinearResponse.load(s_path), LinearResponse.load(p_path)
    np.testing.assert_array_equal(s_resp.field_nodes, p_resp.field_nodes)
    f1 = s_resp.T0 + np.linspace(0.0, 600.0, s_resp.times.size)  # an F1 ramp, °C
    at = s_resp.times[[len(s_resp.times) // 3, -1]]
    fs, fp = (r.fields(f1, at_times=at, compressed=True) for r in (s_resp, p_resp))
    assert np.abs(fs - fp).max() <= 1e-8 * np.abs(fs - s_resp.T0).max()
    # and the other way round: a serial run reads the cache the 2 ranks wrote
    args = ["--quick", "--cache", str(cache), "--no-progress", "--seed", "7"]
    assert main([*args, "--out", str(tmp_path / "s")]) == 0
    again = _metrics(tmp_path / "s")
    assert again["response_cached"] and again["n_ranks"] == 1
    assert run_differences(runs / "a", tmp_path / "s")["metrics_rel"] <= 1e-8


@pytest.mark.mpi
def test_bad_user_csv_on_two_ranks_exits_2_on_both(runs, tmp_path, mpirun):
    """Rank 0 reads the record (thermo.root_work.on_root): its error reaches every rank, each
    exits 2, rank 0 prints the one line (cases.exits), nothing is published, no rank hangs."""
    import subprocess
    import sys
    from pathlib import Path

    csv = _user_csv(runs, tmp_path / "rec.csv", edit=_nan_in_s2)
    out = tmp_path / "never"
    cmd = [str(mpirun), "-n", "2", sys.executable, "-m", "cases.milling_reconstruction"]
    cmd += ["--quick", "--cache", str(runs / "cache"), "--no-progress", "--out", str(out)]
    cmd += ["--measurements", str(csv)]
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr[-2000:]
    lines = [x for x in done.stderr.splitlines() if x.startswith("cases.milling_reconstruction")]
    assert len(lines) == 1, done.stderr[-2000:]
    assert re.search(r"column 'S2': NaN/inf not allowed", lines[0])
    assert not out.exists() and not list(tmp_path.glob(".never.*"))

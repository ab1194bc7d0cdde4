"""``millheat inverse`` end to end on a 1D bar case (any case file and mesh, not only the tool).

Measurements come from a direct FEM run of the same bar with a known triangular surface
temperature pulse (peak 300 K above T0), plus σ = 1 % of the largest sensor rise; the estimate
must be within 5 % of the peak (boundary RMSE), and the output files must be complete.
"""

import csv
import json

import numpy as np
import pytest

boxes = pytest.importorskip("meshes.boxes")
solver = pytest.importorskip("thermo.solver")
from cases.cli import main  # noqa: E402
from thermo.inverse.record import SensorRecord, write_record_csv  # noqa: E402
from thermo.problem import (  # noqa: E402
    ConvectionBC,
    HeatProblem,
    History,
    TemperatureBC,
    TimeStepping,
    material,
)

CASE = """
[mesh]
builtin = "bar"
[mesh.params]
lengths = [0.01]
cells = [40]
[materials.bar]
name = "wc-co"
[boundary.x0]
type = "unknown-temperature"
[boundary.x1]
type = "convection"
h = 25.0
T_inf = 20.0
[time]
dt = 0.05
t_end = 3.0
T0 = 20.0
[solver]
linear_solver = "mumps"
[probes]
P1 = [0.001, 0.0, 0.0]
P2 = [0.002, 0.0, 0.0]
P3 = [0.004, 0.0, 0.0]
"""
PROBES = {"P1": (0.001, 0.0, 0.0), "P2": (0.002, 0.0, 0.0), "P3": (0.004, 0.0, 0.0)}


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    d = tmp_path_factory.mktemp("inv")
    (d / "bar.toml").write_text(CASE)
    truth = History(np.array([0.0, 0.3, 1.3, 2.3, 3.0]), np.array([20, 20, 320, 20, 20.0]))
    problem = HeatProblem(
        materials={"bar": material("wc-co")},
        boundaries={"x0": TemperatureBC(truth), "x1": ConvectionBC(h=25.0, T_inf=20.0)},
        time=TimeStepping(dt=0.05, t_end=3.0, T0=20.0),
        linear_solver="mumps",
    )
    res = solver.solve_transient(boxes.bar(lengths=(0.01,), cells=(40,)), problem, probes=PROBES)
    clean = np.stack([res.probes[n] for n in PROBES], axis=1)
    sigma = 0.01 * float(np.max(clean - 20.0))
    noisy = clean + sigma * np.random.default_rng(0).standard_normal(clean.shape)
    record = SensorRecord(res.times, noisy, tuple(PROBES), truth=truth(res.times))
    write_record_csv(d / "meas.csv", record)
    return d, sigma


@pytest.fixture(scope="module")
def first_run(measured):
    """One Tikhonov run that computes (and saves) the linear response of the bar."""
    d, sigma = measured
    out = d / "out-tikhonov"
    argv = ["inverse", str(d / "bar.toml"), "--measurements", str(d / "meas.csv")]
    assert main([*argv, "--method", "tikhonov", "--sigma", str(sigma), "--out", str(out)]) == 0
    return out


def _check_outputs(out, parameter):
    for name in (
        "boundary_estimate.csv",
        "fitted_probes.csv",
        "inverse.png",
        "summary.json",
        "report.md",
        "response.npz",
        "response.json",
    ):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["boundary"]["rmse"] < 0.05 * 300.0
    assert summary[parameter] > 0
    with open(out / "boundary_estimate.csv") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["time_s", "value"] and len(rows) == 62
    assert float(rows[1][1]) == 20.0


def test_cli_tikhonov_writes_estimate(first_run):
    _check_outputs(first_run, "lam")


@pytest.mark.parametrize(
    ("method", "extra", "parameter"),
    [("sfsm", [], "future_steps"), ("kalman", [], "q"), ("tikhonov", ["--rule", "lcurve"], "lam")],
)
def test_cli_other_methods_reuse_response(measured, first_run, method, extra, parameter):
    d, sigma = measured
    out = d / f"out-{method}-{len(extra)}"
    argv = [
        "inverse",
        str(d / "bar.toml"),
        "--measurements",
        str(d / "meas.csv"),
        "--out",
        str(out),
        "--method",
        method,
        "--sigma",
        str(sigma),
        "--response",
        str(first_run / "response.npz"),
        *extra,
    ]
    assert main(argv) == 0
    _check_outputs(out, parameter)


def test_cli_inverse_rejects_bad_columns(measured, capsys):
    d, _ = measured
    bad = d / "bad.csv"
    bad.write_text("time_s,Q9\n0.0,20\n0.05,21\n0.1,22\n")
    argv = ["inverse", str(d / "bar.toml"), "--measurements", str(bad), "--out", str(d / "x")]
    assert main(argv) == 2
    assert "Q9" in capsys.readouterr().err
    assert not (d / "x").exists()


def _edited(d, name, edit):
    lines = (d / "meas.csv").read_text().splitlines()
    path = d / name
    path.write_text("\n".join(edit(lines)) + "\n")
    return path


def _rows(lines, change):
    head = next(i for i, line in enumerate(lines) if line.startswith("time_s"))
    return lines[: head + 1] + [change(i, line) for i, line in enumerate(lines[head + 1 :])]


def _retime(factor):
    def change(_i, line):
        t, rest = line.split(",", 1)
        return f"{float(t) * factor!r},{rest}"

    return lambda lines: _rows(lines, change)


def _nan_row(lines):
    def change(i, line):
        cells = line.split(",")
        if i == 4:
            cells[2] = "nan"
        return ",".join(cells)

    return _rows(lines, change)


def _swap_rows(lines):
    head = next(i for i, line in enumerate(lines) if line.startswith("time_s"))
    lines = list(lines)
    lines[head + 3], lines[head + 4] = lines[head + 4], lines[head + 3]
    return lines


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_nan_row, "NaN/inf not allowed"),
        (_swap_rows, "must be strictly increasing"),
        (_retime(1000.0), r"beyond the case's t_end = 3 s \(times in ms"),
        (_retime(0.7), r"not on the case's time grid \(dt = 0.05 s\)"),
    ],
)
def test_cli_bad_measurements_exit_2_with_one_line(measured, capsys, edit, message):
    import re

    d, _ = measured
    bad = _edited(d, "edited.csv", edit)
    out = d / "never"
    argv = ["inverse", str(d / "bar.toml"), "--measurements", str(bad), "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("millheat inverse: error: ") and "\n" not in err
    assert re.search(message, err), err
    assert not out.exists()


def test_cli_refuses_an_output_folder_that_is_a_file(measured, capsys):
    d, sigma = measured
    user_file = d / "keep.txt"
    user_file.write_text("mine")
    argv = ["inverse", str(d / "bar.toml"), "--measurements", str(d / "meas.csv")]
    assert main([*argv, "--sigma", str(sigma), "--out", str(user_file)]) == 2
    assert "is a file" in capsys.readouterr().err and user_file.read_text() == "mine"


def test_cli_runs_a_registered_toy_method(measured, first_run):
    """Adding a method is one file plus one registry line; the CLI lists and runs it."""
    from thermo.inverse.registry import MethodSpec, register, unregister

    d, sigma = measured
    register(MethodSpec("quasi-steady", "toy_method:factory", "toy: steady gains"))
    try:
        out = d / "out-toy"
        argv = ["inverse", str(d / "bar.toml"), "--measurements", str(d / "meas.csv")]
        argv += ["--method", "quasi-steady", "--out", str(out)]
        assert main([*argv, "--response", str(first_run / "response.npz")]) == 0
    finally:
        unregister("quasi-steady")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["method"] == "quasi-steady" and len(summary["gains"]) == 3
    assert np.isfinite(summary["boundary"]["rmse"])

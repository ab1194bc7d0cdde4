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

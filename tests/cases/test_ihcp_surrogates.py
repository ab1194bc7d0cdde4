"""``cases.ihcp_surrogates``: bad options fail cleanly; the study after the FEM (training,
scoring of every network and baseline with the same fields, KD grid, student search, data
model) on records of a toy linear model; and, marked slow, ``--quick`` end to end on the FEM."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from cases.ihcp_surrogates import BASELINES, NETWORKS, _settings, build_parser, main, study
from thermo.inverse.linear_response import LinearResponse
from thermo.inverse.virtual_lab import GeneratingModel, generate, pool

MODEL = GeneratingModel(dt=0.1, inverse_dt=0.2, t_end=6.0)
FIELDS = ("boundary_rmse", "r2", "mse_scaled", "coverage", "train_time_s", "n_params", "n_test")


def _response(dt: float, gain: float = 1.0) -> LinearResponse:
    """A causal 4-sensor step response with the meta the study reads (dofs)."""
    times = dt * np.arange(round(MODEL.t_end / dt) + 1)
    gains = gain * np.array([0.4, 0.3, 0.2, 0.15])
    step = gains * (1.0 - np.exp(-times[:, None] / np.array([0.3, 0.6, 1.0, 1.6])))
    return LinearResponse(
        times=times, step=step, probe_names=("S1", "S2", "S3", "S4"), kind="temperature",
        boundary="F1", T0=20.0, scheme="backward-euler", meta={"timings": {"n_dofs": 123}},
    )  # fmt: skip


@pytest.mark.parametrize(
    "bad", [["--epochs", "0"], ["--window", "3"], ["--scenarios", "nope"], ["--shapes", "3y4"]]
)
def test_bad_options_exit_code(tmp_path, capsys, bad):
    from cases.exits import run_main

    out = tmp_path / "o"
    assert run_main(main, "cases.ihcp_surrogates", ["--out", str(out), *bad]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("cases.ihcp_surrogates: error: ") and "\n" not in err
    assert not out.exists()


def test_study_on_toy_records_lists_every_method_with_the_same_fields(tmp_path):
    # the search is left to the slow run and tests/ihcp/test_kd_grid.py (compile cost)
    argv = ["--quick", "--epochs", "1", "--students", "2", "--grid-epochs", "1",
            "--grid-t", "7", "--grid-lambda", "0.5", "--no-search", "--window", "8",
            "--sigmas", "0", "5"]  # fmt: skip
    args = build_parser().parse_args(argv)
    s = _settings(args)
    s |= {"cases": (1, 2, 3, 4, 6, 5, 24), "draws": 2}
    pools = {"all": pool("all", 2, seed=0, ranges=MODEL.ranges)}
    # the generating model's responses differ from the nominal one (gain), as on the tool
    fine = {d.label: _response(MODEL.dt, gain=1.0 + 0.05 * d.index) for d in pools["all"]}
    records = generate(fine, pools, MODEL, cases=s["cases"], n_realisations=2,
                       sigmas=args.sigmas, seed=0)  # fmt: skip
    m = study(records, fine=fine, nominal=_response(MODEL.inverse_dt), model=MODEL, s=s,
              args=args, tmp=tmp_path)  # fmt: skip
    assert set(m["models"]) == set(NETWORKS) | set(BASELINES)
    n_test = sum(r.meta["split"] == "test" for r in records)
    for name, entry in m["models"].items():
        assert set(FIELDS) <= set(entry), name
        assert entry["n_test"] == n_test and math.isfinite(entry["boundary_rmse"])
        assert math.isfinite(entry["r2"]) and entry["mse_scaled"] >= 0
        assert set(entry["by_sigma"]) == {"0", "5"}
        assert sum(c["n_test"] for c in entry["by_sigma"].values()) == n_test
    for name in (*NETWORKS, "params-only", "fir"):
        assert m["models"][name]["n_params"] > 0 and m["models"][name]["train_time_s"] > 0
    assert m["models"]["teacher"]["n_params"] > m["models"]["student"]["n_params"]
    assert 0.0 <= m["models"]["student_kd_ensemble"]["coverage"] <= 1.0
    assert m["models"]["teacher"]["coverage"] is None  # one network: no band
    assert m["models"]["tikhonov"]["coverage"] is not None  # the posterior band
    dm = m["data_model"]
    assert dm["generating"]["dt"] < dm["nominal"]["dt"] and dm["nominal"]["n_dofs"] == 123
    assert tuple(dm["uncertainty_ranges"]["tau_s"]) == (0.05, 0.3)
    assert dm["sensor_model"]["per_sigma"]["5"]["sigma_K"] == 5.0
    grid = m["kd_grid"]
    assert len(grid["rows"]) == 2 and set(grid["chosen"]) == {"paper", "regression"}
    assert m["student_search"]["rows"] == [] and m["student_search"]["paper_student"] is None
    assert set(m["timing"]) >= {"threads", "loadavg"}
    for name in ("models.csv", "rows.csv", "kd_grid.csv", "kd_grid.png", "models.png",
                 "records.npz", "networks/teacher.npz"):  # fmt: skip
        assert (tmp_path / name).stat().st_size > 0, name


@pytest.mark.slow
def test_quick_run_end_to_end(tmp_path):
    out = tmp_path / "out"
    argv = ["--quick", "--out", str(out), "--cache", str(tmp_path / "cache"), "--sigmas", "0", "5",
            "--grid-t", "1", "7", "--grid-lambda", "0.3", "0.8", "--fractions", "0.3"]  # fmt: skip
    assert main(argv) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert set(m["models"]) == set(NETWORKS) | set(BASELINES)
    assert m["data_model"]["generating"]["n_dofs"] > 0
    search = m["student_search"]
    assert [r["label"] for r in search["rows"]][:2] == ["teacher", "table4"]
    assert search["paper_student"]["filters"] == 148 and search["paper_student"]["units"] == 90
    assert len(m["kd_grid"]["rows"]) == 2 * 2 + 2  # paper T x λ, regression λ only
    report = (out / "report.md").read_text()
    assert "KD grid" in report and "Student size/shape search" in report
    for name in ("student_search.csv", "student_search.png", "kd_grid.png"):
        assert (out / name).stat().st_size > 0, name

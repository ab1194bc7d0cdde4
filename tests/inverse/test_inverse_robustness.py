"""Scoring on held-out records of the generating model: the oracle beats the nominal model under
model error, every method gets its row, the summary averages per method × scenario × σ."""

from __future__ import annotations

import numpy as np

from thermo.inverse.linear_response import LinearResponse
from thermo.inverse.registry import make_method
from thermo.inverse.robustness import evaluate, markdown_table, summarise
from thermo.inverse.virtual_lab import (
    GeneratingModel,
    draw_model,
    generate,
    oracle_response,
)

T0 = 20.0
MODEL = GeneratingModel(dt=0.05, inverse_dt=0.1, t_end=6.0)


def _response(dt: float, gain_scale: float = 1.0) -> LinearResponse:
    times = dt * np.arange(round(MODEL.t_end / dt) + 1)
    gains = gain_scale * np.array([0.3, 0.2, 0.15])
    step = gains * (1.0 - np.exp(-times[:, None] / np.array([0.5, 0.9, 1.5])))
    return LinearResponse(
        times=times, step=step, probe_names=("S1", "S2", "S3"), kind="temperature",
        boundary="F1", T0=T0, scheme="backward-euler",
    )  # fmt: skip


def test_oracle_beats_the_nominal_model_under_lag_and_rows_are_complete():
    draws = {"lag": [draw_model("lag", 0, seed=0, n_sensors=3)]}  # three sensors here
    fine = _response(MODEL.dt)
    recs = generate(
        {d.label: fine for d in draws["lag"]},
        draws,
        MODEL,
        cases=[5, 14],
        n_realisations=1,
        sigmas=(0.0, 2.0),
    )
    nominal = _response(MODEL.inverse_dt)
    tik = {}

    def nominal_source(record):
        sigma = record.meta["sigma_K"]
        if sigma not in tik:
            tik[sigma] = make_method("tikhonov", response=nominal, sigma=sigma)
        return tik[sigma], lambda u: nominal.probes(u)

    def oracle_source(record):
        true = oracle_response(fine, record)
        method = make_method("tikhonov", response=true, sigma=record.meta["sigma_K"])
        return method, lambda u: true.probes(np.interp(true.times, record.times, u))[:: MODEL.every]

    rows = evaluate(recs, {"tikhonov": nominal_source, "oracle": oracle_source})
    assert len(rows) == 2 * len(recs)
    assert all(r["coverage"] is not None and r["loso_rmse"] is not None for r in rows)
    table = summarise(rows)
    for sigma in ("0", "2"):
        assert table["oracle"]["lag"][sigma]["mean"] < table["tikhonov"]["lag"][sigma]["mean"]
        assert table["oracle"]["lag"][sigma]["n"] == 2
    md = markdown_table(table, scenarios=["lag"], sigmas=["0", "2"])
    assert md.startswith("| method | lag, σ 0 | lag, σ 2 |") and "| oracle |" in md


def test_quick_study_writes_every_method_and_the_data_model(tmp_path):
    """``cases.ihcp_robustness --quick`` end to end on two scenarios (coarse tool meshes)."""
    import json

    from cases.ihcp_robustness import METHODS, main

    out = tmp_path / "rob"
    argv = ["--quick", "--out", str(out), "--cache", str(tmp_path / "cache")]
    assert main([*argv, "--scenarios", "none", "lag", "--sigmas", "0", "5", "--no-loso"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert set(m["models"]) == set(METHODS)
    for method in METHODS:
        for scenario in ("none", "lag"):
            for sigma in ("0", "5"):
                cell = m["models"][method][scenario][sigma]
                assert cell["n"] == 11 and np.isfinite(cell["boundary_rmse"])
    dm = m["data_model"]
    assert dm["generating"]["dt"] < dm["nominal"]["dt"]  # no inverse crime: a finer step
    assert dm["generating"]["size_factor"] < dm["nominal"]["size_factor"]  # and a finer mesh
    # σ = 0, no model uncertainty: the oracle sees only the sampling, the nominal Tikhonov
    # also the discretisation gap
    assert (
        m["models"]["oracle"]["none"]["0"]["boundary_rmse"]
        < (m["models"]["tikhonov"]["none"]["0"]["boundary_rmse"])
    )
    for name in ("records.npz", "records.json", "rows.csv", "robustness.png", "report.md"):
        assert (out / name).stat().st_size > 0

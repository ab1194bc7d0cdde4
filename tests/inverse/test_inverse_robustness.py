"""Scoring on held-out records of the generating model: the oracle beats the nominal model under
model error, every method gets its row, the summary averages per method × scenario × σ."""

from __future__ import annotations

import numpy as np

from thermo.inverse.linear_response import LinearResponse
from thermo.inverse.registry import make_method
from thermo.inverse.robustness import calibrate_sources, evaluate, markdown_table, summarise
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


def test_calibrated_rows_carry_the_scale_of_their_method_and_sigma():
    """Calibrate nominal Tikhonov on validation records (cases 1–3), score others (5, 14): the
    calibrated columns come from the scale of the record's σ, and a wider band covers more."""
    draws = {"lag": [draw_model("lag", 0, seed=0, n_sensors=3)]}
    fine = _response(MODEL.dt)
    kw = dict(n_realisations=1, sigmas=(0.0, 2.0))
    val = generate({d.label: fine for d in draws["lag"]}, draws, MODEL, cases=[1, 2, 3], **kw)
    test = generate({d.label: fine for d in draws["lag"]}, draws, MODEL, cases=[5, 14], **kw)
    nominal = _response(MODEL.inverse_dt)
    tik = {s: make_method("tikhonov", response=nominal, sigma=s) for s in (0.0, 2.0)}
    sources = {"tikhonov": lambda record: (tik[record.meta["sigma_K"]], nominal.probes)}
    cal = calibrate_sources(val, sources)
    assert set(cal["tikhonov"]) == {"0", "2"}
    assert all(c.n_records == 3 and not c.guaranteed for c in cal["tikhonov"].values())
    rows = evaluate(test, sources, loso=False, calibrations=cal)
    for row in rows:
        c = cal["tikhonov"][f"{row['sigma_K']:g}"]
        assert row["band_scale"] == c.scale
        assert 0.0 <= row["coverage_calibrated"] <= 1.0
        assert row["halfwidth_calibrated"] > 0.0
        if c.scale > 1.0:  # the band widened: at least the raw coverage
            assert row["coverage_calibrated"] >= row["coverage"]
    plain = evaluate(test, sources, loso=False)
    assert all(r["coverage_calibrated"] is None and r["band_scale"] is None for r in plain)


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
                # every method gets a calibrated band (a constant one without its own band)
                assert 0.0 <= cell["coverage_calibrated"] <= 1.0 and cell["band_scale"] > 0.0
        for sigma in ("0", "5"):  # one scale per σ, from that σ's validation records
            n_val = m["calibration"][method][sigma]["n_records"]
            assert n_val == m["n_records"]["calibration"] // 2
    assert m["data_model"]["validation"]["cases"]
    assert m["n_records"]["calibration"] > 0
    md = (out / "robustness.md").read_text()
    for heading in ("Boundary RMSE", "Leave-one-sensor-out", "coverage of the truth, raw",
                    "calibrated band", "Coverage per σ"):  # fmt: skip
        assert heading in md
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

"""The generating model of the IHCP study: draws, records, splits, the oracle, record sets, and
one FEM run per distinct model (coarse tool mesh)."""

from __future__ import annotations

import numpy as np
import pytest

from thermo.inverse.linear_response import LinearResponse
from thermo.inverse.record import RecordSet
from thermo.inverse.virtual_lab import (
    FACTORS,
    HOLDOUT_CASES,
    GeneratingModel,
    UncertaintyRanges,
    draw_model,
    generate,
    oracle_response,
    pool,
    split_of,
)

T0 = 20.0
MODEL = GeneratingModel(dt=0.025, inverse_dt=0.05, t_end=12.0)


def _fine_response(gain: float = 0.05) -> LinearResponse:
    times = MODEL.dt * np.arange(round(MODEL.t_end / MODEL.dt) + 1)
    taus = np.array([2.0, 3.0, 4.0, 6.0])
    step = gain * (1.0 - np.exp(-times[:, None] / taus))
    return LinearResponse(
        times=times,
        step=step,
        probe_names=("S1", "S2", "S3", "S4"),
        kind="temperature",
        boundary="F1",
        T0=T0,
        scheme="backward-euler",
    )


def test_draws_switch_only_their_factor_and_stay_in_range():
    ranges = UncertaintyRanges()
    none = draw_model("none", 0, seed=1)
    assert (none.h_F3, none.h_c, none.k_insert, none.lag) == (25.0, None, 85.0, False)
    assert np.all(np.array(none.offsets) == 0.0)
    every = [draw_model("all", i, seed=1) for i in range(30)]
    assert all(15.0 <= d.h_F3 <= 40.0 and 76.5 <= d.k_insert <= 93.5 and d.lag for d in every)
    assert all(d.h_c is None or 5e3 <= d.h_c <= 5e4 for d in every)
    assert 0 < sum(d.h_c is None for d in every) < 30  # perfect contact in some draws only
    assert all(np.max(np.abs(d.offsets)) <= ranges.position_m for d in every)
    for factor in FACTORS:
        one = draw_model(factor, 0, seed=1)
        changed = {
            "h_F3": one.h_F3 != 25.0,
            "contact": True,  # a contact draw may be "perfect" (h_c None): only others fixed
            "k_insert": one.k_insert != 85.0,
            "position": np.any(np.array(one.offsets) != 0.0),
            "lag": one.lag,
        }
        assert changed[factor]
        others = {"h_F3": 25.0, "k_insert": 85.0}
        for name, nominal in others.items():
            if name != factor:
                assert getattr(one, name) == nominal
    assert draw_model("all", 3, seed=1) == draw_model("all", 3, seed=1)


def test_records_splits_and_oracle():
    draws = {"lag": pool("lag", 4, seed=0, ranges=UncertaintyRanges())}
    responses = {d.label: _fine_response() for d in draws["lag"]}
    recs = generate(responses, draws, MODEL, cases=[1, 24], n_realisations=3, sigmas=(0.0, 5.0))
    assert len(recs) == 2 * 3 * 2
    rec = recs[0]
    assert rec.times[1] == pytest.approx(0.05) and rec.times.size == 241  # the inverse's grid
    splits = {(r.meta["case"], r.meta["realisation"]): r.meta["split"] for r in recs}
    assert splits[(1, 0)] == splits[(1, 1)] == "train" and splits[(1, 2)] == "test"
    assert {splits[(24, r)] for r in range(3)} == {"test"} and 24 in HOLDOUT_CASES
    # σ = 0: no noise, no drift, no quantisation: the lagged clean signal
    clean0 = [r for r in recs if r.meta["sigma_K"] == 0.0]
    tau = np.array(clean0[0].meta["tau_s"])
    assert np.all((tau >= 0.05) & (tau <= 0.3))
    # σ = 0: the values are the lagged clean signal itself (structural: the sensor model with
    # every setting 0 is the identity, no noise, drift or quantisation)
    np.testing.assert_array_equal(clean0[0].values, clean0[0].clean)
    noisy = [r for r in recs if r.meta["sigma_K"] == 5.0][0]
    assert np.allclose(noisy.values / 0.1, np.round(noisy.values / 0.1), atol=1e-6)
    assert 3.0 < np.std(noisy.values - noisy.clean) < 8.0
    # two realisations of one case differ: the parameters alone cannot know the history
    a, b = [r.truth for r in clean0 if r.meta["case"] == 1][:2]
    assert np.sqrt(np.mean((a - b) ** 2)) > 0.05 * (a.max() - T0)


def test_oracle_is_exact_on_the_records_own_model():
    """The oracle's forward model reproduces a noise-free lagged record to its round-off."""
    draws = {"lag": pool("lag", 1, seed=3, ranges=UncertaintyRanges())}
    fine = _fine_response()
    recs = generate({d.label: fine for d in draws["lag"]}, draws, MODEL, cases=[5], sigmas=(0.0,))
    rec = recs[0]
    true = oracle_response(fine, rec)
    f1_fine = np.interp(fine.times, rec.times, rec.truth)  # the truth is piecewise smooth
    pred = true.probes(f1_fine)[:: MODEL.every]
    assert np.max(np.abs(pred - rec.values)) < 0.02 * (rec.values.max() - T0)


def test_record_set_round_trip(tmp_path):
    draws = {"none": pool("none", 1, seed=0, ranges=UncertaintyRanges())}
    fine = _fine_response()
    recs = generate({d.label: fine for d in draws["none"]}, draws, MODEL, cases=[2, 3])
    rs = RecordSet(tuple(recs), meta={"data_model": MODEL.as_meta()})
    rs.save(tmp_path / "lab")
    back = RecordSet.load(tmp_path / "lab")
    assert len(back) == len(rs) and back.meta["data_model"]["dt"] == 0.025
    # a file round trip: arrays come back bit for bit
    np.testing.assert_array_equal(back.records[3].values, rs.records[3].values)
    assert back.records[3].meta == rs.records[3].meta
    assert len(back.where(split="test")) == len([r for r in recs if r.meta["split"] == "test"])
    assert split_of(2, 0, 3) == "train"


def test_fem_draws_share_runs_and_differ_by_model(tmp_path):
    """One FEM run per distinct (h, h_c, k); offsets are probes of the same run."""
    from thermo.inverse.virtual_lab import draw_responses

    small = GeneratingModel(size_factor=2.0, dt=0.2, inverse_dt=0.4, t_end=2.0)
    draws = [draw_model("position", i, seed=0) for i in range(2)] + [
        draw_model("h_F3", 0, seed=0),
        draw_model("none", 0, seed=0),
    ]
    out = draw_responses(draws, small, cache=tmp_path)
    assert set(out) == {d.label for d in draws}
    a, b = out["position#0"], out["position#1"]
    assert len(list(tmp_path.glob("lab_*.npz"))) == 2  # nominal (+ offsets) and h_F3
    assert a.probe_names == ("S1", "S2", "S3", "S4")
    assert not np.allclose(a.step, b.step)  # other positions, other responses
    assert not np.allclose(out["h_F3#0"].step, out["none#0"].step)
    again = draw_responses(draws, small, cache=tmp_path)  # from the cache
    np.testing.assert_array_equal(again["h_F3#0"].step, out["h_F3#0"].step)


def test_flank_sensor_offsets_stay_on_the_flank():
    from meshes.tool import ToolGeometry
    from thermo.inverse.virtual_lab import _on_surface

    g = ToolGeometry(sensor_layout="flank")
    a = np.radians(g.clearance_deg)
    normal = np.array([np.cos(a), -np.sin(a), 0.0])
    off = np.array([1e-4, -2e-4, 1.5e-4])
    moved = _on_surface(off, g)
    assert abs(moved @ normal) < 1e-18 and moved[2] == off[2]
    body = ToolGeometry(sensor_layout="body")
    np.testing.assert_array_equal(_on_surface(off, body), off)

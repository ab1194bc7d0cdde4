"""Random cutting-zone realisations (thermo.inverse.cutting_zone: F1Variability, draw_realisation,
f1_history, random_f1_history): reproducible, each effect does what its docstring says, and two
realisations of one case differ so much that the machining parameters cannot predict the
history."""

import dataclasses
import math

import numpy as np
import pytest

from thermo.inverse.cutting_zone import (
    EXPONENTS,
    CuttingConditions,
    F1Variability,
    draw_realisation,
    f1_heat_flux,
    f1_history,
    f1_temperature,
    random_f1_history,
)
from thermo.inverse.design import case_params

T = np.linspace(0.0, 12.0, 241)  # the data set's grid (dt = 0.05 s)
P14 = case_params(14)  # N 509, fz 0.075, ae 0.2: the model's reference point
COND14 = CuttingConditions(**P14)
RISE14 = COND14.steady_rise_K()


def _real(**changes):
    """A hand-made realisation of case 14 with every effect off, then ``changes``."""
    base = draw_realisation(COND14, seed=3, case=14, r=0, variability=F1Variability.none())
    return dataclasses.replace(base, **changes)


def test_reproducible_and_realisations_differ():
    a, ra = random_f1_history(T, **P14, seed=7, case=14, r=2)
    b, rb = random_f1_history(T, **P14, seed=7, case=14, r=2)
    np.testing.assert_array_equal(a, b)
    assert ra == rb
    c, rc = random_f1_history(T, **P14, seed=7, case=14, r=3)
    d, rd = random_f1_history(T, **P14, seed=8, case=14, r=2)
    assert rc != ra and rd != ra
    assert not np.allclose(a, c) and not np.allclose(a, d)
    meta = ra.as_meta()
    assert meta["r"] == 2 and meta["case"] == 14 and isinstance(meta["gaps_s"], list)
    assert F1Variability().as_meta()["entry_range_s"] == [0.2, 3.0]


def test_all_effects_off_is_the_level_model():
    """With no effect the history is f1_temperature / f1_heat_flux of today (t_in = 0.5 s)."""
    none = F1Variability.none()
    h, real = random_f1_history(T, **P14, seed=1, case=14, r=5, variability=none)
    assert real.t_in_s == pytest.approx(0.5) and real.t_out_s is None and real.gaps_s == ()
    assert real.feed_change_s is None and real.feed_factor == pytest.approx(1.0)
    ref = f1_temperature(T, **P14, seed=real.fluctuation_seed)
    np.testing.assert_allclose(h, ref, rtol=1e-12, atol=1e-9)
    q, _ = random_f1_history(T, **P14, seed=1, case=14, r=5, kind="flux", variability=none)
    np.testing.assert_allclose(q, f1_heat_flux(T, **P14, seed=real.fluctuation_seed), rtol=1e-12)


def test_late_entry_is_ambient_before_and_exit_is_ambient_after():
    real = _real(t_in_s=2.7, t_out_s=8.0)
    h = f1_history(T, real, **P14, T0=20.0, rel_fluctuation=0.0)
    q = f1_history(T, real, **P14, kind="flux")
    before = T <= 2.7
    after = T >= 8.0 + COND14.rise_time_s
    np.testing.assert_allclose(h[before], 20.0, atol=1e-9)
    np.testing.assert_allclose(h[after], 20.0, atol=1e-9)
    np.testing.assert_allclose(q[before | after], 0.0, atol=1e-9)
    mid = (T > 2.7 + COND14.rise_time_s) & (T < 8.0)
    assert np.all(h[mid] - 20.0 > 0.9 * RISE14)


def test_gaps_cool_the_zone_toward_ambient_and_lower_the_mean():
    gap = (5.0, 6.0)
    tau = 0.1
    cut = _real(zone_tau_s=tau)
    real = _real(gaps_s=(gap,), zone_tau_s=tau)
    kw = dict(**P14, T0=20.0, rel_fluctuation=0.0)
    h0, h = f1_history(T, cut, **kw), f1_history(T, real, **kw)
    assert h.mean() < h0.mean() - 0.05 * RISE14  # a 1 s gap in 12 s: ≈ 8 % of the rise
    # deep in the gap (≥ 5 τ after its start) within e^-5 (+ margin) of the rise above ambient
    deep = (T >= gap[0] + 5 * tau) & (T < gap[1])
    assert np.all(h[deep] - 20.0 < 0.01 * (h0[deep] - 20.0))
    # before the gap unchanged; ≥ 5 τ after it back within 1 % of the uninterrupted level
    np.testing.assert_allclose(h[T <= gap[0]], h0[T <= gap[0]], rtol=1e-12)
    back = T >= gap[1] + 5 * tau
    assert np.all(np.abs(h[back] - h0[back]) < 0.01 * (h0[back] - 20.0))
    # the exact first-order response at one time inside the gap
    i = int(np.argmin(np.abs(T - (gap[0] + tau))))
    expect = (h0[i] - 20.0) * math.exp(-(T[i] - gap[0]) / tau)
    assert h[i] - 20.0 == pytest.approx(expect, rel=1e-9)
    # the heat input stops in the gap
    q = f1_history(T, real, **P14, kind="flux")
    inside = (T >= gap[0]) & (T < gap[1])  # a gap is [start, end)
    np.testing.assert_allclose(q[inside], 0.0, atol=1e-9)
    assert np.all(q[(T > 3.0) & ~inside] > 0)


@pytest.mark.parametrize("factor", [1.5, 1 / 1.5])
def test_feed_step_follows_the_models_fz_exponent(factor):
    tau = 0.1
    step = _real(feed_change_s=6.0, feed_factor=factor, zone_tau_s=tau)
    flat = _real(zone_tau_s=tau)
    kw = dict(**P14, T0=20.0, rel_fluctuation=0.0)
    cut = T > 1.0  # after the cut-in at 0.5 s (the rise is zero before it)
    ratio = (f1_history(T, step, **kw) - 20.0)[cut] / (f1_history(T, flat, **kw) - 20.0)[cut]
    tc = T[cut]
    late = tc >= 6.0 + 5 * tau
    np.testing.assert_allclose(ratio[late], factor ** EXPONENTS["fz"], rtol=0.01)
    np.testing.assert_allclose(ratio[tc <= 6.0], 1.0, rtol=1e-12)
    if factor > 1:
        assert np.all(ratio[late] > 1.0)
    else:
        assert np.all(ratio[late] < 1.0)
    # heat input: ratio of cutting powers, ∝ fz^(1 - mc) = fz^0.75, at once
    q_step = f1_history(T, step, **P14, kind="flux")[cut]
    q_flat = f1_history(T, flat, **P14, kind="flux")[cut]
    np.testing.assert_allclose((q_step / q_flat)[tc >= 6.0], factor**0.75, rtol=1e-9)
    np.testing.assert_allclose((q_step / q_flat)[tc < 6.0], 1.0, rtol=1e-12)


def test_wear_ramps_the_level_by_the_drawn_fraction():
    var = F1Variability.none(wear=True)
    rises = []
    for r in range(50):
        real = draw_realisation(COND14, seed=0, case=14, r=r, variability=var)
        rises.append(real.wear_rate_per_s * (12.0 - real.t_in_s))
    assert 0.03 <= min(rises) and max(rises) <= 0.15
    real = _real(wear_rate_per_s=0.12 / 11.5)
    kw = dict(**P14, T0=20.0, rel_fluctuation=0.0)
    ratio = (f1_history(T, real, **kw) - 20.0)[-1] / (f1_history(T, _real(), **kw) - 20.0)[-1]
    assert ratio == pytest.approx(1.12, rel=1e-9)


def test_draws_respect_their_ranges_and_switches():
    var = F1Variability()
    t_r = COND14.rise_time_s
    reals = [draw_realisation(COND14, seed=0, case=14, r=r, variability=var) for r in range(300)]
    t_in = np.array([x.t_in_s for x in reals])
    assert np.all((t_in >= 0.2) & (t_in <= 3.0))
    exits = np.array([x.t_out_s is not None for x in reals])
    # exit probability 0.5: binomial(300, 0.5) within 4 standard deviations (±0.115)
    assert abs(exits.mean() - 0.5) < 4 * math.sqrt(0.25 / 300)
    for x in reals:
        end = 12.0 if x.t_out_s is None else x.t_out_s
        if x.t_out_s is not None:
            assert 7.0 <= x.t_out_s <= 11.0
        assert len(x.gaps_s) <= 3
        prev = x.t_in_s + t_r
        for a, b in x.gaps_s:
            assert 0.2 - 1e-9 <= b - a <= 1.0 + 1e-9
            assert a >= prev + 0.5 - 1e-9  # separation from the cut-in and the previous gap
            prev = b
        assert prev <= end - 0.5 + 1e-9
        assert 0.05 <= x.zone_tau_s <= 0.3
        assert 1 / 1.5 - 1e-12 <= x.feed_factor <= 1.5 + 1e-12
        if x.feed_change_s is not None:
            assert x.t_in_s + t_r <= x.feed_change_s <= end - 1.0
    assert any(x.gaps_s for x in reals) and any(x.feed_change_s for x in reals)
    # switching effects off leaves the other effects' draws as they were
    only_entry = F1Variability.none(entry=True)
    for r in range(20):
        full = reals[r]
        part = draw_realisation(COND14, seed=0, case=14, r=r, variability=only_entry)
        assert part.t_in_s == full.t_in_s and part.gaps_s == () and part.t_out_s is None
        assert part.fluctuation_seed == full.fluctuation_seed


def test_temperature_and_flux_describe_the_same_cut():
    h, rt = random_f1_history(T, **P14, seed=0, case=14, r=1, rel_fluctuation=0.0)
    q, rq = random_f1_history(T, **P14, seed=0, case=14, r=1, kind="flux")
    assert rt == rq and len(rt.gaps_s) >= 1  # this draw has gaps (3 at seed 0)
    np.testing.assert_allclose(h[T <= rt.t_in_s], 20.0, atol=1e-9)
    np.testing.assert_allclose(q[T <= rt.t_in_s], 0.0, atol=1e-9)
    for a, b in rt.gaps_s:
        inside = (T >= a) & (T < b)
        np.testing.assert_allclose(q[inside], 0.0, atol=1e-9)
        before = int(np.flatnonzero(T < a)[-1])
        last = int(np.flatnonzero(inside)[-1])
        assert h[last] - 20.0 < 0.5 * (h[before] - 20.0)  # the zone has cooled in the gap


def test_history_does_not_depend_on_the_sampling_grid():
    fine = np.linspace(0.0, 12.0, 2401)
    hf, _ = random_f1_history(fine, **P14, seed=2, case=14, r=1)
    hc, _ = random_f1_history(T, **P14, seed=2, case=14, r=1)
    np.testing.assert_allclose(hf[::10], hc, rtol=1e-9, atol=1e-9)


def _pairs_and_case_mean_r2(variability, n_r=8):
    """Pairwise RMS differences / steady rise over all 27 cases × n_r realisations, and the R²
    of predicting each history by the mean of the *other* realisations of its case (the best
    any parameters-only regressor can do, pointwise, with n_r − 1 training histories)."""
    rel, ys, preds = [], [], []
    for case in range(1, 28):
        p = case_params(case)
        rise = CuttingConditions(**p).steady_rise_K()
        h = np.array(
            [
                random_f1_history(T, **p, seed=0, case=case, r=r, variability=variability)[0]
                for r in range(n_r)
            ]
        )
        for i in range(n_r):
            for j in range(i + 1, n_r):
                rel.append(np.sqrt(np.mean((h[i] - h[j]) ** 2)) / rise)
            ys.append(h[i])
            preds.append((h.sum(axis=0) - h[i]) / (n_r - 1))
    y, pred = np.array(ys), np.array(preds)
    r2 = 1.0 - np.sum((y - pred) ** 2) / np.sum((y - y.mean(axis=0)) ** 2)
    return np.array(rel), float(r2)


def test_parameters_do_not_determine_the_history():
    """Key property (issue 14). Thresholds: ≥ 90 % of same-case pairs differ by an RMS above
    10 % of the steady rise (measured 99.3 % at seed 0), median above 25 % (measured 49 %); the
    case-mean predictor's R² below 0.5 (measured −0.05). Baseline, the level model alone (every
    effect off, only ε(t) differs): no pair above 10 % (median 4 %), R² above 0.9 (0.96)."""
    rel, r2 = _pairs_and_case_mean_r2(F1Variability())
    assert np.mean(rel > 0.10) >= 0.90
    assert np.median(rel) > 0.25
    assert r2 < 0.5
    rel0, r20 = _pairs_and_case_mean_r2(F1Variability.none())
    assert np.mean(rel0 > 0.10) < 0.05 and np.median(rel0) < 0.10
    assert r20 > 0.9


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="entry_range_s"):
        F1Variability(entry_range_s=(2.0, 1.0))
    with pytest.raises(ValueError, match="exit_prob"):
        F1Variability(exit_prob=1.5)
    with pytest.raises(ValueError, match="n_gaps_range"):
        F1Variability(n_gaps_range=(0, -1))
    with pytest.raises(ValueError, match="kind"):
        f1_history(T, _real(), **P14, kind="pressure")
    with pytest.raises(ValueError, match="r must"):
        draw_realisation(COND14, seed=0, case=14, r=-1)

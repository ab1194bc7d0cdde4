"""Split-conformal band calibration: known answers on synthetic residuals of known scale.

Coverage margins are binomial: with N scores the coverage of a quantile estimate has standard
deviation sqrt(p (1 - p) / N); the hierarchical case uses the record count instead (the unit of
exchangeability). Every random draw is seeded.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from thermo.inverse.calibration import (
    BandCalibration,
    CalibratedMethod,
    calibrate_estimates,
    calibrate_method,
    conformal_level,
    pooled_quantile,
    record_coverage,
    residual_scores,
    validation_cases,
)
from thermo.inverse.method import BoundaryEstimate
from thermo.inverse.record import SensorRecord

N_T = 61  # t = 0 plus 60 samples at t > 0


def _pair(errors: np.ndarray, half: float | None, *, shift: float = 300.0):
    """A record with truth and an estimate = truth + errors (t > 0), band ± half (or none)."""
    times = 0.1 * np.arange(N_T)
    truth = shift + 50.0 * np.sin(times)
    values = truth.copy()
    values[1:] += errors
    record = SensorRecord(
        times=times, values=np.zeros((N_T, 1)), names=("S1",), truth=truth, meta={"case": 0}
    )
    band = None if half is None else np.stack([values - half, values + half], axis=1)
    return BoundaryEstimate(times=times, values=values, band=band), record


def _gaussian_pairs(rng, n: int, sd: float, half: float | None, *, phi: float = 0.0, hetero=0.0):
    """n records of AR(1) (coefficient phi) Gaussian errors with marginal sd ``sd`` times a
    per-record log-normal factor of log-sd ``hetero``."""
    out = []
    for _ in range(n):
        scale = sd * math.exp(hetero * rng.standard_normal()) if hetero else sd
        e = np.empty(N_T - 1)
        e[0] = rng.standard_normal()
        for k in range(1, e.size):
            e[k] = phi * e[k - 1] + math.sqrt(1.0 - phi**2) * rng.standard_normal()
        out.append(_pair(scale * e, half))
    return out


def _phi(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _coverage(cal: BandCalibration, pairs) -> float:
    return float(np.mean([record_coverage(e, r, cal.band(e)) for e, r in pairs]))


def test_conformal_level_is_the_finite_sample_correction():
    assert conformal_level(19)[0] == pytest.approx(0.95) and conformal_level(19)[1]
    level, ok = conformal_level(56)  # the full study's validation records per σ
    assert ok and level == pytest.approx(55 / 57)
    assert conformal_level(10) == (1.0, False)  # ceil(11 * 0.95) = 11 > 10
    with pytest.raises(ValueError, match="level"):
        conformal_level(10, 1.2)


def test_too_narrow_gaussian_band_is_scaled_to_95_percent():
    """Independent errors of sd 2 K, a band claiming sd 1 K (covers 67 %): the scale is the
    known answer z / 1.96 · 2 and fresh records are covered at the conformal level."""
    rng = np.random.default_rng(14)
    sd, half = 2.0, 1.96 * 1.0
    cal = calibrate_estimates(_gaussian_pairs(rng, 199, sd, half))
    target, ok = conformal_level(199)
    assert ok and cal.n_records == 199 and cal.banded
    assert cal.coverage_raw == pytest.approx(2 * _phi(half / sd) - 1, abs=0.02)
    # exact coverage of the learnt scale for N(0, sd²) errors
    exact = 2.0 * _phi(cal.scale * half / sd) - 1.0
    n_scores = 199 * (N_T - 1)
    margin = 4.0 * math.sqrt(target * (1 - target) / n_scores)
    assert abs(exact - target) < margin
    fresh = _gaussian_pairs(rng, 300, sd, half)
    margin_test = margin + 4.0 * math.sqrt(0.05 * 0.95 / (300 * (N_T - 1)))
    assert 0.95 - margin_test < _coverage(cal, fresh) < target + margin_test


def test_correlated_records_of_different_scale_are_covered_on_average():
    """Hierarchical errors: AR(1) φ = 0.9 within a record, a log-normal scale per record (so the
    samples are not exchangeable, the records are). Record-level margin."""
    rng = np.random.default_rng(15)
    cal = calibrate_estimates(_gaussian_pairs(rng, 300, 3.0, 2.0, phi=0.9, hetero=0.5))
    fresh = _gaussian_pairs(rng, 600, 3.0, 2.0, phi=0.9, hetero=0.5)
    cov = _coverage(cal, fresh)
    # per-record coverages spread with sd ≲ 0.15 here: 4 sd of a 300-record mean plus 600
    margin = 4.0 * 0.15 * (1 / math.sqrt(300) + 1 / math.sqrt(600))
    assert 0.95 - margin < cov < conformal_level(300)[0] + margin
    assert cal.scale > 1.0  # the band (±2 K) is narrower than the errors' 95 % range (±5.9 K)


def test_a_right_band_keeps_scale_one_and_scaling_the_band_scales_back():
    rng = np.random.default_rng(16)
    pairs = _gaussian_pairs(rng, 400, 2.0, 1.96 * 2.0)
    cal = calibrate_estimates(pairs)
    assert cal.scale == pytest.approx(1.0, abs=0.05)
    wide = [(BoundaryEstimate(e.times, e.values, band=2 * e.band - e.values[:, None]), r)
            for e, r in pairs]  # fmt: skip
    assert calibrate_estimates(wide).scale == pytest.approx(cal.scale / 2, rel=1e-9)


def test_methods_without_a_band_get_a_constant_conformal_band():
    rng = np.random.default_rng(17)
    pairs = _gaussian_pairs(rng, 199, 4.0, None)
    cal = calibrate_estimates(pairs, floor=1.0)
    assert not cal.banded and cal.coverage_raw is None
    # q in K: the 95 % point of |N(0, 16)| ≈ 1.96 · 4 (conformal level slightly above 0.95)
    assert 1.96 * 4.0 * 0.95 < cal.scale < 2.1 * 4.0
    est, _ = pairs[0]
    out = cal.apply(est)
    width = out.band[:, 1] - out.band[:, 0]
    assert np.allclose(width, 2 * cal.scale) and out.info["band_scale"] == cal.scale
    assert np.array_equal(out.values, est.values)


def test_too_few_records_falls_back_to_the_largest_score_and_says_so():
    rng = np.random.default_rng(18)
    pairs = _gaussian_pairs(rng, 5, 1.0, 1.0)
    cal = calibrate_estimates(pairs)
    assert not cal.guaranteed
    top = max(float(residual_scores(e, r).max()) for e, r in pairs)
    assert cal.scale == pytest.approx(top, rel=1e-12)
    assert cal.coverage_validation == pytest.approx(1.0)


def test_pooled_quantile_weighs_records_not_samples():
    """A long record must not dominate: two records, one of 1000 zeros and one of 10 ones
    (n = 2): at level 0.3, k = ceil(0.9) = 1 and the pooled level 1/3 falls in the zeros, which
    carry half the weight; at level 0.6, k = ceil(1.8) = 2 and 2/3 falls in the ones."""
    q, ok = pooled_quantile([np.zeros(1000), np.ones(10)], level=0.3)
    assert ok and q == 0.0
    q, ok = pooled_quantile([np.zeros(1000), np.ones(10)], level=0.6)
    assert ok and q == 1.0
    with pytest.raises(ValueError, match="non-finite"):
        pooled_quantile([np.array([np.inf])])


def test_calibrated_method_wraps_any_method():
    rng = np.random.default_rng(19)
    pairs = _gaussian_pairs(rng, 60, 2.0, 1.0)
    by_record = {id(r): e for e, r in pairs}

    class Fake:
        name, subsets = "fake", True

        def __init__(self):
            self.calls = []

        def estimate(self, record, *, sensors=None):
            self.calls.append(sensors)
            return by_record[id(record)]

    fake = Fake()
    cal = calibrate_method(fake, [r for _, r in pairs])
    wrapped = CalibratedMethod(fake, cal)
    assert wrapped.name == "fake" and wrapped.subsets
    est = wrapped.estimate(pairs[0][1], sensors=["S1"])
    assert fake.calls[-1] == ["S1"] and est.info["band_scale"] == cal.scale
    assert np.allclose(est.band[:, 1] - est.values, cal.scale * 1.0)
    assert cal.as_meta()["n_records"] == 60


def test_validation_cases_are_seeded_and_a_fifth():
    cases = [c for c in range(1, 28) if c not in (5, 14, 23, 24)]
    a = validation_cases(cases, seed=0)
    assert a == validation_cases(list(reversed(cases)), seed=0)
    assert len(a) == len(cases) // 5 and set(a) <= set(cases)
    rng = np.random.default_rng(0)  # the rule the networks' validation split has always used
    assert a == sorted(rng.choice(sorted(cases), size=len(cases) // 5, replace=False).tolist())
    assert validation_cases([3], seed=1) == [3]

r"""Calibrated 95 % bands: split-conformal scaling of any method's band on validation records.

An inverse method's band (Tikhonov's Gaussian posterior, which ignores the regularisation bias
and the model error; a neural ensemble's spread between members) is a statement about its
error that nothing forces to be true: on the IHCP study's held-out records the KD students'
95 % band covered the truth 30 % of the time, nominal Tikhonov's 54–87 %. This module turns any
band — or no band at all — into one that covers the truth at the requested rate on records that
look like the validation records, by *split-conformal prediction* with normalised scores
(Lei, G'Sell, Rinaldo, Tibshirani & Wasserman, "Distribution-free predictive inference for
regression", JASA 113 (2018) 1094, §2.2 split conformal and §5.2 locally weighted scores;
Angelopoulos & Bates, "A gentle introduction to conformal prediction and distribution-free
uncertainty quantification", arXiv:2107.07511 (2021), §2.3 "conformalized uncertainty scalars").

**Score.** For a record with truth :math:`y_t` and an estimate :math:`\hat y_t` with band
:math:`[l_t, u_t]`, every sample at t > 0 gets

.. math:: s_t = |y_t - \hat y_t| / w_t, \qquad w_t = \max\big((u_t - l_t)/2,\; w_{\min}\big),

and without a band :math:`w_t = w_{\min}` (the *floor*, default 1 in the history's unit, K for a
temperature input), so that the score is the plain absolute residual in units of the floor and
the calibrated band has constant width. The floor also keeps the score finite where a band
collapses (a noise-free Tikhonov band of hundredths of a kelvin). The calibrated band is
:math:`\hat y_t \pm q\, w_t` with :math:`q` the *band scale* (1 for a band that was already
right; > 1 for one that was too narrow).

**Time correlation: the unit of exchangeability is the record.** The samples of one record are
strongly correlated (the same model error, the same smooth F1 history, drift), so the per-step
scores are not exchangeable and the plain split-conformal quantile over all samples would have
no justification. The records are: a validation record and a held-out record are drawn the
same way (same case design, scenarios, σ; model draws and F1 realisations of their own), so
what can be guaranteed is a statement over records. The coverage this study reports is the
share of a record's t > 0 samples inside the band, averaged over records, i.e. the coverage of
one sample drawn at random from a random record. Two ways to calibrate for it
(Dunn, Wasserman & Ramdas, "Distribution-free prediction sets for two-layer hierarchical
models", JASA 118 (2023) 2491, doi:10.1080/01621459.2022.2060112):

* *single subsampling*: draw one sample per validation record; the n scores and the score of
  a random sample of a new record are exchangeable, so the usual split-conformal quantile
  (the :math:`\lceil (n+1)(1-\alpha) \rceil`-th smallest of the n) has coverage ≥ 1 − α in
  finite samples — but it throws away all other samples and is noisy;
* *CDF pooling*: average the records' empirical score CDFs with equal weight per record,
  :math:`\bar F(s) = \frac1n \sum_i \frac1{m_i} \#\{t: s_{i,t} \le s\}`, which is the expected
  empirical CDF of the single-subsampling scores, and take its quantile. Dunn et al. recommend
  it for its balance of coverage and width (asymptotically valid).

Here: CDF pooling (equal weight per *record*, whatever its length) at the level
:math:`k/(n+1)`, :math:`k = \lceil (n+1)(1-\alpha) \rceil`: the single-subsampling set (the
k-th smallest of n continuous scores) has expected coverage exactly k/(n+1) — between 1 − α and
1 − α + 1/(n+1) — and CDF pooling at that level aims at the same expected coverage with far
less variance (it averages over the subsample; the guarantee then holds asymptotically, Dunn et
al. 2023). n = 56 validation records per σ in the full study: level 55/57 = 0.965 for a 0.95
target. (The k/n level — the k-th smallest of the pooled CDF read as if it were n scores —
would aim at 55/56 = 0.982: too conservative once every sample is used.) With k > n (too few
validation records for the level) no finite quantile has the guarantee; the largest score is
used and
:attr:`BandCalibration.guaranteed` is False — say so next to any number made with it.

One scale per method and per noise level σ (σ is known to a user: the sensor's noise), pooled
over the uncertainty scenarios of the validation records (at deployment the model error is not
known, and the validation records carry the same mixture as the held-out ones), so the
guarantee is marginal over that mixture: a scenario with more model error than the average
(``all``, ``lag``) will be covered less, one with less (``none``) more. The validation records
must be records the method was not fitted on (for a trained method: other cases and F1
realisations than its training records; see :func:`validation_cases`), and never the test
records: the scale is a tuned quantity.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from thermo.inverse.method import BoundaryEstimate
from thermo.inverse.record import SensorRecord

#: Default coverage level of the calibrated bands.
LEVEL = 0.95
#: Default floor of the band half-width in the history's unit (K for a temperature input).
FLOOR = 1.0


def half_width(
    estimate: BoundaryEstimate, times: np.ndarray, *, floor: float = FLOOR
) -> np.ndarray:
    """The score's normaliser :math:`w_t` at ``times``: half the band's width, at least ``floor``
    (``floor`` everywhere without a band)."""
    if floor <= 0.0:
        raise ValueError(f"calibration: floor must be > 0, got {floor}")
    if estimate.band is None:
        return np.full(np.shape(times), float(floor))
    lo = np.interp(times, estimate.times, estimate.band[:, 0])
    hi = np.interp(times, estimate.times, estimate.band[:, 1])
    return np.maximum(0.5 * (hi - lo), floor)


def residual_scores(
    estimate: BoundaryEstimate, record: SensorRecord, *, floor: float = FLOOR
) -> np.ndarray:
    """Normalised scores :math:`|y_t - \\hat y_t| / w_t` of ``estimate`` on ``record`` at its
    t > 0 samples (module docstring); the estimate is interpolated to the record's times."""
    if record.truth is None:
        raise ValueError(f"calibration: record {record.meta} has no truth")
    t = record.times > 0.0
    times = record.times[t]
    values = np.interp(times, estimate.times, estimate.values)
    return np.abs(np.asarray(record.truth, dtype=float)[t] - values) / half_width(
        estimate, times, floor=floor
    )


def conformal_level(n: int, level: float = LEVEL) -> tuple[float, bool]:
    """The pooled-CDF level :math:`k/(n+1)`, :math:`k = \\lceil (n+1)\\,\\text{level} \\rceil`,
    for n validation records (1 where k > n), and whether k ≤ n (the finite-sample guarantee
    holds). k/(n+1) is the expected coverage of the single-subsampling split-conformal set (the
    k-th smallest of n continuous scores; Angelopoulos & Bates 2021, Theorem 1 and Appendix D)."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"calibration: level must be in (0, 1), got {level}")
    if n < 1:
        raise ValueError("calibration: needs at least one validation record")
    k = math.ceil((n + 1) * level - 1e-9)
    return (k / (n + 1), True) if k <= n else (1.0, False)


def pooled_quantile(scores: Sequence[np.ndarray], level: float = LEVEL) -> tuple[float, bool]:
    """Conformal quantile of per-record score arrays by CDF pooling at the finite-sample level
    (module docstring): ``(q, guaranteed)``."""
    arrays = [np.asarray(s, dtype=float).reshape(-1) for s in scores]
    arrays = [a for a in arrays if a.size]
    if not arrays:
        raise ValueError("calibration: no scores (records without t > 0 samples?)")
    if not all(np.all(np.isfinite(a)) for a in arrays):
        raise ValueError("calibration: non-finite scores")
    n = len(arrays)
    target, guaranteed = conformal_level(n, level)
    values = np.concatenate(arrays)
    weights = np.concatenate([np.full(a.size, 1.0 / (n * a.size)) for a in arrays])
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    i = int(np.searchsorted(cum, target - 1e-9, side="left"))
    return float(values[order][min(i, values.size - 1)]), guaranteed


def record_coverage(
    estimate: BoundaryEstimate, record: SensorRecord, band: np.ndarray | None = None
) -> float | None:
    """Share of the record's t > 0 samples whose truth lies in ``band`` (default: the
    estimate's own band; None without one)."""
    band = estimate.band if band is None else band
    if band is None or record.truth is None:
        return None
    t = record.times > 0.0
    lo = np.interp(record.times[t], estimate.times, band[:, 0])
    hi = np.interp(record.times[t], estimate.times, band[:, 1])
    truth = np.asarray(record.truth, dtype=float)[t]
    return float(np.mean((truth >= lo) & (truth <= hi)))


@dataclass(frozen=True)
class BandCalibration:
    """A conformal band scale (module docstring).

    Attributes:
        scale: q, the calibrated band is estimate ± q·w.
        level: the target coverage.
        floor: w's floor (history unit).
        n_records: validation records it was computed on.
        guaranteed: whether ``n_records`` was enough for the finite-sample level (else q is the
            largest validation score).
        banded: whether the validation estimates had a band (else w = floor: constant width).
        coverage_raw: mean per-record coverage of the raw band on the validation records (None
            without a band).
        coverage_validation: the same for the calibrated band (in-sample: ≥ level by
            construction up to ties; not a test number).
    """

    scale: float
    level: float = LEVEL
    floor: float = FLOOR
    n_records: int = 0
    guaranteed: bool = True
    banded: bool = True
    coverage_raw: float | None = None
    coverage_validation: float | None = None

    def band(self, estimate: BoundaryEstimate) -> np.ndarray:
        """The calibrated band (n_t, 2) on the estimate's times."""
        w = half_width(estimate, estimate.times, floor=self.floor)
        return np.stack([estimate.values - self.scale * w, estimate.values + self.scale * w], 1)

    def apply(self, estimate: BoundaryEstimate) -> BoundaryEstimate:
        """``estimate`` with its band replaced by the calibrated one (``info['band_scale']``,
        ``info['band_raw']`` keep the scale and the raw band)."""
        info = dict(estimate.info)
        info["band_scale"] = self.scale
        if estimate.band is not None:
            info["band_raw"] = estimate.band.tolist()
        return replace(estimate, band=self.band(estimate), info=info)

    def as_meta(self) -> dict:
        """JSON-serialisable fields."""
        return {
            "scale": self.scale,
            "level": self.level,
            "floor": self.floor,
            "n_records": self.n_records,
            "guaranteed": self.guaranteed,
            "banded": self.banded,
            "coverage_raw": self.coverage_raw,
            "coverage_validation": self.coverage_validation,
        }


def calibrate_estimates(
    pairs: Iterable[tuple[BoundaryEstimate, SensorRecord]],
    *,
    level: float = LEVEL,
    floor: float = FLOOR,
) -> BandCalibration:
    """The band scale from (estimate, validation record) pairs (module docstring)."""
    pairs = list(pairs)
    if not pairs:
        raise ValueError("calibration: no validation records")
    banded = {est.band is not None for est, _ in pairs}
    if len(banded) != 1:
        raise ValueError("calibration: some validation estimates have a band and some do not")
    scores = [residual_scores(est, rec, floor=floor) for est, rec in pairs]
    q, guaranteed = pooled_quantile(scores, level)
    raw = [record_coverage(est, rec) for est, rec in pairs]
    cal = BandCalibration(scale=q, level=level, floor=floor)
    calibrated = [record_coverage(est, rec, cal.band(est)) for est, rec in pairs]
    return BandCalibration(
        scale=q,
        level=level,
        floor=floor,
        n_records=len(pairs),
        guaranteed=guaranteed,
        banded=banded.pop(),
        coverage_raw=None if raw[0] is None else float(np.mean(raw)),
        coverage_validation=float(np.mean(calibrated)),
    )


def calibrate_method(
    method: Any,
    records: Iterable[SensorRecord],
    *,
    level: float = LEVEL,
    floor: float = FLOOR,
) -> BandCalibration:
    """Run ``method.estimate`` on every validation record and calibrate its band."""
    return calibrate_estimates(((method.estimate(r), r) for r in records), level=level, floor=floor)


class CalibratedMethod:
    """An inverse method whose estimates carry the calibrated band (same name and subsets)."""

    def __init__(self, method: Any, calibration: BandCalibration) -> None:
        self.method = method
        self.calibration = calibration
        self.name = getattr(method, "name", "method")
        self.subsets = bool(getattr(method, "subsets", False))

    def estimate(self, record: SensorRecord, *, sensors: Sequence[str] | None = None):
        """The wrapped method's estimate with the calibrated band."""
        est = (
            self.method.estimate(record)
            if sensors is None
            else self.method.estimate(record, sensors=sensors)
        )
        return self.calibration.apply(est)


def validation_cases(cases: Iterable[int], *, seed: int, fraction: float = 0.2) -> list[int]:
    """A seeded ``fraction`` of the training ``cases`` (at least one) held out of every fit as
    validation (network early stopping, band calibration): ``default_rng(seed).choice`` of the
    sorted cases, without replacement."""
    cases = sorted(set(int(c) for c in cases))
    if not cases:
        raise ValueError("validation_cases: no training cases")
    rng = np.random.default_rng(seed)
    size = max(1, math.floor(len(cases) * fraction + 1e-9))
    return sorted(int(c) for c in rng.choice(cases, size=size, replace=False))

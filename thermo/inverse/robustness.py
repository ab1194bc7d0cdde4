r"""Scoring inverse methods on held-out records of the generating model (IHCP study, issue 14).

For every test record (:mod:`thermo.inverse.virtual_lab`) and every method, one row:

* ``boundary_rmse`` — RMSE of the estimated boundary history against the record's truth at
  t > 0 (K for a temperature input);
* ``loso_rmse`` — leave-one-sensor-out: estimate from the other sensors, predict the left-out one
  with the *method's own* forward model, compare with the record's clean (true, lag-free)
  sensor temperature; mean over the sensors (methods without ``subsets``: None);
* ``coverage`` — share of t > 0 samples whose truth lies inside the method's 95 % band (None
  without a band); ``halfwidth`` its mean half-width at t > 0;
* with a calibration (:mod:`thermo.inverse.calibration`, computed by :func:`calibrate_sources`
  on validation records, never on the test records): ``coverage_calibrated``,
  ``halfwidth_calibrated`` and ``band_scale`` of the calibrated band (methods without a band
  get the constant conformal band estimate ± q);
* the record's scenario, σ, case, realisation.

A method is given per record by a *method source*: a callable ``record -> (method, predict)`` with
``predict(history (n_t,)) -> sensors (n_t, n_s)`` the forward model the method assumes. Nominal
methods return the same objects for every record (their caches, e.g. Tikhonov's SVD, are reused);
the oracle builds Tikhonov on the record's true model (:func:`thermo.inverse.virtual_lab.
oracle_response`). :func:`summarise` turns the rows into the robustness table: mean boundary
RMSE per method × scenario × σ, with the number of records.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from thermo.inverse.calibration import (
    FLOOR,
    LEVEL,
    BandCalibration,
    calibrate_estimates,
    record_coverage,
)
from thermo.inverse.evaluation import method_loso, rmse
from thermo.inverse.record import SensorRecord

#: record -> (inverse method, its forward model history -> sensors)
MethodSource = Callable[[SensorRecord], tuple[Any, Callable[[np.ndarray], np.ndarray]]]
#: ``{method: {σ label: BandCalibration}}`` (:func:`calibrate_sources`).
Calibrations = Mapping[str, Mapping[str, BandCalibration]]


def sigma_key(record: SensorRecord) -> str:
    """The σ label of a record (``f"{σ:g}"``), the key of summaries and calibrations."""
    return f"{float(record.meta.get('sigma_K', 0.0)):g}"


def _mean_halfwidth(times: np.ndarray, band: np.ndarray | None, record: SensorRecord):
    if band is None:
        return None
    t = record.times[record.times > 0.0]
    lo, hi = np.interp(t, times, band[:, 0]), np.interp(t, times, band[:, 1])
    return float(np.mean(0.5 * (hi - lo)))


def score_record(
    name: str, method: Any, predict: Callable[[np.ndarray], np.ndarray], record: SensorRecord,
    *, loso: bool = True, calibration: BandCalibration | None = None,
) -> dict:  # fmt: skip
    """One row of the study for ``method`` on ``record`` (module docstring)."""
    if record.truth is None:
        raise ValueError(f"score_record: record {record.meta} has no truth")
    est = method.estimate(record)
    t = record.times > 0.0
    values = np.interp(record.times, est.times, est.values)
    row = {
        "method": name,
        "scenario": record.meta.get("scenario"),
        "sigma_K": record.meta.get("sigma_K"),
        "case": record.meta.get("case"),
        "realisation": record.meta.get("realisation"),
        "boundary_rmse": rmse(values[t], record.truth[t]),
        "loso_rmse": None,
        "coverage": record_coverage(est, record),
        "halfwidth": _mean_halfwidth(est.times, est.band, record),
        "coverage_calibrated": None,
        "halfwidth_calibrated": None,
        "band_scale": None,
    }
    if calibration is not None:
        band = calibration.band(est)
        row["coverage_calibrated"] = record_coverage(est, record, band)
        row["halfwidth_calibrated"] = _mean_halfwidth(est.times, band, record)
        row["band_scale"] = calibration.scale
    if loso and getattr(method, "subsets", False) and record.n_sensors >= 2:
        row["loso_rmse"] = method_loso(method, record, predict=predict)["mean"]["rmse"]
    return row


def evaluate(
    records: Iterable[SensorRecord],
    sources: Mapping[str, MethodSource],
    *,
    loso: bool = True,
    on_row: Callable[[dict], None] | None = None,
    calibrations: Calibrations | None = None,
) -> list[dict]:
    """Rows of every method on every record (module docstring); ``calibrations`` (optional,
    :func:`calibrate_sources` on validation records) adds the calibrated band's columns."""
    rows = []
    for record in records:
        for name, source in sources.items():
            method, predict = source(record)
            cal = (calibrations or {}).get(name, {}).get(sigma_key(record))
            row = score_record(name, method, predict, record, loso=loso, calibration=cal)
            if on_row is not None:
                on_row(row)
            rows.append(row)
    return rows


def calibrate_sources(
    records: Iterable[SensorRecord],
    sources: Mapping[str, MethodSource],
    *,
    level: float = LEVEL,
    floor: float = FLOOR,
    on_estimate: Callable[[], None] | None = None,
) -> dict[str, dict[str, BandCalibration]]:
    """One band scale per method and σ from *validation* records (module docstring of
    :mod:`thermo.inverse.calibration`: split-conformal, CDF pooling over records, scenarios
    pooled). The records must be ones no method was fitted on, and never the test records."""
    pairs: dict[tuple[str, str], list] = defaultdict(list)
    for record in records:
        for name, source in sources.items():
            method, _ = source(record)
            pairs[(name, sigma_key(record))].append((method.estimate(record), record))
            if on_estimate is not None:
                on_estimate()
    out: dict[str, dict[str, BandCalibration]] = {}
    for (name, sigma), group in sorted(pairs.items()):
        cal = calibrate_estimates(group, level=level, floor=floor)
        out.setdefault(name, {})[sigma] = cal
    return out


def summarise(rows: Sequence[dict], key: str = "boundary_rmse") -> dict:
    """``{method: {scenario: {sigma: {"mean", "n"}}}}`` of ``key`` over the rows (None skipped)."""
    groups: dict[tuple, list[float]] = defaultdict(list)
    for r in rows:
        if r.get(key) is not None:
            groups[(r["method"], r["scenario"], f"{float(r['sigma_K']):g}")].append(r[key])
    out: dict = {}
    for (method, scenario, sigma), values in sorted(groups.items()):
        cell = {"mean": float(np.mean(values)), "n": len(values)}
        out.setdefault(method, {}).setdefault(scenario, {})[sigma] = cell
    return out


def markdown_table(
    summary: Mapping, *, scenarios: Sequence[str], sigmas: Sequence[str], fmt: str = "{:.3g}"
) -> str:
    """The robustness table (rows: methods; columns: scenario × σ) as Markdown; methods without
    a single cell are left out; ``fmt`` formats a cell's mean."""
    head = [f"{s}, σ {g}" for s in scenarios for g in sigmas]
    lines = ["| method | " + " | ".join(head) + " |", "|---" * (len(head) + 1) + "|"]
    for method, by_scenario in summary.items():
        if not by_scenario:
            continue
        cells = []
        for s in scenarios:
            for g in sigmas:
                cell = by_scenario.get(s, {}).get(g)
                cells.append("–" if cell is None else fmt.format(cell["mean"]))
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"

r"""Evaluation of inverse estimates, shared by every inverse method in millheat.

DESIGN.md: judge an inverse by its error on the **boundary history** (known in virtual
experiments) and by **leave-one-sensor-out** prediction, not only by the fit at the sensors it
was given (a method can fit its own inputs and still be wrong at the boundary). Definitions
(paper 000 eqs. for MSE, R² and eq. 10 for RMSE):

.. math::

    \mathrm{RMSE} = \sqrt{\tfrac1n \sum_i (\hat y_i - y_i)^2}, \qquad
    R^2 = 1 - \frac{\sum_i (\hat y_i - y_i)^2}{\sum_i (y_i - \bar y)^2}.

Leave-one-sensor-out: for each sensor p, estimate the boundary history from the other sensors,
push it through the forward model, and compare the prediction at p with p's reference record
(the noisy measurement, or the clean history in a virtual experiment). The estimator and the
forward model are passed in as callables, so classical and neural inverses use the same code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def _pair(estimate: np.ndarray, truth: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray]:
    estimate = np.asarray(estimate, dtype=float)
    truth = np.asarray(truth, dtype=float)
    if estimate.shape != truth.shape:
        raise ValueError(f"{where}: estimate shape {estimate.shape} != truth shape {truth.shape}")
    if estimate.size == 0 or not (np.all(np.isfinite(estimate)) and np.all(np.isfinite(truth))):
        raise ValueError(f"{where}: arrays must be non-empty and finite")
    return estimate, truth


def rmse(estimate: np.ndarray, truth: np.ndarray) -> float:
    """Root-mean-square error over all entries (units of the data)."""
    e, t = _pair(estimate, truth, "rmse")
    return float(np.sqrt(np.mean((e - t) ** 2)))


def r2(estimate: np.ndarray, truth: np.ndarray) -> float:
    """Coefficient of determination of ``estimate`` against ``truth`` (all entries pooled)."""
    e, t = _pair(estimate, truth, "r2")
    ss_tot = float(np.sum((t - t.mean()) ** 2))
    ss_res = float(np.sum((e - t) ** 2))
    if ss_tot == 0.0:
        return 1.0 if ss_res == 0.0 else float("-inf")
    return 1.0 - ss_res / ss_tot


def boundary_metrics(estimate: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """RMSE, R² and max |error| of an estimated boundary history vs the truth, shape (n_t,)."""
    e, t = _pair(estimate, truth, "boundary_metrics")
    return {"rmse": rmse(e, t), "r2": r2(e, t), "max_abs": float(np.max(np.abs(e - t)))}


def sensor_fit_metrics(
    fitted: np.ndarray, measured: np.ndarray, *, names: Sequence[str] | None = None
) -> dict[str, dict[str, float]]:
    """Per-sensor and pooled RMSE/R² of fitted vs measured probe curves, shape (n_t, n_probes).

    Returns ``{name: {"rmse", "r2"}, ..., "all": {"rmse", "r2"}}``.
    """
    f, m = _pair(fitted, measured, "sensor_fit_metrics")
    if f.ndim != 2:
        raise ValueError(f"sensor_fit_metrics: need shape (n_t, n_probes), got {f.shape}")
    names = list(names) if names is not None else [f"P{i + 1}" for i in range(f.shape[1])]
    if len(names) != f.shape[1]:
        raise ValueError(f"sensor_fit_metrics: {len(names)} names for {f.shape[1]} columns")
    out = {
        n: {"rmse": rmse(f[:, i], m[:, i]), "r2": r2(f[:, i], m[:, i])} for i, n in enumerate(names)
    }
    out["all"] = {"rmse": rmse(f, m), "r2": r2(f, m)}
    return out


def leave_one_sensor_out(
    *,
    estimate: Callable[[np.ndarray, list[int]], np.ndarray],
    predict: Callable[[np.ndarray], np.ndarray],
    measured: np.ndarray,
    reference: np.ndarray | None = None,
    names: Sequence[str] | None = None,
) -> dict[str, dict[str, float]]:
    """Leave-one-sensor-out prediction error.

    Args:
        estimate: ``estimate(measured_subset, kept)`` → boundary estimate (any form ``predict``
            accepts); ``measured_subset`` has shape (n_t, n_probes − 1), ``kept`` lists the
            column indices of the sensors it holds.
        predict: forward model, boundary estimate → probe values of all sensors (n_t, n_probes).
        measured: probe data (°C), shape (n_t, n_probes), n_probes ≥ 2.
        reference: what the held-out prediction is compared with (default ``measured``; use the
            clean histories in a virtual experiment).
        names: sensor names.

    Returns:
        ``{name: {"rmse", "r2"}}`` for each held-out sensor and ``"mean"`` (mean RMSE, mean R²).
    """
    measured = np.asarray(measured, dtype=float)
    if measured.ndim != 2 or measured.shape[1] < 2:
        raise ValueError(
            f"leave_one_sensor_out: measured needs shape (n_t, n_probes >= 2), got {measured.shape}"
        )
    ref = measured if reference is None else np.asarray(reference, dtype=float)
    _pair(measured, ref, "leave_one_sensor_out")
    n_p = measured.shape[1]
    names = list(names) if names is not None else [f"P{i + 1}" for i in range(n_p)]
    out: dict[str, dict[str, float]] = {}
    for p in range(n_p):
        kept = [i for i in range(n_p) if i != p]
        boundary = estimate(measured[:, kept], kept)
        pred = np.asarray(predict(boundary), dtype=float)
        if pred.shape != measured.shape:
            raise ValueError(
                f"leave_one_sensor_out: predict returned {pred.shape}, expected {measured.shape}"
            )
        out[names[p]] = {"rmse": rmse(pred[:, p], ref[:, p]), "r2": r2(pred[:, p], ref[:, p])}
    out["mean"] = {
        "rmse": float(np.mean([out[n]["rmse"] for n in names])),
        "r2": float(np.mean([out[n]["r2"] for n in names])),
    }
    return out


def method_loso(
    method: Any,
    record: Any,
    *,
    predict: Callable[[np.ndarray], np.ndarray],
) -> dict[str, dict[str, float]]:
    """Leave-one-sensor-out of an inverse method on a record (samples at t > 0).

    Each sensor in turn is left out: ``method.estimate(record, sensors=kept)`` estimates the
    boundary history from the others, ``predict`` (history (n_t,) → all sensors (n_t, n_s))
    predicts the held-out one, compared with the record's clean history when known (else the
    measured one). ``method`` follows :class:`thermo.inverse.method.InverseMethod` with
    ``subsets = True``; ``record`` is a :class:`thermo.inverse.record.SensorRecord`.
    """
    if not getattr(method, "subsets", False):
        raise ValueError(f"{method.name}: cannot estimate from a subset of the sensors")
    names = list(record.names)
    rows = record.times > 0.0
    ref = record.values if record.clean is None else record.clean
    return leave_one_sensor_out(
        estimate=lambda _m, kept: method.estimate(record, sensors=[names[i] for i in kept]).values,
        predict=lambda b: np.asarray(predict(b))[rows],
        measured=record.values[rows],
        reference=ref[rows],
        names=names,
    )

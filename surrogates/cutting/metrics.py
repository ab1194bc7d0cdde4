r"""Performance indicators of paper 002 (§3, Eq. 1, Tables 2 and 4-6).

* MAD, the paper's "medium absolute deviation" (mean absolute deviation) in the target's units
  (m/min for Vc, mm/min for Vf): :math:`\mathrm{MAD} = \frac1n\sum_i |y_i - \hat y_i|`.
* Generalisation factor (Eq. 1): :math:`GF = 100\,k/n`, k the number of the n validation
  patterns estimated with relative error :math:`|\hat y_i - y_i|/|y_i| < 2\,\%` (strictly less,
  as "an error less than 2 %").
* Percent error of a group (Tables 4-6): mean of :math:`100\,|\hat y_i - y_i|/|y_i|` over the
  group's patterns. The paper does not define it; mean absolute percent error is assumed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: GF threshold of the paper (relative error).
GF_THRESHOLD = 0.02


def _pair(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(y_true, dtype=float).ravel()
    p = np.asarray(y_pred, dtype=float).ravel()
    if t.shape != p.shape or t.size == 0:
        raise ValueError(f"y_true and y_pred need the same non-zero length: {t.shape} vs {p.shape}")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(p))):
        raise ValueError("y_true and y_pred must be finite")
    return t, p


def mad(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean absolute deviation, same units as the targets; inputs of shape (n,)."""
    t, p = _pair(y_true, y_pred)
    return float(np.mean(np.abs(t - p)))


def percent_errors(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Per-pattern absolute percent error 100 |y_pred - y_true| / |y_true|, shape (n,)."""
    t, p = _pair(y_true, y_pred)
    if np.any(t == 0):
        raise ValueError("percent error undefined for a zero target")
    return 100.0 * np.abs(p - t) / np.abs(t)


def generalization_factor(
    y_true: np.ndarray, y_pred: np.ndarray, *, threshold: float = GF_THRESHOLD
) -> float:
    """GF = 100 k / n, k = patterns with relative error strictly below ``threshold`` (Eq. 1)."""
    if not threshold > 0:
        raise ValueError(f"threshold must be > 0, got {threshold}")
    errors = percent_errors(y_true, y_pred)
    return float(100.0 * np.count_nonzero(errors < 100.0 * threshold) / errors.size)


def grouped_percent_error(
    keys: pd.Series | np.ndarray, y_true: np.ndarray, y_pred: np.ndarray
) -> pd.Series:
    """Mean absolute percent error per group (Tables 4-6); index = sorted group keys."""
    errors = percent_errors(y_true, y_pred)
    keys = np.asarray(keys)
    if keys.shape != errors.shape:
        raise ValueError(f"keys shape {keys.shape} does not match targets {errors.shape}")
    return pd.Series(errors).groupby(keys).mean()

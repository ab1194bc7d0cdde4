r"""Test metrics of the inverse models (paper 000, eq. 3–4, Table 3).

For n windows with truth :math:`y_i` and prediction :math:`\hat y_i`:

.. math::  \mathrm{MSE} = \frac1n\sum_i (\hat y_i - y_i)^2, \quad
           \mathrm{RMSE} = \sqrt{\mathrm{MSE}}, \quad
           R^2 = 1 - \frac{\sum_i (\hat y_i - y_i)^2}{\sum_i (y_i - \bar y)^2}.

The paper's Table 3 MSE values (e.g. 2.57e-3) are on the min–max scaled labels; we report MSE on
the scaled labels (``mse_scaled``) and in °C² after the inverse transform (eq. 2, ``mse_c2``),
with ``rmse_c`` in °C. :math:`R^2` is the same in both units (affine map). Computed with
scikit-learn.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import mean_squared_error, r2_score

from .windows import MinMaxScaler


def _pair(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t, p = np.ravel(np.asarray(y_true, float)), np.ravel(np.asarray(y_pred, float))
    if t.shape != p.shape or t.size == 0:
        raise ValueError(
            f"metrics: y_true and y_pred need the same non-zero size, got {t.shape}, {p.shape}"
        )
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(p))):
        raise ValueError("metrics: y_true or y_pred contains NaN or inf")
    return t, p


def mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean squared error (units of y squared)."""
    return float(mean_squared_error(*_pair(y_true, y_pred)))


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Root mean squared error (units of y)."""
    return float(np.sqrt(mse(y_true, y_pred)))


def r2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Coefficient of determination (eq. 4)."""
    return float(r2_score(*_pair(y_true, y_pred)))


def regression_report(
    y_true_scaled: np.ndarray, y_pred_scaled: np.ndarray, *, y_scaler: MinMaxScaler
) -> dict[str, float]:
    """``{"mse_scaled", "mse_c2", "rmse_c", "r2"}`` of scaled predictions (shape (n,))."""
    t_c = y_scaler.inverse_transform(y_true_scaled)
    p_c = y_scaler.inverse_transform(y_pred_scaled)
    return {
        "mse_scaled": mse(y_true_scaled, y_pred_scaled),
        "mse_c2": mse(t_c, p_c),
        "rmse_c": rmse(t_c, p_c),
        "r2": r2(t_c, p_c),
    }

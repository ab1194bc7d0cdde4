r"""Regression scores of paper 003, §4.5, eqs. (2)–(5), via ``sklearn.metrics``.

.. math::
    R^2 = 1 - \frac{\sum (y_i - \hat y_i)^2}{\sum (y_i - \bar y)^2},\quad
    MSE = \tfrac1N \sum (y_i - \hat y_i)^2,\quad RMSE = \sqrt{MSE},\quad
    MAE = \tfrac1N \sum |y_i - \hat y_i|

MSE, RMSE and MAE carry the unit of y (µm, µm², µm for VB in µm). ``nrmse`` = RMSE / std(y) is
added. The paper does not state the unit of VB; its Tables 7–8 imply a test-set variance
MSE / (1 − R²) = 1.093 for every model, i.e. std(y) ≈ 1.05 (most likely a standardised target),
so our RMSE / std(y) is the number comparable with its RMSE column.
"""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm


def regression_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """``{"r2", "rmse", "mse", "mae", "nrmse"}`` of ``y_pred`` (N,) against ``y_true`` (N,)."""
    y_true = np.asarray(y_true, dtype=float).reshape(-1)
    y_pred = np.asarray(y_pred, dtype=float).reshape(-1)
    if y_true.shape != y_pred.shape or y_true.size < 2:
        raise ValueError(
            f"regression_scores: need equal shapes (N >= 2), got {y_true.shape} and {y_pred.shape}"
        )
    if not (np.all(np.isfinite(y_true)) and np.all(np.isfinite(y_pred))):
        raise ValueError("regression_scores: y_true/y_pred contain NaN or inf")
    mse = float(skm.mean_squared_error(y_true, y_pred))
    rmse = float(np.sqrt(mse))
    return {
        "r2": float(skm.r2_score(y_true, y_pred)),
        "rmse": rmse,
        "mse": mse,
        "mae": float(skm.mean_absolute_error(y_true, y_pred)),
        "nrmse": rmse / float(np.std(y_true)),
    }


#: Paper 003 Table 7 (single models) and Table 8 (voting), test split: R2, RMSE, MSE, MAE.
PAPER_TABLE7: dict[str, tuple[float, float, float, float]] = {
    "DT": (0.69132, 0.58086, 0.3374, 0.43112),
    "RF": (0.90902, 0.31534, 0.09944, 0.22303),
    "Extra Trees": (0.91737, 0.30053, 0.09032, 0.21134),
    "XGB": (0.90144, 0.32822, 0.10773, 0.22051),
    "LGBM": (0.78587, 0.48379, 0.23405, 0.32589),
    "AdaBoost": (0.91051, 0.31276, 0.09782, 0.23232),
    "SGD": (0.85313, 0.40066, 0.16053, 0.2977),
    "SVR": (0.70355, 0.56924, 0.32403, 0.36844),
    "LSVR": (0.81672, 0.44758, 0.20033, 0.27107),
    "MLP": (0.88668, 0.35195, 0.12387, 0.28653),
}
PAPER_TABLE8: dict[str, tuple[float, float, float, float]] = {
    "Extra Trees": (0.91737, 0.30053, 0.09032, 0.21134),
    "Voting": (0.94576, 0.24348, 0.05928, 0.18182),
}

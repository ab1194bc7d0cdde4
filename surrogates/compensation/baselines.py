r"""Baselines beside every compensation result: no compensation and ridge regression.

* **none** — the machine without compensation: the residual is the measured drift itself.
* **ridge** — a static linear compensator on the same selected inputs (the industrial practice
  the paper cites, §1): :math:`\hat\delta = w^\top x + b` with an L2 penalty α chosen by
  cross-validation *inside the training part* (leave-conditions-out folds when the training data
  are several conditions, forward-chaining time folds for one series), inputs standardised
  with the training statistics. On windowed inputs ``(n, W, k)`` the static ridge uses the
  current sample ``x[:, -1]`` only; :func:`fit_ridge` with ``use_window=True`` fits the FIR
  (all lags) variant, a *dynamic* linear model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import GroupKFold, TimeSeriesSplit

ALPHAS: tuple[float, ...] = tuple(np.logspace(-4, 4, 17))


def _flat(x: np.ndarray, use_window: bool) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.ndim == 2:
        return x
    return x.reshape(len(x), -1) if use_window else x[:, -1, :]


@dataclass
class RidgeModel:
    """A fitted ridge compensator (standardised inputs), its α and whether it reads the window."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    alpha: float
    use_window: bool

    def predict(self, x: np.ndarray) -> np.ndarray:
        z = (_flat(x, self.use_window) - self.mean) / self.scale
        return z @ self.coef + self.intercept


def fit_ridge(
    x: np.ndarray,
    y: np.ndarray,
    *,
    groups: np.ndarray | None = None,
    use_window: bool = False,
    alphas: tuple[float, ...] = ALPHAS,
) -> RidgeModel:
    """Ridge on ``x`` (n, k) or (n, W, k) -> ``y`` (n,), α by CV inside these data.

    ``groups`` (one label per sample, e.g. the condition): folds leave whole groups out
    (``GroupKFold``, at most 5 folds); without groups the folds are forward-chaining in time
    (``TimeSeriesSplit(5)``): the training samples must then be in time order.
    """
    xf = _flat(x, use_window)
    y = np.asarray(y, dtype=float)
    mean, scale = xf.mean(axis=0), xf.std(axis=0)
    scale = np.where(scale > 1e-12, scale, 1.0)
    z = (xf - mean) / scale
    if groups is not None and len(np.unique(groups)) >= 2:
        splitter = GroupKFold(n_splits=min(5, len(np.unique(groups))))
        splits = list(splitter.split(z, y, groups))
    else:
        splits = list(TimeSeriesSplit(n_splits=min(5, max(2, len(y) // 10))).split(z))
    fit = RidgeCV(alphas=alphas, cv=splits).fit(z, y)
    return RidgeModel(mean, scale, np.asarray(fit.coef_), float(fit.intercept_), float(fit.alpha_),
                      use_window)  # fmt: skip


def errors(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """``{"rmse_um", "mae_um"}`` of a prediction (µm)."""
    e = np.asarray(pred, dtype=float) - np.asarray(y, dtype=float)
    return {"rmse_um": float(np.sqrt(np.mean(e**2))), "mae_um": float(np.mean(np.abs(e)))}

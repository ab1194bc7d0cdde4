r"""Hyper-parameter tuning by k-fold cross-validation and the voting ensemble (paper 003 §4.5.2).

Tuning (§3.2, §4.5): every combination of a small grid is scored by its mean validation MSE over
``folds`` (5 in the paper) shuffled folds of the training split (``sklearn.model_selection.KFold``,
seeded); the best combination is refitted on the whole training split.

Voting (§4.5.2, Table 8): the ensemble prediction is a convex combination of the members',
:math:`\hat y = \sum_m w_m \hat y_m`, :math:`w_m \ge 0`, :math:`\sum w_m = 1`; ``"mean"`` gives
:math:`w_m = 1/M` (scikit-learn's VotingRegressor, as in the paper), ``"inverse_cv"`` gives
:math:`w_m \propto 1/\mathrm{MSE}^{cv}_m` (members' cross-validation errors on the training split,
never the test split). Because the squared error is convex, for every sample
:math:`(\hat y - y)^2 \le \sum_m w_m(\hat y_m - y)^2`, so the ensemble's MSE is never above the
weighted mean of its members' MSEs, hence never above its worst member's.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.model_selection import KFold

from surrogates.wear.regressors import Regressor


@dataclass
class Tuned:
    """A tuned model: its best parameters, their CV MSE, all grid scores and the refitted model."""

    name: str
    model: Regressor
    params: dict
    cv_mse: float
    grid_scores: list[tuple[dict, float]] = field(default_factory=list)
    seconds: float = 0.0


def grid(**values: Sequence) -> list[dict]:
    """All combinations of keyword values: ``grid(a=[1, 2], b=[3])`` -> [{a:1,b:3}, {a:2,b:3}]."""
    keys = list(values)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*values.values())]


def tune(
    name: str,
    factory: Callable[..., Regressor],
    param_grid: Sequence[Mapping],
    x: np.ndarray,
    y: np.ndarray,
    *,
    folds: int = 5,
    seed: int = 0,
) -> Tuned:
    """Grid search by ``folds``-fold CV on (x (N, F), y (N,)); refit the best on all of it."""
    if not param_grid:
        raise ValueError(f"tune({name}): empty parameter grid")
    x, y = np.asarray(x), np.asarray(y).reshape(-1)
    t0 = time.perf_counter()
    splitter = KFold(n_splits=folds, shuffle=True, random_state=seed)
    scores = []
    for params in param_grid:
        errs = []
        for tr, va in splitter.split(x):
            pred = factory(**params).fit(x[tr], y[tr]).predict(x[va])
            errs.append(float(np.mean((pred - y[va]) ** 2)))
        scores.append((dict(params), float(np.mean(errs))))
    best, best_mse = min(scores, key=lambda item: item[1])
    model = factory(**best).fit(x, y)
    return Tuned(name, model, best, best_mse, scores, time.perf_counter() - t0)


@dataclass
class Voting:
    """Convex combination of fitted members; ``weights`` "mean" or "inverse_cv"."""

    members: list[Tuned]
    weights: str = "mean"

    def __post_init__(self) -> None:
        if not self.members:
            raise ValueError("Voting needs at least one member")
        if self.weights not in ("mean", "inverse_cv"):
            raise ValueError(f"Voting.weights must be 'mean' or 'inverse_cv', not {self.weights!r}")

    @property
    def w(self) -> np.ndarray:
        """Member weights (M,), non-negative, summing to 1."""
        if self.weights == "mean":
            return np.full(len(self.members), 1.0 / len(self.members))
        inv = 1.0 / np.maximum([m.cv_mse for m in self.members], 1e-12)
        return inv / inv.sum()

    def member_predictions(self, x: np.ndarray) -> np.ndarray:
        """Predictions of every member: shape (M, N)."""
        return np.stack([m.model.predict(x) for m in self.members])

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Ensemble prediction (N,)."""
        return self.w @ self.member_predictions(x)

r"""Hyper-parameter tuning by cross-validated grid search and the voting ensemble (paper 003
§4.5.2), on scikit-learn's :class:`~sklearn.model_selection.GridSearchCV` and
:class:`~sklearn.ensemble.VotingRegressor`.

Tuning (§3.2, §4.5): every combination of a small grid is scored by its mean validation MSE
over the folds of the *training* data only. ``cv`` is any scikit-learn splitter: shuffled
``KFold`` (the paper, 5 folds) for the random protocol, ``GroupKFold`` / ``LeaveOneGroupOut``
over the training tools for the grouped protocol (then ``groups`` is passed through, so no tool
is on both sides of an inner split). The best combination is refitted on all the training data.

Voting (§4.5.2, Table 8): :math:`\hat y = \sum_m w_m \hat y_m`, :math:`w_m \ge 0`,
:math:`\sum w_m = 1`; ``"mean"`` gives :math:`w_m = 1/M` (scikit-learn's VotingRegressor, as in
the paper), ``"inverse_cv"`` gives :math:`w_m \propto 1/\mathrm{MSE}^{cv}_m` (members' tuning
errors on the training data, never the test data). Because the squared error is convex, for
every sample :math:`(\hat y - y)^2 \le \sum_m w_m(\hat y_m - y)^2`, so the ensemble's MSE is
never above the weighted mean of its members' MSEs, hence never above its worst member's — but
it can be above its best member's, which is what "voting beats every single model" claims.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import VotingRegressor
from sklearn.model_selection import GridSearchCV, KFold


@dataclass
class Tuned:
    """A tuned model: best parameters, their CV MSE, all grid scores and the unfitted estimator
    with the best parameters set (fitted by :func:`fit_voting`)."""

    name: str
    estimator: BaseEstimator
    params: dict
    cv_mse: float
    grid_scores: list[tuple[dict, float]] = field(default_factory=list)
    seconds: float = 0.0


def tune(
    name: str,
    estimator: BaseEstimator,
    param_grid: Mapping[str, Sequence],
    x: np.ndarray,
    y: np.ndarray,
    *,
    cv=None,
    groups: np.ndarray | None = None,
    folds: int = 5,
    seed: int = 0,
) -> Tuned:
    """Grid search of ``estimator`` on (x (N, F), y (N,)) by CV MSE (no refit: the ensemble's
    ``fit`` refits each member once, :func:`fit_voting`).

    ``cv`` defaults to a shuffled ``KFold(folds)`` seeded with ``seed``; pass a group splitter
    together with ``groups`` for grouped tuning.
    """
    if not param_grid:
        raise ValueError(f"tune({name}): empty parameter grid")
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float).reshape(-1)
    t0 = time.perf_counter()
    splitter = cv if cv is not None else KFold(n_splits=folds, shuffle=True, random_state=seed)
    search = GridSearchCV(
        clone(estimator),
        {k: list(v) for k, v in param_grid.items()},
        scoring="neg_mean_squared_error",
        cv=splitter,
        refit=False,
        error_score="raise",
    )
    search.fit(x, y, groups=groups)
    res = search.cv_results_
    best = int(np.argmax(res["mean_test_score"]))
    scores = [
        (dict(p), float(-s)) for p, s in zip(res["params"], res["mean_test_score"], strict=True)
    ]
    return Tuned(
        name=name,
        estimator=clone(estimator).set_params(**res["params"][best]),
        params=dict(res["params"][best]),
        cv_mse=float(-res["mean_test_score"][best]),
        grid_scores=scores,
        seconds=time.perf_counter() - t0,
    )


def fit_voting(
    members: Sequence[Tuned], x: np.ndarray, y: np.ndarray
) -> dict[str, VotingRegressor]:
    """Fit :class:`~sklearn.ensemble.VotingRegressor` on the tuned members (one refit each).

    Returns ``{"voting": mean weights, "voting_weighted": inverse-CV-MSE weights}``; both share
    the same fitted members (``ens.named_estimators_[name]`` is the fitted single model).
    """
    if not members:
        raise ValueError("voting needs at least one member")
    ens = VotingRegressor([(m.name, m.estimator) for m in members])
    ens.fit(np.asarray(x, dtype=float), np.asarray(y, dtype=float).reshape(-1))
    inv = 1.0 / np.maximum([m.cv_mse for m in members], 1e-12)
    weighted = copy.copy(ens).set_params(weights=list(inv / inv.sum()))
    return {"voting": ens, "voting_weighted": weighted}


def voting_weights(ens: VotingRegressor) -> np.ndarray:
    """Normalised member weights (M,) of a voting ensemble."""
    m = len(ens.estimators)
    w = np.full(m, 1.0) if ens.weights is None else np.asarray(ens.weights, dtype=float)
    return w / w.sum()


def member_predictions(ens: VotingRegressor, x: np.ndarray) -> np.ndarray:
    """Predictions of every member of a fitted ensemble: shape (M, N)."""
    return ens.transform(x).T

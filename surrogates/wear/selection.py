r"""Standardisation and tree-free feature selection (paper 003, §3.3, eq. (1)).

Z-score (eq. (1)): :math:`z = (x - \mu) / \sigma` per feature, with μ and σ (population standard
deviation) fitted on the training split only and applied to both splits; constant features get
σ = 1 so they map to 0 instead of NaN.

The paper ranks features by random-forest importance; tree models are excluded here, so features
are ranked by their mutual information with VB (``sklearn.feature_selection.
mutual_info_regression``, the k-nearest-neighbour estimator of Kraskov et al. 2004, seeded) and
the top ``k`` are kept. The ranking is fitted on the training split only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.feature_selection import mutual_info_regression


@dataclass(frozen=True)
class ZScore:
    """Per-feature mean and standard deviation fitted on training data (shapes (F,))."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> ZScore:
        """Fit on ``x`` (N, F)."""
        x = np.asarray(x, dtype=float)
        if x.ndim != 2 or x.shape[0] < 2:
            raise ValueError(f"ZScore.fit: x must be (N >= 2, F), got {x.shape}")
        std = x.std(axis=0)
        return cls(mean=x.mean(axis=0), std=np.where(std > 0, std, 1.0))

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Standardise ``x`` (N, F) with the fitted statistics."""
        x = np.asarray(x, dtype=float)
        if x.ndim != 2 or x.shape[1] != self.mean.shape[0]:
            raise ValueError(
                f"ZScore.transform: x must be (N, {self.mean.shape[0]}), got {x.shape}"
            )
        return (x - self.mean) / self.std

    def inverse(self, z: np.ndarray) -> np.ndarray:
        """Undo :meth:`transform`."""
        return np.asarray(z) * self.std + self.mean


@dataclass(frozen=True)
class Selection:
    """Indices of the kept features (best first) and the MI score (nats) of every feature."""

    indices: np.ndarray
    scores: np.ndarray

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Columns of ``x`` (N, F) kept by the selection: shape (N, k)."""
        return np.asarray(x)[:, self.indices]


def select_by_mutual_information(
    x: np.ndarray, y: np.ndarray, *, k: int, n_neighbors: int = 3, seed: int = 0
) -> Selection:
    """Keep the ``k`` features of ``x`` (N, F) with the largest mutual information with ``y``."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float).reshape(-1)
    if x.ndim != 2 or x.shape[0] != y.shape[0]:
        raise ValueError(
            f"select_by_mutual_information: x (N, F) and y (N,), got {x.shape}, {y.shape}"
        )
    if not 1 <= k <= x.shape[1]:
        raise ValueError(f"select_by_mutual_information: k must be in [1, {x.shape[1]}], got {k}")
    scores = mutual_info_regression(x, y, n_neighbors=n_neighbors, random_state=seed)
    order = np.argsort(-scores, kind="stable")
    return Selection(indices=order[:k], scores=scores)

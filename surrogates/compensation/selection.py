r"""Mutual-information ranking of temperature-sensitive points (paper 001, §2.2.1, Eq. 2).

.. math::  I(X;Y)=\sum_{x}\sum_{y}p(x,y)\ln\frac{p(x,y)}{p(x)\,p(y)}\quad\text{(nats)}

between the rise of a candidate point X and the Z drift Y, pooled over the training conditions.
The paper's sums over discrete histograms depend on the bin choice; we use scikit-learn's
``mutual_info_regression`` (Kraskov k-nearest-neighbour estimator of the same quantity for
continuous variables, k = 3), which needs no bins. Within each region the candidate with the
highest MI is selected (§2.2.1, step 2).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.feature_selection import mutual_info_regression

from surrogates.compensation.data import CANDIDATES, REGIONS, TARGET, candidate_rise


def mi_scores(x: np.ndarray, y: np.ndarray, *, seed: int = 0, n_neighbors: int = 3) -> np.ndarray:
    """MI (nats) of each column of ``x`` (n, k) with ``y`` (n,): shape (k,)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise ValueError(f"mi_scores: need x (n, k) and y (n,), got {x.shape} and {y.shape}")
    return mutual_info_regression(x, y, n_neighbors=n_neighbors, random_state=seed)


def rank_candidates(records: Mapping[str, pd.DataFrame], *, seed: int = 0) -> pd.DataFrame:
    """MI of every §2.2.1 candidate, pooled over ``records``.

    Returns a DataFrame with columns ``region, candidate, mi`` sorted by region and descending MI.
    """
    y = np.concatenate([df[TARGET].to_numpy(dtype=float) for df in records.values()])
    rows = []
    for region in REGIONS:
        names = list(CANDIDATES[region])
        x = np.column_stack(
            [
                np.concatenate(
                    [candidate_rise(df, CANDIDATES[region][n]) for df in records.values()]
                )
                for n in names
            ]
        )
        for name, mi in zip(names, mi_scores(x, y, seed=seed), strict=True):
            rows.append({"region": region, "candidate": name, "mi": float(mi)})
    table = pd.DataFrame(rows)
    return table.sort_values(["region", "mi"], ascending=[True, False]).reset_index(drop=True)


def select(ranking: pd.DataFrame) -> dict[str, str]:
    """Best candidate per region: ``{"spindle": ..., "base": ..., "column": ...}``."""
    best = ranking.loc[ranking.groupby("region")["mi"].idxmax()]
    return {r: str(best.loc[best.region == r, "candidate"].iloc[0]) for r in REGIONS}

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


def rank_candidates(
    records: Mapping[str, pd.DataFrame],
    *,
    seed: int = 0,
    candidates: Mapping[str, Mapping[str, Mapping[str, float]]] | None = None,
) -> pd.DataFrame:
    """MI of every candidate (default: the §2.2.1 ones), pooled over ``records``.

    ``candidates``: region -> candidate name -> {point: weight}. Returns a DataFrame with
    columns ``region, candidate, mi`` sorted by region and descending MI.
    """
    candidates = CANDIDATES if candidates is None else candidates
    y = np.concatenate([df[TARGET].to_numpy(dtype=float) for df in records.values()])
    rows = []
    for region, cands in candidates.items():
        names = list(cands)
        x = np.column_stack(
            [
                np.concatenate([candidate_rise(df, cands[n]) for df in records.values()])
                for n in names
            ]
        )
        for name, mi in zip(names, mi_scores(x, y, seed=seed), strict=True):
            rows.append({"region": region, "candidate": name, "mi": float(mi)})
    table = pd.DataFrame(rows)
    return table.sort_values(["region", "mi"], ascending=[True, False]).reset_index(drop=True)


def select(ranking: pd.DataFrame, regions: list[str] | None = None) -> dict[str, str]:
    """Best candidate per region, in the order ``regions`` (default :data:`REGIONS`)."""
    regions = list(REGIONS) if regions is None else regions
    best = ranking.loc[ranking.groupby("region")["mi"].idxmax()]
    return {r: str(best.loc[best.region == r, "candidate"].iloc[0]) for r in regions}


def column_candidates(
    columns: list[str], regions: Mapping[str, list[str]] | None = None
) -> dict[str, dict[str, dict[str, float]]]:
    """Candidates made of a machine's own temperature columns: one candidate per column, in the
    given ``regions`` (name -> columns), or all in one pool ``"all"`` when ``regions`` is None."""
    if regions is None:
        return {"all": {c: {c: 1.0} for c in columns}}
    unknown = sorted({c for cols in regions.values() for c in cols} - set(columns))
    if unknown:
        raise ValueError(f"--regions: columns {unknown} are not among --temperature-columns")
    return {r: {c: {c: 1.0} for c in cols} for r, cols in regions.items()}


def select_columns(
    records: Mapping[str, pd.DataFrame],
    columns: list[str],
    *,
    regions: Mapping[str, list[str]] | None = None,
    n_inputs: int = 3,
    seed: int = 0,
) -> tuple[pd.DataFrame, dict[str, str], dict[str, dict[str, dict[str, float]]]]:
    """MI selection over a machine's own columns.

    With ``regions``: the best column of each region (the paper's rule). Without: the
    ``n_inputs`` columns of highest MI, in descending MI. Returns ``(ranking, selected,
    candidates)`` ready for :func:`surrogates.compensation.data.features`.
    """
    cands = column_candidates(columns, regions)
    ranking = rank_candidates(records, seed=seed, candidates=cands)
    if regions is not None:
        return ranking, select(ranking, list(regions)), cands
    if not 1 <= n_inputs <= len(columns):
        raise ValueError(f"--n-inputs {n_inputs}: must be between 1 and {len(columns)} columns")
    top = ranking.sort_values("mi", ascending=False).candidate.iloc[:n_inputs].tolist()
    return ranking, {c: c for c in top}, {c: {c: {c: 1.0}} for c in top}

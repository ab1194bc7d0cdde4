"""MI selection picks the informative input; Type II ANOVA recovers a planted main effect."""

import numpy as np
import pandas as pd

from surrogates.compensation.factorial import anova, recommend
from surrogates.compensation.selection import mi_scores


def test_mi_ranks_informative_input_above_noise():
    rng = np.random.default_rng(0)
    signal = rng.uniform(0, 5, 2000)
    noise = rng.uniform(0, 5, 2000)
    y = np.sin(signal) * 3 + 0.1 * rng.normal(size=2000)
    mi = mi_scores(np.column_stack([noise, signal]), y, seed=0)
    assert mi[1] > 5 * max(mi[0], 0.01)


def test_anova_recovers_planted_main_effect():
    rng = np.random.default_rng(2)
    rows = []
    for a in ("A1", "A2", "A3"):
        for b in ("B1", "B2"):
            for c in ("C1", "C2", "C3"):
                for r in range(5):
                    y = {"A1": 0.0, "A2": 2.0, "A3": 4.0}[a] + rng.normal(0, 0.3)
                    rows.append({"A": a, "B": b, "C": c, "repeat": r, "rmse": y})
    table = pd.DataFrame(rows)
    res = anova(table)
    assert list(res.index) == ["A", "B", "C", "A:B", "A:C", "B:C", "A:B:C", "Residual"]
    assert res.loc["A", "p"] < 1e-20
    assert res.loc["B", "p"] > 1e-3 and res.loc["C", "p"] > 1e-3
    # the planted effect: SS_A = n_per_level * sum (mu_i - mu)^2 = 30 * (4 + 0 + 4) = 240
    assert abs(res.loc["A", "sum_sq"] - 240.0) < 20.0
    assert res.loc["Residual", "df"] == len(table) - 18
    assert recommend(table)[0]["A"] == "A1"

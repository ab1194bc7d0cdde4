r"""Taguchi L9 design, smaller-the-better S/N ratios and ANOVA contributions (paper 003 §4.1,
Tables 2–3, 5–6).

* L9(3⁴) orthogonal array from the GF(3) construction: for run (a, b) with a, b ∈ {0, 1, 2},
  columns a, b, a + b, 2a + b (mod 3), plus one; its first three columns are the paper's Table 3
  (spindle speed, radial depth of cut, feed rate). pyDOE is not in the environment, and the
  construction is four lines.
* Smaller-the-better S/N ratio of the replicates :math:`y_{1..r}` of a run:
  :math:`S/N = -10\log_{10}(\tfrac1r\sum y_k^2)` (dB).
* Level means of S/N per factor (the "Factor Level (S/N)" columns of Tables 5–6) and the sums of
  squares :math:`SS_f = r_l \sum_l (\bar\eta_{f,l} - \bar\eta)^2` (r_l = 3 runs per level), which
  for a balanced design equal the Type II sums of squares of the additive model
  ``sn ~ C(A) + C(B) + C(C)`` computed by ``statsmodels`` (``anova_lm(typ=2)``); the residual is
  the error row (2 degrees of freedom in an L9 with three factors). Contribution rate
  :math:`\rho_f = SS_f / SS_{total}` (%).

Virtual roughness data (:func:`virtual_roughness`): the paper's Ra measurements are not public; we
use the empirical power law common in roughness studies,
:math:`R_a = C f_z^{a} a_e^{b} v_c^{c}` (µm; f_z mm/tooth, a_e mm, v_c m/min) with multiplicative
log-normal replicate scatter. Exponents a = 1.2, b = 0.45, c = 0.9 and C are chosen (not fitted)
so that the virtual study ranks the factors like Tables 5–6 (feed first, radial depth second,
spindle speed last: the speed's effect through f_z = F/(n N_t) is mostly cancelled by the
cutting-speed term) and gives Ra of a few tenths of a µm.

Arithmetic of the paper's tables (checked in the tests): Table 5's sums of squares follow from
its S/N level means within rounding, and its contributions from its SS. In Table 6 the printed
total 82.49 is inconsistent: its SS rows add up to 85.49, and its contribution rates
(17.65 + 19.45 + 60.34 + 2.56 = 100) are those SS divided by 85.49.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from statsmodels.stats.anova import anova_lm

#: Paper Tables 5 and 6: S/N level means (dB) per factor (levels 1–3), SS, contribution (%).
PAPER_TABLE5 = {
    "levels": {"n": (9.08, 9.42, 9.71), "ae": (11.33, 10.2, 6.69), "F": (11.73, 10.2, 6.32)},
    "ss": {"n": 0.6, "ae": 35.2, "F": 46.5, "Error": 0.22, "Total": 82.47},
    "rho": {"n": 0.72, "ae": 42.65, "F": 56.36, "Error": 0.27, "Total": 100.0},
}
PAPER_TABLE6 = {
    "levels": {"n": (7.74, 10.1, 10.8), "ae": (11.1, 9.76, 7.76), "F": (12.1, 10.2, 6.32)},
    "ss": {"n": 15.1, "ae": 16.6, "F": 51.6, "Error": 2.19, "Total": 82.49},
    "rho": {"n": 17.65, "ae": 19.45, "F": 60.34, "Error": 2.56, "Total": 100.0},
}
#: Paper Table 2 factor levels: spindle speed (r/min), radial depth of cut (mm), feed (mm/min).
PAPER_LEVELS = {
    "n": (8000.0, 9000.0, 10000.0),
    "ae": (0.1, 0.3, 0.5),
    "F": (1000.0, 1500.0, 2000.0),
}


def l9_array() -> np.ndarray:
    """The L9(3⁴) orthogonal array, levels 1..3: shape (9, 4); columns 1–3 are Table 3."""
    a, b = np.divmod(np.arange(9), 3)
    return np.stack([a, b, (a + b) % 3, (2 * a + b) % 3], axis=1) + 1


def sn_smaller_the_better(y: np.ndarray) -> np.ndarray:
    """S/N (dB) of replicates ``y`` (runs, reps) > 0: shape (runs,)."""
    y = np.atleast_2d(np.asarray(y, dtype=float))
    if np.any(~np.isfinite(y)) or np.any(y <= 0):
        raise ValueError("sn_smaller_the_better: responses must be finite and > 0")
    return -10.0 * np.log10(np.mean(y * y, axis=1))


def level_means(sn: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Mean S/N per factor and level: ``levels`` (runs, k) in 1..3 -> (k, 3)."""
    sn, levels = np.asarray(sn, dtype=float), np.asarray(levels)
    return np.array(
        [[sn[levels[:, f] == lv].mean() for lv in (1, 2, 3)] for f in range(levels.shape[1])]
    )


def ss_from_level_means(means: np.ndarray, *, runs_per_level: int = 3) -> np.ndarray:
    """Factor sums of squares r Σ_l (m_l − m̄)² from level means (k, L): shape (k,)."""
    means = np.atleast_2d(np.asarray(means, dtype=float))
    return runs_per_level * np.sum((means - means.mean(axis=1, keepdims=True)) ** 2, axis=1)


def anova_contributions(
    sn: np.ndarray, levels: np.ndarray, *, factors: tuple[str, ...] = ("n", "ae", "F")
) -> pd.DataFrame:
    """Tables 5–6 analogue: level means, SS, df, contribution (%) per factor, Error and Total.

    Args:
        sn: S/N ratio per run (runs,).
        levels: factor levels per run (runs, len(factors)), values 1..3.
    """
    sn, levels = np.asarray(sn, dtype=float), np.asarray(levels)
    if levels.ndim != 2 or levels.shape != (sn.shape[0], len(factors)):
        raise ValueError(f"anova_contributions: levels must be ({sn.shape[0]}, {len(factors)})")
    names = [f"f{i}" for i in range(len(factors))]
    data = pd.DataFrame({"sn": sn, **{n: levels[:, i] for i, n in enumerate(names)}})
    model = smf.ols("sn ~ " + " + ".join(f"C({n})" for n in names), data=data).fit()
    table = anova_lm(model, typ=2)
    ss = [float(table.loc[f"C({n})", "sum_sq"]) for n in names]
    dof = [float(table.loc[f"C({n})", "df"]) for n in names]
    ss_err, df_err = float(table.loc["Residual", "sum_sq"]), float(table.loc["Residual", "df"])
    total = sum(ss) + ss_err
    means = level_means(sn, levels)
    rows = [
        {"factor": f, "level1": m[0], "level2": m[1], "level3": m[2], "ss": s, "df": d}
        for f, m, s, d in zip(factors, means, ss, dof, strict=True)
    ]
    rows.append({"factor": "Error", "ss": ss_err, "df": df_err})
    rows.append({"factor": "Total", "ss": total, "df": sum(dof) + df_err})
    out = pd.DataFrame(rows)
    out["contribution_pct"] = 100.0 * out["ss"] / total
    return out


def virtual_roughness(
    *,
    spindle_rpm: np.ndarray,
    ae_mm: np.ndarray,
    feed_mm_min: np.ndarray,
    flutes: int = 4,
    diameter_mm: float = 6.0,
    replicates: int = 3,
    scatter: float = 0.05,
    coefficient: float = 0.25,
    exponents: tuple[float, float, float] = (1.2, 0.45, 0.9),
    seed: int = 0,
) -> np.ndarray:
    """Ra (µm) replicates of the power-law model (module docstring): shape (runs, replicates)."""
    n, ae, f = (np.asarray(v, dtype=float) for v in (spindle_rpm, ae_mm, feed_mm_min))
    fz = f / (n * flutes)
    vc = np.pi * diameter_mm * n / 1000.0
    a, b, c = exponents
    mean = coefficient * fz**a * ae**b * (vc / 100.0) ** c * 1e2
    rng = np.random.default_rng(seed)
    return mean[:, None] * np.exp(scatter * rng.standard_normal((mean.shape[0], replicates)))

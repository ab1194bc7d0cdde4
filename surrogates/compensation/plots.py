"""Figures 10–14 analogues of paper 001 (matplotlib, Agg) of the held-out response ``rmse``:
main-effect bars with ±1 std,
two-factor interaction heat maps of the mean RMSE, and the three-factor interaction lines."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def _levels(table: pd.DataFrame, f: str) -> list[str]:
    return sorted(table[f].unique(), key=lambda s: int(s[1:]))


def main_effects(table: pd.DataFrame, path: Path) -> Path:
    """Fig. 10: mean RMSE per level of A, B, C (bars) with the std (error bars)."""
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    for ax, f in zip(axes, ("A", "B", "C"), strict=True):
        g = table.groupby(f)["rmse"].agg(["mean", "std"]).loc[_levels(table, f)]
        ax.bar(g.index, g["mean"], yerr=g["std"], capsize=3, color="tab:blue", alpha=0.8)
        ax.set_title(f"Factor {f}")
        ax.set_ylabel("mean held-out RMSE (µm)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def interaction_heatmap(table: pd.DataFrame, rows: str, cols: str, path: Path) -> Path:
    """Figs. 11–13: mean RMSE of each (rows, cols) level pair."""
    piv = table.pivot_table(index=rows, columns=cols, values="rmse", aggfunc="mean")
    piv = piv.loc[_levels(table, rows), _levels(table, cols)]
    fig, ax = plt.subplots(figsize=(1.0 + 0.7 * piv.shape[1], 1.0 + 0.5 * piv.shape[0]))
    im = ax.imshow(piv.to_numpy(), cmap="viridis_r", aspect="auto")
    ax.set_xticks(range(piv.shape[1]), piv.columns)
    ax.set_yticks(range(piv.shape[0]), piv.index)
    for i in range(piv.shape[0]):
        for j in range(piv.shape[1]):
            ax.text(j, i, f"{piv.iat[i, j]:.2f}", ha="center", va="center", fontsize=7, color="w")
    ax.set_xlabel(f"Factor {cols}")
    ax.set_ylabel(f"Factor {rows}")
    fig.colorbar(im, ax=ax, label="mean held-out RMSE (µm)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def three_way(table: pd.DataFrame, path: Path) -> Path:
    """Fig. 14: mean RMSE over C against B, one line per A, with the spread over C levels."""
    fig, ax = plt.subplots(figsize=(7, 4))
    bl = _levels(table, "B")
    for a in _levels(table, "A"):
        sub = table[table.A == a].groupby(["B", "C"])["rmse"].mean().unstack("C").loc[bl]
        line = ax.plot(bl, sub.mean(axis=1), marker="o", label=a)[0]
        ax.vlines(bl, sub.min(axis=1), sub.max(axis=1), color=line.get_color(), alpha=0.4)
    ax.set_xlabel("Factor B")
    ax.set_ylabel("mean held-out RMSE over C (µm)")
    ax.legend(title="Factor A")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def drift_comparison(
    time_s, drift_um, predictions: dict, test_mask, path: Path, *, title: str = ""
) -> Path:
    """Measured drift, compensator and ridge predictions over time (top) and the residual
    drift after compensation (bottom); the test period is shaded."""
    import numpy as np

    t = np.asarray(time_s) / 3600.0
    test = np.asarray(test_mask, dtype=bool)
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(9, 5.5), sharex=True)
    ax.plot(t, drift_um, color="k", lw=1.0, label="measured")
    styles = {"compensator": "tab:blue", "ridge": "tab:orange", "ridge_window": "tab:green"}
    for name, color in styles.items():
        if name in predictions:
            ax.plot(t, predictions[name], color=color, lw=1.0, label=f"{name} prediction")
            ax2.plot(t, np.asarray(drift_um) - predictions[name], color=color, lw=0.8,
                     label=f"after {name}")  # fmt: skip
    ax2.plot(t, drift_um, color="0.6", lw=0.8, label="no compensation")
    for a in (ax, ax2):
        if test.any():
            a.axvspan(t[test][0], t[test][-1], color="0.9", zorder=0)
        a.grid(alpha=0.3)
    ax.set_ylabel("Z drift (µm)")
    ax2.set_ylabel("residual (µm)")
    ax2.set_xlabel("time (h); shaded: test records")
    ax.legend(fontsize=7, ncol=2)
    ax2.legend(fontsize=7, ncol=2)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path

"""Figures of the IHCP study: test-case fit curves (paper 000, Fig. 5B / Fig. 8) and training
loss curves (Fig. 5A). Matplotlib with the Agg backend; each PNG is written atomically
(:func:`thermo.atomic.atomic_path`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from thermo.atomic import atomic_path  # noqa: E402


def _save(fig: plt.Figure, path: str | Path) -> Path:
    path = Path(path)
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=150, bbox_inches="tight")
    finally:
        plt.close(fig)
    return path


def plot_fit(
    time_s: np.ndarray,
    truth_c: np.ndarray,
    predictions_c: Mapping[str, np.ndarray],
    path: str | Path,
    *,
    title: str = "F1 temperature on the test case",
) -> Path:
    """Truth and each model's prediction (°C) against time (s), all of shape (n,) (Fig. 5B)."""
    time_s, truth_c = np.asarray(time_s), np.asarray(truth_c)
    if time_s.shape != truth_c.shape:
        raise ValueError(f"plot_fit: time {time_s.shape} and truth {truth_c.shape} differ in shape")
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(time_s, truth_c, "k-", lw=2, label="truth (FEM)")
    for name, pred in predictions_c.items():
        pred = np.asarray(pred)
        if pred.shape != truth_c.shape:
            raise ValueError(
                f"plot_fit: prediction '{name}' has shape {pred.shape}, expected {truth_c.shape}"
            )
        ax.plot(time_s, pred, lw=1.2, label=name)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("F1 temperature (°C)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(fig, path)


def plot_loss_curves(
    histories: Mapping[str, tuple[np.ndarray, np.ndarray]],
    path: str | Path,
    *,
    title: str = "training loss",
) -> Path:
    """Per model ``(train_loss, val_loss)`` per epoch on a log scale (Fig. 5A).

    Validation curves are dashed in the colour of their training curve; an empty validation
    array is skipped.
    """
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, (train, val) in histories.items():
        (line,) = ax.semilogy(np.arange(1, len(train) + 1), train, label=f"{name} train")
        if len(val):
            ax.semilogy(
                np.arange(1, len(val) + 1), val, "--", color=line.get_color(), label=f"{name} val"
            )
    ax.set_xlabel("epoch")
    ax.set_ylabel("MSE (scaled)")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return _save(fig, path)

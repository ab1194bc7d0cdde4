"""Matplotlib figures of the reconstruction (paper 000 Fig. 10 J–L and the boundary history).

* :func:`plot_sensor_curves`: one panel per condition; measured S1..S4 (thin, noisy), the
  reconstructed curves (thick) with their uncertainty band (shaded), R² and RMSE per sensor in the
  legend — the layout of Fig. 10 J–L ("reconstruction temperature vs measured temperature").
* :func:`plot_boundary`: one panel per condition; estimated F1 history with its band against the
  true history (known in the virtual experiment), other methods alongside, boundary RMSE in the
  legend.

Inputs are :class:`thermo.inverse.reconstruction.Reconstruction` objects (times s, temperatures °C).
Files are written to a temporary name and renamed (atomic).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from thermo.atomic import atomic_path
from thermo.inverse.reconstruction import Reconstruction


def _figure(n: int, *, height: float = 3.6):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, n, figsize=(4.8 * n, height), squeeze=False)
    return plt, fig, axes[0]


def _save(plt, fig, path: Path) -> Path:
    path = Path(path)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return path


def _title(rec: Reconstruction) -> str:
    p = rec.params
    return f"N = {p['n_rpm']:g} r/min, fz = {p['fz_mm']:g} mm/z, ae = {p['ae_mm']:g} mm"


def plot_sensor_curves(
    path: Path,
    recs: Sequence[Reconstruction],
    *,
    names: Sequence[str],
) -> Path:
    """Reconstructed vs measured sensor curves with bands, one panel per condition (PNG)."""
    plt, fig, axes = _figure(len(recs))
    for ax, rec in zip(axes, recs, strict=True):
        measured = rec.record.values
        for i, name in enumerate(names):
            m = rec.metrics["sensors"][name]
            ax.plot(rec.times, measured[:, i], color=f"C{i}", lw=0.5, alpha=0.45)
            label = f"{name}: R² {m['r2']:.3f}, RMSE {m['rmse']:.2f} K"
            ax.plot(rec.times, rec.fitted[:, i], color=f"C{i}", lw=1.6, label=label)
            if rec.sensor_band is not None:
                band = rec.sensor_band[:, i]
                ax.fill_between(rec.times, band[:, 0], band[:, 1], color=f"C{i}", alpha=0.2, lw=0)
        ax.set(title=_title(rec), xlabel="time (s)", ylabel="temperature (°C)")
        ax.legend(
            fontsize=7,
            loc="upper left",
            title="thin: measured, thick: reconstructed",
            title_fontsize=7,
        )
    return _save(plt, fig, path)


def plot_boundary(
    path: Path,
    recs: Sequence[Reconstruction],
    *,
    others: Mapping[str, Sequence[Reconstruction]] | None = None,
) -> Path:
    """Estimated F1 history (band shaded) against the truth, one panel per condition (PNG).

    ``others`` adds, per method name, the estimates of further methods on the same conditions
    (thin lines, their bands lightly shaded), for the side-by-side comparison.
    """
    plt, fig, axes = _figure(len(recs), height=4.0)
    others = dict(others or {})
    for i, (ax, rec) in enumerate(zip(axes, recs, strict=True)):
        truth = rec.record.truth
        if truth is not None:
            ax.plot(rec.times, truth, "k", lw=2.0, label="truth")
        palette = [f"C{k}" for k in range(10) if k != 3]  # C3 is the rendered method's
        series = [(rec, "C3", 1.4, 0.25)] + [
            (other[i], palette[j % len(palette)], 0.9, 0.12)
            for j, other in enumerate(others.values())
        ]
        for r, color, lw, alpha in series:
            b = r.metrics.get("boundary")
            tag = f", RMSE {b['rmse']:.1f} K" if b else ""
            ax.plot(r.times, r.f1, color=color, lw=lw, label=f"{r.metrics['method']}{tag}")
            if r.f1_band is not None:
                ax.fill_between(
                    r.times, r.f1_band[:, 0], r.f1_band[:, 1], color=color, alpha=alpha, lw=0
                )
        ax.set(title=_title(rec), xlabel="time (s)", ylabel="F1 temperature (°C)")
        # the estimates' range sets the scale: a wide band (a baseline's) must not flatten them
        levels = [rec.f1] + ([] if truth is None else [truth])
        top = max(float(np.max(v)) for v in levels)
        bottom = min(float(np.min(v)) for v in levels)
        ax.set_ylim(bottom - 20.0, top + 0.35 * (top - bottom) + 20.0)
        ax.legend(fontsize=7, loc="lower right", title="shaded: 95 % bands", title_fontsize=7)
    return _save(plt, fig, path)

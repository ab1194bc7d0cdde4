"""Markdown report of ``cases.milling_reconstruction``: figures, per-condition sensor table,
the methods side by side (student ensemble, teacher, classical) and the "paper | ours" table
(paper 000 §4.2). Input: the run's ``metrics.json`` dictionary."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def report_markdown(metrics: dict, names: list[str]) -> str:
    """Markdown report: figures, per-condition table and the "paper | ours" comparison."""
    from thermo.inverse.design import PAPER_R2_RANGE, PAPER_RMSE

    conds = metrics["conditions"]
    lines = [
        "# Tool temperature-field reconstruction (paper 000 §4.2, Fig. 10)",
        "",
        f"Rendered inverse method `{metrics['method']}`, sensor noise "
        f"σ = {metrics['sigma_K']:g} K, seed {metrics['seed']}; "
        f"mesh size factor {metrics['mesh_size_factor']:g} "
        f"({metrics['n_dofs']} dofs), dt = {metrics['dt_s']:g} s, {metrics['n_steps']} steps; "
        f"total {metrics['total_s']:.1f} s (linear response "
        f"{'from cache' if metrics['response_cached'] else 'computed'}, "
        f"{metrics['response_s']:.1f} s incl. meshing)"
        + (
            f" on {metrics['n_ranks']} rank(s), peak memory "
            f"{metrics['peak_rss_MB']['sum_ranks']:.0f} MB."
            if "peak_rss_MB" in metrics
            else "."
        ),
        "",
        "![Fig. 10 A–I](fig10_fields.png)",
        "",
        "![Fig. 10 J–L](fig10_sensors.png)",
        "",
        "![boundary history](boundary.png)",
        "",
        "Per condition: sensor R² / RMSE (K) of the reconstructed curve against the measured one "
        "(paper's comparison), RMSE against the clean truth, boundary-history RMSE against the "
        "true F1, leave-one-sensor-out (LOSO) mean RMSE, and the share of the true F1 inside the "
        "95 % band.",
        "",
        "| condition | "
        + " | ".join(f"{n} R² / RMSE" for n in names)
        + " | RMSE vs clean | boundary RMSE (K) | LOSO RMSE (K) | band coverage | ParaView |",
        "|---" * (len(names) + 6) + "|",
    ]
    for label, c in conds.items():
        s = c["sensors"]
        cells = [f"{s[n]['r2']:.3f} / {s[n]['rmse']:.2f}" for n in names]
        b = f"{c['boundary']['rmse']:.2f}" if c["boundary"] else "–"
        lo = f"{c['loso']['mean']['rmse']:.2f}" if c["loso"] else "–"
        cov = f"{c['band_coverage']:.2f}" if c["band_coverage"] is not None else "–"
        pv = ", ".join(f"[{Path(f).name}]({f})" for f in c["paraview"] if f.endswith(".xdmf"))
        lines.append(
            f"| {label} | "
            + " | ".join(cells)
            + f" | {s['all']['rmse_clean']:.2f} | {b} | {lo} | {cov} | {pv} |"
        )
    lines += _method_table(metrics)
    lines += ["", "## paper | ours", "", "| quantity | paper 000 §4.2 | ours |", "|---|---|---|"]
    r2s = [c["sensors"][n]["r2"] for c in conds.values() for n in names]
    lines.append(
        f"| sensor-curve R² (all conditions) | {PAPER_R2_RANGE[0]}–{PAPER_R2_RANGE[1]} | "
        f"{min(r2s):.3f}–{max(r2s):.3f} |"
    )
    for label, c in conds.items():
        paper = PAPER_RMSE.get(float(c["params"]["n_rpm"]))
        ours = ", ".join(f"{c['sensors'][n]['rmse']:.2f}" for n in names)
        ref = ", ".join(f"{v:g}" for v in paper) if paper else "not given"
        lines.append(f"| sensor RMSE S1–S4 (°C), {label} | {ref} | {ours} |")
    lines += [
        "",
        "The paper's numbers come from real thin-film thermocouples and its neural inverse; ours "
        "from virtual sensors (their source: see the methods table) and the method above, so they "
        "compare in kind, not one-to-one. With white noise σ the RMSE against the measured curve "
        "cannot fall below about σ; the RMSE against the clean truth shows the reconstruction "
        "error itself.",
        "",
        "Files: [metrics.json](metrics.json); per condition `sensors.csv` and the ParaView series "
        "(`T.xdmf` + `T.h5`: File → Open in ParaView, XDMF reader).",
    ]
    return "\n".join(lines) + "\n"


def _data_sentence(metrics: dict) -> str:
    """Where the three records came from, and what that means for the comparison."""
    source = (metrics.get("data") or {}).get("source", "nominal")
    if source == "generating":
        return (
            "The records are held-out records of the generating model (finer mesh and step, "
            "every model uncertainty on a model draw no method trained on, thermocouple lag, "
            "drift, quantisation, random F1 histories): the inverse methods keep the nominal "
            "model, so there is no inverse crime. Three records are an illustration; the "
            "judged figures over all held-out records are in the default-method table below "
            "and in `python -m cases.ihcp_robustness`."
        )
    if source == "measurements":
        return "The record is the user's measurement."
    return (
        "Caution: these three records are inverse-crime demonstrations (`--data nominal`): "
        "they come from the inverse's own forward model (same mesh and step, nominal "
        "parameters, no lag, white noise), which favours the classical methods; the methods "
        "are judged on data from a different model (finer mesh and step, every model "
        "uncertainty, realistic sensors) in the default-method table below and in "
        "`python -m cases.ihcp_robustness`."
    )


def _calibration_lines(metrics: dict) -> list[str]:
    """How the bands were calibrated (scale per method on the validation records)."""
    cal = metrics.get("calibration") or {}
    if not cal:
        return ["", "Bands: raw (`--no-calibration`)."]
    parts = []
    for name, c in cal.items():
        if "scale" not in c:
            parts.append(f"{name}: {c.get('note', 'not calibrated')}")
            continue
        raw = c.get("coverage_raw")
        raw_s = "no band" if raw is None else f"raw coverage {raw:.2f}"
        flag = "" if c.get("guaranteed", True) else ", too few records for the finite-sample level"
        parts.append(f"{name} × {c['scale']:.3g} ({raw_s} on {c['n_records']} records{flag})")
    return [
        "",
        "Bands: 95 % bands calibrated by split-conformal scaling (thermo.inverse.calibration) on "
        "the generating model's validation records (cases no method was fitted on, not the "
        f"test records; {next(iter(cal.values())).get('records', '')}); a method without a band "
        "gets estimate ± q K. Scales: "
        + "; ".join(parts)
        + ". Coverage on three records is an illustration; the held-out coverage is in "
        "`python -m cases.ihcp_robustness`.",
    ]


def _method_table(metrics: dict) -> list[str]:
    """Side-by-side rows: per condition and method, mean sensor RMSE (vs measured and vs the
    clean truth), boundary RMSE, LOSO, band coverage and wall time of the reconstruction."""
    lines = [
        "",
        "## Methods side by side",
        "",
        "Student = mean of the distilled-student ensemble (band: mean ± 1.96 sd of the members, "
        "model spread only); teacher = the CNN-GRU teacher (no band); tikhonov = first-order "
        "Tikhonov, discrepancy principle (posterior band, noise part only); fir = baseline ridge "
        "FIR filter on 20 lagged samples of each sensor and the parameters; params-only = "
        "baseline history from the machining parameters alone (no sensor). The networks and the "
        "baselines never saw these three conditions in training. " + _data_sentence(metrics),
        "",
        "| condition | method | sensor RMSE vs measured (K) | vs clean (K) | boundary RMSE (K) "
        "| LOSO RMSE (K) | band coverage: calibrated (raw) | time (ms) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, c in metrics["conditions"].items():
        for name, m in c.get("methods", {}).items():
            s = m["sensors"]["all"]
            b = f"{m['boundary']['rmse']:.2f}" if m["boundary"] else "–"
            lo = f"{m['loso']['mean']['rmse']:.2f}" if m["loso"] else "–"
            cov = f"{m['band_coverage']:.2f}" if m["band_coverage"] is not None else "–"
            if m.get("band_coverage_raw") is not None:
                cov += f" ({m['band_coverage_raw']:.2f})"
            ms = 1e3 * m["reconstruct_s"]
            lines.append(
                f"| {label} | {name} | {s['rmse']:.2f} | {s['rmse_clean']:.2f} | {b} | {lo} "
                f"| {cov} | {ms:.0f} |"
            )
    lines += _calibration_lines(metrics)
    w = metrics.get("weights") or {}
    if w.get("source"):
        lines += ["", f"Network weights: {w['source']}."]
        for kind in ("student", "teacher"):
            tc = (w.get(kind) or {}).get("test_set")
            if tc:
                tc = tc if isinstance(tc, list) else [tc]
                r2 = ", ".join(f"{t['r2']:.3f}" for t in tc)
                rmse = ", ".join(f"{t['rmse_c']:.1f}" for t in tc)
                lines.append(
                    f"Held-out test records of the generating model, pooled R² / RMSE (K) of the "
                    f"{kind} (per member): {r2} / {rmse}."
                )
        if w.get("max_abs_difference_to_shipped") is not None:
            lines.append(
                "Retrained vs shipped weights, max |difference|: "
                f"{w['max_abs_difference_to_shipped']:g}."
            )
    lines += _default_section(w.get("default"))
    return lines


def _default_section(default: dict | None) -> list[str]:
    """Which method is the default and why: the boundary RMSE of each method on the generating
    model's held-out records (recorded with the weights when they were trained), under every
    uncertainty and with no model error, at σ = 5 K."""
    if not default:
        return []
    name = default["method"]
    lines = ["", "## Default method", ""]
    held = default.get("held_out")
    if not held:
        return lines + [
            f"Default `--method`: `{name}`. The weights carry no held-out measurement (retrain "
            "them with `--retrain`); see `python -m cases.ihcp_robustness`."
        ]
    rmse, cov = held["boundary_rmse"], held.get("coverage", {})
    methods = sorted(set(rmse.get("all", {})) | set(rmse.get("none", {})))
    lines += [
        f"Boundary RMSE (K) at σ = {held['sigma_K']:g} K on the generating model's held-out "
        f"records ({held['records']}; finer mesh and step than the inverse's, realistic sensors, "
        "random F1 histories, model draws never trained on), measured with these weights when "
        "they were trained; `all` = every model uncertainty, `none` = no model error (the "
        "discretisation gap only):",
        "",
        "| method | all | none | band coverage (all) |",
        "|---|---|---|---|",
    ]
    for m in methods:
        a, n = rmse.get("all", {}).get(m), rmse.get("none", {}).get(m)
        c = cov.get(m)
        cells = ["–" if v is None else f"{v:.1f}" for v in (a, n)]
        lines.append(f"| {m} | {cells[0]} | {cells[1]} | {'–' if c is None else f'{c:.2f}'} |")
    best = default.get("best_all")
    under_all = rmse.get("all", {})
    lines.append("")
    if best == name:
        others = ", ".join(f"{m} {v:.1f} K" for m, v in sorted(under_all.items()) if m != name)
        text = (
            f"Default `--method`: `{name}`, because it has the lowest boundary RMSE under every "
            f"uncertainty together ({under_all[name]:.1f} K; {others})."
        )
        none = rmse.get("none", {})
        if none and min(none, key=none.get) != name:
            alt = min(none, key=none.get)
            text += (
                f" With no model error `{alt}` is better ({none[alt]:.1f} vs "
                f"{none[name]:.1f} K): choose it where the tool's model is known to be exact."
            )
    else:
        text = (
            f"Default `--method`: `{name}`; but on these records `{best}` has the lowest "
            f"boundary RMSE under every uncertainty ({under_all.get(best, float('nan')):.1f} vs "
            f"{under_all.get(name, float('nan')):.1f} K), so `--method {best}` is the better "
            "choice there."
        )
    if cov.get(name) is not None:
        text += (
            f" The band of `{name}` covers the truth {cov[name]:.2f} of the time (target 0.95): "
            "it is not a calibrated uncertainty."
        )
    return lines + [text]


def comparable_numbers(tree, path: str = "") -> dict[str, float]:
    """``{path: value}`` of every number of a main-job ``metrics.json`` that another run of the
    same job must reproduce (another rank count: ``benchmarks.end_to_end``, the 2-rank test):
    timings (``*_s``, ``timings``), memory (``peak*``), the rank count and the band coverage
    fractions (counts of samples inside a band, which a round-off change can move by one) are
    left out."""
    out: dict[str, float] = {}
    if isinstance(tree, dict):
        for key, value in tree.items():
            out |= comparable_numbers(value, f"{path}/{key}")
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            out |= comparable_numbers(value, f"{path}[{i}]")
    elif isinstance(tree, int | float) and not isinstance(tree, bool):
        skip = path.endswith("_s") or "timing" in path or "coverage" in path or "peak" in path
        if not skip and path != "/n_ranks":
            out[path] = float(tree)
    return out


def run_differences(a: Path, b: Path) -> dict[str, float]:
    """Largest relative differences between two main-job folders: ``metrics_rel`` over the
    :func:`comparable_numbers` both hold (``n_numbers``), ``csv_rel`` over every column of every
    ``<condition>/sensors.csv`` (relative to the column's largest magnitude)."""
    ma, mb = (json.loads((d / "metrics.json").read_text(encoding="utf-8")) for d in (a, b))
    na, nb = comparable_numbers(ma), comparable_numbers(mb)
    common = na.keys() & nb.keys()
    rel = [abs(na[k] - nb[k]) / max(abs(na[k]), abs(nb[k]), 1e-300) for k in common]
    worst_csv = 0.0
    for csv in a.glob("*/sensors.csv"):
        x = np.genfromtxt(csv, delimiter=",", names=True)
        y = np.genfromtxt(b / csv.relative_to(a), delimiter=",", names=True)
        for name in x.dtype.names:
            scale = max(float(np.abs(x[name]).max()), 1e-300)
            worst_csv = max(worst_csv, float(np.abs(x[name] - y[name]).max()) / scale)
    return {"metrics_rel": max(rel, default=0.0), "csv_rel": worst_csv, "n_numbers": len(common)}

"""Tool wear from cutting forces (paper 003, issues 7 and 16): virtual experiment, users' force
records or users' feature tables -> tuned tree-free regressors + voting, judged by
leave-one-tool-out beside the paper's random 80/20 split, with baselines; Taguchi L9 S/N + ANOVA.

Run ``python -m cases.tool_wear --quick --out results/tool_wear`` (a few minutes on 2 cores: 3
tools, 1 s records, 2-3 tuning folds) or without ``--quick`` for the full study (5 tools, 4 s
records, up to 5 tuning folds, larger grids). Inputs:

* ``--data labels.csv | records.npz``: measured force records (:mod:`surrogates.wear.data`);
  a ``tool`` column / array gives the group, ``usage`` the time in use.
* ``--features FILE.csv --target COL [--group COL] [--usage COL]``: one row per record,
  numeric feature columns of any names, the wear target (µm), the tool label and the time in
  use (cut number, minutes; strictly increasing within a tool). Feature extraction is skipped;
  z-score, MI selection, models, voting and reports run on the table.

Protocol: with group labels (>= 3 groups) the headline is leave-one-group-out (tuning inside
the training groups); the paper's random 80/20 split is always reported as a second, labelled
protocol. Baselines: the training mean and, with a time-in-use column, a usage-only regressor.
Outputs are written into a staged folder and published as ``--out`` only when complete.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from cases.exits import run_main  # noqa: E402
from thermo.atomic import atomic_write_json, atomic_write_text, check_output_dir, staged_dir  # noqa: E402

# surrogates (JAX, scikit-learn, statsmodels) is imported inside functions: ``--help`` stays fast.

SCORE_KEYS = ("r2", "rmse", "mse", "mae")
GOAL_RATIO = 1.3  # issue 16: voting RMSE under leave-one-tool-out within 1.3x its random-split RMSE


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m cases.tool_wear",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", type=Path, default=Path("results/tool_wear"), help="output folder")
    p.add_argument("--seed", type=int, default=0, help="seed of data, split, CV and models")
    p.add_argument("--quick", action="store_true", help="3 tools, 1 s records, small grids")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--data", type=Path, default=None, help="users' records: labels .csv or .npz")
    src.add_argument("--features", type=Path, default=None, help="users' feature table (.csv)")
    p.add_argument("--target", help="--features: wear column (µm)")
    p.add_argument("--group", help="--features: tool (group) column")
    p.add_argument("--usage", help="--features: time-in-use column (cut number, minutes)")
    p.add_argument("--fs-hz", type=float, default=None, help="sampling rate of CSV records")
    p.add_argument("--spindle-rpm", type=float, default=10_000.0, help="spindle speed, r/min")
    p.add_argument("--flutes", type=int, default=4, help="number of flutes")
    p.add_argument("--k-features", type=int, default=30, help="features kept by MI selection")
    p.add_argument("--tools", type=int, default=None, help="virtual tools (default 5, quick 3)")
    p.add_argument(
        "--tool-reference",
        type=int,
        default=0,
        metavar="N",
        help="also give every record its features minus the mean of its tool's first N records "
        "(features only, no labels; needs tool labels; default 0: off)",
    )
    args = p.parse_args(argv)
    if args.features is None and (args.target or args.group or args.usage):
        p.error("--target/--group/--usage belong to --features")
    if args.features is not None and not args.target:
        p.error("--features needs --target COL (the wear column)")
    if args.k_features < 1:
        p.error("--k-features must be >= 1")
    if args.tool_reference < 0:
        p.error("--tool-reference must be >= 0")
    return args


def _inputs(args: argparse.Namespace, setup, tmp: Path):
    """(x, y, names, groups, usage, usage_unit, info) from the chosen source."""
    from surrogates.wear.data import load_feature_table, load_records
    from surrogates.wear.features import feature_names
    from surrogates.wear.forces import SignalOptions
    from surrogates.wear.growth import wear_campaign
    from surrogates.wear.pipeline import feature_matrix, record_labels

    if args.features is not None:
        t = load_feature_table(
            args.features, target=args.target, group=args.group, usage=args.usage
        )
        info = {
            "source": str(args.features),
            "records": len(t.y),
            "target": args.target,
            "group": args.group,
            "usage": args.usage,
        }
        return t.x, t.y, t.names, t.groups, t.usage, args.usage, info
    if args.data is not None:
        records = load_records(args.data, fs_hz=args.fs_hz)
        info = {"source": str(args.data), "records": len(records)}
        usage_unit = "usage"
    else:
        n_tools = args.tools or (3 if args.quick else 5)
        cut_s = 1.0 if args.quick else 4.0
        campaign = list(
            wear_campaign(
                setup,
                n_tools=n_tools,
                passes_per_tool=60,
                options=SignalOptions(cut_s=cut_s),
                seed=args.seed,
            )
        )
        _plot_campaign(campaign, tmp)
        info = {
            "source": "virtual experiment",
            "tools": n_tools,
            "passes_per_tool": 60,
            "cut_s": cut_s,
        }
        records = [c.record for c in campaign]
        usage_unit = "cut length (m)"
    groups, usage = record_labels(records)
    x, y = feature_matrix(records, spindle_hz=setup.spindle_hz, flutes=setup.flutes, progress=True)
    names = feature_names()
    names = names if len(names) == x.shape[1] else [f"x{i}" for i in range(x.shape[1])]
    return x, y, names, groups, usage, usage_unit, info


def _plot_campaign(campaign: list, tmp: Path) -> None:
    from surrogates.wear.features import lowpass, trim_engagement
    from surrogates.wear.growth import WearCurve

    fig, ax = plt.subplots(figsize=(6, 4))
    for tool in sorted({c.tool for c in campaign}):
        rows = [c for c in campaign if c.tool == tool]
        ax.plot(
            [c.length_m for c in rows], [c.record.vb_um for c in rows], ".", label=f"tool {tool}"
        )
    length = np.linspace(0, max(c.length_m for c in campaign), 200)
    ax.plot(length, WearCurve()(length), "k-", label="nominal curve")
    ax.set(xlabel="cut length L (m)", ylabel="flank wear VB (µm)", title="Three-stage wear (§2.1)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(tmp / "wear_curve.png", dpi=120)
    plt.close(fig)
    tool0 = [c.record for c in campaign if c.tool == 0]
    first, last = tool0[0], max(tool0, key=lambda r: r.vb_um)
    fig, axes = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
    for ax, rec in zip(axes, (first, last), strict=True):
        t = np.arange(len(rec.forces)) / rec.fs_hz
        keep = trim_engagement(lowpass(rec.forces.astype(float), fs_hz=rec.fs_hz), fs_hz=rec.fs_hz)
        for i, axis in enumerate("xyz"):
            ax.plot(t, rec.forces[:, i], lw=0.3, label=f"F{axis}")
        ax.axvspan(t[keep.start], t[keep.stop - 1], color="g", alpha=0.1, label="kept")
        ax.set(ylabel="force (N)", title=f"VB = {rec.vb_um:.0f} µm")
    axes[0].legend(ncol=4, fontsize=8)
    axes[1].set_xlabel("time (s)")
    fig.tight_layout()
    fig.savefig(tmp / "force_records.png", dpi=120)
    plt.close(fig)


def _protocol_table(res) -> pd.DataFrame:
    """One row per model/ensemble/baseline: mean RMSE, MAE, R² (and per-fold RMSE)."""
    rows = []
    for name, s in res.scores.items():
        row = {
            "model": name,
            "rmse": s["rmse"],
            "mae": s["mae"],
            "r2": s["r2"],
            "nrmse": s["nrmse"],
        }
        for g, v in s.get("folds", {}).items():
            row[f"rmse_{g}"] = v
        rows.append(row)
    return pd.DataFrame(rows)


def _paper_tables(res, tmp: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tables 7–8 analogues on the random split (the paper's protocol)."""
    from surrogates.wear.metrics import PAPER_TABLE7, PAPER_TABLE8

    def ours(name):
        s = res.scores[name]
        return {"source": f"ours ({res.protocol})", "model": name, **{k: s[k] for k in SCORE_KEYS}}

    rows = [
        {"source": "paper", "model": m, **dict(zip(SCORE_KEYS, v, strict=True))}
        for m, v in PAPER_TABLE7.items()
    ]
    rows += [ours(m) for m in (*res.singles, "baseline_mean", "baseline_usage") if m in res.scores]
    table7 = pd.DataFrame(rows)
    best = min(res.singles, key=lambda m: res.scores[m]["rmse"])
    rows = [
        {"source": "paper", "model": m, **dict(zip(SCORE_KEYS, v, strict=True))}
        for m, v in PAPER_TABLE8.items()
    ]
    rows += [ours(m) for m in (best, "voting", "voting_weighted")]
    table8 = pd.DataFrame(rows)
    table7.to_csv(tmp / "table7_models.csv", index=False)
    table8.to_csv(tmp / "table8_voting.csv", index=False)
    return table7, table8


def _tuning(results: dict, tmp: Path) -> None:
    rows = [
        {
            "protocol": proto,
            "model": t.name,
            "params": json.dumps(t.params, default=str),
            "cv_mse": t.cv_mse,
            "seconds": t.seconds,
        }
        for proto, res in results.items()
        for t in res.fitted.tuned
    ]
    pd.DataFrame(rows).to_csv(tmp / "tuning.csv", index=False)


def _plot_predictions(res, names: list[str], tmp: Path) -> None:
    models = list(res.predictions)
    cols = 4
    rows = -(-len(models) // cols)
    for kind in ("pred_vs_true", "residuals"):
        fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 2.8 * rows), squeeze=False)
        for ax, name in zip(axes.flat, models, strict=False):
            pred = res.predictions[name]
            if kind == "pred_vs_true":
                ax.plot(res.y_test, pred, ".", ms=4)
                lim = [min(res.y_test.min(), pred.min()), max(res.y_test.max(), pred.max())]
                ax.plot(lim, lim, "k--", lw=0.8)
                ax.set(xlabel="true VB (µm)", ylabel="predicted VB (µm)")
            else:
                ax.plot(pred, pred - res.y_test, ".", ms=4)
                ax.axhline(0, color="k", lw=0.8)
                ax.set(xlabel="predicted VB (µm)", ylabel="residual (µm)")
            ax.set_title(f"{name}  RMSE={res.scores[name]['rmse']:.1f}", fontsize=9)
        for ax in axes.flat[len(models) :]:
            ax.axis("off")
        fig.suptitle(f"test predictions, {res.protocol}")
        fig.tight_layout()
        fig.savefig(tmp / f"{kind}.png", dpi=110)
        plt.close(fig)
    sel = res.fitted.selection
    order = np.argsort(-sel.scores)[:20]
    fig, ax = plt.subplots(figsize=(7, 5))
    ax.barh([names[i] for i in order][::-1], sel.scores[order][::-1])
    ax.set(
        xlabel="mutual information with VB (nats)",
        title=f"Top-20 features (training part, {res.protocol})",
    )
    fig.tight_layout()
    fig.savefig(tmp / "feature_importance.png", dpi=120)
    plt.close(fig)


def _taguchi(seed: int, tmp: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    from surrogates.wear import taguchi

    design = taguchi.l9_array()[:, :3]
    lv = taguchi.PAPER_LEVELS
    n, ae, feed = (np.asarray(lv[k])[design[:, i] - 1] for i, k in enumerate(("n", "ae", "F")))
    ra = taguchi.virtual_roughness(spindle_rpm=n, ae_mm=ae, feed_mm_min=feed, seed=seed)
    sn = taguchi.sn_smaller_the_better(ra)
    runs = pd.DataFrame(
        {"n_rpm": n, "ae_mm": ae, "F_mm_min": feed, "Ra_mean_um": ra.mean(1), "sn_db": sn}
    )
    runs.to_csv(tmp / "taguchi_runs.csv", index=False)
    anova = taguchi.anova_contributions(sn, design)
    anova["paper_table5_rotary_pct"] = [
        taguchi.PAPER_TABLE5["rho"].get(f, np.nan) for f in anova["factor"]
    ]
    anova["paper_table6_hybrid_pct"] = [
        taguchi.PAPER_TABLE6["rho"].get(f, np.nan) for f in anova["factor"]
    ]
    anova.to_csv(tmp / "taguchi_anova.csv", index=False)
    check = []
    for label, table in (("Table 5", taguchi.PAPER_TABLE5), ("Table 6", taguchi.PAPER_TABLE6)):
        means = np.array([table["levels"][k] for k in ("n", "ae", "F")])
        ss = taguchi.ss_from_level_means(means)
        total = sum(table["ss"][k] for k in ("n", "ae", "F", "Error"))
        for k, s in zip(("n", "ae", "F"), ss, strict=True):
            check.append(
                {
                    "table": label,
                    "factor": k,
                    "ss_printed": table["ss"][k],
                    "ss_from_level_means": s,
                    "rho_printed": table["rho"][k],
                    "rho_from_ss_sum": 100 * table["ss"][k] / total,
                }
            )
        check.append(
            {
                "table": label,
                "factor": "Total",
                "ss_printed": table["ss"]["Total"],
                "ss_sum_of_rows": total,
            }
        )
    check = pd.DataFrame(check)
    check.to_csv(tmp / "paper_anova_check.csv", index=False)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for i, f in enumerate(("n", "ae", "F")):
        ax.plot(np.arange(3) + 4 * i, anova.loc[i, ["level1", "level2", "level3"]], "o-", label=f)
    ax.set(ylabel="mean S/N (dB)", xticks=[], title="Factor response (Fig. 11 analogue)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(tmp / "taguchi_response.png", dpi=120)
    plt.close(fig)
    return anova, check


def md(df: pd.DataFrame) -> str:
    """GitHub Markdown table (pandas' to_markdown needs tabulate, not installed)."""

    def cell(v) -> str:
        if isinstance(v, float):
            return "" if np.isnan(v) else f"{v:.4g}"
        return str(v)

    lines = ["| " + " | ".join(map(str, df.columns)) + " |", "|" + "---|" * df.shape[1]]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(False)]
    return "\n".join(lines)


def _goal(results: dict) -> dict | None:
    from surrogates.wear.pipeline import GROUPED, RANDOM

    if GROUPED not in results:
        return None
    g, r = (results[p].scores["voting"]["rmse"] for p in (GROUPED, RANDOM))
    return {
        "voting_rmse_grouped": g,
        "voting_rmse_random": r,
        "ratio": g / r,
        "target_ratio": GOAL_RATIO,
        "met": bool(g / r <= GOAL_RATIO),
    }


def _report(tmp, info, results, headline, table7, table8, anova, check, goal, seconds) -> None:
    from surrogates.wear.pipeline import GROUPED, RANDOM

    sections = []
    for proto in (headline, *[p for p in results if p != headline]):
        res = results[proto]
        beats = res.voting_beats_every_single_model()
        if proto == GROUPED:
            desc = (
                f"each of the {len(res.groups)} groups ({', '.join(res.groups)}) held out "
                "in turn; z-score, MI selection and tuning (GroupKFold over the training "
                "groups) fitted on the other groups; mean over folds, per-fold RMSE in the "
                "`rmse_<group>` columns"
            )
        else:
            desc = (
                f"records drawn at random, {res.n_train} training / {res.n_test} test "
                "(seeded 80/20, the paper's protocol; tuning by shuffled KFold). With "
                "several passes per tool it puts near-copies of test records in training"
            )
        sections.append(
            f"## Protocol `{proto}`{' (headline)' if proto == headline else ''}\n\n{desc}.\n\n"
            f"{md(_protocol_table(res))}\n\n"
            "Voting beats every single model (lower RMSE than each): "
            f"**{'yes' if beats else 'no'}**"
            f" (voting {res.scores['voting']['rmse']:.2f} µm; best single "
            f"{min(res.singles, key=lambda m: res.scores[m]['rmse'])} "
            f"{min(res.scores[m]['rmse'] for m in res.singles):.2f} µm).\n"
        )
    goal_text = "(no group labels: leave-one-group-out not run)"
    if goal:
        goal_text = (
            f"Voting RMSE leave-one-group-out {goal['voting_rmse_grouped']:.2f} µm vs random "
            f"split {goal['voting_rmse_random']:.2f} µm: ratio {goal['ratio']:.2f} (goal <= "
            f"{GOAL_RATIO}: {'met' if goal['met'] else 'not met'}). What limits it: a held-out "
            "tool has its own force coefficients, run-out and wear-rate factor, none seen in "
            "training, so the feature-to-VB map must extrapolate across tools; the random split "
            "interpolates between neighbouring passes of tools it has seen."
        )
    campaign_figures = (
        "![wear curve](wear_curve.png)\n![force records](force_records.png)"
        if (tmp / "wear_curve.png").is_file()
        else "(users' data: no virtual campaign figures)"
    )
    res_r = results[RANDOM]
    text = f"""# Tool wear from cutting forces (paper 003)

Data: {json.dumps(info)}. VB in µm; `nrmse` = RMSE / std(VB of the test part). The paper's VB
unit is not stated (its tables imply a test-set std of 1.05, likely a standardised target):
compare R² and `nrmse` with its RMSE. Baselines: `baseline_mean` (training mean),
`baseline_usage` (wear as a smooth function of time in use alone, no sensors; only with a
time-in-use column). Tree models (DT, RF, extra trees, XGB, LGBM, AdaBoost) are not used.
Wall time {seconds:.0f} s. Metrics: [metrics.json](metrics.json).

## Goal: leave-one-tool-out against the random split

{goal_text}

{chr(10).join(sections)}
## Table 7 analogue: single models ({res_r.protocol}) — [CSV](table7_models.csv)

{md(table7)}

## Table 8 analogue: best single model vs voting ({res_r.protocol}) — [CSV](table8_voting.csv)

{md(table8)}

Tuning by cross-validation inside the training part: [tuning.csv](tuning.csv).

![predicted vs true](pred_vs_true.png)
![residuals](residuals.png)
![feature importance](feature_importance.png)

## Wear curve and records

{campaign_figures}

## Taguchi L9 on virtual roughness (Tables 5–6 analogue) — [CSV](taguchi_anova.csv)

The roughness data are virtual: a power law Ra = C fz^1.2 ae^0.45 vc^0.9 whose exponents were
**chosen so that the factors rank as in the paper** (feed first, radial depth second, spindle
speed last), not fitted to measurements; the ranking is therefore by construction, not a
finding. Our contribution percentages (`contribution_pct`) stand beside the paper's (Table 5,
rotary ultrasonic-assisted; Table 6, hybrid-assisted).

{md(anova)}

![factor response](taguchi_response.png)

Arithmetic of the paper's own tables — [CSV](paper_anova_check.csv) (Table 6's printed total
82.49 disagrees with its SS rows, which sum to 85.49; its contributions use 85.49):

{md(check)}
"""
    atomic_write_text(tmp / "report.md", text)


def _public(scores: dict) -> dict:
    """metrics.json form of a protocol's scores (fold_scores kept, arrays none)."""
    return {name: dict(s) for name, s in scores.items()}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    check_output_dir(args.out)
    for path in (args.data, args.features):
        if path is not None and not path.is_file():
            raise FileNotFoundError(f"{path}: input file not found")
    from surrogates.wear.forces import MillingSetup
    from surrogates.wear.pipeline import GROUPED, RANDOM, run_protocol

    t0 = time.perf_counter()
    setup = MillingSetup(spindle_rpm=args.spindle_rpm, flutes=args.flutes)
    with staged_dir(args.out) as tmp:
        x, y, names, groups, usage, usage_unit, info = _inputs(args, setup, tmp)
        if args.tool_reference:
            from surrogates.wear.pipeline import tool_reference_features

            if groups is None:
                raise ValueError("--tool-reference needs tool (group) labels in the data")
            x = tool_reference_features(x, groups, usage, n_ref=args.tool_reference)
            names = [*names, *(f"rel_{n}" for n in names)]
            info["tool_reference"] = args.tool_reference
        n_groups = 0 if groups is None else len(set(groups))
        protocols = [GROUPED, RANDOM] if n_groups >= 3 else [RANDOM]
        if groups is not None and n_groups < 3:
            info["note"] = f"only {n_groups} group(s): leave-one-group-out needs >= 3"
        folds = 3 if args.quick else 5
        info["cv_folds_max"] = folds
        results = {
            proto: run_protocol(
                x,
                y,
                protocol=proto,
                groups=groups,
                usage=usage,
                k_features=args.k_features,
                folds=folds,
                quick=args.quick,
                seed=args.seed,
                progress=True,
            )
            for proto in protocols
        }
        headline = protocols[0]
        res = results[headline]
        for proto, r in results.items():
            _protocol_table(r).to_csv(tmp / f"table_{proto}.csv", index=False)
        table7, table8 = _paper_tables(results[RANDOM], tmp)
        _tuning(results, tmp)
        _plot_predictions(res, names, tmp)
        anova, check = _taguchi(args.seed, tmp)
        goal = _goal(results)
        seconds = time.perf_counter() - t0
        metrics = {
            "protocol": headline,
            "unit": "µm (VB); mse in µm²",
            "usage_unit": usage_unit if usage is not None else None,
            "data": info,
            "models": _public(res.scores),
            "voting_beats_every_single_model": res.voting_beats_every_single_model(),
            "protocols": {
                proto: {
                    "models": _public(r.scores),
                    "voting_beats_every_single_model": r.voting_beats_every_single_model(),
                    "n_train": r.n_train,
                    "n_test": r.n_test,
                    "groups": r.groups,
                }
                for proto, r in results.items()
            },
            "goal_grouped_within_1p3x_random": goal,
            "voting_weights": dict(
                zip(
                    res.singles,
                    map(float, _weights(res.fitted.ensembles["voting_weighted"])),
                    strict=True,
                )
            ),
            "selected_features": [names[i] for i in res.fitted.selection.indices],
            "taguchi_contribution_pct": dict(
                zip(anova["factor"], anova["contribution_pct"], strict=True)
            ),
            "seconds": seconds,
        }
        atomic_write_json(tmp / "metrics.json", metrics)
        _report(tmp, info, results, headline, table7, table8, anova, check, goal, seconds)
    v = res.scores["voting"]
    print(
        f"wrote {args.out} in {time.perf_counter() - t0:.0f} s; {headline}: voting "
        f"RMSE = {v['rmse']:.2f} µm, R² = {v['r2']:.4f}"
    )
    return 0


def _weights(ens) -> np.ndarray:
    from surrogates.wear.voting import voting_weights

    return voting_weights(ens)


if __name__ == "__main__":
    raise SystemExit(run_main(main, "cases.tool_wear"))

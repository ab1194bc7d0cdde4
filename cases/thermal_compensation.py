"""Paper 001 end to end: virtual machining centre -> MI selection -> 415-parameter BiLSTM ->
structure screening -> A × B × C factorial -> Type II ANOVA -> recommended transfer settings.

    python -m cases.thermal_compensation --out results/compensation --quick
    mpirun -n 2 python -m cases.thermal_compensation --out results/compensation  # split

Writes into ``--out`` (atomically, :func:`thermo.atomic.staged_dir`: nothing changes there
unless the whole run succeeds): ``data_*.csv``
(the virtual measurements, same layout as real data read with ``--data-delivery/--data-aged``),
``mi_ranking.csv``, ``table5_pretrained.csv``, ``table6_screening.csv``, ``factorial.csv``,
``table7_anova.csv``, ``tables8_10_main_effects.csv``, ``table11_recommended.csv``, figures
``fig10_main_effects.png``, ``fig11_AxB.png``, ``fig12_AxC.png``, ``fig13_BxC.png``,
``fig14_three_way.png``, ``metrics.json`` and ``report.md``. Paper values appear next to ours
for comparison only; nothing of ours is taken from them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from cases.exits import run_main
from thermo.atomic import check_output_dir, staged_dir

#: paper values, for the "paper" columns of the comparison tables only
PAPER_TABLE5 = {
    "H1'": 0.51,
    "H2'": 1.16,
    "H3'": 2.30,
    "H4'": 2.39,
    "H5'": 0.93,
    "H6'": 1.03,
    "H7'": 1.21,
    "H8'": 1.24,
    "H9'": 1.97,
    "H10'": 1.20,
    "H11'": 1.35,
    "H12'": 1.13,
    "H13'": 1.84,
    "H14'": 5.71,
    "H15'": 4.01,
    "H16'": 1.17,
}
PAPER_TABLE7 = {
    "A": (15031.82, 3, 4473.78, 0.0),
    "B": (1884.69, 7, 240.4, 2.88e-260),
    "C": (407.66, 8, 45.5, 1.37e-67),
    "A:B": (2673.63, 21, 113.68, 1e-322),
    "A:C": (647.43, 24, 24.09, 8.77e-93),
    "B:C": (318.67, 56, 5.08, 1.01e-29),
    "A:B:C": (520.99, 168, 2.77, 1.29e-25),
    "Residual": (2257.91, 2016, None, None),
}
PAPER_MAIN = {
    "A": {"A1": 5.49, "A2": 4.75, "A3": 4.70, "A4": 10.84},
    "B": {
        "B1": 4.15,
        "B2": 6.54,
        "B3": 7.08,
        "B4": 7.14,
        "B5": 6.53,
        "B6": 6.52,
        "B7": 7.07,
        "B8": 6.52,
    },
    "C": {
        "C1": 6.19,
        "C2": 7.48,
        "C3": 6.22,
        "C4": 6.27,
        "C5": 6.58,
        "C6": 6.66,
        "C7": 6.068,
        "C8": 6.46,
        "C9": 6.065,
    },
}
PAPER_A_LEVELS = [
    ("none", "none", "none", "dense"),
    ("none", "lstm", "none", "none"),
    ("none", "lstm", "none", "dense"),
    ("none", "dense", "none", "lstm"),
]
PAPER_TABLE11 = {
    "transfer (best)": 3.47,
    "direct test": 3.88,
    "retrain C9": 3.84,
    "retrain H1–H18": 3.21,
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m cases.thermal_compensation",
        description="Transfer learning of a thermal-error compensation model (paper 001).",
    )
    p.add_argument("--out", type=Path, default=Path("results/thermal_compensation"))
    p.add_argument("--seed", type=int, default=0, help="seed of noise, initialisation, shuffles")
    p.add_argument(
        "--quick",
        action="store_true",
        help="coarse sampling, 2 repeats, single-insert screening (a few minutes)",
    )
    p.add_argument("--sampling", type=float, default=None, help="sampling interval s (60/300)")
    p.add_argument("--repeats", type=int, default=None, help="repeats per cell (5; quick: 2)")
    p.add_argument("--epochs", type=int, default=20, help="training epochs (paper: 20)")
    p.add_argument(
        "--screen",
        choices=("all", "singles", "paper"),
        default=None,
        help="structures screened for factor A (all 80; quick: singles)",
    )
    p.add_argument("--data-delivery", type=Path, help="CSV of real delivery-state records")
    p.add_argument("--data-aged", type=Path, help="CSV of real aged-state records")
    g = p.add_argument_group(
        "any machine's columns",
        "--machine-csv FILE: one time series, compensator trained before --test-from and scored "
        "after it. The column options also map --data-delivery/--data-aged files (which then "
        "need a condition column with the names H1'..H16' / H1..H20).",
    )
    g.add_argument("--machine-csv", type=Path, help="one machine's CSV time series")
    g.add_argument("--time-column", default=None, help="time column, s (default time_s)")
    g.add_argument("--temperature-columns", default=None, help="comma-separated, °C")
    g.add_argument("--drift-column", default=None, help="thermal drift column, µm (default dz_um)")
    g.add_argument("--speed-column", default=None, help="optional spindle speed column, r/min")
    g.add_argument("--condition-column", default="condition", help="for --data-* files")
    g.add_argument("--test-from", type=float, default=None, help="first test time, s")
    g.add_argument(
        "--regions", default=None, help="optional NAME=COL,COL;NAME=COL (best per region)"
    )
    g.add_argument(
        "--n-inputs", type=int, default=3, help="inputs selected by MI without --regions"
    )
    g.add_argument("--window", type=int, default=1, help="past samples per input (paper: 1)")
    g.add_argument("--stride", type=int, default=1, help="samples between window entries")
    return p


def _columns(args):
    """The user's column mapping (None when the file has our own layout)."""
    from surrogates.compensation.machine_csv import MachineColumns, parse_list

    if args.temperature_columns is None:
        if args.machine_csv is not None:
            raise ValueError("--machine-csv needs --temperature-columns A,B,...")
        return None
    return MachineColumns(
        time=args.time_column or "time_s",
        temperatures=parse_list(args.temperature_columns, "--temperature-columns"),
        drift=args.drift_column or "dz_um",
        speed=args.speed_column,
    )


def _read_records(args, path):
    from surrogates.compensation.data import read_records_csv

    cols = _columns(args)
    if cols is None:
        return read_records_csv(path, condition_column=args.condition_column)
    return read_records_csv(
        path, time_column=cols.time, drift_column=cols.drift,
        condition_column=args.condition_column, temperature_columns=list(cols.temperatures),
        speed_column=cols.speed,
    )  # fmt: skip


def run_machine_csv(args: argparse.Namespace) -> Path:
    """``--machine-csv``: MI selection, compensator, ridge and no compensation on one series;
    writes ``metrics.json``, ``mi_ranking.csv``, ``predictions.csv``, ``drift_compensated.png``
    and ``report.md`` into ``--out``."""
    from surrogates.compensation import plots
    from surrogates.compensation.machine_csv import (
        compensate_series,
        parse_regions,
        read_machine_csv,
    )
    from surrogates.compensation.transfer import FineTuneConfig

    cols = _columns(args)
    if args.test_from is None:
        raise ValueError("--machine-csv needs --test-from SECONDS (first test record's time)")
    table = read_machine_csv(args.machine_csv, cols)
    res = compensate_series(
        table, cols, test_from=args.test_from, regions=parse_regions(args.regions),
        n_inputs=args.n_inputs, window=args.window, stride=args.stride,
        repeats=args.repeats or 3, config=FineTuneConfig(epochs=args.epochs), seed=args.seed,
        source=str(args.machine_csv),
    )  # fmt: skip
    m = {"machine_csv": str(args.machine_csv), "seed": args.seed, **res.metrics}
    with staged_dir(args.out) as tmp:
        res.ranking.to_csv(tmp / "mi_ranking.csv", index=False)
        pred = pd.DataFrame({"time_s": res.time_s, "drift_um": res.drift_um, "test": res.test})
        for k, v in res.predictions.items():
            pred[f"{k}_um"] = v
        pred.to_csv(tmp / "predictions.csv", index=False)
        title = f"{args.machine_csv.name}: test from {args.test_from:g} s"
        plots.drift_comparison(
            res.time_s,
            res.drift_um,
            res.predictions,
            res.test,
            tmp / "drift_compensated.png",
            title=title,
        )
        (tmp / "metrics.json").write_text(json.dumps(m, indent=2) + "\n")
        rows = pd.DataFrame(m["models"]).T
        (tmp / "report.md").write_text(
            f"# Compensation of {args.machine_csv.name}\n\nInputs by MI: {m['selected_inputs']}; "
            f"{m['n_train_records']} training records ({m['n_validation_records']} of them for "
            f"early stopping), {m['n_test_records']} test records from {args.test_from:g} s.\n\n"
            + _block(rows)
            + "\n\n![drift](drift_compensated.png)\n"
        )
    return Path(args.out)


def _records(args, state: str, sampling: float):
    path = args.data_delivery if state == "delivery" else args.data_aged
    if path is not None:
        return _read_records(args, path)
    from thermo.machine.centre import simulate_state

    return simulate_state(state, sampling_interval_s=sampling, seed=args.seed)


def _structures(mode: str):
    from surrogates.compensation.model import POSITIONS, all_structures

    if mode == "all":
        return all_structures()
    singles = [
        tuple(k if i == j else "none" for j in range(4))
        for i in range(4)
        for k in ("dense", "lstm")
    ]
    assert len(singles) == 2 * len(POSITIONS)
    return list(dict.fromkeys(PAPER_A_LEVELS if mode == "paper" else singles + PAPER_A_LEVELS))


def _prepare(args, sampling: float, repeats: int, config, tmp: Path | None):
    """Rank-0 part: records, MI selection, features, pretraining (files written into ``tmp``).

    Returns ``(selected inputs, aged features, pretrained parameters as a pure dict, pretrained
    RMSE per condition, RMSE_avg)``.
    """
    from flax import nnx

    from surrogates.compensation import data as cdata
    from surrogates.compensation.pretrain import DELIVERY_TRAIN, pretrain
    from surrogates.compensation.selection import rank_candidates, select

    rec21 = _records(args, "delivery", sampling)
    rec24 = _records(args, "aged", sampling)
    cdata.write_records_csv(rec21, tmp / "data_delivery.csv")
    cdata.write_records_csv(rec24, tmp / "data_aged.csv")
    ranking = rank_candidates({n: rec21[n] for n in DELIVERY_TRAIN}, seed=args.seed)
    ranking.to_csv(tmp / "mi_ranking.csv", index=False)
    selected = select(ranking)
    d21 = cdata.features(rec21, selected, source="delivery data")
    aged = cdata.features(rec24, selected, source="aged data")
    pre = pretrain(d21, repeats=repeats, seed=args.seed, config=config)
    state = nnx.state(pre.model, nnx.Param).to_pure_dict()
    return selected, aged, state, pre.rmse, pre.rmse_avg


def run(args: argparse.Namespace) -> Path | None:  # noqa: PLR0915 - one linear study
    """The whole study. Under ``mpirun -n R`` every rank calls this: rank 0 prepares the data
    and the pretrained model and broadcasts them, the trainings (screening, factorial,
    recommended combinations) are split over the ranks, and rank 0 writes ``--out`` (other
    ranks return None)."""
    from flax import nnx

    from surrogates.compensation import factorial as fx
    from surrogates.compensation import plots
    from surrogates.compensation.model import CompensationNet, structure_label
    from surrogates.compensation.parallel import bcast, map_over_ranks, rank, world
    from surrogates.compensation.transfer import FineTuneConfig
    from surrogates.training import count_parameters

    comm = world()
    root = rank(comm) == 0
    sampling = args.sampling or (300.0 if args.quick else 60.0)
    repeats = args.repeats or (2 if args.quick else 5)
    screen_mode = args.screen or ("singles" if args.quick else "all")
    config = FineTuneConfig(epochs=args.epochs)
    out = Path(args.out)
    with staged_dir(out, comm=comm) as tmp:
        prepared = _prepare(args, sampling, repeats, config, tmp) if root else None
        selected, aged_arrays, state, pre_rmse, pre_rmse_avg = bcast(prepared, comm)
        pre_model = CompensationNet(rngs=nnx.Rngs(0))
        params = nnx.state(pre_model, nnx.Param)
        nnx.replace_by_pure_dict(params, state)
        nnx.update(pre_model, params)
        aged = fx.AgedData(aged_arrays)
        _say(root, f"pretrained: RMSE_avg {pre_rmse_avg:.3f} µm")
        baseline, _ = fx.direct_test(pre_model, aged)

        screen = fx.screen_structures(
            _structures(screen_mode), pre_model, aged, repeats=repeats, seed=args.seed,
            config=config, comm=comm, progress=True,
        )  # fmt: skip
        screen["beats_direct_test"] = screen.mean_rmse < baseline
        levels = fx.choose_levels(screen, baseline)

        table, fac_timing = fx.run_factorial(
            levels, pre_model, aged, repeats=repeats, seed=args.seed, config=config,
            comm=comm, progress=True,
        )  # fmt: skip
        av = fx.anova(table)

        a_map = {f"A{i + 1}": s for i, s in enumerate(levels)}
        all_sets = {"C9": fx.CONDITION_SETS["C9"], "H1–H18": [f"H{i}" for i in range(1, 19)]}
        jobs = [("transfer", k, rc) for k, rc in enumerate(fx.recommend(table))]
        jobs += [("scratch", k, name) for k, name in enumerate(all_sets)]

        def validate(_: int, job) -> dict:
            what, k, item = job
            if what == "transfer":
                cell, timing = fx.train_grid(
                    a_map[item["A"]], pre_model, aged, b_levels=[item["B"]],
                    c_levels=[item["C"]], repeats=5, seed=args.seed + 50_000 + k, config=config,
                )  # fmt: skip
                head = {**item, "structure": structure_label(a_map[item["A"]])}
            else:
                cell, timing = fx.train_grid(
                    ("none",) * 4, None, aged, b_levels=["B8"], c_levels=[item], repeats=5,
                    seed=args.seed + 60_000 + k, config=config, condition_sets=all_sets,
                )  # fmt: skip
                head = {"source": f"retrain from scratch on {item}", "A": "-", "B": "-",
                        "C": item, "structure": "pretrained architecture"}  # fmt: skip
            return {
                **head,
                "runs_um": cell.rmse.round(3).tolist(),
                "mean_rmse_um": float(cell.rmse.mean()),
                "training_seconds": timing.seconds,
            }

        rec_rows = map_over_ranks(validate, jobs, comm)
        if not root:
            return None
        rec_rows.append(
            {"source": "direct test of pretrained model", "A": "-", "B": "-", "C": "-",
             "structure": "pretrained", "runs_um": [baseline], "mean_rmse_um": baseline,
             "training_seconds": 0.0}
        )  # fmt: skip
        _write_outputs(
            tmp,
            args=args, sampling=sampling, repeats=repeats, config=config, selected=selected,
            pre_params=count_parameters(pre_model), pre_rmse=pre_rmse, pre_rmse_avg=pre_rmse_avg,
            baseline=baseline, screen=screen,
            a_map=a_map, table=table, fac_timing=fac_timing, av=av, rec_rows=rec_rows,
            ranks=1 if comm is None else comm.Get_size(), plots=plots,
        )  # fmt: skip
    return out


def _say(on: bool, text: str) -> None:
    if on:
        print(text, flush=True)


def _write_outputs(tmp: Path, *, args, sampling, repeats, config, selected, pre_params, pre_rmse,
                   pre_rmse_avg, baseline, screen, a_map, table, fac_timing, av, rec_rows,
                   ranks, plots) -> None:  # fmt: skip
    """Tables (paper | ours), figures, ``metrics.json`` and ``report.md`` into ``tmp``."""
    from surrogates.compensation.model import structure_label

    t5 = pd.DataFrame(
        {
            "condition": list(pre_rmse),
            "paper_um": [PAPER_TABLE5.get(n) for n in pre_rmse],
            "ours_um": list(pre_rmse.values()),
        }
    )
    t5.to_csv(tmp / "table5_pretrained.csv", index=False)
    screen.to_csv(tmp / "table6_screening.csv", index=False)
    table.to_csv(tmp / "factorial.csv", index=False)
    t7 = av.copy()
    t7.insert(0, "paper_sum_sq", [PAPER_TABLE7[r][0] for r in av.index])
    t7.insert(1, "paper_F", [PAPER_TABLE7[r][2] for r in av.index])
    t7.to_csv(tmp / "table7_anova.csv", index_label="term")
    mains = []
    for f in ("A", "B", "C"):
        g = table.groupby(f)["rmse"].mean().sort_values()
        for lvl, v in g.items():
            mains.append(
                {"factor": f, "level": lvl, "ours_um": v, "paper_um": PAPER_MAIN[f].get(lvl)}
            )
    mains = pd.DataFrame(mains)
    mains.to_csv(tmp / "tables8_10_main_effects.csv", index=False)
    plots.main_effects(table, tmp / "fig10_main_effects.png")
    plots.interaction_heatmap(table, "A", "B", tmp / "fig11_AxB.png")
    plots.interaction_heatmap(table, "C", "A", tmp / "fig12_AxC.png")
    plots.interaction_heatmap(table, "C", "B", tmp / "fig13_BxC.png")
    plots.three_way(table, tmp / "fig14_three_way.png")
    t11 = pd.DataFrame(rec_rows)
    t11.to_csv(tmp / "table11_recommended.csv", index=False)
    metrics = {
        "seed": args.seed,
        "quick": bool(args.quick),
        "mpi_ranks": ranks,
        "sampling_interval_s": sampling,
        "repeats": repeats,
        "epochs": config.epochs,
        "selected_inputs": selected,
        "pretrained_params": pre_params,
        "pretrained_rmse_um": pre_rmse,
        "pretrained_rmse_avg_um": pre_rmse_avg,
        "direct_test_rmse_avg_um": baseline,
        "factor_A_levels": {a: structure_label(s) for a, s in a_map.items()},
        "factorial_trainings": len(table),
        "factorial_seconds": fac_timing.seconds,
        "factorial_compile_seconds": fac_timing.compile_seconds,
        "anova": {
            r: {c: (None if pd.isna(v) else float(v)) for c, v in row.items()}
            for r, row in av.iterrows()
        },
        "recommended": t11.to_dict(orient="records"),
    }
    (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2, default=float))
    _report(tmp, metrics, screen, t5, t7, mains, t11)


def _block(df: pd.DataFrame) -> str:
    """A table as a fixed-width Markdown code block (no extra dependency)."""
    return "```\n" + df.to_string(float_format=lambda v: f"{v:.4g}") + "\n```"


def _report(folder: Path, m: dict, screen, t5, t7, mains, t11) -> None:
    best = t11.iloc[:-3].sort_values("mean_rmse_um").iloc[0]
    lines = [
        "# Thermal-error compensation by transfer learning (paper 001)",
        "",
        f"Sampling {m['sampling_interval_s']} s, {m['repeats']} repeats, {m['epochs']} epochs, "
        f"seed {m['seed']}. Inputs selected by MI: {m['selected_inputs']}.",
        "",
        f"Pretrained model: {m['pretrained_params']} parameters, RMSE_avg (Eq. 5) "
        f"{m['pretrained_rmse_avg_um']:.2f} µm on H1'–H16' (paper Table 5 average 1.82 µm); "
        "[table5_pretrained.csv](table5_pretrained.csv).",
        "",
        f"Direct test on the aged machine: RMSE_avg {m['direct_test_rmse_avg_um']:.2f} µm "
        "(paper 3.88 µm).",
        "",
        "## Structures (Table 6 analogue)",
        "",
        _block(screen.head(8)),
        "",
        f"Factor A levels on our data: {m['factor_A_levels']}.",
        "",
        f"## ANOVA (Table 7 analogue, {m['factorial_trainings']} trainings in "
        f"{m['factorial_seconds']:.0f} s of training calls, {m['factorial_compile_seconds']:.0f} s "
        f"of it compiling, {m['mpi_ranks']} rank(s))",
        "",
        _block(t7),
        "",
        "## Main effects (Tables 8–10 analogues)",
        "",
        _block(mains),
        "",
        "![main effects](fig10_main_effects.png) ![AxB](fig11_AxB.png) ![AxC](fig12_AxC.png) "
        "![BxC](fig13_BxC.png) ![three-way](fig14_three_way.png)",
        "",
        "## Recommended combinations (Table 11 analogue)",
        "",
        _block(t11.drop(columns="runs_um")),
        "",
        f"Best recommended transfer on our data: {best['source']} -> A={best['A']} "
        f"({best['structure']}), B={best['B']}, C={best['C']}: {best['mean_rmse_um']:.2f} µm. "
        f"Paper: {PAPER_TABLE11}.",
        "",
        "Metrics: [metrics.json](metrics.json); raw factorial: [factorial.csv](factorial.csv).",
    ]
    (folder / "report.md").write_text("\n".join(lines) + "\n")


def _check_args(args: argparse.Namespace) -> None:
    """Refuse bad options and unreadable data before any simulation or training."""
    check_output_dir(args.out)
    if args.machine_csv is not None:
        from surrogates.compensation.machine_csv import parse_regions, read_machine_csv

        if args.test_from is None:
            raise ValueError("--machine-csv needs --test-from SECONDS (first test record's time)")
        parse_regions(args.regions)
        read_machine_csv(args.machine_csv, _columns(args))
        return
    repeats = args.repeats or (2 if args.quick else 5)
    if repeats < 2:
        raise ValueError(
            f"--repeats {repeats}: the three-way ANOVA needs >= 2 repeats per cell "
            "(a residual term); use --repeats 2 or more"
        )
    check_output_dir(args.out)
    for path in (args.data_delivery, args.data_aged):
        if path is not None:
            _read_records(args, path)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _check_args(args)
    out = run_machine_csv(args) if args.machine_csv is not None else run(args)
    if out is not None:
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main, "cases.thermal_compensation"))

"""Classical IHCP methods and baselines judged on data from a different model (issue 14, part 1).

Generates the records of the generating model (thermo.inverse.virtual_lab: finer mesh and step,
model uncertainty per scenario, realistic sensors, random F1 histories; one FEM run per distinct
model draw, cached), saves them as a record set, and scores on the held-out records (the
reconstruction conditions and the test case, plus every case's last realisation):

* ``tikhonov`` and ``sfsm`` on the *nominal* model (standard mesh and step, nominal parameters,
  no lag) — the honest classical methods;
* ``oracle``: first-order Tikhonov on each record's *true* model (its draw's fine-grid response,
  lagged by its τ) — an upper bound;
* the baselines ``fir`` (ridge FIR filter on lagged sensors and the parameters) and
  ``params-only``, fitted on the training records of the ``all`` scenario (every uncertainty),
  σ > 0 and σ = 0 together, less the validation cases.

With ``--networks`` the CNN-GRU teacher and an ensemble of knowledge-distilled students
(regression-sound KD loss, :mod:`surrogates.ihcp.recon_training`) are trained on the same
training records (early stopping on the validation cases' ``all`` records) and scored beside the
others; their band is the ensemble spread.

Validation and calibrated bands: a seeded fifth of the training cases
(:func:`thermo.inverse.calibration.validation_cases`) is held out of every fit. Their
training-split records (every scenario and σ; training draws, so no test draw) are the
validation records on which each method's 95 % band is calibrated, one split-conformal scale per
method × σ (:mod:`thermo.inverse.calibration`; a method without a band gets the constant
conformal band estimate ± q K). The test records are scored with the raw and the calibrated band.

Outputs (one staged folder): ``records.npz/.json`` (the record set), ``rows.csv`` (one row per
method × test record), ``robustness.md`` (tables: boundary RMSE, leave-one-sensor-out RMSE, band
coverage raw and calibrated, band scales) / ``robustness.png`` (boundary RMSE per method ×
scenario × σ), ``metrics.json`` (``models`` {method: {scenario: {σ: {boundary_rmse, loso_rmse,
coverage, coverage_calibrated, band_scale, halfwidth, halfwidth_calibrated, n}}}},
``coverage_by_sigma`` (pooled over scenarios), ``calibration`` {method: {σ: scale, n_records,
...}}, ``data_model``), ``report.md``. ``--quick``: coarse meshes and steps, 2 draws, 2
realisations, a few cases (a smoke run of the same pipeline, minutes; too few validation records
for the conformal guarantee, flagged ``guaranteed: false``).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import time
from pathlib import Path

import numpy as np

from cases.exits import run_main
from thermo.atomic import atomic_path, atomic_write_text, check_output_dir, staged_dir

QUICK_CASES = (1, 2, 3, 5, 14, 23, 24)
METHODS = ("tikhonov", "sfsm", "oracle", "fir", "params-only")
#: The per-cell fields of ``metrics.json`` (means over the held-out records of a cell).
CELL_KEYS = (
    "boundary_rmse",
    "loso_rmse",
    "coverage",
    "coverage_calibrated",
    "band_scale",
    "halfwidth",
    "halfwidth_calibrated",
)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m cases.ihcp_robustness",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", type=Path, default=Path("results/ihcp_robustness"), metavar="DIR")
    p.add_argument("--quick", action="store_true", help="coarse meshes, few cases (smoke run)")
    p.add_argument("--seed", type=int, default=0, help="seed of draws, histories and noise")
    p.add_argument("--draws", type=int, default=None, help="model draws per scenario (4)")
    p.add_argument("--realisations", type=int, default=None, help="F1 realisations per case (3)")
    p.add_argument("--sigmas", type=float, nargs="+", default=[0.0, 5.0, 10.0], metavar="K")
    p.add_argument("--scenarios", nargs="+", default=None, metavar="S", help="default: all")
    p.add_argument(
        "--cache", type=Path, default=Path("results/.cache/ihcp_robustness"), metavar="DIR"
    )
    p.add_argument("--no-loso", action="store_true", help="skip leave-one-sensor-out")
    p.add_argument(
        "--networks",
        action="store_true",
        help="also train the CNN-GRU teacher and KD students on the randomised training records",
    )
    p.add_argument("--epochs", type=int, default=None, help="network epochs (30; quick 2)")
    p.add_argument("--students", type=int, default=3, help="students in the ensemble")
    p.add_argument(
        "--sensors",
        choices=("flank", "body"),
        default="flank",
        help="sensor layout of the tool (meshes.tool): flank (default) or body",
    )
    return p


def _settings(args: argparse.Namespace):
    from thermo.inverse.virtual_lab import SCENARIOS, GeneratingModel

    if args.quick:
        model = GeneratingModel(size_factor=1.0, dt=0.1, inverse_dt=0.2, sensor_layout=args.sensors)
        nominal_size, cases = 2.0, QUICK_CASES
        draws, reals = args.draws or 2, args.realisations or 2
    else:
        model = GeneratingModel(sensor_layout=args.sensors)
        nominal_size, cases = 0.5, tuple(range(1, 28))
        draws, reals = args.draws or 4, args.realisations or 3
    scenarios = tuple(args.scenarios or SCENARIOS)
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown:
        raise ValueError(f"--scenarios {unknown}: not among {list(SCENARIOS)}")
    if draws < 1 or reals < 2 or any(s < 0 for s in args.sigmas):
        raise ValueError("--draws >= 1, --realisations >= 2 and --sigmas >= 0 K needed")
    return model, nominal_size, cases, draws, reals, scenarios


def _sources(nominal, fine_by_label: dict, training: list, every: int):
    from thermo.inverse.registry import make_method
    from thermo.inverse.virtual_lab import oracle_response

    cache: dict = {}

    def nominal_method(name: str):
        def source(record):
            key = (name, record.meta["sigma_K"])
            if key not in cache:
                cache[key] = make_method(name, response=nominal, sigma=record.meta["sigma_K"])
            return cache[key], nominal.probes

        return source

    def oracle(record):
        fine = fine_by_label[f"{record.meta['draw']['scenario']}#{record.meta['draw']['draw']}"]
        true = oracle_response(fine, record)
        method = make_method("tikhonov", response=true, sigma=record.meta["sigma_K"])

        def predict(u):
            return true.probes(np.interp(true.times, record.times, u))[::every]

        return method, predict

    fitted = {name: make_method(name, training=training) for name in ("fir", "params-only")}

    def baseline(name: str):
        return lambda record: (fitted[name], nominal.probes)

    sources = {
        "tikhonov": nominal_method("tikhonov"),
        "sfsm": nominal_method("sfsm"),
        "oracle": oracle,
        "fir": baseline("fir"),
        "params-only": baseline("params-only"),
    }
    return sources


def split_training(records: list, *, seed: int) -> dict:
    """The training part of the records, split by case: ``fit`` (training split, scenario
    ``all`` — every uncertainty — or every training record where ``all`` is not generated, less
    the validation cases), ``val`` (the same, the validation cases only: early stopping),
    ``calibration`` (training-split records of the validation cases, every scenario) and
    ``val_cases`` (:func:`thermo.inverse.calibration.validation_cases` of the training cases)."""
    from thermo.inverse.calibration import validation_cases

    train_split = [r for r in records if r.meta["split"] == "train"]
    if not train_split:
        raise ValueError("ihcp_robustness: no training records (need --realisations >= 2)")
    pool = [r for r in train_split if r.meta["scenario"] == "all"] or train_split
    val_cases = set(validation_cases({r.meta["case"] for r in pool}, seed=seed))
    return {
        "fit": [r for r in pool if r.meta["case"] not in val_cases],
        "val": [r for r in pool if r.meta["case"] in val_cases],
        "calibration": [r for r in train_split if r.meta["case"] in val_cases],
        "val_cases": sorted(val_cases),
    }


def _network_sources(
    train: list, val: list, args: argparse.Namespace, nominal
) -> tuple[dict, dict]:
    """Teacher and KD-student ensemble trained on ``train`` (early stopping on ``val``), as
    method sources; and the training report."""
    from surrogates.ihcp.inverse_method import NeuralMethod
    from surrogates.ihcp.recon_training import EstimatorTraining, train_on_records

    val_cases = {r.meta["case"] for r in val}
    epochs = args.epochs or (2 if args.quick else 30)
    config = EstimatorTraining(
        teacher_epochs=epochs, student_epochs=epochs, n_students=args.students, seed=args.seed
    )
    teacher, students, report = train_on_records(train, val, config)
    methods = {"teacher": NeuralMethod(teacher), "kd-student": NeuralMethod(students)}
    sources = {name: (lambda record, m=m: (m, nominal.probes)) for name, m in methods.items()}
    info = {k: report[k] for k in ("records", "seconds", "best_epoch", "params")}
    return sources, info | {"val_cases": sorted(val_cases), "epochs": epochs}


def _by_sigma(rows: list) -> dict:
    """``{method: {σ: {coverage, coverage_calibrated, halfwidth_calibrated, n}}}``: means over
    every held-out record of that σ (scenarios pooled, as the calibration)."""
    from thermo.inverse.robustness import summarise

    pooled = [{**r, "scenario": "pooled"} for r in rows]
    out: dict = {}
    for key in ("coverage", "coverage_calibrated", "halfwidth", "halfwidth_calibrated"):
        for method, by in summarise(pooled, key).items():
            for g, cell in by["pooled"].items():
                entry = out.setdefault(method, {}).setdefault(g, {"n": cell["n"]})
                entry[key] = cell["mean"]
    return out


def _tables(summaries: dict, by_sigma: dict, calibration: dict, scenarios, sigmas) -> dict:
    """The Markdown tables of robustness.md (and report.md), each with its heading."""
    from thermo.inverse.robustness import markdown_table

    def table(key: str, fmt: str) -> str:
        return markdown_table(summaries[key], scenarios=scenarios, sigmas=sigmas, fmt=fmt)

    head = "| method | " + " | ".join(f"σ {g}: raw / calibrated (scale; n val)" for g in sigmas)
    lines = [head + " |", "|---" * (len(sigmas) + 1) + "|"]
    for method, by in sorted(by_sigma.items()):
        cells = []
        for g in sigmas:
            c, cal = by.get(g, {}), calibration.get(method, {}).get(g)
            raw, calib = c.get("coverage"), c.get("coverage_calibrated")
            cell = ("–" if raw is None else f"{raw:.2f}") + " / "
            cell += "–" if calib is None else f"{calib:.2f}"
            if cal is not None:
                scale = f"×{cal['scale']:.3g}" if cal["banded"] else f"± {cal['scale']:.3g} K"
                note = "" if cal["guaranteed"] else ", too few for the guarantee"
                cell += f" ({scale}; {cal['n_records']}{note})"
            cells.append(cell)
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return {
        "boundary": "## Boundary RMSE (K), mean over held-out records\n\n"
        + table("boundary_rmse", "{:.3g}"),
        "loso": "## Leave-one-sensor-out RMSE (K): left-out sensor predicted by each method's own "
        "model, against its clean reading; mean over sensors and held-out records\n\n"
        + table("loso_rmse", "{:.3g}"),
        "coverage": "## 95 % band coverage of the truth, raw band\n\n"
        + table("coverage", "{:.2f}"),
        "coverage_calibrated": "## 95 % band coverage, calibrated band (split-conformal scale per "
        "method × σ on the validation records; no band: estimate ± q)\n\n"
        + table("coverage_calibrated", "{:.2f}"),
        "halfwidth_calibrated": "## Mean half-width (K) of the calibrated band\n\n"
        + table("halfwidth_calibrated", "{:.3g}"),
        "by_sigma": "## Coverage per σ, scenarios pooled: raw / calibrated (band scale, "
        "validation records)\n\n" + "\n".join(lines) + "\n",
    }


def _plot(path: Path, summary: dict, scenarios, sigmas) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(sigmas), figsize=(4.6 * len(sigmas), 3.8), squeeze=False)
    x = np.arange(len(scenarios))
    for ax, g in zip(axes[0], sigmas, strict=True):
        for i, (method, by) in enumerate(summary.items()):
            y = [by.get(s, {}).get(g, {}).get("mean", np.nan) for s in scenarios]
            ax.plot(x, y, "o-", color=f"C{i}", label=method)
        ax.set_xticks(x, scenarios, rotation=45, ha="right")
        ax.set(title=f"σ = {g} K", ylabel="boundary RMSE on held-out records (K)")
        ax.set_yscale("log")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Run the study; returns the exit code (bad input: ValueError, see cases.exits)."""
    args = build_parser().parse_args(argv)
    out = check_output_dir(args.out)
    model, nominal_size, cases, n_draws, n_reals, scenarios = _settings(args)
    from tqdm import tqdm

    from thermo.inverse.record import RecordSet
    from thermo.inverse.robustness import calibrate_sources, evaluate, summarise
    from thermo.inverse.virtual_lab import draw_responses, generate, nominal_response, pool

    t0 = time.perf_counter()
    args.cache.mkdir(parents=True, exist_ok=True)
    draws = {s: pool(s, n_draws, seed=args.seed, ranges=model.ranges) for s in scenarios}
    every_draw = [d for pool_ in draws.values() for d in pool_]
    fine = draw_responses(every_draw, model, cache=args.cache, progress=True)
    nominal = nominal_response(model, nominal_size, args.cache)
    t_fem = time.perf_counter() - t0
    records = generate(
        fine, draws, model, cases=cases, n_realisations=n_reals, sigmas=args.sigmas, seed=args.seed
    )
    parts = split_training(records, seed=args.seed)
    training = parts["fit"]
    test = [r for r in records if r.meta["split"] == "test"]
    sources = _sources(nominal, fine, training, model.every)
    network_info = None
    if args.networks:
        net_sources, network_info = _network_sources(training, parts["val"], args, nominal)
        sources |= net_sources
    calibration_records = parts["calibration"]
    bar = tqdm(total=len(calibration_records) * len(sources), desc="calibrating", unit="estimate")
    calibrations = calibrate_sources(calibration_records, sources, on_estimate=bar.update)
    bar.close()
    bar = tqdm(total=len(test) * len(sources), desc="scoring", unit="estimate")
    rows = evaluate(
        test,
        sources,
        loso=not args.no_loso,
        on_row=lambda _r: bar.update(),
        calibrations=calibrations,
    )
    bar.close()
    sigmas = [f"{s:g}" for s in args.sigmas]
    summaries = {key: summarise(rows, key) for key in CELL_KEYS}
    boundary = summaries["boundary_rmse"]
    models: dict = {}
    for method, by in boundary.items():
        for scenario, cells in by.items():
            for g, cell in cells.items():
                entry = {"boundary_rmse": cell["mean"], "n": cell["n"]}
                for key in CELL_KEYS[1:]:
                    entry[key] = summaries[key].get(method, {}).get(scenario, {}).get(g, {})
                    entry[key] = entry[key].get("mean")
                models.setdefault(method, {}).setdefault(scenario, {})[g] = entry
    by_sigma = _by_sigma(rows)
    calibration_meta = {
        m: {g: c.as_meta() for g, c in by.items()} for m, by in calibrations.items()
    }
    data_model = {
        "generating": model.as_meta(),
        "nominal": {"size_factor": nominal_size, "dt": model.inverse_dt, "h_F3": 25.0,
                    "contact": "perfect", "k_insert": 85.0, "lag": None},
        "scenarios": list(scenarios), "draws_per_scenario": n_draws, "realisations": n_reals,
        "cases": list(cases), "sigmas_K": list(args.sigmas), "seed": args.seed,
        "training": "split 'train' of scenario 'all' less the validation cases (baselines, "
                    "networks)",
        "validation": {
            "cases": parts["val_cases"],
            "records": "split 'train' of the validation cases, every scenario and sigma "
                       "(network early stopping: scenario 'all' only; band calibration: all)",
            "n_calibration_records": len(calibration_records),
        },
        "test": "held-out cases 5, 14, 23, 24 and each case's last realisation",
    }  # fmt: skip
    tables = _tables(summaries, by_sigma, calibration_meta, scenarios, sigmas)
    with staged_dir(out) as tmp:
        RecordSet(tuple(records), meta={"data_model": data_model}).save(tmp / "records")
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        atomic_write_text(tmp / "rows.csv", buf.getvalue())
        atomic_write_text(tmp / "robustness.md", "\n".join(tables.values()))
        _plot(tmp / "robustness.png", boundary, scenarios, sigmas)
        metrics = {
            "protocol": data_model["test"],
            "models": models,
            "coverage_by_sigma": by_sigma,
            "calibration": calibration_meta,
            "data_model": data_model,
            "n_records": {
                "all": len(records),
                "train": len(training),
                "calibration": len(calibration_records),
                "test": len(test),
            },
            "networks": network_info,
            "seconds": {"fem": t_fem, "total": time.perf_counter() - t0},
        }
        atomic_write_text(tmp / "metrics.json", json.dumps(metrics, indent=2, default=float))
        report = [
            "# IHCP methods on data from a different model (issue 14, classical part)",
            "",
            f"Generating model: size factor {model.size_factor}, dt {model.dt} s, sensors "
            f"'{model.sensor_layout}'; inverse (nominal): size factor {nominal_size}, dt "
            f"{model.inverse_dt} s. {len(test)} held-out records; protocol: "
            f"{data_model['test']}.",
            "",
            *tables.values(),
            "![robustness](robustness.png)",
            "",
        ]
        atomic_write_text(tmp / "report.md", "\n".join(report))
    print(f"ihcp_robustness: {len(test)} test records × {len(sources)} methods; outputs in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main, "cases.ihcp_robustness"))

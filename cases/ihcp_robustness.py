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
  σ > 0 and σ = 0 together.

With ``--networks`` the CNN-GRU teacher and an ensemble of knowledge-distilled students
(regression-sound KD loss, :mod:`surrogates.ihcp.recon_training`) are trained on the same
training records (validation: a seeded fifth of their cases) and scored beside the others; their
band is the ensemble spread.

Outputs (one staged folder): ``records.npz/.json`` (the record set), ``rows.csv`` (one row per
method × test record), ``robustness.md``/``robustness.png`` (boundary RMSE per method × scenario
× σ), ``metrics.json`` (``models`` {method: {scenario: {σ: {boundary_rmse, loso_rmse, coverage,
n}}}}, ``data_model``), ``report.md``. ``--quick``: coarse meshes and steps, 2 draws, 2
realisations, a few cases (a smoke run of the same pipeline, minutes).
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


def _nominal_response(model, size_factor: float, cache: Path):
    """The inverse's model: standard mesh, the inverse's step, nominal parameters, no lag."""
    from mpi4py import MPI

    from meshes.tool import ToolGeometry, tool_mesh
    from thermo.inverse.linear_response import LinearResponse, cache_key, compute_linear_response
    from thermo.tool_problem import tool_problem

    geometry = ToolGeometry(size_factor=size_factor, sensor_layout=model.sensor_layout)
    problem = tool_problem(dt=model.inverse_dt, t_end=model.t_end)
    tagged = tool_mesh(geometry, MPI.COMM_SELF)
    probes = {n: tuple(float(x) for x in tagged.sensors[n]) for n in sorted(tagged.sensors)}
    key = cache_key(problem=problem, geometry=geometry, probes=probes, boundary="F1")
    path = cache / f"nominal_{key}"
    if path.with_suffix(".npz").exists():
        return LinearResponse.load(path)
    resp = compute_linear_response(
        tagged, problem, boundary="F1", kind="temperature", probes=probes
    )
    resp.save(path)
    return resp


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


def _network_sources(training: list, args: argparse.Namespace, nominal) -> tuple[dict, dict]:
    """Teacher and KD-student ensemble trained on the training records (validation: a seeded
    20 % of their cases), as method sources; and the training report."""
    from surrogates.ihcp.inverse_method import NeuralMethod
    from surrogates.ihcp.recon_training import EstimatorTraining, train_on_records

    cases = sorted({r.meta["case"] for r in training})
    rng = np.random.default_rng(args.seed)
    val_cases = set(rng.choice(cases, size=max(1, len(cases) // 5), replace=False).tolist())
    train = [r for r in training if r.meta["case"] not in val_cases]
    val = [r for r in training if r.meta["case"] in val_cases]
    epochs = args.epochs or (2 if args.quick else 30)
    config = EstimatorTraining(
        teacher_epochs=epochs, student_epochs=epochs, n_students=args.students, seed=args.seed
    )
    teacher, students, report = train_on_records(train, val, config)
    methods = {"teacher": NeuralMethod(teacher), "kd-student": NeuralMethod(students)}
    sources = {name: (lambda record, m=m: (m, nominal.probes)) for name, m in methods.items()}
    info = {k: report[k] for k in ("records", "seconds", "best_epoch", "params")}
    return sources, info | {"val_cases": sorted(val_cases), "epochs": epochs}


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
    from thermo.inverse.robustness import evaluate, markdown_table, summarise
    from thermo.inverse.virtual_lab import draw_responses, generate, pool

    t0 = time.perf_counter()
    args.cache.mkdir(parents=True, exist_ok=True)
    draws = {s: pool(s, n_draws, seed=args.seed, ranges=model.ranges) for s in scenarios}
    every_draw = [d for pool_ in draws.values() for d in pool_]
    fine = draw_responses(every_draw, model, cache=args.cache, progress=True)
    nominal = _nominal_response(model, nominal_size, args.cache)
    t_fem = time.perf_counter() - t0
    records = generate(
        fine, draws, model, cases=cases, n_realisations=n_reals, sigmas=args.sigmas, seed=args.seed
    )
    training = [r for r in records if r.meta["split"] == "train" and r.meta["scenario"] == "all"]
    if not training:
        training = [r for r in records if r.meta["split"] == "train"]
    test = [r for r in records if r.meta["split"] == "test"]
    sources = _sources(nominal, fine, training, model.every)
    network_info = None
    if args.networks:
        net_sources, network_info = _network_sources(training, args, nominal)
        sources |= net_sources
    bar = tqdm(total=len(test) * len(sources), desc="scoring", unit="estimate")
    rows = evaluate(test, sources, loso=not args.no_loso, on_row=lambda _r: bar.update())
    bar.close()
    sigmas = [f"{s:g}" for s in args.sigmas]
    boundary, loso, coverage = (
        summarise(rows, k) for k in ("boundary_rmse", "loso_rmse", "coverage")
    )
    models: dict = {}
    for method, by in boundary.items():
        for scenario, by_sigma in by.items():
            for g, cell in by_sigma.items():
                entry = {"boundary_rmse": cell["mean"], "n": cell["n"]}
                entry["loso_rmse"] = loso.get(method, {}).get(scenario, {}).get(g, {}).get("mean")
                entry["coverage"] = (
                    coverage.get(method, {}).get(scenario, {}).get(g, {}).get("mean")
                )
                models.setdefault(method, {}).setdefault(scenario, {})[g] = entry
    data_model = {
        "generating": model.as_meta(),
        "nominal": {"size_factor": nominal_size, "dt": model.inverse_dt, "h_F3": 25.0,
                    "contact": "perfect", "k_insert": 85.0, "lag": None},
        "scenarios": list(scenarios), "draws_per_scenario": n_draws, "realisations": n_reals,
        "cases": list(cases), "sigmas_K": list(args.sigmas), "seed": args.seed,
        "training": "split 'train' of scenario 'all' (baselines)",
        "test": "held-out cases 5, 14, 23, 24 and each case's last realisation",
    }  # fmt: skip
    table = markdown_table(boundary, scenarios=scenarios, sigmas=sigmas)
    with staged_dir(out) as tmp:
        RecordSet(tuple(records), meta={"data_model": data_model}).save(tmp / "records")
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        atomic_write_text(tmp / "rows.csv", buf.getvalue())
        atomic_write_text(tmp / "robustness.md", table)
        _plot(tmp / "robustness.png", boundary, scenarios, sigmas)
        metrics = {
            "protocol": data_model["test"],
            "models": models,
            "data_model": data_model,
            "n_records": {"all": len(records), "train": len(training), "test": len(test)},
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
            "Boundary RMSE (K), mean over held-out records:",
            "",
            table,
            "![robustness](robustness.png)",
            "",
        ]
        atomic_write_text(tmp / "report.md", "\n".join(report))
    print(f"ihcp_robustness: {len(test)} test records × {len(sources)} methods; outputs in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main, "cases.ihcp_robustness"))

"""The main job's networks (cases.milling_reconstruction): the shipped CNN-GRU teacher and
student ensemble, the ones of ``--weights``, or retrained by ``--retrain`` on the generating
model's records (cases.recon_records), with the provenance and the default method's measured
reason for metrics.json and the report."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from cases.recon_records import training_data
from thermo.atomic import atomic_write_text

#: The networks ``--retrain`` trains (registered as neural methods of the same names).
NEURAL = ("student", "teacher")


def estimators(args: argparse.Namespace, needed: set[str], weights_out: Path, progress: bool):
    """``{"teacher", "student"}`` estimators: shipped, from ``--weights``, or retrained.

    ``--retrain``: the CNN-GRU teacher and 5 knowledge-distilled students (regression-sound KD
    loss, surrogates.ihcp.recon_training.train_on_records) on the generating model's training
    records (:func:`cases.recon_records.training_data`: scenario ``all``, every σ), validation a
    seeded fifth of their cases (thermo.inverse.calibration.validation_cases, the rule of
    ``cases.ihcp_robustness``), 30 epochs each (the study's budget; best validation epoch kept),
    training seed 0 (teacher; student k: 1 + k) whatever ``--seed`` is. ``--quick``: 1 epoch, 2
    students (tests). The weights' ``meta`` records the data model, seeds, split, epochs, the
    pooled test-set metrics (``test_case``), the held-out boundary RMSE / band coverage of the
    networks beside Tikhonov-nominal and the baselines on the same test records (``held_out``,
    the measurement behind the default method) and the per-record metrics of the check records
    (``check_records``: case 24, realisation 0, scenario ``all``, every σ; saved beside the
    weights as ``check_records.npz/.json`` for tests/ihcp/test_ihcp_shipped.py). Seeded, so a
    rerun on the same machine and library build gives the same weights; the difference to the
    shipped weights is printed and recorded in ``training.json``.
    """
    from surrogates.ihcp.estimator import shipped

    if not (needed & set(NEURAL)) and not args.retrain:
        return {}, None
    if not args.retrain:
        return {k: shipped(k, directory=args.weights) for k in NEURAL if k in needed}, None
    from surrogates.ihcp.inverse_method import NeuralMethod
    from surrogates.ihcp.recon_training import (
        EstimatorTraining,
        member_metrics,
        train_on_records,
        weight_differences,
    )
    from thermo.inverse.record import RecordSet
    from thermo.inverse.registry import make_method
    from thermo.inverse.robustness import evaluate, summarise

    t0 = time.perf_counter()
    seed = 0  # the training seed (docstring)
    epochs, n_students = (1, 2) if args.quick else (30, 5)
    config = EstimatorTraining(
        teacher_epochs=epochs,
        student_epochs=epochs,
        n_students=n_students,
        seed=seed,
        progress=progress,
    )
    data = training_data(args, progress, every_scenario=True)
    train, val, val_cases = data["fit"], data["val"], data["val_cases"]
    test = [r for r in data["test"] if r.meta["scenario"] == "all"]
    check = [r for r in test if r.meta["case"] == 24 and r.meta["realisation"] == 0] or test[:3]
    provenance = {
        "data_model": data["data_model"],
        "split": {
            "rule": "validation: thermo.inverse.calibration.validation_cases(training cases, "
            "seed=0); test: the data model's split 'test' of scenario 'all'",
            "train_cases": sorted({int(r.meta["case"]) for r in train}),
            "val_cases": val_cases,
            "test_cases": sorted({int(r.meta["case"]) for r in test}),
            "n_records": {"train": len(train), "val": len(val), "test": len(test)},
        },
        "seeds": {
            "records": data["data_model"].get("seed"),
            "teacher": seed,
            "students": [seed + 1 + k for k in range(n_students)],
        },
        "test_set": "pooled over every sample of the test records (scenario 'all', every σ)",
    }
    print(
        f"milling_reconstruction: training teacher and {n_students} students on {len(train)} "
        f"records (validation {len(val)}, test {len(test)})",
        flush=True,
    )
    teacher, students, report = train_on_records(
        train, val, config, test=test, provenance=provenance
    )
    methods = {"student": NeuralMethod(students), "teacher": NeuralMethod(teacher)}
    methods |= {n: make_method(n, training=train) for n in ("fir", "params-only")}
    sources = {n: (lambda rec, m=m: (m, None)) for n, m in methods.items()}
    if data["nominal"] is not None:
        by_sigma: dict = {}

        def tikhonov(rec):
            s = rec.meta["sigma_K"]
            if s not in by_sigma:
                by_sigma[s] = make_method("tikhonov", response=data["nominal"], sigma=s)
            return by_sigma[s], None

        sources["tikhonov"] = tikhonov
    print("milling_reconstruction: scoring on the held-out records", flush=True)
    rows = evaluate(data["test"], sources, loso=False)
    held_out = {
        "records": "split 'test' of scenarios " + ", ".join(sorted({r["scenario"] for r in rows})),
        "boundary_rmse": summarise(rows, "boundary_rmse"),
        "coverage": summarise(rows, "coverage"),
        "baselines": "fir and params-only fitted on the networks' training records (less the "
        "validation cases), tikhonov on the nominal model (standard mesh and step), σ known",
    }
    check_meta = {
        "file": "check_records.npz/.json beside the weights",
        "selection": {"scenario": "all", "case": 24, "realisation": 0},
        "records": [{k: r.meta[k] for k in ("case", "realisation", "sigma_K")} for r in check],
        "metric": "recon_training.member_metrics (per member, per record)",
    }
    t_check, s_check = member_metrics(teacher, check), member_metrics(students, check)
    for est, per in ((teacher, t_check), (students, s_check)):
        est.meta["held_out"] = held_out
        est.meta["check_records"] = check_meta | {"metrics": per}
    report |= {
        "held_out": held_out,
        "check_records": check_meta | {"teacher": t_check, "students": s_check},
    }
    teacher.save(weights_out / "teacher")
    students.save(weights_out / "student")
    RecordSet(tuple(check), meta={"data_model": data["data_model"]}).save(
        weights_out / "check_records"
    )
    diff = weight_differences(teacher, students, args.weights)  # default: the shipped weights
    report["difference_to_shipped"] = diff
    report["max_abs_difference_to_shipped"] = diff["max"]
    report["seconds"]["retrain_total"] = time.perf_counter() - t0
    if diff["max"] is None:
        verdict = f"not comparable ({diff['note']})"
    else:
        verdict = "identical" if diff["max"] == 0.0 else f"max |difference| {diff['max']}"
    print(f"milling_reconstruction: retrained weights vs {diff['compared_with']}: {verdict}")
    atomic_write_text(weights_out / "training.json", json.dumps(report, indent=2, default=float))
    return {"teacher": teacher, "student": students}, report


def weights_info(args: argparse.Namespace, neural: dict, training: dict | None) -> dict:
    """Where the networks came from, their provenance and the default method with the measured
    reason (for metrics.json and the report).

    ``default``: the ``--method`` default and, from the student weights' ``held_out`` record
    (measured when the weights were trained, on the generating model's held-out records), the
    boundary RMSE of each method under every uncertainty (scenario ``all``) and with no model
    error (``none``) at σ = 5 K, and which method is lowest under ``all`` (``best_all``).
    """
    from surrogates.ihcp.estimator import SHIPPED_DIR, shipped

    info: dict = {"source": None}
    if neural:
        info["source"] = "retrained" if args.retrain else str(args.weights or SHIPPED_DIR)
    for kind, est in neural.items():
        info[kind] = {
            "members": len(est.members),
            "window": est.window,
            "dt_s": est.dt,
            "test_set": est.meta.get("test_case"),
            "training": est.meta.get("training"),
            "seeds": est.meta.get("seeds"),
            "split": est.meta.get("split"),
            "data_model": est.meta.get("data_model"),
        }
    if training is not None:
        info["max_abs_difference_to_shipped"] = training.get("max_abs_difference_to_shipped")
    student = neural.get("student")
    if student is None:
        try:
            student = shipped("student", directory=args.weights)
        except (OSError, ValueError):
            student = None
    held = None if student is None else student.meta.get("held_out")
    # the main job's default method (main(): ``args.method or "student"``), and the rendered one
    default = {"method": "student", "rendered": args.method, "held_out": None}
    if held:
        table = held["boundary_rmse"]
        cov = held.get("coverage", {})

        def cell(summary: dict, method: str, scenario: str) -> float | None:
            c = summary.get(method, {}).get(scenario, {}).get("5")
            return None if c is None else c["mean"]

        default["held_out"] = {
            "sigma_K": 5.0,
            "records": held.get("records"),
            "boundary_rmse": {
                s: {m: cell(table, m, s) for m in table if cell(table, m, s) is not None}
                for s in ("all", "none")
            },
            "coverage": {m: cell(cov, m, "all") for m in cov if cell(cov, m, "all") is not None},
        }
        under_all = default["held_out"]["boundary_rmse"]["all"]
        default["best_all"] = min(under_all, key=under_all.get) if under_all else None
    info["default"] = default
    return info

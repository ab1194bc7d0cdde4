"""Where the main job's sensor records come from (cases.milling_reconstruction): a user's CSV,
the generating model's records (thermo.inverse.virtual_lab, the same as cases.ihcp_robustness:
training, validation and held-out test records), the baselines' training records, and the
provenance the report states. Also the main job's default grid (mesh size factor, step)."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np

SIZE_FACTOR, DT = 0.5, 0.05  # default mesh and step: about 28 000 dofs, 240 steps to 12 s
QUICK_SIZE_FACTOR, QUICK_DT = 2.0, 0.2
#: The main job's default ``--cache`` (the generating model's FEM runs then live in the study's
#: cache, ``cases.ihcp_robustness``'s default).
DEFAULT_CACHE = Path("results/.cache/milling_reconstruction")


def size_factor(args: argparse.Namespace) -> float:
    """The job's mesh size factor: ``--size-factor``, else the default or the quick one."""
    return args.size_factor or (QUICK_SIZE_FACTOR if args.quick else SIZE_FACTOR)


def user_record(args: argparse.Namespace, response):
    """The user's record on the response's grid, sensors in the response's order."""
    from thermo.inverse.record import on_case_grid, read_record_csv

    path = args.measurements
    rec = read_record_csv(path, time_column=args.time_column, time_unit=args.time_unit)
    missing = [n for n in response.probe_names if n not in rec.names]
    if missing:
        raise ValueError(f"{path}: sensor columns {missing} missing (has {list(rec.names)})")
    t = response.times
    rec = on_case_grid(rec.select(response.probe_names), dt=t[1] - t[0], t_end=t[-1], where=path)
    if rec.times.size != t.size:
        raise ValueError(
            f"{path}: the record must hold every step of the model grid 0, {t[1]:g}, …, "
            f"{t[-1]:g} s ({t.size} samples); it has {rec.times.size} from {rec.times[0]:g} to "
            f"{rec.times[-1]:g} s"
        )
    missing = [k for k in ("n_rpm", "fz_mm", "ae_mm") if k not in rec.params]
    if missing:
        raise ValueError(
            f"{path}: metadata line(s) {[f'# {k} = <value>' for k in missing]} missing"
        )
    return replace(rec, times=t)


def training_data(args: argparse.Namespace, progress: bool, *, every_scenario: bool = False):
    """Records of the generating model for ``--retrain`` and the baselines (issue 14).

    The records are those of ``cases.ihcp_robustness`` with its default settings (``--quick``:
    its ``--quick``): thermo.inverse.virtual_lab's generating model (finer mesh and step, every
    model uncertainty, realistic sensors, random F1 histories), the same seed (0), model draws,
    cases, realisations and σ = 0, 5, 10 K, sampled on the inverse's step — so that the main
    job's networks and baselines are trained on, and judged with, exactly the study's records.
    Training records: split ``train`` of scenario ``all`` (every uncertainty), less a seeded
    fifth of the cases (``val``: early stopping; thermo.inverse.calibration.validation_cases,
    seed 0, as the study); test records:
    split ``test`` (held-out cases 5, 14, 23, 24 and each case's last realisation, on model draws
    disjoint from the training draws) of ``all`` and, with ``every_scenario``, of ``none`` (no
    model error: the discretisation gap only). The FEM responses are read from (or written to)
    the study's cache ``results/.cache/ihcp_robustness`` when ``--cache`` is the default, else
    ``<cache>/virtual_lab``; with ``every_scenario`` every scenario's draws are requested, as the
    study does, since draws without a change of FEM model share one cached run whose key depends
    on all of them (cold cache: 17 fine FEM runs; only ``all``: 4).

    ``--dataset DIR`` reads the record set ``DIR/records.npz/.json`` that
    ``cases.ihcp_robustness`` writes instead (no FEM; no Tikhonov in the held-out table then).

    Returns ``{"fit", "val", "test": [SensorRecord], "val_cases", "nominal": LinearResponse |
    None, "data_model": dict, "nominal_size_factor": float | None}``; memoised on ``args`` for
    one run.
    """
    memo = getattr(args, "_lab_records", None)
    if memo is not None and (memo["every_scenario"] or not every_scenario):
        return memo
    from cases.ihcp_robustness import _settings
    from cases.ihcp_robustness import build_parser as robustness_parser
    from thermo.inverse.record import RecordSet
    from thermo.inverse.virtual_lab import (
        SCENARIOS,
        draw_responses,
        generate,
        nominal_response,
        pool,
    )

    lab = robustness_parser().parse_args(["--quick"] if args.quick else [])
    model, nominal_size, cases, n_draws, n_reals, _ = _settings(lab)
    nominal = None
    if args.dataset is not None:
        path = Path(args.dataset) / "records"
        if not path.with_suffix(".npz").is_file():
            raise FileNotFoundError(
                f"--dataset {args.dataset}: no records.npz (the record set that "
                "cases.ihcp_robustness writes)"
            )
        rs = RecordSet.load(path)
        records = list(rs.records)
        data_model = dict(rs.meta.get("data_model") or {}) | {"source": str(path)}
        nominal_size = None
    else:
        if Path(args.cache) == DEFAULT_CACHE:
            cache = Path(robustness_parser().get_default("cache"))
        else:
            cache = Path(args.cache) / "virtual_lab"
        cache.mkdir(parents=True, exist_ok=True)
        draws = {s: pool(s, n_draws, seed=lab.seed, ranges=model.ranges) for s in SCENARIOS}
        wanted = SCENARIOS if every_scenario else ("all",)
        if progress:
            print(
                f"milling_reconstruction: generating-model records (FEM responses cached in "
                f"{cache})",
                flush=True,
            )
        fine = draw_responses(
            [d for s in wanted for d in draws[s]], model, cache=cache, progress=progress
        )
        use = ("all", "none") if every_scenario else ("all",)
        records = generate(
            fine,
            {s: draws[s] for s in use},
            model,
            cases=cases,
            n_realisations=n_reals,
            sigmas=lab.sigmas,
            seed=lab.seed,
        )
        nominal = nominal_response(model, nominal_size, cache)
        data_model = {
            "generating": model.as_meta(),
            "nominal": {"size_factor": nominal_size, "dt": model.inverse_dt, "h_F3": 25.0,
                        "contact": "perfect", "k_insert": 85.0, "lag": None},
            "scenarios": list(use), "draws_per_scenario": n_draws, "realisations": n_reals,
            "cases": list(cases), "sigmas_K": list(lab.sigmas), "seed": lab.seed,
            "fem_cache": str(cache),
            "same_as": "cases.ihcp_robustness " + ("--quick" if args.quick else "(defaults)"),
        }  # fmt: skip
    for i, r in enumerate(records):
        missing = [k for k in ("case", "split", "scenario") if k not in r.meta]
        if missing or r.truth is None:
            raise ValueError(
                f"training records: record {i} lacks meta {missing} or its truth (needs the "
                "generating model's records, thermo.inverse.virtual_lab)"
            )
    from thermo.inverse.calibration import validation_cases

    pool_ = [r for r in records if r.meta["split"] == "train" and r.meta["scenario"] == "all"]
    val_cases = validation_cases({r.meta["case"] for r in pool_}, seed=0) if pool_ else []
    train = [r for r in pool_ if int(r.meta["case"]) not in val_cases]
    val = [r for r in pool_ if int(r.meta["case"]) in val_cases]
    test = [
        r for r in records if r.meta["split"] == "test" and r.meta["scenario"] in ("all", "none")
    ]
    if not train or not val or not any(r.meta["scenario"] == "all" for r in test):
        raise ValueError(
            "training records: need split 'train' and 'test' records of scenario 'all' "
            f"(have {len(train)} train, {len(test)} test)"
        )
    data_model |= {
        "training": "split 'train' of scenario 'all' (every uncertainty), all σ, less the "
        "validation cases (thermo.inverse.calibration.validation_cases, seed 0)",
        "test": "split 'test': held-out cases 5, 14, 23, 24 and each case's last realisation, "
        "model draws disjoint from the training draws",
    }
    memo = {
        "fit": train,
        "val": val,
        "val_cases": val_cases,
        "test": test,
        "nominal": nominal,
        "nominal_size_factor": nominal_size,
        "data_model": data_model,
        "every_scenario": every_scenario or args.dataset is not None,
        "records": records,
        "fine": None if args.dataset is not None else fine,
        "draws": None if args.dataset is not None else draws,
        "model": model,
        "sigmas": tuple(lab.sigmas),
        "seed": lab.seed,
    }
    args._lab_records = memo
    return memo


def baseline_records(args: argparse.Namespace, response, progress: bool) -> list:
    """Training records of the baselines (fir, params-only): the generating model's training
    records of scenario ``all`` less the validation cases (:func:`training_data`, as
    ``cases.ihcp_robustness`` fits its baselines), never the reconstruction conditions or the
    test case, on the response's grid.
    Checks that they are records of the main job's sensors: the same names, and — on the
    standard mesh and step — the main job's sensor step responses equal the nominal model's
    that the records' inverse methods use (same positions; 1e-6 relative)."""
    from thermo.inverse.record import on_case_grid

    data = training_data(args, progress)
    t = response.times
    names = tuple(data["fit"][0].names)
    if names != tuple(response.probe_names):
        raise ValueError(
            f"training records: sensors {list(names)}, the main job's are "
            f"{list(response.probe_names)}"
        )
    nominal = data["nominal"]
    sf = size_factor(args)
    if (
        nominal is not None
        and sf == data["nominal_size_factor"]
        and nominal.times.shape == t.shape
        and np.allclose(nominal.times, t)
    ):
        scale = float(np.abs(nominal.step).max())
        gap = float(np.abs(np.asarray(response.step) - nominal.step).max())
        if gap > 1e-6 * scale:
            raise ValueError(
                f"training records: the main job's sensor responses differ from the records' "
                f"nominal model by {gap:.3g} K/K (not the same sensors)"
            )
    return [
        on_case_grid(rec, dt=t[1] - t[0], t_end=t[-1], where="generating-model records")
        for rec in data["fit"]
    ]


def generating_records(args: argparse.Namespace, response, progress: bool) -> list:
    """The three conditions' records from the generating model: realisation 0 of cases 5, 14,
    23 under the test draw of scenario ``all`` that :func:`thermo.inverse.virtual_lab.assign_draw`
    gives them (never a training draw), at ``--sigma`` and seeded by ``--seed`` (``--seed 0`` and
    σ ∈ {0, 5, 10} K: exactly the held-out records of ``cases.ihcp_robustness``), on the main
    job's grid. With ``--dataset``: the record set's matching test records."""
    from thermo.inverse.design import RECONSTRUCTION_CASES
    from thermo.inverse.record import on_case_grid
    from thermo.inverse.virtual_lab import assign_draw, make_records

    data = training_data(args, progress)
    t = response.times
    out = []
    for case in RECONSTRUCTION_CASES:
        if data["fine"] is None:  # a user's record set: take its records
            found = [
                r for r in data["records"]
                if r.meta.get("scenario") == "all" and r.meta.get("split") == "test"
                and int(r.meta.get("case", -1)) == case and r.meta.get("realisation") == 0
                and abs(float(r.meta.get("sigma_K", -1.0)) - args.sigma) < 1e-9
            ]  # fmt: skip
            if not found:
                raise ValueError(
                    f"--dataset {args.dataset}: no test record of scenario 'all', case {case}, "
                    f"realisation 0 at σ = {args.sigma:g} K"
                )
            rec = found[0]
        else:
            draw = assign_draw(data["draws"]["all"], case=case, r=0, split="test")
            sigmas = data["sigmas"] if args.sigma in data["sigmas"] else (args.sigma,)
            recs = make_records(
                data["fine"][draw.label], draw, data["model"], case=case, r=0,
                sigmas=sigmas, seed=args.seed, split="test",
            )  # fmt: skip
            rec = next(r for r in recs if r.meta["sigma_K"] == float(args.sigma))
        out.append(on_case_grid(rec, dt=t[1] - t[0], t_end=t[-1], where="generating model"))
    return out


def data_info(args: argparse.Namespace) -> dict:
    """Where the measured sensors came from (metrics.json ``data``; the report's caution)."""
    if args.measurements is not None:
        return {"source": "measurements", "file": str(args.measurements)}
    if args.data == "nominal":
        return {
            "source": "nominal",
            "note": "the inverse's own forward model (inverse crime): same mesh and step, "
            "nominal parameters, no lag, white noise",
        }
    memo = getattr(args, "_lab_records", None) or {}
    return {
        "source": "generating",
        "note": "held-out records of the generating model (finer mesh and step, scenario 'all' "
        "on a test draw, lag, drift, quantisation, random F1 history)",
        "data_model": memo.get("data_model"),
    }

"""Tool temperature-field reconstruction for three working conditions (paper 000 §4.2, Fig. 10).

For N = 382, 509, 636 r/min, fz = 0.075 mm/z, ae = 0.2 mm (dry up-milling; data-set cases 5, 14,
23): one FEM run of the insert–shank–bolt tool gives the step response of the sensors S1..S4 and
of the whole field to the F1 temperature (thermo.inverse.linear_response, cached on disk); per
condition
the true F1 history (thermo.inverse.cutting_zone) gives virtual measured sensors with noise σ, an
inverse
method estimates F1 and the field is rebuilt by Duhamel superposition
(thermo.inverse.reconstruction).

Inverse methods, side by side (``--method`` is the one rendered and written to ParaView,
``--compare`` the others): ``student`` (default; ensemble of knowledge-distilled CNN-GRU students
with its spread as band), ``teacher`` (the CNN-GRU teacher) — both from the weights shipped in
surrogates/ihcp/weights (surrogates.ihcp.estimator), trained without the three conditions —, and
the classical ``tikhonov`` (first order, λ by the discrepancy principle, posterior band),
``sfsm`` and ``kalman``. ``--retrain`` retrains the networks from the virtual data set
(surrogates.ihcp.recon_training; the data set is built and cached when ``--dataset`` is not
given), writes them to ``<out>/weights`` and uses them; with the default budget it reproduces
the shipped weights bit for bit, which it checks and prints.

Outputs (one folder, written under a temporary name and renamed): ``fig10_fields.png`` (3 × 3
PyVista panel, Fig. 10 A–I), ``fig10_sensors.png`` (reconstructed vs measured, Fig. 10 J–L),
``boundary.png`` (F1 estimate, band and truth), ``<condition>/T.xdmf`` + ``T.h5`` (ParaView time
series, every ``--every``-th step) and ``<condition>/sensors.csv``, ``metrics.json``,
``report.md`` (with the per-method table). ``--measurements CSV`` reconstructs a user's record
(thermo.inverse.dataset CSV layout, ``# n_rpm = ...`` metadata) instead of the three virtual
conditions.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from cases.recon_report import report_markdown
from thermo.outdir import partial_dir, publish_dir

SIZE_FACTOR, DT = 0.5, 0.05  # default mesh and step: about 28 000 dofs, 240 steps to 12 s
QUICK_SIZE_FACTOR, QUICK_DT = 2.0, 0.2
METHODS = ("student", "teacher", "tikhonov", "sfsm", "kalman")
NEURAL = ("student", "teacher")
DEFAULT_COMPARE = ("teacher", "tikhonov")


def build_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    p = argparse.ArgumentParser(
        prog="python -m cases.milling_reconstruction",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--out", type=Path, default=Path("results/milling_reconstruction"), metavar="DIR"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the F1 fluctuation and the noise")
    p.add_argument("--quick", action="store_true", help="coarse mesh, dt = 0.2 s (tests)")
    p.add_argument(
        "--method", choices=METHODS, default="student", help="method rendered and exported"
    )
    p.add_argument(
        "--compare",
        choices=METHODS,
        nargs="*",
        default=None,
        metavar="M",
        help="methods run side by side (default: teacher tikhonov; none: --compare)",
    )
    p.add_argument(
        "--weights", type=Path, default=None, metavar="DIR", help="neural weights folder"
    )
    p.add_argument("--retrain", action="store_true", help="retrain the networks (see above)")
    p.add_argument(
        "--dataset", type=Path, default=None, metavar="DIR", help="data set for --retrain"
    )
    p.add_argument("--sigma", type=float, default=5.0, metavar="K", help="sensor noise σ")
    p.add_argument("--size-factor", type=float, default=None, help="mesh size factor")
    p.add_argument("--dt", type=float, default=None, metavar="S", help="time step")
    p.add_argument(
        "--every",
        type=int,
        default=None,
        metavar="K",
        help="write every K-th step to the ParaView series (default: 0.25 s)",
    )
    p.add_argument(
        "--cache",
        type=Path,
        default=Path("results/.cache/milling_reconstruction"),
        metavar="DIR",
        help="folder of cached linear responses",
    )
    p.add_argument(
        "--measurements",
        type=Path,
        default=None,
        metavar="CSV",
        help="reconstruct this record (time_s,S1..S4[,F1]) instead",
    )
    p.add_argument("--no-progress", action="store_true", help="no tqdm bars")
    return p


def _problem(dt: float):
    from thermo.problem import ConvectionBC, HeatProblem, TimeStepping, material

    # same forward model as cases.ihcp_dataset: WC–Co insert, 42CrMo4 shank and bolt (DESIGN.md),
    # perfect contact on F2, h = 25 W/(m² K) to 20 °C on F3 (rotating-cylinder estimate)
    return HeatProblem(
        materials={
            "insert": material("wc-co"),
            "shank": material("42crmo4"),
            "bolt": material("42crmo4"),
        },
        boundaries={"F3": ConvectionBC(h=25.0, T_inf=20.0)},
        time=TimeStepping(dt=dt, t_end=12.0, T0=20.0),
    )


def _response(tagged, problem, *, cache: Path, key: dict, progress: bool):
    """Cached field-recording linear response of S1..S4 (and all dofs) to the F1 temperature."""
    from thermo.inverse.linear_response import LinearResponse, compute_linear_response

    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    path = cache / f"response_{digest}"
    n_dofs = tagged.mesh.geometry.index_map().size_global
    if path.with_suffix(".npz").exists():
        resp = LinearResponse.load(path)
        if resp.field_step is not None and resp.field_step.shape[1] == n_dofs:
            if "_field_compression" not in resp.__dict__:  # cache written before compression
                resp.field_compression()
                resp.save(path)
            return resp, True
    names = sorted(tagged.sensors)
    resp = compute_linear_response(
        tagged,
        problem,
        boundary="F1",
        kind="temperature",
        probes={n: tagged.sensors[n] for n in names},
        record_fields=True,
        progress=progress,
    )
    resp.meta["cache_key"] = key
    resp.field_compression()  # low-rank factors of the field response, saved with it
    resp.save(path)
    return resp, False


def _user_record(path: Path, response):
    from thermo.inverse.dataset import read_measurements_csv

    rec = read_measurements_csv(path)
    missing = [n for n in response.probe_names if n not in rec.names]
    if missing:
        raise ValueError(f"{path}: sensor columns {missing} missing (has {list(rec.names)})")
    t = response.times
    if rec.times[0] > t[0] + 1e-9 or rec.times[-1] < t[-1] - 1e-9:
        raise ValueError(
            f"{path}: time_s must cover 0 … {t[-1]:g} s, got {rec.times[0]:g} … {rec.times[-1]:g} s"
        )
    cols = [rec.names.index(n) for n in response.probe_names]
    measured = np.stack([np.interp(t, rec.times, rec.values[:, c]) for c in cols], axis=1)
    params = {}
    for key in ("n_rpm", "fz_mm", "ae_mm"):
        if key not in rec.meta:
            raise ValueError(f"{path}: metadata line '# {key} = <value>' is missing")
        params[key] = float(rec.meta[key])
    f1 = None if rec.f1 is None else np.interp(t, rec.times, rec.f1)
    return {"times": t, "measured": measured, "f1": f1, "clean": None}, params


def _write_series(directory: Path, V, response, f1: np.ndarray, every: int) -> list[str]:
    from dolfinx import fem

    from thermo.output import FieldWriter

    T = fem.Function(V, name="T")
    steps = response.times[::every]
    fields = response.fields(f1, at_times=steps, compressed=True)  # low rank, ~1 mK error
    writer = FieldWriter(out_dir=directory, functions=[T], fmt="xdmf")
    for t, values in zip(steps, fields, strict=True):
        T.x.array[:] = values
        writer.write(float(t))
    return [p.name for p in writer.close()]


def _training_data(args: argparse.Namespace, progress: bool):
    """The IHCP data set for ``--retrain``: ``--dataset DIR`` or built once into the cache."""
    from thermo.inverse.dataset import load_dataset

    folder = args.dataset
    if folder is None:
        folder = args.cache / ("ihcp_dataset_quick" if args.quick else "ihcp_dataset")
        if not (folder / "ihcp_dataset.npz").is_file():
            from cases.ihcp_dataset import main as build_dataset

            print(f"milling_reconstruction: building the training data set in {folder}")
            if build_dataset(["--out", str(folder)] + (["--quick"] if args.quick else [])) != 0:
                raise RuntimeError("milling_reconstruction: building the data set failed")
    if not (folder / "ihcp_dataset.npz").is_file():
        raise FileNotFoundError(f"--dataset {folder}: no ihcp_dataset.npz in this folder")
    return load_dataset(folder / "ihcp_dataset")


def _estimators(args: argparse.Namespace, needed: set[str], weights_out: Path, progress: bool):
    """``{"teacher", "student"}`` estimators: shipped, from ``--weights``, or retrained."""
    from surrogates.ihcp.estimator import max_weight_difference, shipped

    if not (needed & set(NEURAL)) and not args.retrain:
        return {}, None
    if not args.retrain:
        return {k: shipped(k, directory=args.weights) for k in NEURAL if k in needed}, None
    from surrogates.ihcp.recon_training import EstimatorTraining, train_estimators

    config = EstimatorTraining(progress=progress)
    if args.quick:  # tests: the same pipeline on a budget of seconds
        config = replace(config, teacher_epochs=1, student_epochs=1, n_students=2)
    ds = _training_data(args, progress)
    print("milling_reconstruction: retraining teacher and students", flush=True)
    teacher, students, report = train_estimators(ds, config)
    teacher.save(weights_out / "teacher")
    students.save(weights_out / "student")
    report["max_abs_difference_to_shipped"] = None
    if not args.quick:
        try:
            diff = max(
                max_weight_difference(teacher, shipped("teacher", directory=args.weights)),
                max_weight_difference(students, shipped("student", directory=args.weights)),
            )
        except FileNotFoundError:
            diff = None
        report["max_abs_difference_to_shipped"] = diff
        verdict = "identical" if diff == 0.0 else f"max |difference| {diff}"
        print(f"milling_reconstruction: retrained weights vs shipped: {verdict}")
    (weights_out / "training.json").write_text(
        json.dumps(report, indent=2, default=float), encoding="utf-8"
    )
    return {"teacher": teacher, "student": students}, report


def _method(name: str, response, *, sigma: float, neural: dict):
    from thermo.inverse.reconstruction import classical_method

    if name in NEURAL:
        return neural[name].as_method(name)
    return classical_method(name, response, sigma=sigma)


def _summary(metrics: dict) -> dict:
    """The comparable part of one method's metrics (side-by-side table)."""
    keys = ("method", "sensors", "boundary", "loso", "band_coverage", "reconstruct_s")
    return {k: metrics.get(k) for k in keys}


def main(argv: list[str] | None = None) -> int:
    """Run the reconstruction study; returns the exit code."""
    args = build_parser().parse_args(argv)
    if args.sigma < 0:
        print("milling_reconstruction: error: --sigma must be >= 0 K", file=sys.stderr)
        return 2
    compare = DEFAULT_COMPARE if args.compare is None else tuple(args.compare)
    methods = [args.method] + [m for m in dict.fromkeys(compare) if m != args.method]
    if args.weights is not None and not args.retrain:
        for kind in set(methods) & set(NEURAL):
            if not (args.weights / f"{kind}.npz").is_file():
                msg = f"--weights {args.weights}: no {kind}.npz"
                print(f"milling_reconstruction: error: {msg}", file=sys.stderr)
                return 2
    import dolfinx_solver  # noqa: F401  (MPI/PETSc before dolfinx)
    from dolfinx import fem
    from mpi4py import MPI
    from tqdm import tqdm

    from meshes.tool import ToolGeometry, tool_mesh
    from thermo.inverse.recon_plots import plot_boundary, plot_sensor_curves
    from thermo.inverse.recon_render import grid_from_space, render_panel
    from thermo.inverse.reconstruction import CONDITIONS, FIELD_TIMES, reconstruct
    from thermo.inverse.reconstruction import virtual_measurement as virtual
    from thermo.output import write_probes_csv

    t_start = time.perf_counter()
    sf = args.size_factor or (QUICK_SIZE_FACTOR if args.quick else SIZE_FACTOR)
    dt = args.dt or (QUICK_DT if args.quick else DT)
    every = args.every or max(1, round(0.25 / dt))
    progress = not args.no_progress
    tagged = tool_mesh(ToolGeometry(size_factor=sf), MPI.COMM_SELF)
    problem = _problem(dt)
    key = {
        "size_factor": sf,
        "dt": dt,
        "t_end": 12.0,
        "h_F3": 25.0,
        "kind": "temperature",
        "format": 1,
    }
    response, cached = _response(tagged, problem, cache=args.cache, key=key, progress=progress)
    t_response = time.perf_counter() - t_start
    V = fem.functionspace(tagged.mesh, ("Lagrange", 1))
    names = list(response.probe_names)
    if args.measurements is not None:
        inputs, params = _user_record(args.measurements, response)
        jobs = [(params, inputs)]
    else:
        jobs = []
        for n, fz, ae in CONDITIONS:
            params = {"n_rpm": n, "fz_mm": fz, "ae_mm": ae}
            jobs.append((params, virtual(response, **params, sigma=args.sigma, seed=args.seed)))
    out = args.out
    tmp = partial_dir(out)
    try:
        neural, training = _estimators(args, set(methods), tmp / "weights", progress)
        by_method = {m: _method(m, response, sigma=args.sigma, neural=neural) for m in methods}
        recs: dict[str, list] = {m: [] for m in methods}
        metrics: dict = {"conditions": {}}
        for params, inputs in tqdm(
            jobs, desc="reconstruction", unit="condition", disable=not progress
        ):
            label = f"N{params['n_rpm']:g}_fz{params['fz_mm']:g}_ae{params['ae_mm']:g}"
            side = {}
            for name, method in by_method.items():
                t0 = time.perf_counter()
                rec = reconstruct(
                    response,
                    method,
                    measured=inputs["measured"],
                    params=params,
                    truth_f1=inputs["f1"],
                    clean=inputs["clean"],
                )
                rec.metrics["reconstruct_s"] = time.perf_counter() - t0
                rec.inputs = inputs
                recs[name].append(rec)
                side[name] = _summary(rec.metrics)
            rec = recs[args.method][-1]
            files = _write_series(tmp / label, V, response, rec.f1, every)
            cols = {f"{n}_measured": inputs["measured"][:, i] for i, n in enumerate(names)}
            cols |= {f"{n}_reconstructed": rec.fitted[:, i] for i, n in enumerate(names)}
            for name in methods:
                cols[f"F1_{name}"] = recs[name][-1].f1
            if inputs["f1"] is not None:
                cols["F1_truth"] = inputs["f1"]
            write_probes_csv(
                tmp / label / "sensors.csv", times=rec.times, probes=cols, comm=MPI.COMM_SELF
            )
            metrics["conditions"][label] = {
                "params": params,
                **rec.metrics,
                "paraview": [f"{label}/{f}" for f in files],
                "methods": side,
            }
        primary = recs[args.method]
        plot_sensor_curves(tmp / "fig10_sensors.png", primary, names=names)
        plot_boundary(tmp / "boundary.png", primary, others={m: recs[m] for m in methods[1:]})
        render_panel(
            tmp / "fig10_fields.png",
            grid=grid_from_space(V),
            fields=[r.fields for r in primary],
            row_labels=[f"N = {r.params['n_rpm']:g} r/min" for r in primary],
            times=FIELD_TIMES,
        )
        metrics |= {
            "method": args.method,
            "methods": methods,
            "sigma_K": args.sigma,
            "seed": args.seed,
            "quick": args.quick,
            "mesh_size_factor": sf,
            "dt_s": dt,
            "n_dofs": int(response.field_step.shape[1]),
            "n_steps": int(response.times.size - 1),
            "response_cached": cached,
            "response_s": t_response,
            "weights": _weights_info(args, neural, training),
            "total_s": time.perf_counter() - t_start,
        }
        (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2, default=float), "utf-8")
        (tmp / "report.md").write_text(report_markdown(metrics, names), encoding="utf-8")
        publish_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    n_cond = len(metrics["conditions"])
    print(
        f"milling_reconstruction: {n_cond} condition(s) × {len(methods)} method(s) in "
        f"{metrics['total_s']:.1f} s (response {'cached' if cached else 'computed'}); "
        f"outputs in {out.resolve()}"
    )
    return 0


def _weights_info(args: argparse.Namespace, neural: dict, training: dict | None) -> dict | None:
    """Where the networks came from and their provenance (for metrics.json and the report)."""
    if not neural:
        return None
    from surrogates.ihcp.estimator import SHIPPED_DIR

    source = "retrained" if args.retrain else str(args.weights or SHIPPED_DIR)
    info: dict = {"source": source}
    for kind, est in neural.items():
        info[kind] = {
            "members": len(est.members),
            "window": est.window,
            "dt_s": est.dt,
            "test_case_24": est.meta.get("test_case"),
            "training": est.meta.get("training"),
        }
    if training is not None:
        info["max_abs_difference_to_shipped"] = training.get("max_abs_difference_to_shipped")
    return info


if __name__ == "__main__":
    sys.exit(main())

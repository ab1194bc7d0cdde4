"""Tool temperature-field reconstruction for three working conditions (paper 000 §4.2, Fig. 10).

For N = 382, 509, 636 r/min, fz = 0.075 mm/z, ae = 0.2 mm (dry up-milling; data-set cases 5, 14,
23): one FEM run of the insert–shank–bolt tool gives the step response of the sensors S1..S4 and
of the whole field to the F1 temperature (thermo.inverse.linear_response, cached on disk under a
key derived from the problem and the mesh geometry); per condition the true F1 history
gives measured sensors, an inverse method estimates F1 and the field is rebuilt by Duhamel
superposition (thermo.inverse.reconstruction).

The measured sensors (``--data``): ``generating`` (default) — the held-out records of the
generating model (thermo.inverse.virtual_lab: finer mesh and step, every model uncertainty of
scenario ``all`` on a test draw no network or baseline trained on, thermocouple lag, noise σ with
drift and quantisation, a random F1 history with entry/exit, gaps, feed change and wear;
realisation 0 of cases 5, 14, 23, seeded by ``--seed``), i.e. no inverse crime; ``nominal`` —
the inverse's own model (same mesh and step, nominal parameters, white noise σ, the smooth F1
history of thermo.inverse.cutting_zone): an inverse-crime demonstration that favours the
classical methods.

Inverse methods, side by side (``--method`` is the one rendered and written to ParaView,
``--compare`` the others; the choices are the one registry, thermo.inverse.registry):
``student`` (default; ensemble of knowledge-distilled CNN-GRU students with its spread as band),
``teacher`` (the CNN-GRU teacher) — both from the weights shipped in
surrogates/ihcp/weights (surrogates.ihcp.estimator), trained without the three conditions —, and
the classical ``tikhonov`` (first order, λ by the discrepancy principle, posterior band),
``sfsm`` and ``kalman``, and the baselines ``fir`` (ridge FIR filter on lagged sensors and the
parameters) and ``params-only`` (the history from the machining parameters alone), fitted on the
generating model's training records (thermo.inverse.baselines). ``--retrain`` retrains the
networks on those records (cases.recon_networks; the records of ``cases.ihcp_robustness``, FEM runs
cached, or ``--dataset DIR`` with its ``records.npz``), writes them to ``<out>/weights`` and uses
them; seeded, so a rerun on the same machine and build gives the same weights; the difference to
the shipped weights is printed and recorded (other machines differ by round-off that training
amplifies: see README).

MPI (``mpirun -n N python -m cases.milling_reconstruction``): the mesh is distributed (Gmsh on
rank 0), the field step response is computed on every rank (factors streamed per rank, gathered
to rank 0 in input-node order and cached there, so one cache serves any rank count:
thermo.inverse.field_order), the inverse part (records, methods, calibration, estimates) runs
on rank 0 only, since it needs the sensor probes alone, while the others sleep
(thermo.root_work); the ParaView series is written by every rank and the figures on rank 0 from
the gathered mesh. The numbers equal the serial run's to ~1e-9 relative (CG at
:data:`RESPONSE_RTOL`). ``--retrain`` and ``--nonlinear`` run serially.

Outputs (one folder, staged and published when complete, thermo.atomic.staged_dir):
``fig10_fields.png`` (3 × 3 PyVista panel, Fig. 10 A–I), ``fig10_sensors.png`` (reconstructed vs
measured, Fig. 10 J–L),
``boundary.png`` (F1 estimate, band and truth), ``<condition>/T.xdmf`` + ``T.h5`` (ParaView time
series, every ``--every``-th step) and ``<condition>/sensors.csv``, ``metrics.json``,
``report.md`` (with the per-method table). ``--measurements CSV`` reconstructs a user's record
(thermo.inverse.record CSV layout: a time column, one column per sensor S1..S4, ``# n_rpm = ...``
metadata; ``--time-column``/``--time-unit`` for the user's own names) instead of the three
virtual conditions; it must be sampled on the model's grid or finer by an integer factor.
Bad input exits 2 with one line (cases.exits).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from cases.exits import run_main
from cases.recon_networks import NEURAL, estimators, weights_info
from cases.recon_records import (
    DEFAULT_CACHE,
    DT,
    QUICK_DT,
    QUICK_SIZE_FACTOR,
    SIZE_FACTOR,
    baseline_records,
    data_info,
    generating_records,
    training_data,
    user_record,
)
from cases.recon_report import report_markdown
from thermo.atomic import atomic_write_text, check_output_dir, staged_dir
from thermo.inverse.registry import method_names

#: Relative residual of the response's CG + GAMG solves: GAMG's hierarchy depends on the
#: partition, so 1 and N ranks agree to about this tolerance times the conditioning; at 1e-12
#: the job's numbers agree to 1e-8 relative (the solver default 1e-10 leaves ~1e-7 on small
#: residual norms). Costs a few more iterations per step.
RESPONSE_RTOL = 1e-12
#: Format of the cached response (bump when what is cached changes).
RESPONSE_FORMAT = 3  # 3: streamed float64 factors, columns in input-node order
DEFAULT_COMPARE = ("teacher", "tikhonov", "fir", "params-only")


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
        "--method",
        choices=method_names(),
        default=None,
        help="method rendered and exported (default: student; gauss-newton with --nonlinear)",
    )
    p.add_argument(
        "--compare",
        choices=method_names(),
        nargs="*",
        default=None,
        metavar="M",
        help="methods side by side (default: teacher tikhonov fir params-only; none: --compare)",
    )
    p.add_argument(
        "--weights", type=Path, default=None, metavar="DIR", help="neural weights folder"
    )
    p.add_argument("--retrain", action="store_true", help="retrain the networks (see above)")
    p.add_argument(
        "--dataset",
        type=Path,
        default=None,
        metavar="DIR",
        help="record set (records.npz) of cases.ihcp_robustness for --retrain and --data",
    )
    p.add_argument(
        "--data",
        choices=("generating", "nominal"),
        default="generating",
        help="measured sensors from the generating model (default) or the inverse's own model",
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
        default=DEFAULT_CACHE,
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
    p.add_argument("--time-column", default="time_s", metavar="COL", help="time column of CSV")
    p.add_argument("--time-unit", choices=("s", "ms", "min"), default="s", help="its unit")
    p.add_argument(
        "--no-calibration",
        action="store_true",
        help="raw bands (default: 95 %% bands calibrated on the generating model's validation "
        "records, thermo.inverse.calibration)",
    )
    p.add_argument("--no-progress", action="store_true", help="no tqdm bars")
    p.add_argument(
        "--nonlinear",
        action="store_true",
        help="k(T), c(T) tool: nonlinear virtual sensors and fields (cases.recon_nonlinear)",
    )
    return p


def _response(tagged, space, problem, geometry, *, cache: Path, progress: bool):
    """Cached field-recording linear response of S1..S4 (and all dofs) to the F1 temperature,
    on any number of ranks: the field factors are streamed during the FEM run (B in float64,
    so that 1 and N ranks agree to round-off), gathered to rank 0 in input-node order and
    cached there (:mod:`thermo.inverse.field_order`); every rank then holds the columns of its
    owned dofs of ``space``. The cache key is derived from the problem, the mesh geometry and
    the probes; a cache written on another number of ranks serves this one."""
    from thermo.inverse.field_order import local_input_nodes
    from thermo.inverse.linear_response import LinearResponse, cache_key, compute_linear_response
    from thermo.root_work import idle_barrier

    comm = tagged.mesh.comm
    names = sorted(tagged.sensors)
    probes = {n: tuple(float(x) for x in tagged.sensors[n]) for n in names}
    key = cache_key(
        problem=problem,
        geometry=geometry,
        boundary="F1",
        kind="temperature",
        probes=probes,
        fields=True,
        format=RESPONSE_FORMAT,
    )
    path = cache / f"response_{key}"
    n_nodes = tagged.mesh.geometry.index_map().size_global
    mine = local_input_nodes(space)
    if path.with_suffix(".npz").exists():
        resp = LinearResponse.load(path)
        nodes = resp.field_nodes
        if nodes is not None and nodes.size == n_nodes and resp.has_field_compression:
            return resp.on_nodes(mine), True
    resp = compute_linear_response(
        tagged,
        problem,
        boundary="F1",
        kind="temperature",
        probes=probes,
        record_fields=True,
        field_compression="streaming",
        field_dtype=np.float64,
        progress=progress,
    )
    resp.meta["cache_key"] = key
    whole = resp.gathered(comm)
    if comm.rank == 0:
        whole.save(path)
    idle_barrier(comm)  # the others sleep while rank 0 writes the cache
    return resp, False


def _write_series(directory: Path, V, response, f1: np.ndarray, every: int) -> list[str]:
    from dolfinx import fem

    from thermo.output import FieldWriter

    T = fem.Function(V, name="T")
    steps = response.times[::every]
    fields = response.fields(f1, at_times=steps, compressed=True)  # low rank, ~1 mK error
    n_owned = V.dofmap.index_map.size_local  # the response holds this rank's owned dofs
    writer = FieldWriter(out_dir=directory, functions=[T], fmt="xdmf")  # collective
    for t, values in zip(steps, fields, strict=True):
        T.x.array[:n_owned] = values
        T.x.scatter_forward()
        writer.write(float(t))
    return [p.name for p in writer.close()]


def _calibrated(args: argparse.Namespace, by_method: dict, response, progress: bool):
    """Every method with its 95 % band calibrated (thermo.inverse.calibration: split-conformal
    scale, CDF pooling over records) on the generating model's validation records at ``--sigma``
    (scenario ``all``, the seeded validation cases of
    :func:`cases.recon_records.training_data`: no network or baseline was fitted on them, and
    they are not the test records); when they are too few for the finite-sample level (8 per σ
    by default), the validation records of every σ pooled. A method without a band gets the
    constant conformal band estimate ± q K. Returns the wrapped methods and
    ``{method: calibration meta}`` (``{}`` entries' reason when there are no such records)."""
    from thermo.inverse.calibration import CalibratedMethod, calibrate_method, conformal_level
    from thermo.inverse.record import on_case_grid

    data = training_data(args, progress)
    t = response.times
    at_sigma = [
        r for r in data["val"] if abs(float(r.meta.get("sigma_K", -1.0)) - args.sigma) < 1e-9
    ]
    # one scale per σ when there are enough records for the finite-sample level, else the
    # validation records of every σ pooled (the score is normalised by the band's width)
    pooled = not conformal_level(len(at_sigma))[1]
    chosen = list(data["val"]) if pooled else at_sigma
    if not chosen:
        note = "no validation records: raw bands"
        return by_method, {m: {"note": note} for m in by_method}
    val = [on_case_grid(r, dt=t[1] - t[0], t_end=t[-1], where="validation") for r in chosen]
    which = "every σ pooled" if pooled else f"σ = {args.sigma:g} K"
    out, meta = {}, {}
    for name, method in by_method.items():
        cal = calibrate_method(method, val)
        out[name] = CalibratedMethod(method, cal)
        meta[name] = cal.as_meta() | {"records": f"validation, scenario all, {which}"}
    return out, meta


def _method(
    name: str, response, *, sigma: float, neural: dict, weights: Path | None, training: list
):
    from thermo.inverse.registry import METHODS, make_method

    if METHODS[name].family == "baseline":
        return make_method(name, training=training)
    if METHODS[name].family == "neural":
        if name in neural:
            return make_method(name, estimator=neural[name])
        return make_method(name, weights=weights)
    return make_method(name, response=response, sigma=sigma)


def _summary(metrics: dict) -> dict:
    """The comparable part of one method's metrics (side-by-side table)."""
    keys = ("method", "sensors", "boundary", "loso", "band_coverage", "band_coverage_raw")
    keys += ("reconstruct_s",)
    return {k: metrics.get(k) for k in keys}


def main(argv: list[str] | None = None) -> int:
    """Run the reconstruction study; returns the exit code (bad input: ValueError, see exits)."""
    args = build_parser().parse_args(argv)
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    if comm.size > 1 and (args.nonlinear or args.retrain):
        flag = "--nonlinear" if args.nonlinear else "--retrain"
        raise ValueError(
            f"{flag} runs serially; the linear reconstruction runs on any number of ranks "
            "(mpirun -n N python -m cases.milling_reconstruction [--weights DIR])"
        )
    if args.nonlinear:  # the k(T), c(T) tool: its own pipeline (cases.recon_nonlinear)
        from cases.recon_nonlinear import MainJob
        from cases.recon_nonlinear import run as run_nonlinear

        return run_nonlinear(
            args,
            MainJob(
                size_factor=SIZE_FACTOR,
                dt=DT,
                quick_size_factor=QUICK_SIZE_FACTOR,
                quick_dt=QUICK_DT,
                user_record=user_record,
                baseline_records=baseline_records,
            ),
        )
    args.method = args.method or "student"
    if args.sigma < 0:
        raise ValueError(f"--sigma must be >= 0 K, got {args.sigma}")
    compare = DEFAULT_COMPARE if args.compare is None else tuple(args.compare)
    methods = [args.method] + [m for m in dict.fromkeys(compare) if m != args.method]
    out = check_output_dir(args.out)
    if args.weights is not None and not args.retrain:
        for kind in set(methods) & set(NEURAL):
            if not (args.weights / f"{kind}.npz").is_file():
                raise ValueError(f"--weights {args.weights}: no {kind}.npz")
    import dolfinx_solver  # noqa: F401  (MPI/PETSc before dolfinx)
    from dolfinx import fem

    from meshes.tool import ToolGeometry, tool_mesh
    from thermo.inverse.recon_render import write_reconstruction_figures
    from thermo.output import write_probes_csv
    from thermo.peak_memory import peak_rss_mb
    from thermo.root_work import idle_barrier, on_root
    from thermo.tool_problem import T_END, tool_problem

    t_start = time.perf_counter()
    sf = args.size_factor or (QUICK_SIZE_FACTOR if args.quick else SIZE_FACTOR)
    dt = args.dt or (QUICK_DT if args.quick else DT)
    every = args.every or max(1, round(0.25 / dt))
    progress = not args.no_progress and comm.rank == 0
    geometry = ToolGeometry(size_factor=sf)
    problem = replace(tool_problem(dt=dt, t_end=T_END), rtol=RESPONSE_RTOL)
    if args.measurements is not None and not Path(args.measurements).is_file():
        raise FileNotFoundError(f"--measurements {args.measurements}: no such file")
    tagged = tool_mesh(geometry, comm)  # Gmsh on rank 0, distributed over the ranks
    t_mesh = time.perf_counter() - t_start
    V = fem.functionspace(tagged.mesh, ("Lagrange", 1))
    response, cached = _response(tagged, V, problem, geometry, cache=args.cache, progress=progress)
    t_response = time.perf_counter() - t_start
    names = list(response.probe_names)
    with staged_dir(out, comm=comm) as tmp:
        # the inverse on rank 0 (it needs the probes only, the same on every rank), its
        # results sent to every rank; the fields are then made where their dofs live
        t0 = time.perf_counter()
        found = on_root(comm, lambda: _inverse(args, response, methods, tmp / "weights", progress))
        t_inverse = time.perf_counter() - t0
        recs, records = found["recs"], found["records"]
        metrics: dict = {"conditions": {}}
        for i, record in enumerate(records):
            params = record.params
            label = f"N{params['n_rpm']:g}_fz{params['fz_mm']:g}_ae{params['ae_mm']:g}"
            rec = recs[args.method][i]
            at = rec.field_times
            rec = recs[args.method][i] = replace(
                rec, fields=response.fields(rec.f1, at_times=at, compressed=True)
            )  # this rank's owned dofs
            files = _write_series(tmp / label, V, response, rec.f1, every)
            cols = {f"{n}_measured": record.values[:, i] for i, n in enumerate(names)}
            cols |= {f"{n}_reconstructed": rec.fitted[:, i] for i, n in enumerate(names)}
            for name in methods:
                cols[f"F1_{name}"] = recs[name][i].f1
            if record.truth is not None:
                cols["F1_truth"] = record.truth
            write_probes_csv(tmp / label / "sensors.csv", times=rec.times, probes=cols, comm=comm)
            metrics["conditions"][label] = {
                "params": params,
                **rec.metrics,
                "paraview": [f"{label}/{f}" for f in files],
                "methods": {m: _summary(recs[m][i].metrics) for m in methods},
            }
        primary = recs[args.method]
        others = {m: recs[m] for m in methods[1:]}
        write_reconstruction_figures(tmp, primary, others, V, names=names)  # collective
        idle_barrier(comm)  # rank 0 renders alone
        metrics |= {
            "method": args.method,
            "methods": methods,
            "sigma_K": args.sigma,
            "seed": args.seed,
            "quick": args.quick,
            "mesh_size_factor": sf,
            "dt_s": dt,
            "n_dofs": int(V.dofmap.index_map.size_global),
            "n_ranks": int(comm.size),
            "data": found["data"],
            "calibration": found["calibration"],
            "n_steps": int(response.times.size - 1),
            "response_cached": cached,
            "mesh_s": t_mesh,
            "response_s": t_response,
            "inverse_s": t_inverse,
            "output_s": time.perf_counter() - t0 - t_inverse,
            "weights": found["weights"],
            "total_s": time.perf_counter() - t_start,
            "peak_rss_MB": peak_rss_mb(comm),
        }
        if comm.rank == 0:
            atomic_write_text(tmp / "metrics.json", json.dumps(metrics, indent=2, default=float))
            atomic_write_text(tmp / "report.md", report_markdown(metrics, names))
    n_cond = len(metrics["conditions"])
    if comm.rank == 0:
        print(
            f"milling_reconstruction: {n_cond} condition(s) × {len(methods)} method(s) in "
            f"{metrics['total_s']:.1f} s on {comm.size} rank(s) (response "
            f"{'cached' if cached else 'computed'}); outputs in {out.resolve()}"
        )
    return 0


def _inverse(
    args: argparse.Namespace, response, methods: list[str], weights_out: Path, progress: bool
) -> dict:
    """The inverse part of the job (one rank): the records, every method (trained, fitted,
    calibrated) and its reconstruction of each condition. Returns ``{"records", "recs"
    ({method: [Reconstruction]}, fields omitted), "calibration", "data", "weights"}``."""
    from tqdm import tqdm

    from thermo.inverse.design import CONDITIONS
    from thermo.inverse.reconstruction import FIELD_TIMES, reconstruct
    from thermo.inverse.reconstruction import virtual_measurement as virtual
    from thermo.inverse.registry import METHODS

    if args.measurements is not None:
        records = [user_record(args, response)]
    elif args.data == "generating":
        records = generating_records(args, response, progress)
    else:
        records = [
            virtual(response, n_rpm=n, fz_mm=fz, ae_mm=ae, sigma=args.sigma, seed=args.seed)
            for n, fz, ae in CONDITIONS
        ]
    neural, training = estimators(args, set(methods) & set(NEURAL), weights_out, progress)
    baseline_training = []
    if any(METHODS[m].family == "baseline" for m in methods):
        baseline_training = baseline_records(args, response, progress)
    by_method = {
        m: _method(
            m,
            response,
            sigma=args.sigma,
            neural=neural,
            weights=args.weights,
            training=baseline_training,
        )
        for m in methods
    }
    calibration = {}
    if not args.no_calibration:
        by_method, calibration = _calibrated(args, by_method, response, progress)
    recs: dict[str, list] = {m: [] for m in methods}
    for record in tqdm(records, desc="reconstruction", unit="condition", disable=not progress):
        for name, method in by_method.items():
            t0 = time.perf_counter()
            rec = reconstruct(response, method, record, field_times=())
            rec.metrics["reconstruct_s"] = time.perf_counter() - t0
            raw = rec.info.get("band_raw")
            if raw is not None and record.truth is not None:
                lo, hi = np.asarray(raw).T
                inside = (record.truth[1:] >= lo[1:]) & (record.truth[1:] <= hi[1:])
                rec.metrics["band_coverage_raw"] = float(np.mean(inside))
            recs[name].append(replace(rec, field_times=FIELD_TIMES, fields=None))
    return {
        "records": records,
        "recs": recs,
        "calibration": calibration,
        "data": data_info(args),
        "weights": weights_info(args, neural, training),
    }


if __name__ == "__main__":
    raise SystemExit(run_main(main, "cases.milling_reconstruction"))

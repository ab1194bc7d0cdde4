"""The k(T), c(T) tool and ``milling_reconstruction --nonlinear`` (issue 15).

Shared pieces of the nonlinear tool (also used by :mod:`cases.nonlinear_tool`):

* :func:`nonlinear_problem`: the insert–shank–bolt tool of :mod:`thermo.tool_problem` with
  ``wc-co-T`` inserts and ``42crmo4-T`` shank and bolts (k(T), c(T) of :mod:`thermo.problem`),
  optionally with a prescribed F1 temperature history; solved by Newton per step
  (:mod:`thermo.nonlinear`);
* :func:`linear_sensor_response`: the sensors' step response of the same tool linearised at T0
  (every property at 20 °C; cached on disk under :func:`thermo.inverse.linear_response.cache_key`),
  the constant-property model of the linear methods and the Jacobian of Gauss–Newton;
* :class:`NonlinearForward`: one nonlinear FEM run per F1 history (sensors S1..S4, optionally
  the field at chosen steps).

:func:`run` is the main job with the nonlinear model (``python -m cases.milling_reconstruction
--nonlinear``). For the three conditions (N = 382, 509, 636 r/min, fz = 0.075 mm/z,
ae = 0.2 mm) the true F1 history and the noise are seeded exactly as in the linear job
(:func:`thermo.inverse.reconstruction.virtual_measurement`); the virtual sensors are a nonlinear
FEM run with the true history plus white noise σ. The estimate comes from ``--method``, whose
default here is ``gauss-newton`` (the rule of ``millheat inverse``, thermo.inverse.run: a case
with temperature-dependent properties runs the nonlinear inverse unless told otherwise);
``--compare`` defaults to ``tikhonov`` (the constant-property model at T0: the model error of
ignoring k(T), c(T)) and ``student`` (the shipped networks, trained on constant-property data).
Every method's estimate is then run through the *nonlinear* forward model: its sensor curves
are the fit, and for ``--method`` that run also gives the ParaView series (``T.xdmf``/``T.h5``
every ``--every``-th step) and the 4/8/12 s renders (``fig10_fields.png``). Field errors at
4/8/12 s against the nonlinear run with the true history are in ``metrics.json``.

Choices, stated: the virtual data come from the same nonlinear model (mesh and step) that
Gauss–Newton inverts, as in the linear main job (an *inverse crime*, favouring the model-based
methods); ``python -m cases.nonlinear_tool`` makes its data on a finer mesh and half the step and
is the honest comparison. Leave-one-sensor-out is not run here (each fold of Gauss–Newton is
another set of nonlinear runs). ``--retrain`` is refused (networks trained on nonlinear records:
``cases.nonlinear_tool``). With ``--measurements`` the user's record is inverted the same way
(no truth, so no boundary or field error). Cost: each forward run is a full nonlinear transient
(about 30 s on the standard mesh on one core); Gauss–Newton takes about 5 of them per condition.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

#: Tool materials with temperature-dependent properties (thermo.problem library).
MATERIALS = {"insert": "wc-co-T", "shank": "42crmo4-T", "bolt": "42crmo4-T"}
#: ``--compare`` default with ``--nonlinear``.
NONLINEAR_COMPARE = ("tikhonov", "student")
#: Format of the cached linearised sensor response (bump when what is cached changes).
RESPONSE_FORMAT = 1


def nonlinear_problem(dt: float, history: np.ndarray | None = None, *, t_end: float | None = None):
    """The tool problem with k(T), c(T) materials (:data:`MATERIALS`); with ``history`` (F1 °C
    on the step grid 0, dt, …, t_end) F1 is that prescribed temperature."""
    from thermo.inverse.tool_dataset import f1_condition
    from thermo.problem import material
    from thermo.tool_problem import T_END, tool_problem

    mats = {group: material(name) for group, name in MATERIALS.items()}
    problem = tool_problem(dt=dt, t_end=T_END if t_end is None else t_end, materials=mats)
    if history is not None:
        f1 = f1_condition("temperature", problem.time.times, np.asarray(history, dtype=float))
        problem = replace(problem, boundaries={**problem.boundaries, "F1": f1})
    return problem


def sensor_points(tagged) -> dict[str, tuple[float, float, float]]:
    """The tool's sensors S1..S4 by name (sorted), as plain float triples."""
    return {n: tuple(float(x) for x in tagged.sensors[n]) for n in sorted(tagged.sensors)}


def linear_sensor_response(
    tagged, problem, geometry, *, cache: Path | None = None, progress: bool = False
):
    """Sensor step response to the F1 temperature of ``problem`` linearised at its T0
    (:func:`thermo.inverse.run.linearised`); cached in ``cache`` when given.

    Returns:
        ``(response, cached)``.
    """
    from thermo.inverse.linear_response import LinearResponse, cache_key, compute_linear_response
    from thermo.inverse.run import linearised

    lin = linearised(problem, problem.time.T0)
    probes = sensor_points(tagged)
    path = None
    if cache is not None:
        key = cache_key(
            problem=lin,
            geometry=geometry,
            boundary="F1",
            kind="temperature",
            probes=probes,
            format=RESPONSE_FORMAT,
        )
        path = Path(cache) / f"linearised_{key}"
        if path.with_suffix(".npz").exists():
            return LinearResponse.load(path), True
    resp = compute_linear_response(
        tagged, lin, boundary="F1", kind="temperature", probes=probes, progress=progress
    )
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        resp.save(path)
    return resp, False


class NonlinearForward:
    """Nonlinear FEM runs of the k(T), c(T) tool on one mesh and step (module docstring).

    Calling it with an F1 history (n_t,) on the step grid returns the sensors (n_t, n_s) in
    sorted-name order (the ``forward`` of Gauss–Newton); :meth:`run` also returns the field at
    chosen steps. ``runs`` and ``seconds`` count the runs made.
    """

    def __init__(self, tagged, dt: float, *, t_end: float | None = None) -> None:
        self.tagged = tagged
        self.dt = float(dt)
        self.t_end = t_end
        self.probes = sensor_points(tagged)
        self.names = list(self.probes)
        time_ = nonlinear_problem(dt, t_end=t_end).time
        self.times = time_.times
        self.T0 = float(time_.T0)
        self.runs = 0
        self.seconds = 0.0

    def run(
        self, history: np.ndarray, *, frames: Sequence[int] = ()
    ) -> tuple[np.ndarray, dict[int, np.ndarray]]:
        """Sensors (n_t, n_s) °C and ``{step: dof values}`` at the steps ``frames``."""
        from thermo.solver import solve_transient

        history = np.asarray(history, dtype=float)
        if history.shape != self.times.shape:
            raise ValueError(
                f"NonlinearForward: the F1 history must have shape {self.times.shape} (the step "
                f"grid 0, {self.dt:g}, …, {self.times[-1]:g} s), got {history.shape}"
            )
        want = {int(i) for i in frames}
        kept: dict[int, np.ndarray] = {}

        def keep(n: int, _t: float, T) -> None:
            if n in want:
                if isinstance(T, list | tuple):
                    raise ValueError("NonlinearForward: fields of contact bodies unsupported")
                kept[n] = np.array(T.x.array, copy=True)

        t0 = time.perf_counter()
        res = solve_transient(
            self.tagged,
            nonlinear_problem(self.dt, history, t_end=self.t_end),
            probes=self.probes,
            on_step=keep,
        )
        self.seconds += time.perf_counter() - t0
        self.runs += 1
        y = np.stack([np.asarray(res.probes[n], dtype=float) for n in self.names], axis=1)
        return y, kept

    def __call__(self, history: np.ndarray) -> np.ndarray:
        return self.run(history)[0]


def field_errors(fields: np.ndarray, truth: np.ndarray) -> dict[str, list[float]]:
    """Max and RMS |error| over the dofs per field time, K (``fields``, ``truth``: (k, n_dofs))."""
    err = np.asarray(fields) - np.asarray(truth)
    return {
        "field_max_error_K": [float(np.max(np.abs(e))) for e in err],
        "field_rms_error_K": [float(np.sqrt(np.mean(e**2))) for e in err],
    }


# --------------------------------------------------------------------------------------------
# milling_reconstruction --nonlinear
# --------------------------------------------------------------------------------------------


def _methods(args: argparse.Namespace) -> list[str]:
    method = args.method or "gauss-newton"
    compare = NONLINEAR_COMPARE if args.compare is None else tuple(args.compare)
    return [method] + [m for m in dict.fromkeys(compare) if m != method]


def _make(name: str, *, response, forward, args, progress: bool, main_job: MainJob):
    from thermo.inverse.registry import METHODS, make_method

    family = METHODS[name].family
    if name == "gauss-newton":
        return make_method(name, response=response, sigma=args.sigma, forward=forward)
    if family == "neural":
        return make_method(name, weights=args.weights)
    if family == "baseline":
        return make_method(name, training=main_job.baseline_records(args, response, progress))
    return make_method(name, response=response, sigma=args.sigma)


def _virtual_record(forward: NonlinearForward, params: dict, *, sigma: float, seed: int, frames):
    """Truth and noise seeded as :func:`thermo.inverse.reconstruction.virtual_measurement`;
    sensors from the nonlinear run with the truth. Returns (record, true fields at ``frames``)."""
    from thermo.inverse.cutting_zone import f1_temperature
    from thermo.inverse.design import case_number, case_seed
    from thermo.inverse.record import SensorRecord
    from thermo.inverse.sensors import measure

    case = case_number(**params)
    times = forward.times
    truth = f1_temperature(times, **params, seed=case_seed(seed, case, 0), T0=forward.T0)
    clean, kept = forward.run(truth, frames=frames)
    _, noisy = measure(times, clean, sigma=sigma, seed=case_seed(seed, case, 1))
    record = SensorRecord(
        times=times,
        values=noisy,
        names=tuple(forward.names),
        params=dict(params),
        truth=truth,
        clean=clean,
        meta={"case": case, "sigma_K": float(sigma), "seed": int(seed), "model": "nonlinear"},
    )
    return record, np.stack([kept[i] for i in frames])


def _write_series(directory: Path, V, times: np.ndarray, kept: dict, steps: list[int]) -> list[str]:
    from dolfinx import fem

    from thermo.output import FieldWriter

    T = fem.Function(V, name="T")
    writer = FieldWriter(out_dir=directory, functions=[T], fmt="xdmf")
    for n in steps:
        T.x.array[:] = kept[n]
        writer.write(float(times[n]))
    return [p.name for p in writer.close()]


def _weights_info(args: argparse.Namespace, methods: list[str]) -> dict | None:
    from surrogates.ihcp.estimator import SHIPPED_DIR, shipped

    kinds = [m for m in methods if m in ("student", "teacher")]
    if not kinds:
        return None
    source = str(args.weights or SHIPPED_DIR)
    info: dict = {"source": source, "trained_on": "constant-property data (shipped)"}
    for kind in kinds:
        est = shipped(kind, directory=args.weights)
        info[kind] = {
            "members": len(est.members),
            "window": est.window,
            "dt_s": est.dt,
            "test_case_24": est.meta.get("test_case"),
        }
    return info


def _preface(metrics: dict) -> str:
    mats = ", ".join(f"{v} ({k})" for k, v in metrics["materials"].items())
    return "\n".join(
        [
            "## Nonlinear model (--nonlinear)",
            "",
            f"Materials {mats}; virtual sensors from a nonlinear FEM run with the "
            "true F1 history (same mesh and step as the inverse); every method's estimate is run "
            "through the nonlinear forward model, which gives its sensor fit and, for the "
            f"rendered method `{metrics['method']}`, the ParaView series and the 4/8/12 s "
            f"fields. {metrics['nonlinear_runs']} nonlinear runs in "
            f"{metrics['nonlinear_s']:.1f} s. Sensor curves and fields below are nonlinear; "
            "the networks were trained on constant-property data; `tikhonov` inverts the "
            "constant-property model at T0. Field error of the rendered method against the "
            "nonlinear run with the true history (max over the dofs, K) at 4/8/12 s:",
            "",
            *[
                f"- {label}: "
                + (
                    ", ".join(f"{x:.1f}" for x in c["field_max_error_K"])
                    if c.get("field_max_error_K")
                    else "–"
                )
                for label, c in metrics["conditions"].items()
            ],
            "",
        ]
    )


@dataclass(frozen=True)
class MainJob:
    """What the main job (cases.milling_reconstruction) lends this pipeline: its default mesh
    size factors and steps, its reader of a user's record and its baselines' training records.
    Passed in by the main job, so that this module does not import it (no import cycle)."""

    size_factor: float
    dt: float
    quick_size_factor: float
    quick_dt: float
    user_record: Callable[..., Any]
    baseline_records: Callable[..., Any]


def run(args: argparse.Namespace, main_job: MainJob) -> int:
    """``milling_reconstruction --nonlinear`` (module docstring); returns the exit code."""
    from thermo.atomic import atomic_write_text, check_output_dir, staged_dir

    if args.sigma < 0:
        raise ValueError(f"--sigma must be >= 0 K, got {args.sigma}")
    if args.retrain:
        raise ValueError(
            "--retrain with --nonlinear: not supported (networks trained on nonlinear records: "
            "python -m cases.nonlinear_tool)"
        )
    methods = _methods(args)
    primary = methods[0]
    out = check_output_dir(args.out)
    if args.weights is not None:
        for kind in set(methods) & {"student", "teacher"}:
            if not (args.weights / f"{kind}.npz").is_file():
                raise ValueError(f"--weights {args.weights}: no {kind}.npz")
    if args.measurements is not None and not Path(args.measurements).is_file():
        raise FileNotFoundError(f"--measurements {args.measurements}: no such file")
    import dolfinx_solver  # noqa: F401  (MPI/PETSc before dolfinx)
    from dolfinx import fem
    from mpi4py import MPI
    from tqdm import tqdm

    from cases.recon_report import report_markdown
    from meshes.tool import ToolGeometry, tool_mesh
    from thermo.inverse.design import CONDITIONS, FIELD_TIMES
    from thermo.inverse.duhamel import index_of_times
    from thermo.inverse.evaluation import boundary_metrics, sensor_fit_metrics
    from thermo.inverse.recon_render import write_reconstruction_figures
    from thermo.inverse.reconstruction import Reconstruction
    from thermo.output import write_probes_csv

    t_start = time.perf_counter()
    sf = args.size_factor or (main_job.quick_size_factor if args.quick else main_job.size_factor)
    dt = args.dt or (main_job.quick_dt if args.quick else main_job.dt)
    every = args.every or max(1, round(0.25 / dt))
    progress = not args.no_progress
    geometry = ToolGeometry(size_factor=sf)
    tagged = tool_mesh(geometry, MPI.COMM_SELF)
    problem = nonlinear_problem(dt)
    response, cached = linear_sensor_response(
        tagged, problem, geometry, cache=args.cache, progress=progress
    )
    t_response = time.perf_counter() - t_start
    forward = NonlinearForward(tagged, dt)
    V = fem.functionspace(tagged.mesh, ("Lagrange", 1))
    names = list(forward.names)
    times = forward.times
    field_idx = [int(i) for i in index_of_times(times, FIELD_TIMES)]
    series = sorted({*range(0, times.size, every), times.size - 1})
    if args.measurements is not None:
        cases = [(main_job.user_record(args, response), None)]
    else:
        cases = [
            _virtual_record(
                forward,
                {"n_rpm": n, "fz_mm": fz, "ae_mm": ae},
                sigma=args.sigma,
                seed=args.seed,
                frames=field_idx,
            )
            for n, fz, ae in CONDITIONS
        ]
    by_method = {
        m: _make(
            m, response=response, forward=forward, args=args, progress=progress, main_job=main_job
        )
        for m in methods
    }
    with staged_dir(out) as tmp:
        recs: dict[str, list] = {m: [] for m in methods}
        metrics: dict = {"conditions": {}}
        for record, true_fields in tqdm(
            cases, desc="reconstruction (nonlinear)", unit="condition", disable=not progress
        ):
            params = record.params
            label = f"N{params['n_rpm']:g}_fz{params['fz_mm']:g}_ae{params['ae_mm']:g}"
            side, kept_primary = {}, None
            for name, method in by_method.items():
                t0 = time.perf_counter()
                est = method.estimate(record)
                t_est = time.perf_counter() - t0
                f1 = np.asarray(est.values, dtype=float)
                frames = field_idx + (series if name == primary else [])
                fitted, kept = forward.run(f1, frames=frames)
                t_all = time.perf_counter() - t0
                s = sensor_fit_metrics(fitted[1:], record.values[1:], names=names)
                ref = record.values if record.clean is None else record.clean
                sc = sensor_fit_metrics(fitted[1:], ref[1:], names=names)
                m: dict = {
                    "method": name,
                    "sensors": {
                        n: {**s[n], "rmse_clean": sc[n]["rmse"], "r2_clean": sc[n]["r2"]} for n in s
                    },
                    "boundary": None,
                    "loso": None,
                    "band_coverage": None,
                    "reconstruct_s": t_all,
                    "estimate_s": t_est,
                    "forward_s": t_all - t_est,
                    "info": {k: v for k, v in est.info.items() if not isinstance(v, list)},
                }
                if record.truth is not None:
                    truth = record.truth
                    m["boundary"] = boundary_metrics(f1[1:], truth[1:])
                    if est.band is not None:
                        inside = (truth[1:] >= est.band[1:, 0]) & (truth[1:] <= est.band[1:, 1])
                        m["band_coverage"] = float(np.mean(inside))
                fields = np.stack([kept[i] for i in field_idx])
                if true_fields is not None:
                    m |= field_errors(fields, true_fields)
                recs[name].append(
                    Reconstruction(
                        record=record,
                        method=name,
                        times=times,
                        f1=f1,
                        f1_band=est.band,
                        fitted=fitted,
                        sensor_band=None,
                        field_times=tuple(float(t) for t in FIELD_TIMES),
                        fields=fields,
                        metrics=m,
                        info=dict(est.info),
                    )
                )
                side[name] = {k: m.get(k) for k in (
                    "method", "sensors", "boundary", "loso", "band_coverage", "reconstruct_s",
                    "estimate_s", "field_max_error_K", "field_rms_error_K", "info",
                )}  # fmt: skip
                if name == primary:
                    kept_primary = kept
            rec = recs[primary][-1]
            files = _write_series(tmp / label, V, times, kept_primary, series)
            cols = {f"{n}_measured": record.values[:, i] for i, n in enumerate(names)}
            cols |= {f"{n}_reconstructed": rec.fitted[:, i] for i, n in enumerate(names)}
            for name in methods:
                cols[f"F1_{name}"] = recs[name][-1].f1
            if record.truth is not None:
                cols["F1_truth"] = record.truth
            write_probes_csv(
                tmp / label / "sensors.csv", times=times, probes=cols, comm=MPI.COMM_SELF
            )
            metrics["conditions"][label] = {
                "params": params,
                **{k: v for k, v in rec.metrics.items() if k != "info"},
                "paraview": [f"{label}/{f}" for f in files],
                "methods": side,
            }
        first = recs[primary]
        others = {m: recs[m] for m in methods[1:]}
        write_reconstruction_figures(tmp, first, others, V, names=names)
        metrics |= {
            "nonlinear": True,
            "materials": dict(MATERIALS),
            "method": primary,
            "method_rule": (
                "default gauss-newton with --nonlinear (millheat inverse's rule for "
                "temperature-dependent properties)"
                if args.method is None
                else "--method"
            ),
            "methods": methods,
            "sigma_K": args.sigma,
            "seed": args.seed,
            "quick": args.quick,
            "mesh_size_factor": sf,
            "dt_s": dt,
            "n_dofs": int(V.dofmap.index_map.size_global),
            "n_steps": int(times.size - 1),
            "response_cached": cached,
            "response_s": t_response,
            "linearised_at_C": float(problem.time.T0),
            "nonlinear_runs": forward.runs,
            "nonlinear_s": forward.seconds,
            "data_model": "the inverse's own nonlinear model (same mesh and step); see "
            "cases.nonlinear_tool for data from a finer model",
            "weights": _weights_info(args, methods),
            "total_s": time.perf_counter() - t_start,
        }
        atomic_write_text(tmp / "metrics.json", json.dumps(metrics, indent=2, default=float))
        body = report_markdown(metrics, names)
        head, _, rest = body.partition("\n\n")
        title = "# Tool temperature-field reconstruction with k(T), c(T) (nonlinear model)"
        atomic_write_text(tmp / "report.md", f"{title}\n\n{_preface(metrics)}\n{rest}")
    print(
        f"milling_reconstruction --nonlinear: {len(metrics['conditions'])} condition(s) × "
        f"{len(methods)} method(s), {forward.runs} nonlinear runs, in "
        f"{metrics['total_s']:.1f} s; outputs in {out.resolve()}"
    )
    return 0

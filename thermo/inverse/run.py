r"""End-to-end classical inverse run on any TOML case with an ``unknown-*`` boundary.

Steps of :func:`run_inverse` (used by ``millheat inverse``):

1. mesh and checks as a forward run (:mod:`thermo.case_run`), plus: the case marks one boundary
   ``type = "unknown-temperature"`` or ``"unknown-flux"``
   (:attr:`thermo.case.Case.unknown_boundary`)
   and every measured column is a probe of the case (``[probes]`` or the mesh's sensors);
2. the linear response of the probes to a unit step of the unknown input, one FEM run (plus a
   baseline run when other boundary data are not homogeneous)
   (:mod:`thermo.inverse.linear_response`);
   a saved response can be reused (``response=``) when its time grid and probes match;
3. the sensitivity for the measured times (rows at t > 0; one unknown per measured time, the
   history linear in between and at the baseline at t = 0) (:mod:`thermo.inverse.sensitivity`);
4. any method of the one registry (:mod:`thermo.inverse.registry`): Tikhonov (order 0/1; λ by
   discrepancy when σ is given, else GCV or L-curve), Beck's SFSM (r by the rule of
   :mod:`thermo.inverse.classical`), the Kalman/RTS smoother (σ required, samples at every time
   step), or a registered neural or user method;
5. outputs into one staged folder (:func:`thermo.atomic.staged_dir`), published when complete:
   ``boundary_estimate.csv`` (``time_s,value``: °C for a temperature, W/m² for a flux),
   ``fitted_probes.csv`` (same layout as the measurements), ``inverse.png``, ``summary.json``
   (method, regularisation parameter, fit metrics, boundary metrics when the CSV has an ``F1``
   truth column), ``response.npz``/``response.json`` and ``report.md``.

Measurement times must lie on the case's time grid (0, dt, …, t_end), every step or every k-th
(:func:`thermo.inverse.record.on_case_grid`): a record at another rate or in ms is an error that
says so, before any FEM run.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from thermo.atomic import atomic_write_text, staged_dir
from thermo.case import Case, CaseError
from thermo.inverse.evaluation import boundary_metrics, sensor_fit_metrics
from thermo.inverse.record import SensorRecord, on_case_grid, write_table_csv
from thermo.inverse.registry import make_method


@dataclass(frozen=True)
class InverseOutcome:
    """What :func:`run_inverse` found: times (n,) s, estimate (n,), fitted (n_obs, n_s), summary."""

    times: np.ndarray
    estimate: np.ndarray
    fitted: np.ndarray
    summary: dict


def linearised(problem: Any, T_ref: float) -> Any:
    """The problem with every material evaluated at ``T_ref`` °C (constant properties)."""
    from dataclasses import replace

    mats = {g: m.at(T_ref) for g, m in problem.materials.items()}
    return replace(problem, materials=mats)


def _response(
    case: Case,
    tagged: Any,
    names: list[str],
    points: dict,
    response: Path | None,
    T_ref: float | None = None,
):
    from thermo.inverse.linear_response import LinearResponse, compute_linear_response

    boundary, kind = case.unknown_boundary
    if response is not None:
        resp = LinearResponse.load(response)
        same_grid = resp.times.shape == case.problem.time.times.shape and np.allclose(
            resp.times, case.problem.time.times
        )
        if not same_grid or resp.kind != kind or any(n not in resp.probe_names for n in names):
            raise ValueError(
                f"{response}: saved response does not match the case (time grid, input kind "
                f"{kind!r} or probes {names})"
            )
        return resp
    problem = case.problem
    if problem.is_nonlinear:  # the linear model at the reference temperature
        problem = linearised(problem, problem.time.T0 if T_ref is None else T_ref)
    return compute_linear_response(
        tagged,
        problem,
        boundary=boundary,
        kind=kind,
        probes={n: points[n] for n in names},
    )


def _plot(path: Path, *, t_est, est, truth, meas: SensorRecord, t_fit, fitted, unit: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    a.plot(t_est, est, "C3", label="estimate")
    if truth is not None:
        a.plot(meas.times, truth, "k--", lw=1, label="truth (F1 column)")
    a.set(xlabel="time (s)", ylabel=f"boundary input ({unit})", title="Unknown boundary")
    a.legend()
    for i, name in enumerate(meas.names):
        b.plot(meas.times, meas.values[:, i], ".", ms=2, color=f"C{i}", label=f"{name} measured")
        b.plot(t_fit, fitted[:, i], "-", color=f"C{i}", lw=1)
    b.set(xlabel="time (s)", ylabel="temperature (°C)", title="Sensors: measured (dots), fit")
    b.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run_inverse(
    case: Case,
    meas: SensorRecord,
    out_dir: str | Path,
    *,
    method: str | None = None,
    sigma: float | None = None,
    response: Path | None = None,
    reference_temperature: float | None = None,
    **options: Any,
) -> InverseOutcome:
    """Estimate the unknown boundary history of ``case`` from ``meas`` (module docstring).

    Args:
        case: parsed case with one ``unknown-*`` boundary.
        meas: sensor record; its columns must be probes of the case.
        out_dir: output folder (staged, published when complete).
        method: a name of :data:`thermo.inverse.registry.METHODS`.
        sigma: sensor noise σ K when known.
        method: default ``"gauss-newton"`` for a case with temperature-dependent properties
            (:mod:`thermo.inverse.nonlinear_inverse`), else ``"tikhonov"``.
        response: a saved linear response to reuse.
        reference_temperature: °C at which a temperature-dependent case is linearised for the
            linear response (default T0).
        options: method options (``order``, ``rule``, ``future_steps``, ...); None values are
            dropped (defaults apply).
    """
    from thermo.atomic import check_output_dir
    from thermo.case_run import check_case_against_mesh, load_case_mesh

    t_start = time.perf_counter()
    out_dir = check_output_dir(out_dir)
    if case.unknown_boundary is None:
        raise CaseError(
            case.path,
            "boundary",
            "no boundary is unknown",
            'one [boundary.NAME] with type = "unknown-temperature" or "unknown-flux"',
        )
    boundary, kind = case.unknown_boundary
    ts = case.problem.time
    meas = on_case_grid(
        meas, dt=ts.dt, t_end=ts.t_end, where=str(meas.meta.get("source", "record"))
    )
    tagged = load_case_mesh(case)
    points = check_case_against_mesh(case, tagged)
    names = list(meas.names)
    unknown = [n for n in names if n not in points]
    if unknown:
        raise CaseError(
            case.path,
            "probes",
            f"measured columns {unknown} are not probes",
            f"CSV columns among the case's probes {sorted(points)}",
        )
    keep = (meas.times > 0.0) & (meas.times <= ts.t_end + 1e-9)
    if keep.sum() < 2:
        raise ValueError(f"measurements: fewer than 2 samples in (0, {ts.t_end:g}] s of the case")
    obs = meas.times[keep]
    data = meas.values[keep]
    resp = _response(case, tagged, names, points, response, reference_temperature)
    nonlinear = case.problem.is_nonlinear
    if method is None:
        method = "gauss-newton" if nonlinear else "tikhonov"
    options = {k: v for k, v in options.items() if v is not None}
    if method == "gauss-newton":
        if options.pop("order", 1) != 1:
            raise ValueError("--method gauss-newton regularises with first differences (order 1)")
        if not nonlinear:
            raise ValueError(
                "--method gauss-newton: the case has constant properties (the linear inverse is "
                "exact there)"
            )
        options["forward"] = _nonlinear_forward(case, tagged, resp, {n: points[n] for n in names})
    inverse = make_method(method, response=resp, sigma=sigma, **options)
    est = inverse.estimate(meas)
    values_obs = np.interp(obs, est.times, est.values)
    base = resp.T0 if kind == "temperature" else 0.0
    t_est = np.concatenate([[0.0], obs])
    estimate = np.concatenate([[est.values[0] if est.times[0] == 0.0 else base], values_obs])
    cols = [resp.probe_names.index(n) for n in names]
    model = options.get("forward", resp.probes)  # the nonlinear FEM for gauss-newton
    fitted = np.asarray(model(np.interp(resp.times, t_est, estimate)))[:, cols]
    fitted = np.stack([np.interp(obs, resp.times, fitted[:, j]) for j in range(len(cols))], 1)
    info: dict[str, Any] = {
        "method": method,
        "model": "nonlinear (temperature-dependent properties)" if nonlinear else "linear",
        "linearised_at_degC": (
            (case.problem.time.T0 if reference_temperature is None else reference_temperature)
            if nonlinear
            else None
        ),
        "method_label": inverse.name,
        "unknown_boundary": boundary,
        "kind": kind,
        "n_obs": int(obs.size),
        "sensors": names,
        **{k: v for k, v in est.info.items()},
    }
    unit = "°C" if kind == "temperature" else "W/m²"
    info["sigma_K"] = sigma
    info["fit"] = sensor_fit_metrics(fitted, data, names=names)
    truth = None
    if meas.truth is not None:
        truth = meas.truth
        info["boundary"] = boundary_metrics(values_obs, meas.truth[keep])
    info["unit"] = unit
    info["wall_s"] = time.perf_counter() - t_start
    outcome = InverseOutcome(times=t_est, estimate=estimate, fitted=fitted, summary=info)
    from mpi4py import MPI

    if MPI.COMM_WORLD.rank != 0:  # every rank computed the same numbers; rank 0 writes
        return outcome
    with staged_dir(out_dir) as tmp:
        write_table_csv(
            tmp / "boundary_estimate.csv", times=t_est, values=estimate, names=["value"]
        )
        write_table_csv(tmp / "fitted_probes.csv", times=obs, values=fitted, names=names)
        _plot(
            tmp / "inverse.png",
            t_est=t_est,
            est=estimate,
            truth=truth,
            meas=meas,
            t_fit=obs,
            fitted=fitted,
            unit=unit,
        )
        resp.save(tmp / "response")
        atomic_write_text(tmp / "summary.json", json.dumps(info, indent=2, default=float) + "\n")
        atomic_write_text(tmp / "report.md", _report(case, info))
    return outcome


def _nonlinear_forward(case: Case, tagged: Any, resp: Any, points: dict):
    """history on the case's grid (n_t,) -> the response's probes (n_t, n_p) by the nonlinear
    FEM of the case (Newton per step), for :class:`thermo.inverse.nonlinear_inverse.GaussNewton`."""
    from dataclasses import replace

    from thermo.inverse.tool_dataset import f1_condition
    from thermo.solver import solve_transient

    boundary, kind = case.unknown_boundary
    times = case.problem.time.times
    probes = {n: points[n] for n in resp.probe_names if n in points}

    def forward(history: np.ndarray) -> np.ndarray:
        bcs = {**case.problem.boundaries, boundary: f1_condition(kind, times, history)}
        res = solve_transient(tagged, replace(case.problem, boundaries=bcs), probes=probes)
        return np.stack([res.probes[n] for n in resp.probe_names], axis=1)

    return forward


def _report(case: Case, info: dict) -> str:
    if "lam" in info:
        par = f"λ = {info['lam']:.4g} ({info['rule']}, order {info['order']})"
    elif "future_steps" in info:
        par = f"r = {info['future_steps']} future steps ({info.get('future_steps_rule', '')})"
    elif "q" in info:
        par = f"random-walk variance q = {info['q']:.4g} (maximum likelihood)"
    else:
        par = "no regularisation parameter reported"
    lines = [
        f"# Inverse estimate of boundary `{info['unknown_boundary']}` ({info['kind']})",
        "",
        f"Case: `{case.path}`. Method: **{info['method']}**, {par}.",
        f"Sensors: {', '.join(info['sensors'])}; {info['n_obs']} samples per sensor on the "
        "case's time grid.",
        "",
        f"Sensor fit RMSE {info['fit']['all']['rmse']:.3g} K, R² {info['fit']['all']['r2']:.4f}.",
    ]
    if "boundary" in info:
        b = info["boundary"]
        lines.append(f"Boundary vs truth: RMSE {b['rmse']:.3g} {info['unit']}, R² {b['r2']:.4f}.")
    lines += [
        "",
        "![estimate and fit](inverse.png)",
        "",
        "Files: [boundary_estimate.csv](boundary_estimate.csv) (`time_s,value`), "
        "[fitted_probes.csv](fitted_probes.csv), [summary.json](summary.json), "
        "[response.npz](response.npz) + [response.json](response.json) (reusable with "
        "`--response`).",
        "",
    ]
    return "\n".join(lines)

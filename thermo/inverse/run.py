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
4. Tikhonov (order 0/1; λ by discrepancy when σ is given, else GCV or L-curve), Beck's SFSM
   (r future steps; r by the discrepancy principle when σ is given) or the Kalman/RTS smoother
   (σ required, samples at every time step; :mod:`thermo.inverse.kalman`);
5. outputs into one folder, written as ``.<name>.partial-<id>`` and renamed at the end:
   ``boundary_estimate.csv`` (``time_s,value``: °C for a temperature, W/m² for a flux),
   ``fitted_probes.csv`` (same layout as the measurements), ``inverse.png``, ``summary.json``
   (method, regularisation parameter, fit metrics, boundary metrics when the CSV has an ``F1``
   truth column), ``response.npz``/``response.json`` and ``report.md``.

Measurement times must lie on the case's time grid (0, dt, …, t_end) for the forward rows to be
exact; off-grid times are interpolated between steps and the summary says so.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from thermo.case import Case, CaseError
from thermo.inverse.dataset import Measurements, write_measurements_csv
from thermo.inverse.evaluation import boundary_metrics, sensor_fit_metrics
from thermo.inverse.sfsm import choose_future_steps, sfsm
from thermo.inverse.tikhonov import tikhonov
from thermo.outdir import partial_dir, publish_dir

Method = Literal["tikhonov", "sfsm", "kalman"]


@dataclass(frozen=True)
class InverseOutcome:
    """What :func:`run_inverse` found: times (n,) s, estimate (n,), fitted (n, n_s), summary."""

    times: np.ndarray
    estimate: np.ndarray
    fitted: np.ndarray
    summary: dict


def _response(case: Case, tagged: Any, names: list[str], points: dict, response: Path | None):
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
    return compute_linear_response(
        tagged,
        case.problem,
        boundary=boundary,
        kind=kind,
        probes={n: points[n] for n in names},
    )


def _plot(path: Path, *, t_est, est, truth, meas: Measurements, t_fit, fitted, unit: str) -> None:
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
    meas: Measurements,
    out_dir: str | Path,
    *,
    method: Method = "tikhonov",
    order: int = 1,
    rule: str | None = None,
    sigma: float | None = None,
    future_steps: int | None = None,
    response: Path | None = None,
) -> InverseOutcome:
    """Estimate the unknown boundary history of ``case`` from ``meas`` (module docstring)."""
    from thermo.case_run import check_case_against_mesh, load_case_mesh

    t_start = time.perf_counter()
    if case.unknown_boundary is None:
        raise CaseError(
            case.path,
            "boundary",
            "no boundary is unknown",
            'one [boundary.NAME] with type = "unknown-temperature" or "unknown-flux"',
        )
    boundary, kind = case.unknown_boundary
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
    t_end = case.problem.time.t_end
    keep = (meas.times > 0.0) & (meas.times <= t_end + 1e-9)
    if keep.sum() < 2:
        raise ValueError(f"measurements: fewer than 2 samples in (0, {t_end:g}] s of the case")
    obs = meas.times[keep]
    data = meas.values[keep]
    resp = _response(case, tagged, names, points, response)
    sens = resp.sensitivity(obs_times=obs, param_times=obs, probes=names)
    info: dict[str, Any] = {
        "method": method,
        "unknown_boundary": boundary,
        "kind": kind,
        "rows_exact": sens.exact,
        "n_obs": int(obs.size),
        "sensors": names,
    }
    if method == "tikhonov":
        chosen = rule or ("discrepancy" if sigma else "gcv")
        res = tikhonov(sens, data, order=order, rule=chosen, sigma=sigma)
        theta, fitted = res.theta, res.fitted
        info.update(order=order, rule=chosen, lam=res.lam, **res.info)
    elif method == "sfsm":
        if future_steps is not None:
            sres = sfsm(sens, data, future_steps=future_steps)
        elif sigma:
            sres = choose_future_steps(sens, data, sigma=sigma)
        else:
            sres = sfsm(sens, data, future_steps=3)
        theta, fitted = sres.theta, sres.fitted
        info.update(future_steps=sres.future_steps)
    elif method == "kalman":
        from thermo.inverse.kalman import kalman_smoother

        if not sens.exact or obs.size != resp.times.size - 1:
            raise ValueError(
                "measurements: --method kalman needs one sample per time step of the case "
                f"(t = {resp.times[1]:g}, …, {resp.times[-1]:g} s)"
            )
        if not sigma:
            raise ValueError("--method kalman needs the sensor noise --sigma (K)")
        cols = [resp.probe_names.index(n) for n in names]
        kres = kalman_smoother(resp.step[:, cols], data, sigma=sigma, y0=sens.y0)
        theta = kres.smoothed[1:]
        fitted = sens.predict(theta)
        info.update(q=kres.q, era_step_rel_error=kres.realization.step_rel_error)
    else:
        raise ValueError(f"method must be 'tikhonov', 'sfsm' or 'kalman', got {method!r}")
    base = resp.T0 if kind == "temperature" else 0.0
    t_est = np.concatenate([[0.0], obs])
    est = np.concatenate([[base], base + theta])
    unit = "°C" if kind == "temperature" else "W/m²"
    info["sigma_K"] = sigma
    info["fit"] = sensor_fit_metrics(fitted, data, names=names)
    truth = None
    if meas.f1 is not None:
        truth = meas.f1
        info["boundary"] = boundary_metrics(base + theta, meas.f1[keep])
    info["unit"] = unit
    info["wall_s"] = time.perf_counter() - t_start
    out_dir = Path(out_dir)
    outcome = InverseOutcome(times=t_est, estimate=est, fitted=fitted, summary=info)
    from mpi4py import MPI

    if MPI.COMM_WORLD.rank != 0:  # every rank computed the same numbers; rank 0 writes
        return outcome
    tmp = partial_dir(out_dir)
    try:
        write_measurements_csv(
            tmp / "boundary_estimate.csv", times=t_est, values=est[:, None], names=["value"]
        )
        write_measurements_csv(tmp / "fitted_probes.csv", times=obs, values=fitted, names=names)
        _plot(
            tmp / "inverse.png",
            t_est=t_est,
            est=est,
            truth=truth,
            meas=meas,
            t_fit=obs,
            fitted=fitted,
            unit=unit,
        )
        resp.save(tmp / "response")
        (tmp / "summary.json").write_text(json.dumps(info, indent=2, default=float), "utf-8")
        (tmp / "report.md").write_text(_report(case, info), encoding="utf-8")
        publish_dir(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return outcome


def _report(case: Case, info: dict) -> str:
    if info["method"] == "tikhonov":
        par = f"λ = {info['lam']:.4g} ({info['rule']}, order {info['order']})"
    elif info["method"] == "sfsm":
        par = f"r = {info['future_steps']} future steps"
    else:
        par = f"random-walk variance q = {info['q']:.4g} (maximum likelihood)"
    lines = [
        f"# Inverse estimate of boundary `{info['unknown_boundary']}` ({info['kind']})",
        "",
        f"Case: `{case.path}`. Method: **{info['method']}**, {par}.",
        f"Sensors: {', '.join(info['sensors'])}; {info['n_obs']} samples per sensor; forward "
        f"rows {'exact (on the step grid)' if info['rows_exact'] else 'interpolated'}.",
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

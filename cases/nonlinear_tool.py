"""The cutting tool with temperature-dependent properties: linear vs nonlinear inverse (issue 15).

Data: the insert–shank–bolt tool with ``wc-co-T`` inserts and ``42crmo4-T`` shank and bolts
(k(T), c(T) of thermo.problem), one condition (default N = 509 r/min, fz = 0.075 mm/z,
ae = 0.2 mm), its F1 history from thermo.inverse.cutting_zone, sensors S1..S4 from a nonlinear FEM
run on a *finer* mesh (size factor ``--data-size``, default 0.4, and half the step) plus noise σ.
The inverse methods use the standard mesh and step:

* ``tikhonov`` — the constant-property model linearised at T0 (first-order Tikhonov,
  discrepancy principle): the model error of ignoring k(T), c(T);
* ``gauss-newton`` — the nonlinear inverse (thermo.inverse.nonlinear_inverse), each iteration one
  nonlinear FEM run;
* ``student``/``teacher`` — the shipped networks (trained on constant-property data; networks
  trained on nonlinear data are future work, stated in the report).

Scored: boundary-history RMSE against the truth, sensor fit, and the field error at 4, 8, 12 s
(max and RMS over the dofs of the standard mesh) of a nonlinear forward run with each estimate
against the nonlinear run with the true history; wall time of each inverse. Writes
``metrics.json``, ``report.md`` and ``boundary.png`` into one staged folder. ``--quick``: coarse
meshes and dt = 0.2 s.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from cases.exits import run_main
from thermo.atomic import atomic_path, atomic_write_text, check_output_dir, staged_dir

FIELD_TIMES = (4.0, 8.0, 12.0)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m cases.nonlinear_tool", description=__doc__)
    p.add_argument("--out", type=Path, default=Path("results/nonlinear_tool"), metavar="DIR")
    p.add_argument("--quick", action="store_true", help="coarse meshes, dt 0.2 s")
    p.add_argument("--sigma", type=float, default=5.0, metavar="K")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n-rpm", type=float, default=509.0)
    p.add_argument("--data-size", type=float, default=None, help="data mesh size factor (0.4)")
    p.add_argument("--no-networks", action="store_true", help="skip the shipped networks")
    return p


def _problem(dt: float, history: np.ndarray | None = None):
    from thermo.inverse.tool_dataset import f1_condition
    from thermo.problem import material
    from thermo.tool_problem import tool_problem

    mats = {"insert": material("wc-co-T"), "shank": material("42crmo4-T"),
            "bolt": material("42crmo4-T")}  # fmt: skip
    problem = tool_problem(dt=dt, materials=mats)
    if history is not None:
        f1 = f1_condition("temperature", problem.time.times, history)
        problem = replace(problem, boundaries={**problem.boundaries, "F1": f1})
    return problem


def main(argv: list[str] | None = None) -> int:
    """Run the comparison; returns the exit code (bad input: ValueError, see cases.exits)."""
    args = build_parser().parse_args(argv)
    out = check_output_dir(args.out)
    if args.sigma < 0:
        raise ValueError(f"--sigma must be >= 0 K, got {args.sigma}")
    import dolfinx_solver  # noqa: F401  (MPI/PETSc before dolfinx)
    from mpi4py import MPI

    from meshes.tool import ToolGeometry, tool_mesh
    from thermo.inverse.cutting_zone import f1_temperature
    from thermo.inverse.design import case_number, case_seed
    from thermo.inverse.duhamel import index_of_times
    from thermo.inverse.linear_response import compute_linear_response
    from thermo.inverse.record import SensorRecord
    from thermo.inverse.registry import make_method
    from thermo.inverse.run import linearised
    from thermo.inverse.sensors import measure
    from thermo.solver import solve_transient

    dt = 0.2 if args.quick else 0.05
    size = 2.0 if args.quick else 0.5
    data_size = args.data_size or (1.0 if args.quick else 0.4)
    params = {"n_rpm": args.n_rpm, "fz_mm": 0.075, "ae_mm": 0.2}
    case = case_number(**params)
    t0 = time.perf_counter()
    fine_t = (dt / 2.0) * np.arange(round(12.0 / (dt / 2.0)) + 1)
    truth_fine = f1_temperature(fine_t, **params, seed=case_seed(args.seed, case, 0), T0=20.0)
    data_mesh = tool_mesh(ToolGeometry(size_factor=data_size), MPI.COMM_SELF)
    names = sorted(data_mesh.sensors)
    probes = {n: data_mesh.sensors[n] for n in names}
    data_run = solve_transient(data_mesh, _problem(dt / 2.0, truth_fine), probes=probes)
    clean = np.stack([data_run.probes[n] for n in names], axis=1)[::2]
    times = fine_t[::2]
    truth = truth_fine[::2]
    _, noisy = measure(times, clean, sigma=args.sigma, seed=case_seed(args.seed, case, 1))
    record = SensorRecord(times, noisy, tuple(names), params=params, truth=truth, clean=clean)
    t_data = time.perf_counter() - t0

    mesh = tool_mesh(ToolGeometry(size_factor=size), MPI.COMM_SELF)
    problem = _problem(dt)
    response = compute_linear_response(
        mesh, linearised(problem, 20.0), boundary="F1", kind="temperature", probes=probes
    )
    field_idx = index_of_times(problem.time.times, FIELD_TIMES)

    def nonlinear_run(history: np.ndarray, *, fields: bool = False):
        frames: dict[int, np.ndarray] = {}

        def keep(n: int, _t: float, T) -> None:
            if fields and n in field_idx:
                frames[n] = np.array(T.x.array, copy=True)

        res = solve_transient(mesh, _problem(dt, history), probes=probes, on_step=keep)
        y = np.stack([res.probes[n] for n in names], axis=1)
        return y, (np.stack([frames[n] for n in field_idx]) if fields else None)

    _, true_fields = nonlinear_run(truth, fields=True)
    methods = {
        "tikhonov (constant properties at T0)": make_method(
            "tikhonov", response=response, sigma=args.sigma
        ),
        "gauss-newton (nonlinear)": make_method(
            "gauss-newton",
            response=response,
            sigma=args.sigma,
            forward=lambda h: nonlinear_run(h)[0],
        ),
    }
    if not args.no_networks:
        methods["student (shipped, trained on constant-property data)"] = make_method("student")
        methods["teacher (shipped, trained on constant-property data)"] = make_method("teacher")
    rows, estimates = {}, {}
    for label, method in methods.items():
        t1 = time.perf_counter()
        est = method.estimate(record)
        wall = time.perf_counter() - t1
        values = np.interp(times, est.times, est.values)
        fit, fields = nonlinear_run(values, fields=True)
        err = fields - true_fields
        rows[label] = {
            "boundary_rmse_K": float(np.sqrt(np.mean((values[1:] - truth[1:]) ** 2))),
            "sensor_rmse_K": float(np.sqrt(np.mean((fit[1:] - noisy[1:]) ** 2))),
            "field_max_error_K": [float(np.max(np.abs(e))) for e in err],
            "field_rms_error_K": [float(np.sqrt(np.mean(e**2))) for e in err],
            "inverse_wall_s": wall,
            "info": {k: v for k, v in est.info.items() if not isinstance(v, list)},
        }
        estimates[label] = values
    metrics = {
        "condition": params,
        "sigma_K": args.sigma,
        "data_model": {"size_factor": data_size, "dt": dt / 2.0, "materials": "wc-co-T, 42crmo4-T"},
        "inverse_model": {"size_factor": size, "dt": dt},
        "data_s": t_data,
        "total_s": time.perf_counter() - t0,
        "methods": rows,
    }
    with staged_dir(out) as tmp:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4))
        ax.plot(times, truth, "k", lw=2, label="truth")
        for i, (label, values) in enumerate(estimates.items()):
            ax.plot(times, values, color=f"C{i}", lw=1, label=label)
        ax.set(xlabel="time (s)", ylabel="F1 temperature (°C)", title="k(T), c(T) tool")
        ax.legend(fontsize=7)
        fig.tight_layout()
        with atomic_path(tmp / "boundary.png") as png:
            fig.savefig(png, dpi=110)
        plt.close(fig)
        atomic_write_text(tmp / "metrics.json", json.dumps(metrics, indent=2, default=float))
        lines = [
            "# Tool with temperature-dependent properties: linear vs nonlinear inverse",
            "",
            f"Condition {params}, σ = {args.sigma} K; data: nonlinear FEM on size factor "
            f"{data_size}, dt {dt / 2} s; inverse: size factor {size}, dt {dt} s.",
            "",
            "| method | boundary RMSE (K) | sensor RMSE (K) | field max error at 4/8/12 s (K) | "
            "inverse wall (s) |",
            "|---|---|---|---|---|",
        ]
        for label, r in rows.items():
            f = ", ".join(f"{x:.1f}" for x in r["field_max_error_K"])
            lines.append(
                f"| {label} | {r['boundary_rmse_K']:.2f} | {r['sensor_rmse_K']:.2f} | {f} | "
                f"{r['inverse_wall_s']:.1f} |"
            )
        lines += ["", "![boundary](boundary.png)", ""]
        atomic_write_text(tmp / "report.md", "\n".join(lines))
    print(f"nonlinear_tool: {len(rows)} methods in {metrics['total_s']:.1f} s; outputs in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main, "cases.nonlinear_tool"))

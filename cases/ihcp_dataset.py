"""Build the 27-case virtual IHCP data set of paper 000 §3.1 on the built-in cutting system.

Forward model: the insert–shank–bolt tool (meshes.tool, WC–Co insert, 42CrMo4 shank and bolt,
perfect contact on F2, convection h = 25 W/(m² K) to 20 °C on F3, backward Euler dt = 0.05 s to
12 s, sensors S1..S4 on the flank). With ``--forward duhamel`` (default) one FEM run gives the
step response of S1..S4 to the F1 input and every case is an exact discrete Duhamel sum
(thermo.inverse.linear_response); ``--forward fem`` runs the FEM once per case instead, with the
cases split over MPI ranks (``mpirun -n 2 python -m cases.ihcp_dataset --forward fem``), each rank
meshing on its own. F1 histories: thermo.inverse.cutting_zone (temperature, the paper's formulation,
or ``--kind flux``); noisy records for σ = 0, 5, 10 K (paper §4.1) by thermo.inverse.sensors.

``--check-direct`` also runs the direct FEM for case 24 and reports the Duhamel accuracy and
speed-up. ``--quick`` uses the coarse mesh (size_factor 1.0) and dt = 0.1 s.

The data set is built by the library function thermo.inverse.tool_dataset.build_tool_dataset
(which other scripts call too). Bad input exits 2 with one line.

Outputs (one folder, staged and published when complete): ihcp_dataset.npz/.json (loader:
thermo.inverse.dataset.load_dataset), response.npz/.json, case_ranges.csv and metrics.json
(temperature ranges per case, timings), cases.png (F1 and sensors of the test case and the
three reconstruction conditions), report.md.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from cases.exits import run_main
from thermo.atomic import atomic_path, atomic_write_text, check_output_dir, staged_dir


def build_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    p = argparse.ArgumentParser(
        prog="python -m cases.ihcp_dataset",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", type=Path, default=Path("results/ihcp_dataset"), metavar="DIR")
    p.add_argument("--seed", type=int, default=0, help="data-set seed (F1 fluctuation, noise)")
    p.add_argument("--quick", action="store_true", help="coarse mesh and dt = 0.1 s")
    p.add_argument("--kind", choices=("temperature", "flux"), default="temperature")
    p.add_argument("--forward", choices=("duhamel", "fem"), default="duhamel")
    p.add_argument("--sigmas", type=float, nargs="+", default=[0.0, 5.0, 10.0], metavar="K")
    p.add_argument("--cutoff-hz", type=float, default=None, help="low-pass of noisy records")
    p.add_argument(
        "--cases",
        type=int,
        nargs="+",
        default=list(range(1, 28)),
        metavar="C",
        help="build only these case numbers (default: all 27)",
    )
    p.add_argument("--check-direct", action="store_true", help="direct FEM of case 24 vs Duhamel")
    p.add_argument(
        "--classical",
        action="store_true",
        help="score the classical inverse methods on case 24 at every sigma (needs duhamel)",
    )
    return p


def _plot(path: Path, ds) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from thermo.inverse.design import RECONSTRUCTION_CASES, TEST_CASE

    show = [c for c in (TEST_CASE, *RECONSTRUCTION_CASES) if c in ds.cases] or [int(ds.cases[0])]
    fig, axes = plt.subplots(1, len(show), figsize=(4 * len(show), 3.6), squeeze=False)
    axes = axes[0]
    for ax, c in zip(axes, show, strict=True):
        one = ds.case(c, sigma=float(ds.sigmas[-1]))
        ax.plot(ds.times, one.truth, "k", lw=1.2, label="F1 (truth)")
        for i, name in enumerate(ds.sensor_names):
            ax.plot(ds.times, one.values[:, i], color=f"C{i}", lw=0.5, alpha=0.6)
            ax.plot(ds.times, one.clean[:, i], color=f"C{i}", lw=1.2, label=name)
        n, fz, ae = one.param_vector()
        ax.set(title=f"case {c}: N {n:.0f}, fz {fz}, ae {ae}", xlabel="time (s)")
    axes[0].set_ylabel("°C" if ds.kind == "temperature" else "F1 W/m², sensors °C")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)


def _plot_study(path: Path, ds, study: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    truth = ds.case(24).truth
    sigmas = list(next(iter(study["estimates"].values())))
    fig, axes = plt.subplots(1, len(sigmas), figsize=(4.5 * len(sigmas), 3.6), sharey=True)
    for ax, sig in zip(np.atleast_1d(axes), sigmas, strict=True):
        ax.plot(ds.times, truth, "k", lw=2, label="truth")
        for i, (name, est) in enumerate(study["estimates"].items()):
            ax.plot(ds.times[1:], est[sig], color=f"C{i}", lw=0.9, label=name)
        ax.set(title=f"case 24, σ = {sig} K", xlabel="time (s)")
    np.atleast_1d(axes)[0].set_ylabel("F1 estimate")
    np.atleast_1d(axes)[0].legend(fontsize=7)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)


def _ranges(ds) -> list[dict]:
    rows = []
    for i, c in enumerate(ds.cases):
        row = {
            "case": int(c),
            "n_rpm": ds.params[i, 0],
            "fz_mm": ds.params[i, 1],
            "ae_mm": ds.params[i, 2],
            "f1_max": float(ds.f1[i].max()),
        }
        for j, name in enumerate(ds.sensor_names):
            row[f"{name}_max_degC"] = float(ds.clean[i, :, j].max())
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    """Build the data set; returns the exit code (bad input: ValueError, see cases.exits)."""
    args = build_parser().parse_args(argv)
    from mpi4py import MPI

    from thermo.inverse.dataset import build_dataset
    from thermo.inverse.tool_dataset import build_tool_dataset, f1_condition
    from thermo.solver import solve_transient

    comm = MPI.COMM_WORLD
    out = check_output_dir(args.out)
    built = build_tool_dataset(
        quick=args.quick,
        kind=args.kind,
        forward=args.forward,
        sigmas=args.sigmas,
        seed=args.seed,
        cutoff_hz=args.cutoff_hz,
        cases=args.cases,
        record_fields=args.check_direct,
        comm=comm,
    )
    response, problem, tagged, metrics = built.response, built.problem, built.tagged, built.metrics
    t0 = time.perf_counter() - metrics["total_s"]
    times = problem.time.times
    direct = None
    if args.check_direct and response is not None:
        names = list(response.probe_names)
        ds24 = build_dataset(
            response.probes,
            times=times,
            sensor_names=names,
            cases=[24],
            kind=args.kind,
            sigmas=args.sigmas,
            seed=args.seed,
            cutoff_hz=args.cutoff_hz,
        )
        bcs = {**problem.boundaries, "F1": f1_condition(args.kind, times, ds24.f1[0])}
        prob = replace(problem, boundaries=bcs)
        snaps = (4.0, 8.0, 12.0)  # paper 000 Fig. 10 times
        steps = {round(t / problem.time.dt) for t in snaps}
        frames: dict[int, np.ndarray] = {}

        def keep(n: int, _t: float, T) -> None:
            if n in steps:
                frames[n] = np.array(T.x.array, copy=True)

        t1 = time.perf_counter()
        res = solve_transient(
            tagged, prob, probes={n: tagged.sensors[n] for n in names}, on_step=keep
        )
        fem_s = time.perf_counter() - t1
        y_fem = np.stack([res.probes[n] for n in names], axis=1)
        reps = 200
        t1 = time.perf_counter()
        for _ in range(reps):
            response.probes(ds24.f1[0])
        duh_s = (time.perf_counter() - t1) / reps
        t1 = time.perf_counter()
        fields = response.fields(ds24.f1[0], at_times=snaps)
        field_s = time.perf_counter() - t1
        f_fem = np.stack([frames[k] for k in sorted(frames)])
        rise = np.max(np.abs(f_fem - problem.time.T0))
        err = np.max(np.abs(ds24.clean[0] - y_fem)) / np.max(np.abs(y_fem - problem.time.T0))
        direct = {
            "case": 24,
            "fem_s": fem_s,
            "duhamel_s": duh_s,
            "speedup": fem_s / duh_s,
            "max_rel_error": float(err),
            "field_times_s": list(snaps),
            "field_duhamel_s": field_s,
            "field_speedup": fem_s / field_s,
            "field_max_rel_error": float(np.max(np.abs(fields - f_fem)) / rise),
        }
    if comm.rank != 0:
        return 0
    ds = built.dataset
    metrics["total_s"] = time.perf_counter() - t0
    metrics["direct_check"] = direct
    metrics["ranges"] = _ranges(ds)
    with staged_dir(out) as tmp:
        ds.save(tmp / "ihcp_dataset")
        if response is not None:
            response.save(tmp / "response")
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(metrics["ranges"][0]), lineterminator="\n")
        w.writeheader()
        w.writerows(metrics["ranges"])
        atomic_write_text(tmp / "case_ranges.csv", buf.getvalue())
        _plot(tmp / "cases.png", ds)
        if args.classical and response is not None and 24 in ds.cases:
            from thermo.inverse.study import classical_study

            study = classical_study(response, ds, case=24)
            _plot_study(tmp / "inverse_case24.png", ds, study)
            metrics["classical_case24"] = {k: v for k, v in study.items() if k != "estimates"}
            atomic_write_text(tmp / "inverse_case24.json", json.dumps(study, default=float))
        atomic_write_text(tmp / "metrics.json", json.dumps(metrics, indent=2, default=float))
        atomic_write_text(tmp / "report.md", _report(ds, metrics))
    total = metrics["total_s"]
    print(f"ihcp_dataset: {ds.cases.size} cases in {total:.1f} s; outputs in {out.resolve()}")
    return 0


def _report(ds, metrics: dict) -> str:
    r = metrics["ranges"]
    unit = "°C" if ds.kind == "temperature" else "W/m²"
    lines = [
        "# Virtual IHCP data set (paper 000 §3.1)",
        "",
        f"{ds.cases.size} cases, forward model `{metrics['forward']}`, F1 as {ds.kind} ({unit}), "
        f"{ds.times.size} samples to {ds.times[-1]:g} s, σ = {ds.sigmas.tolist()} K, "
        f"seed {ds.meta['seed']}. Test case 24, reconstruction cases 5, 14, 23.",
        "",
        f"F1 maximum {min(x['f1_max'] for x in r):.4g}–{max(x['f1_max'] for x in r):.4g} {unit}; "
        f"sensor maxima {ds.clean.max(axis=1).min():.1f}–{ds.clean.max():.1f} °C "
        "(per-case values in case_ranges.csv).",
        "",
        "![cases](cases.png)",
        "",
        "Files: [ihcp_dataset.npz](ihcp_dataset.npz) + [ihcp_dataset.json](ihcp_dataset.json) "
        "(`thermo.inverse.dataset.load_dataset`), [case_ranges.csv](case_ranges.csv), "
        "[metrics.json](metrics.json).",
    ]
    if metrics.get("direct_check"):
        d = metrics["direct_check"]
        lines += [
            "",
            f"Duhamel vs direct FEM (case 24): max relative difference "
            f"{d['max_rel_error']:.2e}; FEM {d['fem_s']:.2f} s, Duhamel "
            f"{d['duhamel_s'] * 1e6:.0f} µs ({d['speedup']:.3g}× faster). Full field at "
            f"{d['field_times_s']} s: max relative difference {d['field_max_rel_error']:.2e}, "
            f"{d['field_duhamel_s'] * 1e3:.1f} ms ({d['field_speedup']:.3g}× faster than the run).",
        ]
    if metrics.get("classical_case24"):
        study = metrics["classical_case24"]
        sigmas = list(next(iter(study.values())))
        lines += [
            "",
            "Classical inverse methods on case 24, boundary RMSE "
            f"({'°C' if ds.kind == 'temperature' else 'W/m²'}) / leave-one-sensor-out "
            "RMSE (K):",
            "",
            "| method | " + " | ".join(f"σ = {s} K" for s in sigmas) + " |",
            "|---" * (len(sigmas) + 1) + "|",
        ]
        for name, rows in study.items():
            cells = [
                f"{rows[s]['boundary']['rmse']:.3g} / {rows[s]['loso_rmse']:.3g}" for s in sigmas
            ]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines += ["", "![classical inverse, case 24](inverse_case24.png)"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(run_main(main, "cases.ihcp_dataset"))

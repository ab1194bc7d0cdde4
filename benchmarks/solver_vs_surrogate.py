"""Solver vs surrogate, side by side, for one 12 s cut on the built-in tool (issue 5 benchmark).

``python -m benchmarks.solver_vs_surrogate [--size-factor 0.5 | --dofs N] [--repeats 20]
[--field-compression auto|exact|streaming] [--out FILE.json] [--weights DIR]``

``--dofs N`` picks the size factor :func:`meshes.tool.size_factor_for_dofs` gives for about N P1
dofs (log–log interpolation of the measured table :data:`meshes.tool.MEASURED_DOFS`, end slope
beyond it); the real count is printed. ``--field-compression`` chooses how the field response
is recorded (:func:`thermo.inverse.linear_response.compute_linear_response`; "auto": streaming
above 50 000 dofs). With streamed factors there is no full response, so the exact-field rows
are skipped and the fast fields are compared with the direct FEM fields only. The last line is
the scale row: dofs, ranks (1: this benchmark runs on ``COMM_SELF``; the multi-rank rows are
``benchmarks.forward --response``), response build time (FEM run + factorisation), peak
resident memory (``resource.getrusage`` ``ru_maxrss``, this process, i.e. everything so far
including the direct FEM runs and the networks), and the full Tikhonov reconstruction time
(estimate + fields at 4/8/12 s, fast).

Stages, each timed on the same mesh, time grid (dt = 0.05 s, 240 steps) and condition
(N = 509 r/min, fz = 0.075 mm/z, ae = 0.2 mm, σ = 5 K):

* direct FEM forward: :func:`thermo.solver.solve_transient` with the F1 history prescribed;
* Duhamel forward: probes (4 × 241) and fields at 4, 8, 12 s from one recorded step response
  (:class:`thermo.inverse.linear_response.LinearResponse`; its one-off FEM run is printed
  separately);
* classical inverse: first-order Tikhonov with the discrepancy principle
  (:func:`thermo.inverse.reconstruction.tikhonov_method`: standard-form SVD cached once per sensor
  set,
  band from the cached decomposition), and, for comparison, the one-off
  :func:`thermo.inverse.tikhonov.tikhonov` that recomputes the SVD per call;
* neural inverse: the shipped trained estimators (:mod:`surrogates.ihcp.estimator`; the CNN-GRU
  teacher, one distilled student, the student ensemble) on the whole cut (resampling, scaling,
  every window in one jitted call), on JAX's default device (GPU when present, else CPU), with
  their sensor and boundary RMSE on this cut;
* full reconstruction: inverse estimate + fields at 4, 8, 12 s, timed by
  :func:`time_reconstruction` for any estimate callable (Tikhonov and each neural estimator):
  the fast path (low-rank field response,
  :meth:`thermo.inverse.linear_response.LinearResponse.field_compression`, its one-off cost printed
  separately) and the exact-field path (cached Tikhonov + the full
  (n_t × n_dofs) response).

Each row prints the median wall time over ``--repeats`` calls (one call for the direct FEM) and the
speed-up relative to the direct FEM run. The fast reconstruction's sensor RMSE is printed next to
the RMSE of the direct FEM fed with the same estimated F1 history (the FEM-based reconstruction),
which must agree to the solver tolerance because the Duhamel model is exact for the discrete
scheme; its fields are compared with the exact Duhamel fields (with the proven bound of
:class:`thermo.inverse.lowrank.CompressedStep`) and with the direct FEM fields.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from thermo.atomic import atomic_write_json
from thermo.peak_memory import peak_rss_mb

CONDITION = {"n_rpm": 509.0, "fz_mm": 0.075, "ae_mm": 0.2}
FIELD_TIMES = (4.0, 8.0, 12.0)


def _median_time(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up (compilation, caches)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        if hasattr(out, "block_until_ready"):
            out.block_until_ready()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def time_reconstruction(method, *, response, record, compressed: bool, repeats: int) -> float:
    """Median wall time s of one full reconstruction: ``method.estimate(record)`` (any
    :class:`thermo.inverse.method.InverseMethod`) followed by the fields at :data:`FIELD_TIMES`
    (low-rank response when ``compressed``, else the exact sum over the full response)."""

    def run() -> np.ndarray:
        f1 = method.estimate(record).values
        return response.fields(f1, at_times=FIELD_TIMES, compressed=compressed)

    return _median_time(run, repeats)


def _neural_rows(
    response, record, repeats: int, weights: Path | None
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Latency of the shipped neural inverses (teacher; one student; the student ensemble) on
    the cut, and of the full reconstruction with each (estimate + fields, fast), plus their
    sensor and boundary RMSE. Device: JAX's default backend (GPU when present, else CPU)."""
    import jax

    from surrogates.ihcp.estimator import shipped
    from surrogates.ihcp.inverse_method import NeuralMethod

    device = jax.default_backend()
    teacher = shipped("teacher", directory=weights)
    ensemble = shipped("student", directory=weights)
    single = replace(ensemble, members=ensemble.members[:1])
    models = {
        "teacher": NeuralMethod(teacher),
        "student (1 member)": NeuralMethod(single),
        f"student ensemble ({len(ensemble.members)} members)": NeuralMethod(ensemble),
    }
    rows, accuracy = {}, {}
    timing = dict(response=response, record=record, repeats=repeats)
    for label, method in models.items():
        rows[f"neural inverse, {label} ({device})"] = _median_time(
            lambda m=method: m.estimate(record), repeats
        )
        rows[f"full reconstruction ({label} + fields, fast)"] = time_reconstruction(
            method, compressed=True, **timing
        )
        f1 = method.estimate(record).values
        accuracy[label] = {
            "sensor_rmse_K": float(np.sqrt(np.mean((response.probes(f1) - record.values) ** 2))),
            "f1": f1,
        }
    return rows, accuracy


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.solver_vs_surrogate")
    parser.add_argument("--size-factor", type=float, default=0.5, help="tool mesh size factor")
    parser.add_argument(
        "--dofs",
        type=int,
        default=None,
        metavar="N",
        help="about N P1 dofs instead of --size-factor (meshes.tool.size_factor_for_dofs)",
    )
    parser.add_argument(
        "--field-compression",
        choices=("auto", "exact", "streaming"),
        default="auto",
        help="how the field response is recorded (default auto: streaming above 50k dofs)",
    )
    parser.add_argument("--repeats", type=int, default=20, help="timed calls per fast stage")
    parser.add_argument("--out", type=Path, default=None, help="also write the timings as JSON")
    parser.add_argument(
        "--weights", type=Path, default=None, help="neural weights folder (default: shipped)"
    )
    args = parser.parse_args(argv)
    if args.dofs is not None:
        if args.dofs < 1:
            parser.error("--dofs must be positive")
        from meshes.tool import size_factor_for_dofs

        args.size_factor = round(size_factor_for_dofs(args.dofs), 4)

    import dolfinx_solver  # noqa: F401  (MPI/PETSc before dolfinx)
    from mpi4py import MPI

    from meshes.tool import ToolGeometry, tool_mesh
    from thermo.inverse.duhamel import index_of_times
    from thermo.inverse.linear_response import compute_linear_response
    from thermo.inverse.reconstruction import virtual_measurement
    from thermo.inverse.registry import make_method
    from thermo.inverse.tikhonov import tikhonov
    from thermo.problem import History, TemperatureBC
    from thermo.solver import solve_transient
    from thermo.tool_problem import tool_problem

    tagged = tool_mesh(ToolGeometry(size_factor=args.size_factor), MPI.COMM_SELF)
    names = sorted(tagged.sensors)
    probes = {n: tagged.sensors[n] for n in names}
    problem = tool_problem(dt=0.05)
    t0 = time.perf_counter()
    response = compute_linear_response(
        tagged,
        problem,
        boundary="F1",
        kind="temperature",
        probes=probes,
        record_fields=True,
        field_compression=args.field_compression,
    )
    t_response = time.perf_counter() - t0
    t0 = time.perf_counter()
    compression = response.field_compression()
    t_compress = time.perf_counter() - t0
    streamed = response.field_step is None
    rec = virtual_measurement(response, **CONDITION, sigma=5.0, seed=0)
    times, measured = rec.times, rec.values
    method = make_method("tikhonov", response=response, sigma=5.0)
    field_idx = index_of_times(times, FIELD_TIMES)

    def run_fem(history: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Direct FEM: probes (n_t, 4) °C and the fields at FIELD_TIMES (3, n_dofs) °C."""
        forward = tool_problem(dt=0.05, f1=TemperatureBC(History(times, history)))
        frames: dict[int, np.ndarray] = {}

        def keep(n: int, _t: float, T) -> None:
            if n in field_idx:
                funcs = T if isinstance(T, list) else [T]
                frames[n] = np.concatenate([f.x.array for f in funcs])

        result = solve_transient(tagged, forward, probes=probes, on_step=keep)
        fields = np.stack([frames[n] for n in field_idx]) if len(frames) == 3 else None
        return np.stack([result.probes[n] for n in names], axis=1), fields

    t0 = time.perf_counter()
    run_fem(rec.truth)
    t_fem = time.perf_counter() - t0

    sens, data = response.sensitivity(), measured[1:]
    rows = {
        "direct FEM forward (12 s cut)": t_fem,
        "Duhamel forward, probes": _median_time(lambda: response.probes(rec.truth), args.repeats),
    }
    if not streamed:
        rows["Duhamel forward, fields at 4/8/12 s (exact)"] = _median_time(
            lambda: response.fields(rec.truth, at_times=FIELD_TIMES), args.repeats
        )
    rows |= {
        f"Duhamel forward, fields at 4/8/12 s (rank {compression.rank})": _median_time(
            lambda: response.fields(rec.truth, at_times=FIELD_TIMES, compressed=True),
            args.repeats,
        ),
        "classical inverse (Tikhonov 1, SVD per call)": _median_time(
            lambda: tikhonov(sens, data, order=1, rule="discrepancy", sigma=5.0), args.repeats
        ),
        "classical inverse (Tikhonov 1 + band, cached)": _median_time(
            lambda: method.estimate(rec), args.repeats
        ),
    }
    neural_rows, neural_acc = _neural_rows(response, rec, args.repeats, args.weights)
    rows |= neural_rows
    timing = dict(response=response, record=rec, repeats=args.repeats)
    if not streamed:
        rows["full reconstruction (Tikhonov + fields, exact)"] = time_reconstruction(
            method, compressed=False, **timing
        )
    rows["full reconstruction (Tikhonov + fields, fast)"] = time_reconstruction(
        method, compressed=True, **timing
    )

    f1_est = method.estimate(rec).values
    fields_fast = response.fields(f1_est, at_times=FIELD_TIMES, compressed=True)
    fields_exact = None if streamed else response.fields(f1_est, at_times=FIELD_TIMES)
    bound = compression.error_bound(response.input_samples(f1_est), field_idx)
    probes_fem, fields_fem = run_fem(f1_est)
    rmse_duhamel = float(np.sqrt(np.mean((response.probes(f1_est) - measured) ** 2)))
    rmse_fem = float(np.sqrt(np.mean((probes_fem - measured) ** 2)))
    err_exact = None if streamed else float(np.abs(fields_fast - fields_exact).max())
    err_fem = None if fields_fem is None else float(np.abs(fields_fast - fields_fem).max())

    n_dofs = tagged.mesh.geometry.index_map().size_global
    print(f"solver vs surrogate: {n_dofs} dofs, {times.size - 1} steps, condition {CONDITION}")
    mode = response.meta.get("field_compression", "exact")
    print(f"one-off step-response FEM run (fields recorded, {mode}): {t_response:.2f} s")
    bound_word = "bound on" if streamed else ""
    print(
        f"one-off field compression: {t_compress:.2f} s"
        f"{' (streamed during the FEM run)' if streamed else ''}, rank {compression.rank}, "
        f"{bound_word} max |S - AB| = {compression.max_error:.2e} K/K "
        f"(tol {compression.tol:.1e}), B {compression.dof_factor.dtype}"
    )
    print(f"{'stage':<68} {'time':>12} {'FEM / stage':>12}")
    for stage, seconds in rows.items():
        print(f"{stage:<68} {seconds * 1e3:>10.3f}ms {t_fem / seconds:>11.0f}x")
    print(
        f"sensor RMSE of the fast reconstruction: Duhamel {rmse_duhamel:.4f} K, FEM-based "
        f"(direct FEM with the same F1 estimate) {rmse_fem:.4f} K, "
        f"ratio {rmse_duhamel / rmse_fem:.4f}"
    )
    truth = rec.truth
    b_tik = float(np.sqrt(np.mean((f1_est[1:] - truth[1:]) ** 2)))
    print(
        f"accuracy on this cut: Tikhonov sensor RMSE {rmse_duhamel:.3f} K, boundary {b_tik:.2f} K"
    )
    for label, acc in neural_acc.items():
        b = float(np.sqrt(np.mean((acc["f1"][1:] - truth[1:]) ** 2)))
        acc["boundary_rmse_K"] = b
        print(f"  {label}: sensor RMSE {acc['sensor_rmse_K']:.3f} K, boundary {b:.2f} K")
    fem_part = "n/a" if err_fem is None else f"{err_fem:.2e} K"
    exact_part = "n/a (streamed)" if err_exact is None else f"{err_exact:.2e} K"
    print(
        f"fields at 4/8/12 s, fast vs exact Duhamel: max {exact_part} "
        f"(bound {bound.max():.2e} K); fast vs direct FEM: max {fem_part}"
    )
    peak_mb = peak_rss_mb(MPI.COMM_SELF)["max_rank"]
    recon_ms = 1e3 * rows["full reconstruction (Tikhonov + fields, fast)"]
    build_s = t_response + t_compress  # FEM run + factorisation, either path
    head = ("dofs", "ranks", "fields", "response_s", "peak_MB", "recon_ms")
    print("scale row: " + " ".join(f"{h:>10}" for h in head))
    print(
        f"scale row: {n_dofs:>10d} {1:>10d} {mode:>10} {build_s:>10.2f} {peak_mb:>10.0f} "
        f"{recon_ms:>10.3f}"
    )
    if args.out is not None:
        summary = {"n_dofs": n_dofs, "response_s": t_response, "stages_s": rows}
        summary |= {"ranks": 1, "field_compression": mode, "peak_MB": peak_mb}
        summary |= {"response_build_s": build_s, "recon_fast_ms": recon_ms}
        summary |= {"rmse_duhamel_K": rmse_duhamel, "rmse_fem_K": rmse_fem}
        summary |= {
            "neural": {k: {m: v for m, v in a.items() if m != "f1"} for k, a in neural_acc.items()}
        }
        summary |= {
            "compression": {
                "seconds": t_compress,
                "rank": compression.rank,
                "max_error": compression.max_error,
                "tol": compression.tol,
                "dtype": str(compression.dof_factor.dtype),
            },
            "fields_fast_vs_exact_K": err_exact,
            "fields_bound_K": float(bound.max()),
            "fields_fast_vs_fem_K": err_fem,
        }
        atomic_write_json(args.out, summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

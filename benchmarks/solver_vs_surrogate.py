"""Solver vs surrogate, side by side, for one 12 s cut on the built-in tool (issue 5 benchmark).

``python -m benchmarks.solver_vs_surrogate [--size-factor 0.5] [--repeats 20] [--out FILE.json]``

Stages, each timed on the same mesh, time grid (dt = 0.05 s, 240 steps) and condition
(N = 509 r/min, fz = 0.075 mm/z, ae = 0.2 mm, σ = 5 K):

* direct FEM forward: :func:`thermo.solver.solve_transient` with the F1 history prescribed;
* Duhamel forward: probes (4 × 241) and fields at 4, 8, 12 s from one recorded step response
  (:class:`thermo.linear_response.LinearResponse`; its one-off FEM run is printed separately);
* classical inverse: first-order Tikhonov with the discrepancy principle
  (:func:`thermo.reconstruction.tikhonov_method`);
* neural inverse: forward pass of the CNN-GRU teacher and the student over every window of the
  cut (window 20, 7 features), jitted, CPU (and the default JAX device if it is a GPU). These are
  latencies only: the weights here are freshly initialised, so no accuracy is claimed for them;
* full reconstruction: classical inverse + fields at 4, 8, 12 s.

Each row prints the median wall time over ``--repeats`` calls (one call for the direct FEM) and the
speed-up relative to the direct FEM run. The reconstruction's sensor RMSE is printed next to the
RMSE of the direct FEM fed with the same estimated F1 history, which must agree to the solver
tolerance because the Duhamel model is exact for the discrete scheme.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

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


def _neural_latency(measured: np.ndarray, times: np.ndarray, repeats: int) -> dict[str, float]:
    """Jitted forward pass over all windows of the cut, per model (untrained weights)."""
    import jax

    from surrogates.ihcp.models import make_model
    from surrogates.ihcp.windows import sliding_windows
    from surrogates.training import make_predictor

    params = np.array([CONDITION["n_rpm"], CONDITION["fz_mm"], CONDITION["ae_mm"]])
    features = np.concatenate([np.tile(params, (times.size, 1)), measured], axis=1)
    x, _ = sliding_windows(features.astype(np.float32), np.zeros(times.size), window=20)
    out = {}
    for name in ("teacher", "student"):
        predictor = make_predictor(make_model(name, seed=0))
        out[f"neural inverse, {name} ({jax.default_backend()})"] = _median_time(
            lambda p=predictor: p(x), repeats
        )
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.solver_vs_surrogate")
    parser.add_argument("--size-factor", type=float, default=0.5, help="tool mesh size factor")
    parser.add_argument("--repeats", type=int, default=20, help="timed calls per fast stage")
    parser.add_argument("--out", type=Path, default=None, help="also write the timings as JSON")
    args = parser.parse_args(argv)

    import dolfinx_solver  # noqa: F401  (MPI/PETSc before dolfinx)
    from mpi4py import MPI

    from meshes.tool import ToolGeometry, tool_mesh
    from thermo.linear_response import compute_linear_response
    from thermo.problem import (
        ConvectionBC,
        HeatProblem,
        History,
        TemperatureBC,
        TimeStepping,
        material,
    )
    from thermo.reconstruction import tikhonov_method, virtual_measurement
    from thermo.solver import solve_transient

    tagged = tool_mesh(ToolGeometry(size_factor=args.size_factor), MPI.COMM_SELF)
    names = sorted(tagged.sensors)
    probes = {n: tagged.sensors[n] for n in names}
    problem = HeatProblem(
        materials={
            "insert": material("wc-co"),
            "shank": material("42crmo4"),
            "bolt": material("42crmo4"),
        },
        boundaries={"F3": ConvectionBC(h=25.0, T_inf=20.0)},
        time=TimeStepping(dt=0.05, t_end=12.0, T0=20.0),
    )
    t0 = time.perf_counter()
    response = compute_linear_response(
        tagged, problem, boundary="F1", kind="temperature", probes=probes, record_fields=True
    )
    t_response = time.perf_counter() - t0
    rec = virtual_measurement(response, **CONDITION, sigma=5.0, seed=0)
    times, measured = rec["times"], rec["measured"]
    method = tikhonov_method(response, sigma=5.0)

    def run_fem(history: np.ndarray) -> np.ndarray:
        forward = HeatProblem(
            materials=problem.materials,
            boundaries={**problem.boundaries, "F1": TemperatureBC(History(times, history))},
            time=problem.time,
        )
        result = solve_transient(tagged, forward, probes=probes)
        return np.stack([result.probes[n] for n in names], axis=1)

    t0 = time.perf_counter()
    run_fem(rec["f1"])
    t_fem = time.perf_counter() - t0

    def reconstruct() -> np.ndarray:
        f1, _ = method.estimate(times, measured, CONDITION)
        return response.fields(f1, at_times=FIELD_TIMES)

    rows = {
        "direct FEM forward (12 s cut)": t_fem,
        "Duhamel forward, probes": _median_time(lambda: response.probes(rec["f1"]), args.repeats),
        "Duhamel forward, fields at 4/8/12 s": _median_time(
            lambda: response.fields(rec["f1"], at_times=FIELD_TIMES), args.repeats
        ),
        "classical inverse (Tikhonov 1)": _median_time(
            lambda: method.estimate(times, measured, CONDITION), args.repeats
        ),
    }
    rows |= _neural_latency(measured, times, args.repeats)
    rows["full reconstruction (Tikhonov + fields)"] = _median_time(reconstruct, args.repeats)

    f1_est, _ = method.estimate(times, measured, CONDITION)
    rmse_duhamel = float(np.sqrt(np.mean((response.probes(f1_est) - measured) ** 2)))
    rmse_fem = float(np.sqrt(np.mean((run_fem(f1_est) - measured) ** 2)))

    n_dofs = tagged.mesh.geometry.index_map().size_global
    print(f"solver vs surrogate: {n_dofs} dofs, {times.size - 1} steps, condition {CONDITION}")
    print(f"one-off step-response FEM run (fields recorded): {t_response:.2f} s")
    print(f"{'stage':<48} {'time':>12} {'FEM / stage':>12}")
    for stage, seconds in rows.items():
        print(f"{stage:<48} {seconds * 1e3:>10.3f}ms {t_fem / seconds:>11.0f}x")
    print(
        f"sensor RMSE of the reconstruction: Duhamel {rmse_duhamel:.4f} K, "
        f"direct FEM with the same F1 estimate {rmse_fem:.4f} K"
    )
    if args.out is not None:
        summary = {"n_dofs": n_dofs, "response_s": t_response, "stages_s": rows}
        summary |= {"rmse_duhamel_K": rmse_duhamel, "rmse_fem_K": rmse_fem}
        args.out.write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

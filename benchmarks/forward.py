"""Forward-solver benchmark on the insert–shank–bolt tool mesh (issue 2 "Benchmark").

For each mesh size (``meshes.tool.ToolGeometry.size_factor``; smaller → finer) the script solves the
transient problem of paper 000 (F1 prescribed temperature ramp 20 → 600 °C over 1 s, then held;
F3 convection h = 25 W/(m² K) to 20 °C; perfect contact at F2; WC–Co insert, 42CrMo4 shank and
bolt) with backward Euler, Δt = 0.05 s, CG + GAMG, and prints one table row per size and rank
count:

* ``assembly_s``: forms → PETSc matrices and load vectors (includes form JIT on a cold cache),
* ``pc_setup_s``: GAMG set-up (once),
* ``step_ms`` / ``ksp_ms``: mean wall time per time step, and of the KSP solve within it,
* ``ratio``: step / KSP (goal ≤ 1.2: the right-hand side costs one mat-vec plus a few axpy),
* ``total_s``: set-up + all steps (goal reported for 240 steps),
* ``speedup``: serial ``total_s`` / parallel ``total_s`` at the same size.

With ``--nonlinear`` every size and rank count also runs the same problem with the
temperature-dependent library materials (``wc-co-T`` insert, ``42crmo4-T`` shank and bolt:
Newton per step, :mod:`thermo.nonlinear`, GMRES + GAMG at the same ``rtol``), printed as a row of
kind ``nonlin`` with its Newton iterations per step, followed by the line
``nonlinear/linear step cost`` = nonlinear ``step_ms`` / linear ``step_ms`` (goal ≤ 3, issue 15).

With ``--response`` every size and rank count also builds the field step response of the
inverse problem (:func:`thermo.inverse.linear_response.compute_linear_response`, F1 unit step,
``--field-compression``, default ``streaming``: low-rank factors built during the run, each rank
holding its owned dofs) and prints a row of the scale table:

* ``mesh_s``: Gmsh on rank 0 plus distribution (timed here, not in the forward rows),
* ``response_s``: the step-response FEM run including the factorisation (for ``exact``: the full
  matrix, then :func:`thermo.inverse.lowrank.compress_step`); ``stream_s`` the part of it
  spent in the streaming compressor (rank 0),
* ``rank`` / ``max_err``: rank r of the factors and their bound on max |S − AB| (K/K),
* ``recon_ms``: the mesh-dependent part of a 3-condition reconstruction: fields at t_end/3,
  2 t_end/3 and t_end for three F1 histories from the factors (median of 5, every rank),
* ``peak_MB``: peak resident memory (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) of the
  worst rank and summed over all ranks, mesh generation included.

These rows always run in a fresh process (``python`` or ``mpirun -n R``, ``--worker`` mode), so
the peak memory is that of the row alone.

``--dofs N [N ...]`` picks the size factors instead of ``--size-factors``:
:func:`meshes.tool.size_factor_for_dofs` interpolates the measured (size factor, dofs) table
:data:`meshes.tool.MEASURED_DOFS` in log–log (N ∝ s^-p), extrapolating with the end slope
(p ≈ 2.8 below s = 0.25) beyond 263k dofs; the row prints the real count.

Runs with more ranks launch this module under ``mpirun -n R`` (the MPICH ``mpirun`` beside the
Python executable) in ``--worker`` mode and read back its JSON. Mesh generation (Gmsh, rank 0) is
not timed in the forward rows. Usage::

    python -m benchmarks.forward --help
    python -m benchmarks.forward --quick                      # small sizes, 20 steps
    python -m benchmarks.forward --size-factors 0.42 0.33 0.26 --steps 240 --ranks 1 2
    python -m benchmarks.forward --nonlinear --size-factors 0.40 --steps 60 --ranks 1
    python -m benchmarks.forward --dofs 28000 183000 1000000 --ranks 1 2 --response
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from thermo.peak_memory import peak_rss_mb

STEPS_DEFAULT = 240
DT = 0.05


def run_one(*, size_factor: float, steps: int, nonlinear: bool = False) -> dict:
    """Mesh the tool at ``size_factor``, solve ``steps`` steps, return the timings (rank 0).

    ``nonlinear``: the temperature-dependent library materials instead of the constants.
    """
    import dolfinx_solver  # noqa: F401

    from meshes.tool import ToolGeometry, tool_mesh
    from thermo.problem import (
        MATERIALS,
        ConvectionBC,
        HeatProblem,
        History,
        TemperatureBC,
        TimeStepping,
    )
    from thermo.solver import solve_transient

    tagged = tool_mesh(ToolGeometry(size_factor=size_factor))
    suffix = "-t" if nonlinear else ""
    steel = MATERIALS["42crmo4" + suffix]
    problem = HeatProblem(
        materials={"insert": MATERIALS["wc-co" + suffix], "shank": steel, "bolt": steel},
        boundaries={
            "F1": TemperatureBC(
                History(times=np.array([0.0, 1.0]), values=np.array([20.0, 600.0]))
            ),
            "F3": ConvectionBC(h=25.0, T_inf=20.0),
        },
        time=TimeStepping(dt=DT, t_end=steps * DT, T0=20.0),
        rtol=1e-8,
    )
    result = solve_transient(tagged, problem, probes=dict(tagged.sensors))
    timings = dict(result.timings)
    timings["ranks"] = tagged.mesh.comm.size
    timings["size_factor"] = size_factor
    timings["kind"] = "nonlin" if nonlinear else "linear"
    timings["total_s"] = timings["setup_s"] + timings["pc_setup_s"] + timings["steps_s"]
    timings["sensor_T_end"] = {k: float(v[-1]) for k, v in result.probes.items()}
    return timings


def run_response(*, size_factor: float, steps: int, field_compression: str = "streaming") -> dict:
    """Mesh the tool, build the F1 field step response, time the field reconstruction (module
    docstring, ``--response``); every rank takes part, rank 0's dict is the row."""
    import dolfinx_solver  # noqa: F401
    from mpi4py import MPI

    from meshes.tool import ToolGeometry, tool_mesh
    from thermo.inverse.linear_response import compute_linear_response
    from thermo.tool_problem import tool_problem

    comm = MPI.COMM_WORLD
    t0 = time.perf_counter()
    tagged = tool_mesh(ToolGeometry(size_factor=size_factor))
    comm.Barrier()
    mesh_s = time.perf_counter() - t0
    problem = tool_problem(dt=DT, t_end=steps * DT)
    t0 = time.perf_counter()
    response = compute_linear_response(
        tagged,
        problem,
        boundary="F1",
        kind="temperature",
        probes=dict(tagged.sensors),
        record_fields=True,
        field_compression=field_compression,
    )
    comp = response.field_compression()  # exact path: the compression of the full matrix
    comm.Barrier()
    response_s = time.perf_counter() - t0
    t = response.times
    at = [t[steps // 3], t[(2 * steps) // 3], t[-1]]
    plateaus = (450.0, 600.0, 750.0)  # three conditions: F1 ramps to a plateau in 1 s
    histories = [20.0 + (p - 20.0) * np.clip(t / 1.0, 0.0, 1.0) for p in plateaus]

    def reconstruct() -> None:
        for h in histories:
            response.fields(h, at_times=at, compressed=True)
        comm.Barrier()

    reconstruct()  # warm-up
    samples = []
    for _ in range(5):
        t0 = time.perf_counter()
        reconstruct()
        samples.append(time.perf_counter() - t0)
    peak = peak_rss_mb(comm)
    peak_max, peak_sum = peak["max_rank"], peak["sum_ranks"]
    return {
        "kind": "response",
        "size_factor": size_factor,
        "n_dofs": int(tagged.mesh.geometry.index_map().size_global),
        "ranks": int(comm.size),
        "n_steps": steps,
        "field_compression": response.meta["field_compression"],
        "mesh_s": mesh_s,
        "response_s": response_s,
        "stream_s": response.meta.get("field_stream_s"),
        "rank": comp.rank,
        "max_error": comp.max_error,
        "dof_dtype": str(comp.dof_factor.dtype),
        "recon_ms": 1e3 * float(np.median(samples)),
        "peak_max_MB": peak_max,
        "peak_sum_MB": peak_sum,
    }


def _response_row(*, size_factor: float, steps: int, ranks: int, field_compression: str) -> dict:
    """:func:`run_response` in a fresh process (``mpirun -n ranks`` when ranks > 1)."""
    launcher: list[str] = []
    if ranks > 1:
        mpirun = Path(sys.executable).with_name("mpirun")
        if not mpirun.exists():
            raise FileNotFoundError(f"benchmarks.forward: no mpirun beside {sys.executable}")
        launcher = [str(mpirun), "-n", str(ranks)]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "response.json"
        cmd = [
            *launcher,
            sys.executable,
            "-m",
            "benchmarks.forward",
            "--worker",
            str(out),
            "--response",
            "--field-compression",
            field_compression,
            "--size-factors",
            str(size_factor),
            "--steps",
            str(steps),
        ]
        subprocess.run(cmd, check=True, cwd=Path(__file__).resolve().parents[1])
        return json.loads(out.read_text())


RESPONSE_HEADER = (
    f"{'dofs':>9} {'ranks':>5} {'fields':>9} {'mesh_s':>8} {'response_s':>10} {'stream_s':>8} "
    f"{'rank':>5} "
    f"{'max_err':>8} {'recon_ms':>9} {'peak_MB':>8} {'sum_MB':>8}"
)


def _response_text(t: dict) -> str:
    stream = "-" if t.get("stream_s") is None else f"{t['stream_s']:.2f}"
    return (
        f"{t['n_dofs']:>9d} {t['ranks']:>5d} {t['field_compression']:>9} {t['mesh_s']:>8.2f} "
        f"{t['response_s']:>10.2f} {stream:>8} {t['rank']:>5d} {t['max_error']:>8.1e} "
        f"{t['recon_ms']:>9.2f} {t['peak_max_MB']:>8.0f} {t['peak_sum_MB']:>8.0f}"
    )


def _parallel(*, size_factor: float, steps: int, ranks: int, nonlinear: bool = False) -> dict:
    mpirun = Path(sys.executable).with_name("mpirun")
    if not mpirun.exists():
        raise FileNotFoundError(f"benchmarks.forward: no mpirun beside {sys.executable}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "timings.json"
        cmd = [
            str(mpirun),
            "-n",
            str(ranks),
            sys.executable,
            "-m",
            "benchmarks.forward",
            "--worker",
            str(out),
            "--size-factors",
            str(size_factor),
            "--steps",
            str(steps),
            *(["--nonlinear"] if nonlinear else []),
        ]
        subprocess.run(cmd, check=True, cwd=Path(__file__).resolve().parents[1])
        return json.loads(out.read_text())


def _row(t: dict, speedup: str) -> str:
    newton = t.get("newton_iterations")
    its_newton = "-" if newton is None else f"{newton / t['n_steps']:.1f}"
    return (
        f"{t['kind']:>6} {t['size_factor']:>6.3f} {t['n_dofs']:>9d} {t['ranks']:>5d} "
        f"{t['assembly_s']:>10.2f} "
        f"{t['pc_setup_s']:>10.2f} {1e3 * t['per_step_s']:>9.2f} {1e3 * t['ksp_per_step_s']:>8.2f} "
        f"{t['per_step_s'] / t['ksp_per_step_s']:>6.2f} {t['total_s']:>8.2f} "
        f"{t['ksp_iterations'] / t['n_steps']:>6.1f} {its_newton:>7} {speedup:>8}"
    )


def _measure(sf: float, steps: int, ranks: int, nonlinear: bool, rows: list[dict]) -> dict:
    """One run (in-process for 1 rank, else under mpirun), printed as a table row."""
    if ranks == 1:
        t = run_one(size_factor=sf, steps=steps, nonlinear=nonlinear)
    else:
        t = _parallel(size_factor=sf, steps=steps, ranks=ranks, nonlinear=nonlinear)
    serial = [
        r for r in rows if r["ranks"] == 1 and r["size_factor"] == sf and r["kind"] == t["kind"]
    ]
    speedup = f"{serial[0]['total_s'] / t['total_s']:.2f}" if serial and ranks > 1 else "-"
    t["speedup"] = None if speedup == "-" else float(speedup)
    print(_row(t, speedup), flush=True)
    return t


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--size-factors",
        type=float,
        nargs="+",
        default=[0.40, 0.30, 0.226],
        help="ToolGeometry.size_factor per run (about 50k, 100k, 200k dofs)",
    )
    parser.add_argument("--steps", type=int, default=STEPS_DEFAULT, help="time steps (dt 0.05 s)")
    parser.add_argument(
        "--dofs",
        type=int,
        nargs="+",
        default=None,
        metavar="N",
        help="about N P1 dofs per run instead of --size-factors (meshes.tool.size_factor_for_dofs)",
    )
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2], help="MPI rank counts")
    parser.add_argument(
        "--response",
        action="store_true",
        help="also build the F1 field step response: scale table (response time, peak memory, "
        "reconstruction time)",
    )
    parser.add_argument(
        "--field-compression",
        choices=("streaming", "exact", "auto"),
        default="streaming",
        help="field response of --response (default streaming)",
    )
    parser.add_argument("--quick", action="store_true", help="size factors 1.0 0.7, 20 steps")
    parser.add_argument(
        "--nonlinear",
        action="store_true",
        help="also run the temperature-dependent materials; print the nonlinear/linear step cost",
    )
    parser.add_argument("--out", type=Path, default=None, help="also write timings JSON here")
    parser.add_argument("--worker", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.size_factors, args.steps = [1.0, 0.7], 20
    if args.dofs is not None:
        if any(n < 1 for n in args.dofs):
            parser.error("--dofs must be positive")
        from meshes.tool import size_factor_for_dofs

        args.size_factors = [round(size_factor_for_dofs(n), 4) for n in args.dofs]
    if args.steps < 1 or any(not (s > 0) for s in args.size_factors):
        parser.error("--steps must be >= 1 and --size-factors positive")
    if args.worker is not None and args.response:
        from mpi4py import MPI

        row = run_response(
            size_factor=args.size_factors[0],
            steps=args.steps,
            field_compression=args.field_compression,
        )
        if MPI.COMM_WORLD.rank == 0:
            args.worker.write_text(json.dumps(row))
        return
    if args.worker is not None:
        from mpi4py import MPI

        timings = run_one(
            size_factor=args.size_factors[0], steps=args.steps, nonlinear=args.nonlinear
        )
        if MPI.COMM_WORLD.rank == 0:
            args.worker.write_text(json.dumps(timings))
        return
    os.environ.setdefault("PYVISTA_OFF_SCREEN", "true")
    header = (
        f"{'kind':>6} {'sizef':>6} {'dofs':>9} {'ranks':>5} {'assembly_s':>10} {'pc_setup_s':>10} "
        f"{'step_ms':>9} {'ksp_ms':>8} {'ratio':>6} {'total_s':>8} {'its':>6} {'newton':>7} "
        f"{'speedup':>8}"
    )
    print(f"forward benchmark: {args.steps} steps of {DT} s, BE, CG+GAMG, perfect contact")
    print(header)
    rows = []
    kinds = [False, True] if args.nonlinear else [False]
    for sf in args.size_factors:
        for ranks in args.ranks:
            linear = None
            for nonlinear in kinds:
                rows.append(_measure(sf, args.steps, ranks, nonlinear, rows))
                if not nonlinear:
                    linear = rows[-1]
            if args.nonlinear:
                ratio = rows[-1]["per_step_s"] / linear["per_step_s"]
                rows[-1]["nonlinear_over_linear_step"] = ratio
                print(
                    f"nonlinear/linear step cost at size {sf:g}, {ranks} rank(s): {ratio:.2f} "
                    "(goal <= 3)",
                    flush=True,
                )
    if args.response:
        print(
            f"scale table: F1 field step response ({args.steps} steps, --field-compression "
            f"{args.field_compression}), fresh process per row"
        )
        print(RESPONSE_HEADER)
        for sf in args.size_factors:
            for ranks in args.ranks:
                row = _response_row(
                    size_factor=sf,
                    steps=args.steps,
                    ranks=ranks,
                    field_compression=args.field_compression,
                )
                rows.append(row)
                print(_response_text(row), flush=True)
    if args.out is not None:
        from thermo.atomic import atomic_write_json

        atomic_write_json(args.out / "forward_benchmark.json", rows)


if __name__ == "__main__":
    main()

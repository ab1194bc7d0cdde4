r"""Throughput of paper 001's transfer-learning factorial: the whole 4 (A) × 8 (B) × 9 (C) × 5
(repeats) = 1440 trainings, sequential vs vectorised, in trainings (runs) per second.

    python -m benchmarks.factorial                     # full: 1440 trainings, 60 s sampling
    python -m benchmarks.factorial --quick             # tiny: coarse data, 2 epochs, 2 repeats
    mpirun -n 2 python -m benchmarks.factorial         # A levels split over 2 ranks

* **vectorised** — the real thing: :func:`surrogates.compensation.factorial.run_factorial`, one
  ``vmap``-ed, jitted call of all B × C × repeats members (360) per factor-A level; timed as a
  whole (wall), with the compilation part reported separately.
* **sequential** — a plain Python loop of single trainings (one member per call), timed for a
  small sample of (A, B, C) cells (``--sequential``) and *extrapolated* to all runs: a training
  costs in proportion to its optimiser steps (:math:`\lceil n_C/16\rceil` × epochs, :math:`n_C`
  samples of its condition set), so the estimate is seconds-per-step of the sample × the
  factorial's total steps. Compilation is excluded from that estimate (a sequential loop
  compiles once per structure and set size and reuses it) and reported apart.

The data are the virtual aged machine's records (§2.1) with the paper's three inputs; the
"pretrained" layers are a seeded random initialisation, since throughput does not depend on
their values. Paper 001 reports about 0.5 min per transfer run; the issue's goal is all 1440
trainings in <= 5 min on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import json
import os
import time

from thermo.atomic import atomic_write_json

#: factor A levels timed: the paper's Table 6 winners (shapes representative of the study)
A_LEVELS = [
    ("none", "none", "none", "dense"),
    ("none", "lstm", "none", "none"),
    ("none", "lstm", "none", "dense"),
    ("none", "dense", "none", "lstm"),
]
SELECTED = {
    "spindle": "mean(S25,S26,S27)",
    "base": "mean(B1..B4)",
    "column": "mean(C16,C14,C18)-mean(C15,C13,C17)",
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.factorial", description=__doc__)
    p.add_argument("--quick", action="store_true", help="tiny version (seconds to a minute)")
    p.add_argument("--sampling", type=float, default=None, help="sampling s (60; quick: 1800)")
    p.add_argument("--repeats", type=int, default=None, help="repeats per cell (5; quick: 2)")
    p.add_argument("--epochs", type=int, default=None, help="epochs (20; quick: 2)")
    p.add_argument("--sequential", type=int, default=None, help="single runs timed (3; quick 2)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=str, default=None, help="also write the result to this file")
    return p


def _steps(n_samples: int, batch: int, epochs: int) -> int:
    return -(-n_samples // batch) * epochs


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    sampling = args.sampling or (1800.0 if args.quick else 60.0)
    repeats = args.repeats or (2 if args.quick else 5)
    epochs = args.epochs or (2 if args.quick else 20)
    n_seq = args.sequential or (2 if args.quick else 3)

    import numpy as np
    from flax import nnx

    from surrogates.compensation.data import features
    from surrogates.compensation.factorial import AgedData, run_factorial, train_grid
    from surrogates.compensation.model import CompensationNet
    from surrogates.compensation.parallel import rank, world
    from surrogates.compensation.transfer import CONDITION_SETS, FREEZING, FineTuneConfig
    from thermo.machine.centre import simulate_state

    comm = world()
    root = rank(comm) == 0
    ranks = 1 if comm is None else comm.Get_size()
    aged = AgedData(features(simulate_state("aged", sampling_interval_s=sampling), SELECTED))
    pre = CompensationNet(rngs=nnx.Rngs(args.seed))
    cfg = FineTuneConfig(epochs=epochs)
    b_levels, c_levels = list(FREEZING), list(CONDITION_SETS)
    n_runs = len(A_LEVELS) * len(b_levels) * len(c_levels) * repeats
    set_steps = {
        c: _steps(len(aged.ids(CONDITION_SETS[c])), cfg.batch_size, epochs) for c in c_levels
    }
    total_steps = len(A_LEVELS) * len(b_levels) * repeats * sum(set_steps.values())

    # sequential: single trainings in a Python loop, on rank 0 only (before the vectorised part)
    seq = {"runs": 0, "seconds": 0.0, "compile_seconds": 0.0, "steps": 0}
    if root:
        rng = np.random.default_rng(args.seed)
        for k in range(n_seq):
            a = int(rng.integers(len(A_LEVELS)))
            b, c = b_levels[int(rng.integers(len(b_levels)))], c_levels[int(rng.integers(9))]
            _, timing = train_grid(
                A_LEVELS[a], pre, aged, b_levels=[b], c_levels=[c], repeats=1,
                seed=args.seed + k, config=cfg,
            )  # fmt: skip
            seq["runs"] += 1
            seq["seconds"] += timing.seconds - timing.compile_seconds
            seq["compile_seconds"] += timing.compile_seconds
            seq["steps"] += set_steps[c]
            print(f"sequential sample {k + 1}/{n_seq}: A{a + 1} {b} {c} ({set_steps[c]} steps) "
                  f"{timing.seconds - timing.compile_seconds:.2f} s run + "
                  f"{timing.compile_seconds:.2f} s compile", flush=True)  # fmt: skip
    if comm is not None:
        comm.Barrier()

    t0 = time.perf_counter()
    table, timing = run_factorial(
        A_LEVELS, pre, aged, repeats=repeats, seed=args.seed, config=cfg, comm=comm,
        progress=root,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    if not root:
        return 0
    if len(table) != n_runs or not np.all(np.isfinite(table.rmse)):
        raise RuntimeError(f"factorial: expected {n_runs} finite results, got {len(table)}")
    seq_per_step = seq["seconds"] / max(seq["steps"], 1)
    seq_estimate = seq_per_step * total_steps
    result = {
        "runs": n_runs,
        "design": f"{len(A_LEVELS)} A x {len(b_levels)} B x {len(c_levels)} C x {repeats} repeats",
        "sampling_s": sampling,
        "epochs": epochs,
        "mpi_ranks": ranks,
        "cpu_count": os.cpu_count(),
        "vectorised_wall_s": wall,
        "vectorised_runs_per_s": n_runs / wall,
        "vectorised_call_seconds_summed": timing.seconds,
        "vectorised_compile_seconds_summed": timing.compile_seconds,
        "compile_share": timing.compile_seconds / timing.seconds,
        "vectorised_runs_per_call_s_excluding_compile": n_runs
        / max(timing.seconds - timing.compile_seconds, 1e-9),
        "sequential_sample_runs": seq["runs"],
        "sequential_sample_run_seconds": seq["seconds"],
        "sequential_sample_compile_seconds": seq["compile_seconds"],
        "sequential_extrapolated_s": seq_estimate,
        "sequential_runs_per_s_extrapolated": n_runs / seq_estimate if seq_estimate else None,
        "speedup_vectorised_vs_sequential": seq_estimate / wall if seq_estimate else None,
        "mean_rmse_um": float(table.rmse.mean()),
    }
    print(
        f"\n{n_runs} trainings ({result['design']}, sampling {sampling:g} s, {epochs} epochs, "
        f"{ranks} rank(s), {os.cpu_count()} CPUs)\n"
        f"  vectorised: {wall:.1f} s wall = {n_runs / wall:.2f} runs/s "
        f"(compile {timing.compile_seconds:.1f} s of {timing.seconds:.1f} s in training calls)\n"
        f"  sequential: {seq_estimate:.1f} s EXTRAPOLATED from {seq['runs']} single runs "
        f"({seq['seconds']:.1f} s for {seq['steps']} steps; compile "
        f"{seq['compile_seconds']:.1f} s excluded) = "
        f"{result['sequential_runs_per_s_extrapolated'] or float('nan'):.3f} runs/s\n"
        f"  speed-up {result['speedup_vectorised_vs_sequential'] or float('nan'):.1f}x"
    )
    if n_runs == 1440 and epochs == 20:
        print(f"  goal 1440 runs <= 300 s: {'met' if wall <= 300 else 'NOT met'} ({wall:.0f} s)")
    print(json.dumps(result, indent=2))
    if args.json:
        atomic_write_json(args.json, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

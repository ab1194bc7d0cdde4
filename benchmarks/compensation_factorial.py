"""Throughput of the paper-001 factorial: sequential (one training per call) vs vectorised
(all B × C × repeats of one structure in one ``vmap``ed call), in trainings per second.

    python -m benchmarks.compensation_factorial --sampling 300 --repeats 5

Prints the measured runs/s of both ways and the estimated time of the full 4 × 8 × 9 × 5 = 1440
trainings from the vectorised throughput (each factor-A level is one call of 360 members).
"""

from __future__ import annotations

import argparse
import json


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.compensation_factorial")
    p.add_argument("--sampling", type=float, default=300.0, help="sampling interval s")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--sequential", type=int, default=3, help="single trainings to time")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    from flax import nnx

    from surrogates.compensation.data import features
    from surrogates.compensation.factorial import AgedData, train_grid
    from surrogates.compensation.model import CompensationNet
    from surrogates.compensation.transfer import CONDITION_SETS, FREEZING, FineTuneConfig
    from thermo.machine_tool import simulate_state

    sel = {"spindle": "mean(S25,S26,S27)", "base": "mean(B1..B4)",
           "column": "mean(C16,C14,C18)-mean(C15,C13,C17)"}  # fmt: skip
    aged = AgedData(features(simulate_state("aged", sampling_interval_s=args.sampling), sel))
    pre = CompensationNet(rngs=nnx.Rngs(args.seed))
    cfg = FineTuneConfig(epochs=args.epochs)
    s = ("none", "lstm", "none", "dense")
    seq = 0.0
    for k in range(args.sequential):
        _, secs = train_grid(s, pre, aged, b_levels=["B1"], c_levels=["C9"], repeats=1,
                             seed=k, config=cfg)  # fmt: skip
        seq += secs
    _, vec = train_grid(s, pre, aged, b_levels=list(FREEZING), c_levels=list(CONDITION_SETS),
                        repeats=args.repeats, seed=args.seed, config=cfg)  # fmt: skip
    n_vec = len(FREEZING) * len(CONDITION_SETS) * args.repeats
    result = {
        "sequential_runs_per_s": args.sequential / seq,
        "vectorised_runs_per_s": n_vec / vec,
        "vectorised_seconds_per_structure": vec,
        "estimated_full_factorial_s": 4 * vec * 5 / args.repeats,
        "sampling_s": args.sampling, "epochs": args.epochs,
    }  # fmt: skip
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Run serially or under ``mpirun -n N``: a tiny structure screening and factorial of paper 001.

Rank 0 writes the per-structure screening means and the factorial RMSE_avg column as JSON to
the path given as argv[1]. The data are synthetic (no machine simulation), one epoch.
"""

import json
import sys

import numpy as np
from flax import nnx

from surrogates.compensation.factorial import AgedData, run_factorial, screen_structures
from surrogates.compensation.model import CompensationNet
from surrogates.compensation.parallel import rank, world
from surrogates.compensation.transfer import FineTuneConfig

STRUCTURES = [("none", "none", "none", "dense"), ("none", "lstm", "none", "none")]


def main(path: str) -> None:
    comm = world()
    rng = np.random.default_rng(0)
    data = {}
    for i in range(1, 21):
        x = rng.normal(size=(10, 1, 3)).astype(np.float32)
        data[f"H{i}"] = (x, (3.0 * x[:, 0, 0] - x[:, 0, 2]).astype(np.float32))
    aged = AgedData(data)
    pre = CompensationNet(rngs=nnx.Rngs(0))
    cfg = FineTuneConfig(epochs=1)
    screen = screen_structures(STRUCTURES, pre, aged, repeats=2, seed=0, config=cfg, comm=comm)
    table, _ = run_factorial(
        STRUCTURES, pre, aged, repeats=1, seed=0, config=cfg, b_levels=["B1", "B4"], comm=comm
    )
    if rank(comm) == 0:
        out = {
            "ranks": 1 if comm is None else comm.Get_size(),
            "screen": dict(zip(screen.structure, screen.mean_rmse.astype(float), strict=True)),
            "factorial": table.rmse.astype(float).tolist(),
            "cells": table[["A", "B", "C", "repeat"]].astype(str).agg("/".join, axis=1).tolist(),
        }
        with open(path, "w") as f:
            json.dump(out, f)


if __name__ == "__main__":
    main(sys.argv[1])

"""Tool-wear pipeline speed (issue 7): feature extraction throughput and tuned-ensemble training.

``python -m benchmarks.wear [--quick] [--out DIR] [--seed S]`` measures, on one CPU
thread (``XLA_FLAGS``/BLAS threads are the caller's choice; the machine is shared, so run it
when it is quiet):

* features of one 4 s record (200 000 samples × 3 axes): low-pass + trim + 327 features, and
  the feature step alone (goal of issue 7: <= 50 ms per record on one core); median of repeats,
  wall time and process CPU time (the latter is less disturbed by other jobs on the machine).
* training time of the whole tuned ensemble (CV tuning of every model + the ensemble's refits,
  one fit of the paper's random 80/20 protocol) on a virtual campaign's feature matrix.

Writes ``benchmark.json`` and ``benchmark.md`` into ``--out`` (a staged folder, published
complete by :func:`thermo.atomic.staged_dir`).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from cases.exits import run_main
from surrogates.wear.features import extract_features, lowpass, record_features, trim_engagement
from surrogates.wear.forces import MillingSetup, SignalOptions, simulate_record
from surrogates.wear.growth import wear_campaign
from surrogates.wear.pipeline import RANDOM, feature_matrix, run_protocol
from thermo.atomic import atomic_write_json, atomic_write_text, check_output_dir, staged_dir


def _median_seconds(fn, repeats: int, clock=time.perf_counter) -> float:
    """Median duration of ``fn()`` over ``repeats`` calls after one warm-up, by ``clock``."""
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return float(np.median(times))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.wear", description=__doc__)
    p.add_argument("--out", type=Path, default=Path("results/wear_benchmark"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="fewer repeats, small campaign")
    args = p.parse_args(argv)
    check_output_dir(args.out)
    setup = MillingSetup()
    rec = simulate_record(setup, vb_um=100.0, options=SignalOptions(cut_s=4.0), seed=args.seed)
    raw = rec.forces.astype(np.float64)
    steady = lowpass(raw, fs_hz=rec.fs_hz)[trim_engagement(raw, fs_hz=rec.fs_hz)]
    repeats = 5 if args.quick else 20
    t_feat = _median_seconds(
        lambda: extract_features(steady, fs_hz=rec.fs_hz, spindle_hz=setup.spindle_hz, flutes=4),
        repeats,
    )
    t_feat_cpu = _median_seconds(
        lambda: extract_features(steady, fs_hz=rec.fs_hz, spindle_hz=setup.spindle_hz, flutes=4),
        repeats,
        clock=time.process_time,
    )
    t_full = _median_seconds(
        lambda: record_features(raw, fs_hz=rec.fs_hz, spindle_hz=setup.spindle_hz, flutes=4),
        repeats,
    )
    t_sim = _median_seconds(
        lambda: simulate_record(setup, vb_um=100.0, options=SignalOptions(cut_s=4.0)), 3
    )
    n_tools = 2 if args.quick else 4
    recs = (
        c.record
        for c in wear_campaign(
            setup,
            n_tools=n_tools,
            passes_per_tool=60,
            options=SignalOptions(cut_s=1.0),
            seed=args.seed,
        )
    )
    x, y = feature_matrix(recs, spindle_hz=setup.spindle_hz, flutes=4)
    t0 = time.perf_counter()
    res = run_protocol(
        x, y, protocol=RANDOM, folds=3 if args.quick else 5, quick=args.quick, seed=args.seed
    )
    t_train = time.perf_counter() - t0
    result = {
        "record_samples": int(steady.shape[0]),
        "features_only_ms": 1e3 * t_feat,
        "features_only_cpu_ms": 1e3 * t_feat_cpu,
        "clean_and_features_ms": 1e3 * t_full,
        "records_per_s_features_only": 1.0 / t_feat,
        "records_per_s_clean_and_features": 1.0 / t_full,
        "simulate_4s_record_ms": 1e3 * t_sim,
        "ensemble_training_s": t_train,
        "ensemble_records": int(len(y)),
        "per_model_tuning_s": {t.name: t.seconds for t in res.fitted.tuned},
        "goal_features_ms": 50.0,
    }
    lines = ["# Tool-wear benchmark", ""] + [f"- {k}: {v}" for k, v in result.items()]
    with staged_dir(args.out) as tmp:
        atomic_write_json(tmp / "benchmark.json", result)
        atomic_write_text(tmp / "benchmark.md", "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main, "benchmarks.wear"))

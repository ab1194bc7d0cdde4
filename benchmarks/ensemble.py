"""Latency of the neural inverse per 12 s cut: the student ensemble as one vmapped call vs a loop
of members, and one member vs five (issue 18).

``python -m benchmarks.ensemble [--repeats 50] [--weights DIR] [--out FILE.json]``

The cut: 241 samples at dt = 0.05 s (12 s, 240 steps; the shipped estimators' grid, so the
resampling is an identity interpolation), condition N = 509 r/min, fz = 0.075 mm/z,
ae = 0.2 mm; sensor values are a smooth rise with seeded 5 K noise (latency does not depend on
them). Rows (median wall time over ``--repeats`` calls after two warm-up calls, the variants
interleaved call by call so a change of machine load hits all of them alike):

* ``estimate``: the full :meth:`surrogates.ihcp.estimator.NeuralInverse.estimate` (resample,
  scale, pad, every window of every member, inverse scaling, mean and band);
* ``network``: the jitted network call alone on the prepared (padded, scaled) sequence;

each for the shipped student ensemble (5 members) vmapped (the default path, windows in
:data:`surrogates.ihcp.estimator.WINDOW_CHUNKS` group(s)), as a loop of one jitted call per
member (``batched=False``: the old way of running the ensemble, on today's per-member program),
and for one member alone; plus the vmapped network with the other window grouping (1 or 2
independent chains, same numbers) so the default can be chosen on a quiet machine. The
threads: JAX's CPU backend runs its programs on an intra-op pool of one thread per core it may
use (printed: ``os.sched_getaffinity``), here with ``XLA_FLAGS`` as printed (empty: defaults).
Process CPU time per call is printed beside the wall time: CPU > wall means both cores worked.

Two more lines say why the ensemble costs what it costs: the multiply–adds of one call
(:func:`network_flops`: convolutions, input projections and, dominating, the recurrences that
restart in each of the 241 windows) and the rate the vmapped call reaches (GFLOP/s), against
which the CPU's peak can be set; and the row ``network, 5 members 148x32`` times an ensemble of
the student shape that ``cases.ihcp_surrogates``' search found fastest within an R² loss of 0.01
(148 filters × 32 GRU units), freshly initialised: latency only, these are not trained weights.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from thermo.atomic import atomic_write_json

CONDITION = {"n_rpm": 509.0, "fz_mm": 0.075, "ae_mm": 0.2}
DT, N_T = 0.05, 241


def cut(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The benchmark's 12 s record: times (241,) s and sensors (241, 4) °C."""
    t = DT * np.arange(N_T)
    rise = 1.0 - np.exp(-t / 2.0)
    noise = np.random.default_rng(seed).normal(0.0, 5.0, (N_T, 4))
    return t, 20.0 + np.outer(rise, [300.0, 200.0, 120.0, 60.0]) + noise


def network_flops(spec: dict, *, window: int, n_steps: int) -> float:
    """Floating-point operations (2 per multiply–add) of one member on one cut of
    ``n_steps + 1`` samples: each Conv1D layer (kernel k, valid) over the padded sequence of
    L = n_steps + window samples, each GRU layer's input projection x W over the rows it sees,
    and the recurrences h U of every window (``width - 1`` steps each, the first h = 0 is
    skipped: :meth:`surrogates.ihcp.models.GRU.restarted`), the head ignored."""
    k = int(spec.get("kernel_size", 4))
    length, width, c_in = n_steps + window, window, int(spec["n_features"])
    flops = 0.0
    for c_out in spec["filters"]:
        length, width = length - (k - 1), width - (k - 1)
        flops += 2.0 * length * k * c_in * c_out
        c_in = c_out
    n_windows = length - width + 1
    rows = length  # the first layer projects the whole sequence, later ones every window step
    for u in spec["units"]:
        flops += 2.0 * rows * c_in * 3 * u + 2.0 * n_windows * (width - 1) * u * 3 * u
        rows, c_in = n_windows * width, u
    return flops


def interleaved(calls: dict[str, object], repeats: int) -> dict[str, dict[str, float]]:
    """Median wall and process-CPU ms per call of each callable, round-robin after warm-up."""
    for fn in calls.values():
        fn()
        fn()
    wall: dict[str, list[float]] = {k: [] for k in calls}
    cpu: dict[str, list[float]] = {k: [] for k in calls}
    for _ in range(repeats):
        for key, fn in calls.items():
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            wall[key].append(time.perf_counter() - t0)
            cpu[key].append(time.process_time() - c0)
    return {
        k: {
            "median_ms": 1e3 * float(np.median(wall[k])),
            "min_ms": 1e3 * float(np.min(wall[k])),
            "cpu_median_ms": 1e3 * float(np.median(cpu[k])),
        }
        for k in calls
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ensemble")
    parser.add_argument("--repeats", type=int, default=50, help="timed calls per row")
    parser.add_argument(
        "--weights", type=Path, default=None, help="neural weights folder (default: shipped)"
    )
    parser.add_argument("--out", type=Path, default=None, help="also write the timings as JSON")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")

    import jax
    import jax.numpy as jnp

    from surrogates.ihcp.estimator import WINDOW_CHUNKS, build_member, shipped
    from surrogates.ihcp.windows import N_PARAMS, pad_start

    ensemble = shipped("student", directory=args.weights)
    single = replace(ensemble, members=ensemble.members[:1])
    k = len(ensemble.members)
    small_spec = dict(ensemble.spec) | {"filters": [148], "units": [32]}
    small = replace(
        ensemble,
        members=[build_member(small_spec, seed=i) for i in range(k)],
        spec=small_spec,
    )  # untrained: latency only
    t, measured = cut()

    p = np.array([CONDITION[key] for key in ("n_rpm", "fz_mm", "ae_mm")])
    feats = np.concatenate([np.broadcast_to(p, (N_T, N_PARAMS)), measured], axis=1)
    seq = jnp.asarray(pad_start(ensemble.x_scaler.transform(feats), window=ensemble.window),
                      dtype=jnp.float32)  # fmt: skip

    def block(fn):
        return lambda: jax.block_until_ready(fn())

    calls = {
        f"estimate, {k} members vmapped": lambda: ensemble.estimate(t, measured, CONDITION),
        f"estimate, {k} members loop": lambda: ensemble.estimate(
            t, measured, CONDITION, batched=False
        ),
        "estimate, 1 member": lambda: single.estimate(t, measured, CONDITION),
        f"network, {k} members vmapped": block(lambda: ensemble._apply(seq)),
        f"network, {k} members loop": block(lambda: ensemble.apply_members(seq)),
        "network, 1 member": block(lambda: single._apply(seq)),
        f"network, {k} members 148x32": block(lambda: small._apply(seq)),
    }
    for chunks in (1, 2):  # window groups as independent chains (same numbers)
        if chunks != WINDOW_CHUNKS:
            fn = ensemble.batched_apply(chunks)
            calls[f"network, {k} vmapped, {chunks} chunk(s)"] = block(lambda fn=fn: fn(seq))
    agree = float(
        np.max(
            np.abs(
                ensemble.predict_members(t, measured, CONDITION)
                - ensemble.predict_members(t, measured, CONDITION, batched=False)
            )
        )
    )
    rows = interleaved(calls, args.repeats)

    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    setup = {
        "jax": jax.__version__,
        "backend": jax.default_backend(),
        "cpu": platform.processor() or platform.machine(),
        "cores_usable": affinity,
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "members": k,
        "window": ensemble.window,
        "steps": N_T - 1,
        "repeats": args.repeats,
    }
    print(
        f"neural inverse latency per 12 s cut ({N_T - 1} steps at dt {DT} s, window "
        f"{ensemble.window}); JAX {setup['jax']} on {setup['backend']}, intra-op threads: "
        f"{affinity} (one per usable core), XLA_FLAGS={setup['xla_flags'] or '(defaults)'}; "
        f"median of {args.repeats} calls after 2 warm-up calls"
    )
    print(f"{'row':38s} {'median ms':>10s} {'min ms':>8s} {'CPU ms':>8s}")
    for key, r in rows.items():
        print(f"{key:38s} {r['median_ms']:10.2f} {r['min_ms']:8.2f} {r['cpu_median_ms']:8.2f}")
    loop, vm = rows[f"estimate, {k} members loop"], rows[f"estimate, {k} members vmapped"]
    one = rows["estimate, 1 member"]
    print(
        f"vmapped vs loop: {loop['median_ms'] / vm['median_ms']:.2f}x faster; {k} members cost "
        f"{vm['median_ms'] / one['median_ms']:.2f}x one member; max |vmapped - loop| "
        f"{agree:.2e} K"
    )
    flops = {
        name: k * network_flops(e.spec, window=ensemble.window, n_steps=N_T - 1)
        for name, e in (("shipped", ensemble), ("148x32", small))
    }
    rate = flops["shipped"] / (rows[f"network, {k} members vmapped"]["median_ms"] * 1e-3)
    print(
        f"work per call: {k} members {ensemble.spec['filters']}x{ensemble.spec['units']} "
        f"{flops['shipped'] / 1e9:.2f} GFLOP (vmapped network: {rate / 1e9:.0f} GFLOP/s); "
        f"{k} members 148x32 {flops['148x32'] / 1e9:.2f} GFLOP"
    )
    if args.out is not None:
        atomic_write_json(
            args.out,
            {"setup": setup, "rows": rows, "max_abs_diff_K": agree, "flops": flops},
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Training throughput and inference latency of the IHCP teacher (CNN-GRU, Table 1) and the
student (Table 4) on every JAX backend present (CPU, and GPU when JAX sees one).

For each model and device it trains on random windows of shape (n, w, 7) with
:func:`surrogates.training.fit` (jitted Adam step, Python epoch loop, batch 50 as in Table 2) and
reports

* ``seconds_per_epoch`` — mean wall time of an epoch after the first (compile excluded),
* ``step_ms`` and ``samples_per_s`` — per training step of ``batch`` windows,
* ``compile_s`` — wall time of ``fit`` minus ``epochs · seconds_per_epoch`` (compile + first-epoch
  overhead),
* ``latency_ms_per_window`` — median jitted forward time of one window (batch 1),
  ``latency_ms_run`` — one 12 s run of ``--run-windows`` windows in one batch, and
  ``latency_ms_predict_api`` — one window through :func:`surrogates.training.predict`, which
  adds the Python cost of splitting the model on every call.

Random inputs suffice: cost does not depend on the values. Usage::

    python -m benchmarks.training_throughput --quick
    python -m benchmarks.training_throughput --out results/bench --epochs 5
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from surrogates.ihcp.models import DEFAULT_WINDOW, make_model
from surrogates.ihcp.windows import N_FEATURES
from surrogates.training import TrainConfig, count_parameters, fit, predict


def _devices() -> list[jax.Device]:
    devs = list(jax.devices("cpu")[:1])
    try:
        devs += jax.devices("gpu")[:1]
    except RuntimeError:
        pass
    return devs


def _median_ms(fn: Callable[[], jax.Array], repeats: int) -> float:
    fn()  # warm (compile)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


def benchmark_model(
    name: str,
    *,
    device: jax.Device,
    n_train: int,
    batch: int,
    epochs: int,
    window: int,
    run_windows: int,
    seed: int,
    progress: bool,
) -> dict[str, float | int | str]:
    """Timings of model ``name`` ('teacher' or 'student') on ``device`` (keys in module doc)."""
    rng = np.random.default_rng(seed)
    with jax.default_device(device):
        x = jnp.asarray(rng.uniform(-1, 1, (n_train, window, N_FEATURES)), jnp.float32)
        y = jnp.asarray(rng.uniform(-1, 1, n_train), jnp.float32)
        model = make_model(name, seed=seed, window=window)
        cfg = TrainConfig(epochs=epochs, batch_size=batch, seed=seed, progress=progress)
        t0 = time.perf_counter()
        res = fit(model, (x, y), config=cfg)
        total = time.perf_counter() - t0
        steps = n_train // batch
        one = x[:1]
        run = x[:run_windows]
        graphdef, state = nnx.split(nnx.view(model, deterministic=True))
        apply = jax.jit(lambda st, xb: nnx.merge(graphdef, st)(xb))
        return {
            "model": name,
            "device": str(device.platform),
            "params": count_parameters(model),
            "seconds_per_epoch": res.seconds_per_epoch,
            "step_ms": 1e3 * res.seconds_per_epoch / steps,
            "samples_per_s": steps * batch / res.seconds_per_epoch,
            "compile_s": max(0.0, total - epochs * res.seconds_per_epoch),
            "latency_ms_per_window": _median_ms(lambda: apply(state, one), 50),
            "latency_ms_run": _median_ms(lambda: apply(state, run), 20),
            "latency_ms_predict_api": _median_ms(lambda: predict(model, one), 20),
        }


def _write_json_atomic(path: Path, payload: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w") as fh:
        json.dump(payload, fh, indent=2)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> list[dict]:
    """Command-line entry point; returns the result rows."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, help="folder for throughput.json (default: print only)")
    ap.add_argument("--seed", type=int, default=0, help="seed of data and parameters")
    ap.add_argument("--quick", action="store_true", help="small set and 3 epochs (~1 min)")
    ap.add_argument("--n-train", type=int, default=5000, help="training windows")
    ap.add_argument("--batch", type=int, default=50, help="batch size (Table 2: 50)")
    ap.add_argument("--epochs", type=int, default=4, help="epochs (first one is compile)")
    ap.add_argument("--window", type=int, default=DEFAULT_WINDOW, help="window length (steps)")
    ap.add_argument("--run-windows", type=int, default=120, help="windows in one 12 s run")
    args = ap.parse_args(argv)
    if args.quick:
        args.n_train, args.epochs = 1000, 3
    rows = []
    for device in _devices():
        for name in ("teacher", "student"):
            row = benchmark_model(
                name,
                device=device,
                n_train=args.n_train,
                batch=args.batch,
                epochs=args.epochs,
                window=args.window,
                run_windows=args.run_windows,
                seed=args.seed,
                progress=True,
            )
            rows.append(row)
            print(
                f"{row['device']:4s} {name:8s} params={row['params']:7d} "
                f"epoch={row['seconds_per_epoch']:.3f}s step={row['step_ms']:.2f}ms "
                f"samples/s={row['samples_per_s']:.0f} compile={row['compile_s']:.1f}s "
                f"latency/window={row['latency_ms_per_window']:.3f}ms "
                f"latency/run={row['latency_ms_run']:.3f}ms "
                f"predict()/window={row['latency_ms_predict_api']:.3f}ms",
                flush=True,
            )
    if args.out is not None:
        _write_json_atomic(
            args.out / "throughput.json",
            {"args": vars(args) | {"out": str(args.out)}, "rows": rows},
        )
    return rows


if __name__ == "__main__":
    main()

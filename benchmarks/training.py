r"""Training benchmark of the IHCP teacher (CNN-GRU, paper 000 Table 1) and student (Table 4)
(issue 4): step and epoch times, compile time and inference latency on every JAX backend present
(CPU, and GPU when JAX sees one), with the teacher and student set beside the same architectures
in PyTorch eager on the same CPU.

**JAX, as the project trains.** For each model and device it trains on random windows of shape
(n, w, 7) with :func:`surrogates.training.fit` (jitted Adam step, Python epoch loop, batch 50 as
in Table 2) and reports

* ``seconds_per_epoch`` — mean wall time of an epoch after the first (compile excluded),
* ``step_ms`` and ``samples_per_s`` — ``seconds_per_epoch`` / steps per epoch (includes the
  gather of each batch and Python dispatch; steps are dispatched asynchronously),
* ``compile_s`` — wall time of ``fit`` minus ``epochs · seconds_per_epoch`` (compile + first-epoch
  overhead),
* ``latency_ms_per_window`` — median jitted forward time of one window (batch 1),
  ``latency_ms_run`` — one 12 s run of ``--run-windows`` windows in one batch, and
  ``latency_ms_predict_api`` — one window through :func:`surrogates.training.predict`, which
  adds the Python cost of splitting the model on every call.

The student's training-time reduction :math:`1 - t_\text{epoch}^\text{student} /
t_\text{epoch}^\text{teacher}` is printed per device (issue 4's goal: ≥ 45 %, at R² loss ≤ 0.01,
which comes from the distillation study, not from here).

**JAX vs PyTorch eager, side by side (CPU).** Both sides time one training step by the same
protocol: a step on a fixed batch of 50 windows (Adam lr 1e-3, MSE, float32), ``--warmup``
untimed steps, then the median of ``--steps`` steps, each waited for (``block_until_ready`` in
JAX; eager CPU ops in PyTorch are synchronous). JAX's step is the jitted step of ``fit`` (one
compiled XLA program for forward, gradient and Adam update); PyTorch runs op by op (eager,
``nn.Conv1d`` + ``nn.GRU`` on oneDNN/MKL kernels, no ``torch.compile``). So the comparison is
"what each framework gives by default": XLA fusion + compile cost once vs no compile and per-op
dispatch. Speed-up = PyTorch step / JAX step; issue 4's goal is ≥ 1.5 for the teacher.
The PyTorch side is ``benchmarks/torch_reference.py``, which imports nothing from millheat and
runs in a subprocess under ``--torch-python`` (torch is not a millheat dependency). Both get
the same number of CPU threads: XLA's CPU client sizes its pool to the cores visible to the
process (``len(os.sched_getaffinity(0))``, 2 on the project machine) or uses one thread under
``XLA_FLAGS=--xla_cpu_multi_thread_eigen=false`` (:func:`jax_cpu_threads`), and PyTorch gets
``torch.set_num_threads(--threads)``, default that same number.

Random inputs suffice: cost does not depend on the values. Figures move with the machine's load,
and PyTorch's multi-threaded (OpenMP) kernels suffer most when other processes hold the cores:
their threads wait at barriers for a thread that is descheduled. On a shared machine compare
single-threaded (``XLA_FLAGS=--xla_cpu_multi_thread_eigen=false ... --threads 1``) or measure
on an idle machine. Usage::

    python -m benchmarks.training --quick
    python -m benchmarks.training --torch-python /tmp/torchvenv/bin/python --out results/bench

(a Python with torch: ``python3.11 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install
torch==2.13.0 numpy`` — pin a CPU wheel; a plain ``torch`` may pull a multi-GB CUDA build).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from surrogates.ihcp.models import DEFAULT_WINDOW, make_model
from surrogates.ihcp.windows import N_FEATURES
from surrogates.training import TrainConfig, count_parameters, fit, mse_loss, predict
from thermo.atomic import atomic_write_json

MODELS = ("teacher", "student")
TORCH_SCRIPT = Path(__file__).with_name("torch_reference.py")
#: issue 4's goals
GOAL_STUDENT_REDUCTION = 0.45
GOAL_TEACHER_SPEEDUP = 1.5
HOW_TO_GET_TORCH = (
    "pass --torch-python PATH, an interpreter with torch, e.g. "
    "`python3.11 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch==2.13.0 numpy` "
    "then --torch-python /tmp/torchvenv/bin/python"
)


def _devices() -> list[jax.Device]:
    devs = list(jax.devices("cpu")[:1])
    try:
        devs += jax.devices("gpu")[:1]
    except RuntimeError:
        pass
    return devs


def _median_ms(fn: Callable[[], jax.Array], repeats: int, *, warmup: int = 1) -> float:
    for _ in range(warmup):
        jax.block_until_ready(fn())  # the first call compiles
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


def _random_windows(rng: np.random.Generator, n: int, window: int) -> tuple[jax.Array, jax.Array]:
    x = jnp.asarray(rng.uniform(-1, 1, (n, window, N_FEATURES)), jnp.float32)
    y = jnp.asarray(rng.uniform(-1, 1, n), jnp.float32)
    return x, y


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
    """Timings of model ``name`` ('teacher' or 'student') trained by ``fit`` on ``device``."""
    with jax.default_device(device):
        x, y = _random_windows(np.random.default_rng(seed), n_train, window)
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


def jax_step_ms(
    name: str, *, batch: int, window: int, steps: int, warmup: int, seed: int
) -> dict[str, float | int | str]:
    """Median jitted Adam/MSE training step of ``name`` on CPU, timed as the PyTorch side.

    The step is the one :func:`surrogates.training.fit` compiles: ``value_and_grad`` of the
    MSE through ``nnx.merge`` and an Optax Adam update (lr 1e-3), all under one ``jax.jit``.
    """
    cpu = jax.devices("cpu")[0]
    with jax.default_device(cpu):
        x, y = _random_windows(np.random.default_rng(seed), batch, window)
        model = make_model(name, seed=seed, window=window)
        tx = optax.adam(1e-3)
        graphdef, params, rest = nnx.split(
            nnx.view(model, deterministic=False, raise_if_not_found=False), nnx.Param, ...
        )
        opt_state = tx.init(params)

        @jax.jit
        def train_step(params, rest, opt_state, xb, yb):  # as in fit
            def objective(p, r):
                m = nnx.merge(graphdef, p, r, copy=True)
                return mse_loss(m(xb), yb), nnx.state(m, nnx.Not(nnx.Param))

            (loss, rest), grads = jax.value_and_grad(objective, has_aux=True)(params, rest)
            updates, opt_state = tx.update(grads, opt_state, params)
            return optax.apply_updates(params, updates), rest, opt_state, loss

        carry = [params, rest, opt_state]

        def step() -> jax.Array:
            *carry[:], loss = train_step(*carry, x, y)  # new params, rest, opt state
            return loss

        t0 = time.perf_counter()
        jax.block_until_ready(step())
        compile_s = time.perf_counter() - t0
        return {
            "model": name,
            "params": count_parameters(model),
            "step_ms": _median_ms(step, steps, warmup=warmup),
            "step_compile_s": compile_s,
        }


def jax_cpu_threads() -> int:
    """Intra-op threads of JAX's CPU client: 1 if ``XLA_FLAGS`` turns off multi-threaded Eigen,
    else the cores visible to this process (the default size of XLA's CPU thread pool)."""
    if "--xla_cpu_multi_thread_eigen=false" in os.environ.get("XLA_FLAGS", ""):
        return 1
    return len(os.sched_getaffinity(0))


def _torch_in_this_interpreter() -> bool:
    return importlib.util.find_spec("torch") is not None


def resolve_torch_python(torch_python: str | None) -> str | None:
    """Interpreter for the PyTorch side: ``torch_python``, else this one if it has torch."""
    if torch_python is not None:
        if not Path(torch_python).exists():
            raise FileNotFoundError(f"--torch-python {torch_python}: no such file")
        return torch_python
    return sys.executable if _torch_in_this_interpreter() else None


def run_torch_reference(
    python: str,
    *,
    models: list[str] | tuple[str, ...] = MODELS,
    threads: int,
    batch: int,
    window: int,
    steps: int,
    warmup: int,
    run_windows: int,
    seed: int,
    timeout_s: float = 1800.0,
) -> dict:
    """Run ``torch_reference.py`` under ``python`` and return its JSON result."""
    cmd = [python, str(TORCH_SCRIPT), "--threads", str(threads), "--batch", str(batch)]
    cmd += ["--window", str(window), "--steps", str(steps), "--warmup", str(warmup)]
    cmd += ["--run-windows", str(run_windows), "--seed", str(seed), "--models", *models]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    if proc.returncode != 0:
        raise RuntimeError(
            f"torch reference failed (exit {proc.returncode}): {' '.join(cmd)}\n"
            f"{proc.stderr[-2000:]}"
        )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def comparison_table(jax_rows: list[dict], torch_result: dict | None) -> list[dict]:
    """Rows ``{model, params_jax, params_torch, jax_step_ms, torch_step_ms, speedup}``."""
    torch_rows = {r["model"]: r for r in (torch_result or {}).get("rows", [])}
    table = []
    for row in jax_rows:
        t = torch_rows.get(row["model"])
        if t is not None and t["params"] != row["params"]:
            raise AssertionError(
                f"{row['model']}: PyTorch has {t['params']} parameters, JAX {row['params']}"
            )
        table.append(
            {
                "model": row["model"],
                "params_jax": row["params"],
                "params_torch": None if t is None else t["params"],
                "jax_step_ms": row["step_ms"],
                "torch_step_ms": None if t is None else t["step_ms"],
                "speedup": None if t is None else t["step_ms"] / row["step_ms"],
            }
        )
    return table


def format_table(table: list[dict], *, threads: int, torch_note: str) -> str:
    """Markdown table: model | params | JAX step ms | PyTorch eager step ms | speed-up."""

    def f(v: float | None, fmt: str) -> str:
        return "skipped" if v is None else format(v, fmt)

    lines = [
        f"CPU training step, batch 50, median, {threads} threads ({torch_note})",
        "| model | params JAX / PyTorch | JAX step ms | PyTorch eager step ms | speed-up |",
        "|---|---|---|---|---|",
    ]
    for r in table:
        lines.append(
            f"| {r['model']} | {r['params_jax']} / {f(r['params_torch'], 'd')} "
            f"| {r['jax_step_ms']:.2f} | {f(r['torch_step_ms'], '.2f')} "
            f"| {f(r['speedup'], '.2f')}{'' if r['speedup'] is None else 'x'} |"
        )
    return "\n".join(lines)


def student_reduction(rows: list[dict]) -> dict[str, float]:
    """Per device: 1 - student epoch time / teacher epoch time."""
    by = {(r["device"], r["model"]): r["seconds_per_epoch"] for r in rows}
    return {
        dev: 1.0 - by[(dev, "student")] / by[(dev, "teacher")]
        for dev in {d for d, _ in by}
        if (dev, "student") in by and (dev, "teacher") in by
    }


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, help="folder for training.json (default: print only)")
    ap.add_argument("--seed", type=int, default=0, help="seed of data and parameters")
    ap.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    ap.add_argument("--quick", action="store_true", help="small set, 3 epochs, 20 steps")
    ap.add_argument("--n-train", type=int, default=5000, help="training windows")
    ap.add_argument("--batch", type=int, default=50, help="batch size (Table 2: 50)")
    ap.add_argument("--epochs", type=int, default=4, help="epochs (first one is compile)")
    ap.add_argument("--window", type=int, default=DEFAULT_WINDOW, help="window length (steps)")
    ap.add_argument("--run-windows", type=int, default=120, help="windows in one 12 s run")
    ap.add_argument("--steps", type=int, default=200, help="timed steps, side-by-side")
    ap.add_argument("--warmup", type=int, default=20, help="untimed steps first, side-by-side")
    ap.add_argument(
        "--threads",
        type=int,
        default=jax_cpu_threads(),
        help="PyTorch threads (default: as many as JAX's CPU client uses, see jax_cpu_threads)",
    )
    ap.add_argument(
        "--torch-python",
        help="Python with torch for the PyTorch-eager side (default: this one if it has torch)",
    )
    args = ap.parse_args(argv)
    if args.quick:
        args.n_train, args.epochs, args.steps, args.warmup = 1000, 3, 20, 3
    for key in ("n_train", "batch", "epochs", "steps", "threads", "run_windows"):
        if getattr(args, key) < 1:
            ap.error(f"--{key.replace('_', '-')} must be >= 1")
    if args.n_train < args.batch:
        ap.error(f"--n-train {args.n_train} is smaller than --batch {args.batch}")
    return args


def main(argv: list[str] | None = None) -> dict:
    """Command-line entry point; returns ``{"rows", "side_by_side", "torch", ...}``."""
    args = _parse_args(argv)
    rows = []
    for device in _devices():
        for name in args.models:
            row = benchmark_model(
                name,
                device=device,
                n_train=args.n_train,
                batch=args.batch,
                epochs=args.epochs,
                window=args.window,
                run_windows=args.run_windows,
                seed=args.seed,
                progress=False,
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
    reduction = student_reduction(rows)
    for dev, red in sorted(reduction.items()):
        ok = "met" if red >= GOAL_STUDENT_REDUCTION else "not met"
        print(
            f"{dev}: student epoch time {100 * red:.1f} % below the teacher's "
            f"(goal >= {100 * GOAL_STUDENT_REDUCTION:.0f} %: {ok})",
            flush=True,
        )

    step_kw = dict(batch=args.batch, window=args.window, seed=args.seed)
    jax_rows = [
        jax_step_ms(name, steps=args.steps, warmup=args.warmup, **step_kw) for name in args.models
    ]
    python = resolve_torch_python(args.torch_python)
    torch_result = None
    if python is None:
        print(f"PyTorch row skipped: no torch in {sys.executable}; {HOW_TO_GET_TORCH}", flush=True)
        note = "PyTorch skipped"
    else:
        torch_result = run_torch_reference(
            python,
            models=args.models,
            threads=args.threads,
            steps=args.steps,
            warmup=args.warmup,
            run_windows=args.run_windows,
            **step_kw,
        )
        note = f"JAX {jax.__version__} jit vs torch {torch_result['torch']} eager"
    table = comparison_table(jax_rows, torch_result)
    print(format_table(table, threads=args.threads, torch_note=note), flush=True)
    teacher = next((r for r in table if r["model"] == "teacher"), {"speedup": None})
    if teacher["speedup"] is not None:
        ok = "met" if teacher["speedup"] >= GOAL_TEACHER_SPEEDUP else "not met"
        print(f"teacher JAX vs PyTorch eager: {teacher['speedup']:.2f}x (goal >= 1.5x: {ok})")
    result = {
        "args": vars(args) | {"out": None if args.out is None else str(args.out)},
        "rows": rows,
        "student_reduction": reduction,
        "jax_steps": jax_rows,
        "torch": torch_result,
        "side_by_side": table,
    }
    if args.out is not None:
        atomic_write_json(args.out / "training.json", result)
    return result


if __name__ == "__main__":
    main()

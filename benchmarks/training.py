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

**JAX vs PyTorch eager and ``torch.compile``, side by side (issue 18).** Both sides time one
training step by the same protocol: Adam (lr 1e-3), MSE, float32, on the same fixed batch of
``--batch`` windows of ``--window`` steps (:func:`step_batch`) and from the same initial weights
(the JAX model's, converted by :func:`torch_state_from_jax`); the first step is timed alone
(``first_step_s``: compile + one step), ``--warmup - 1`` more are discarded, then the median of
``--steps`` steps, each waited for (``block_until_ready`` in JAX; CPU ops in PyTorch are
synchronous, CUDA is synchronised). JAX's step is the jitted step of ``fit`` (one XLA program for
forward, gradient and Adam update). PyTorch runs in the modes ``--torch-modes`` (see
``benchmarks/torch_reference.py``): ``eager`` (op by op on oneDNN/MKL kernels), ``compile``
(``torch.compile(model)``, defaults: Dynamo leaves ``nn.GRU`` out of the graph, optimizer eager)
and ``compile-full`` (GRU traced with ``allow_rnn=True`` and the Adam step compiled too, the
closest peer of one jitted program). Each (model, mode) runs in a fresh process with a fresh
Inductor cache folder, so compile times are cold and no compile reuses another's kernels.
Speed-up = PyTorch step / JAX step; issue 18's goal is ≥ 1.5 for the teacher against the fastest
``torch.compile`` mode. Before timing, the PyTorch forward of the batch on the JAX weights must
equal the JAX forward within :data:`FORWARD_ATOL` (same parameter count and same function, not
only the same shapes), and each compiled forward must equal the eager one.

The PyTorch side is ``benchmarks/torch_reference.py``, which imports nothing from millheat and
runs in a subprocess under ``--torch-python`` (torch is not a millheat dependency). Both get
the same number of CPU threads: XLA's CPU client sizes its pool to the cores visible to the
process (``len(os.sched_getaffinity(0))``, 2 on the project machine) or uses one thread under
``XLA_FLAGS=--xla_cpu_multi_thread_eigen=false`` (:func:`jax_cpu_threads`), and PyTorch gets
``torch.set_num_threads(--threads)`` (intra-op pool, also used by Inductor's OpenMP kernels),
default that same number; the table's title states ``XLA_FLAGS`` and both thread counts. Where
JAX sees a GPU, the same table is made on it with PyTorch on CUDA (the title names the device).

Random inputs suffice: cost does not depend on the values. Figures move with the machine's load,
and PyTorch's multi-threaded (OpenMP) kernels suffer most when other processes hold the cores:
their threads wait at barriers for a thread that is descheduled. On a shared machine compare
single-threaded (``XLA_FLAGS=--xla_cpu_multi_thread_eigen=false ... --threads 1``) or measure
on an idle machine. A cold ``compile-full`` of the teacher takes minutes on 2 cores. Usage::

    python -m benchmarks.training --quick
    python -m benchmarks.training --torch-python /tmp/torchvenv/bin/python --out results/bench
    python -m benchmarks.training --steps-only --torch-python /tmp/torchvenv/bin/python

A Python with torch (Inductor also needs ``g++``): ``python3.12 -m venv /tmp/torchvenv &&
/tmp/torchvenv/bin/pip install torch numpy`` (the registry's Linux wheel, CUDA build, ~5 GB
installed, runs on CPU too), or the CPU wheel for Python 3.11 where one is at hand
(``python3.11 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch==2.13.0 numpy``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
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
#: PyTorch modes of torch_reference.py: eager, torch.compile defaults, compile with the GRU and
#: the Adam step in the graph
TORCH_MODES = ("eager", "compile", "compile-full")
TORCH_SCRIPT = Path(__file__).with_name("torch_reference.py")
#: issue 4's goals
GOAL_STUDENT_REDUCTION = 0.45
GOAL_TEACHER_SPEEDUP = 1.5
HOW_TO_GET_TORCH = (
    "pass --torch-python PATH, an interpreter with torch, e.g. "
    "`python3.12 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch numpy` "
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


def step_batch(*, batch: int, window: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The one fixed batch (x (batch, window, F), y (batch,)) both frameworks' steps train on."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (batch, window, N_FEATURES)).astype(np.float32)
    return x, rng.uniform(-1, 1, batch).astype(np.float32)


def jax_step_ms(
    name: str,
    *,
    batch: int,
    window: int,
    steps: int,
    warmup: int,
    seed: int,
    device: jax.Device | None = None,
) -> dict[str, float | int | str]:
    """Median jitted Adam/MSE training step of ``name`` (on CPU by default), timed as the
    PyTorch side: ``first_step_s`` is the wall time of the first call (trace, XLA compile and
    one step), then ``warmup - 1`` untimed steps and the median of ``steps``.

    The step is the one :func:`surrogates.training.fit` compiles: ``value_and_grad`` of the
    MSE through ``nnx.merge`` and an Optax Adam update (lr 1e-3), all under one ``jax.jit``,
    on the fixed batch :func:`step_batch`.
    """
    device = jax.devices("cpu")[0] if device is None else device
    with jax.default_device(device):
        xb_np, yb_np = step_batch(batch=batch, window=window, seed=seed)
        x, y = jnp.asarray(xb_np), jnp.asarray(yb_np)
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
        first_s = time.perf_counter() - t0
        return {
            "model": name,
            "device": str(device.platform),
            "params": count_parameters(model),
            "step_ms": _median_ms(step, steps, warmup=max(0, warmup - 1)),
            "first_step_s": first_s,
        }


def torch_state_from_jax(model: nnx.Module) -> dict[str, np.ndarray]:
    r"""The weights of a JAX :class:`~surrogates.ihcp.models.ConvRecurrent` (GRU cell) as a
    PyTorch ``state_dict`` of ``torch_reference.ConvGRU`` (names, layouts, gate order).

    * ``Conv1D.kernel`` (k, c_in, c_out) -> ``convs.i.weight`` (c_out, c_in, k): both are
      cross-correlations, :math:`y_{t,o} = b_o + \sum_{j,c} x_{t+j,c} W_{j,c,o}`;
    * GRU ``kernel`` (in, 3u) / ``recurrent_kernel`` (u, 3u), gates (z, r, n) ->
      ``gru.weight_ih_l{i}`` (3u, in) / ``gru.weight_hh_l{i}`` (3u, u), PyTorch's gate order
      (r, z, n); ``bias[0]``/``bias[1]`` -> ``bias_ih``/``bias_hh`` reordered alike (both cells
      are the reset-after cell, ``h' = z h + (1 - z) n``);
    * ``head.kernel`` (u, 1) -> ``head.weight`` (1, u), ``head.bias`` as is.
    """

    def arr(p: nnx.Param) -> np.ndarray:
        return np.asarray(p[...], np.float32)

    state: dict[str, np.ndarray] = {}
    for i, conv in enumerate(model.convs):
        state[f"convs.{i}.weight"] = arr(conv.kernel).transpose(2, 1, 0)
        state[f"convs.{i}.bias"] = arr(conv.bias)
    for i, rnn in enumerate(model.rnns):
        u = rnn.units
        order = np.r_[u : 2 * u, 0:u, 2 * u : 3 * u]  # (z, r, n) -> (r, z, n)
        state[f"gru.weight_ih_l{i}"] = arr(rnn.kernel)[:, order].T
        state[f"gru.weight_hh_l{i}"] = arr(rnn.recurrent_kernel)[:, order].T
        bias = arr(rnn.bias)[:, order]
        state[f"gru.bias_ih_l{i}"], state[f"gru.bias_hh_l{i}"] = bias[0], bias[1]
    state["head.weight"] = arr(model.head.kernel).T
    state["head.bias"] = arr(model.head.bias)
    return {k: np.ascontiguousarray(v) for k, v in state.items()}


def torch_inputs(
    models: list[str] | tuple[str, ...], *, batch: int, window: int, seed: int
) -> tuple[dict, dict[str, np.ndarray]]:
    """(JSON for ``torch_reference.py --inputs``, JAX forward of the batch per model).

    The JSON holds the step batch (:func:`step_batch`) and each model's initial JAX weights in
    PyTorch layout (:func:`torch_state_from_jax`); float32 values go through JSON exactly.
    """
    x, y = step_batch(batch=batch, window=window, seed=seed)
    payload: dict = {"x_shape": list(x.shape), "x": x.ravel().tolist(), "y": y.tolist()}
    payload["models"], outputs = {}, {}
    for name in models:
        model = make_model(name, seed=seed, window=window)
        payload["models"][name] = {
            k: {"shape": list(v.shape), "data": v.ravel().tolist()}
            for k, v in torch_state_from_jax(model).items()
        }
        view = nnx.view(model, deterministic=True, raise_if_not_found=False)
        outputs[name] = np.asarray(view(jnp.asarray(x)), np.float64)
    return payload, outputs


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
    modes: list[str] | tuple[str, ...] = ("eager",),
    threads: int,
    batch: int,
    window: int,
    steps: int,
    warmup: int,
    run_windows: int,
    seed: int,
    device: str = "cpu",
    inputs: Path | None = None,
    timeout_s: float = 1800.0,
) -> dict:
    """Run ``torch_reference.py`` under ``python``, one process per (model, mode) so that no
    compile reuses another's kernels; return its JSON with the rows of all processes."""
    result: dict = {}
    rows = []
    for name in models:
        for mode in modes:
            cmd = [python, str(TORCH_SCRIPT), "--threads", str(threads), "--batch", str(batch)]
            cmd += ["--window", str(window), "--steps", str(steps), "--warmup", str(warmup)]
            cmd += ["--run-windows", str(run_windows), "--seed", str(seed), "--device", device]
            cmd += ["--models", name, "--modes", mode]
            cmd += [] if inputs is None else ["--inputs", str(inputs)]
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=timeout_s, check=False
            )
            if proc.returncode != 0:
                raise RuntimeError(
                    f"torch reference failed (exit {proc.returncode}): {' '.join(cmd)}\n"
                    f"{proc.stderr[-2000:]}"
                )
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            rows += result["rows"]
    return result | {"rows": rows, "modes": list(modes)}


#: |PyTorch forward - JAX forward| allowed on the same weights and batch (float32 outputs of
#: order 0.1-1; a wrong layout or gate order gives errors of order 0.1)
FORWARD_ATOL = 1e-4


def comparison_table(
    jax_rows: list[dict],
    torch_result: dict | None,
    jax_outputs: dict[str, np.ndarray] | None = None,
    *,
    modes: list[str] | tuple[str, ...] | None = None,
) -> list[dict]:
    """One row per (model, framework, mode): ``{model, framework, mode, params, first_step_s,
    step_ms, speedup, forward_max_abs}``, the JAX row first; ``speedup`` = step / JAX step.

    Checks each PyTorch row against JAX: the same parameter count and, where the row carries
    ``y_init`` (weights from JAX), the same forward within :data:`FORWARD_ATOL`.
    """
    torch_rows = (torch_result or {}).get("rows", [])
    if modes is None:
        modes = (torch_result or {}).get("modes", ["eager"])
    version = (torch_result or {}).get("torch", "")
    table = []
    for row in jax_rows:
        name = row["model"]
        table.append(
            {
                "model": name,
                "framework": f"JAX {jax.__version__}",
                "mode": "jit",
                "params": row["params"],
                "first_step_s": row["first_step_s"],
                "step_ms": row["step_ms"],
                "speedup": 1.0,
                "forward_max_abs": None,
            }
        )
        for mode in modes:
            t = next((r for r in torch_rows if r["model"] == name and r["mode"] == mode), None)
            if t is not None and t["params"] != row["params"]:
                raise AssertionError(
                    f"{name}: PyTorch has {t['params']} parameters, JAX {row['params']}"
                )
            diff = None
            if t is not None and t.get("y_init") is not None and jax_outputs is not None:
                diff = float(np.max(np.abs(np.asarray(t["y_init"]) - jax_outputs[name])))
                if not diff <= FORWARD_ATOL:
                    raise AssertionError(
                        f"{name} ({mode}): PyTorch forward differs from JAX's on the same "
                        f"weights by {diff:.3g} > {FORWARD_ATOL}"
                    )
            table.append(
                {
                    "model": name,
                    "framework": f"torch {version}".strip(),
                    "mode": mode,
                    "params": None if t is None else t["params"],
                    "first_step_s": None if t is None else t["first_step_s"],
                    "step_ms": None if t is None else t["step_ms"],
                    "speedup": None if t is None else t["step_ms"] / row["step_ms"],
                    "forward_max_abs": diff,
                }
            )
    return table


def format_table(table: list[dict], *, title: str) -> str:
    """Markdown table: model | framework | mode | params | first step s | step ms | JAX speed-up.

    "first step s" is compile + one step (JAX: trace and XLA; torch.compile: Dynamo,
    AOTAutograd, Inductor and C++); "JAX speed-up" is the row's step time / JAX's.
    """

    def f(v: float | None, fmt: str) -> str:
        return "skipped" if v is None else format(v, fmt)

    lines = [
        title,
        "| model | framework | mode | params | first step s (compile) | step ms | JAX speed-up |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in table:
        lines.append(
            f"| {r['model']} | {r['framework']} | {r['mode']} | {f(r['params'], 'd')} "
            f"| {f(r['first_step_s'], '.2f')} | {f(r['step_ms'], '.2f')} "
            f"| {f(r['speedup'], '.2f')}{'' if r['speedup'] is None else 'x'} |"
        )
    return "\n".join(lines)


def best_compile_speedup(table: list[dict], model: str = "teacher") -> float | None:
    """JAX step speed-up over the fastest ``torch.compile`` mode of ``model`` (None if none)."""
    ups = [
        r["speedup"]
        for r in table
        if r["model"] == model and r["mode"].startswith("compile") and r["speedup"] is not None
    ]
    return min(ups) if ups else None


def student_reduction(rows: list[dict]) -> dict[str, float]:
    """Per device: 1 - student epoch time / teacher epoch time."""
    by = {(r["device"], r["model"]): r["seconds_per_epoch"] for r in rows}
    return {
        dev: 1.0 - by[(dev, "student")] / by[(dev, "teacher")]
        for dev in {d for d, _ in by}
        if (dev, "student") in by and (dev, "teacher") in by
    }


def side_by_side_step(
    args: argparse.Namespace, device: jax.Device, python: str | None
) -> tuple[list[dict], dict | None]:
    """JAX's step on ``device`` beside PyTorch's modes ``args.torch_modes`` (CUDA for a GPU),
    both from the same initial weights on the same batch; (table, torch result or None)."""
    step_kw = dict(batch=args.batch, window=args.window, seed=args.seed)
    jax_rows = [
        jax_step_ms(name, steps=args.steps, warmup=args.warmup, device=device, **step_kw)
        for name in args.models
    ]
    if python is None:
        return comparison_table(jax_rows, None, modes=args.torch_modes), None
    payload, jax_outputs = torch_inputs(args.models, **step_kw)
    torch_device = "cpu" if device.platform == "cpu" else "cuda"
    with tempfile.TemporaryDirectory(prefix="millheat_torch_") as tmp:
        inputs = Path(tmp) / "inputs.json"
        atomic_write_json(inputs, payload)
        try:
            torch_result = run_torch_reference(
                python,
                models=args.models,
                modes=args.torch_modes,
                threads=args.threads,
                steps=args.steps,
                warmup=args.warmup,
                run_windows=args.run_windows,
                device=torch_device,
                inputs=inputs,
                **step_kw,
            )
        except RuntimeError as err:
            if torch_device == "cpu":
                raise
            print(f"{device.platform}: PyTorch skipped ({str(err).splitlines()[-1]})")
            return comparison_table(jax_rows, None, modes=args.torch_modes), None
    return comparison_table(jax_rows, torch_result, jax_outputs), torch_result


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
        help="Python with torch for the PyTorch side (default: this one if it has torch)",
    )
    ap.add_argument(
        "--torch-modes",
        nargs="+",
        choices=TORCH_MODES,
        help="PyTorch modes beside JAX (default: all; --quick: eager compile)",
    )
    ap.add_argument(
        "--steps-only",
        action="store_true",
        help="only the side-by-side step table (skip the fit epochs and latencies)",
    )
    args = ap.parse_args(argv)
    if args.torch_modes is None:
        args.torch_modes = ["eager", "compile"] if args.quick else list(TORCH_MODES)
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
    for device in [] if args.steps_only else _devices():
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

    python = resolve_torch_python(args.torch_python)
    if python is None:
        print(f"PyTorch row skipped: no torch in {sys.executable}; {HOW_TO_GET_TORCH}", flush=True)
    side_by_side, torch_results, jax_steps = {}, {}, []
    for device in _devices():
        dev = str(device.platform)
        table, torch_result = side_by_side_step(args, device, python)
        side_by_side[dev], torch_results[dev] = table, torch_result
        jax_steps += [r for r in table if r["mode"] == "jit"]
        title = (
            f"{dev} training step, batch {args.batch}, window {args.window}, median of "
            f"{args.steps} after {args.warmup} (JAX: XLA_FLAGS="
            f"{os.environ.get('XLA_FLAGS', '')!r}, {jax_cpu_threads()} CPU threads; "
            + (
                "PyTorch skipped)"
                if torch_result is None
                else f"torch.set_num_threads({torch_result['threads']}), "
                f"{torch_result['device_name']}, Inductor cache {torch_result['inductor_cache']})"
            )
        )
        print(format_table(table, title=title), flush=True)
        for r in table:
            if r["forward_max_abs"] is not None:
                print(
                    f"{dev}: {r['model']} torch {r['mode']} forward on the JAX weights: max "
                    f"|torch - JAX| = {r['forward_max_abs']:.2g} (tolerance {FORWARD_ATOL:g})"
                )
        best = best_compile_speedup(table)
        eager = next((r for r in table if r["model"] == "teacher" and r["mode"] == "eager"), None)
        if eager is not None and eager["speedup"] is not None:
            print(f"{dev}: teacher JAX vs PyTorch eager: {eager['speedup']:.2f}x")
        if best is not None:
            ok = "met" if best >= GOAL_TEACHER_SPEEDUP else "not met"
            print(
                f"{dev}: teacher JAX vs the fastest torch.compile mode: {best:.2f}x "
                f"(goal >= {GOAL_TEACHER_SPEEDUP}x: {ok})",
                flush=True,
            )
    table = side_by_side.get("cpu", [])
    result = {
        "args": vars(args) | {"out": None if args.out is None else str(args.out)},
        "rows": rows,
        "student_reduction": reduction,
        "jax_steps": jax_steps,
        "torch": torch_results.get("cpu"),
        "torch_by_device": torch_results,
        "side_by_side": table,
        "side_by_side_by_device": side_by_side,
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "jax_cpu_threads": jax_cpu_threads(),
    }
    if args.out is not None:
        atomic_write_json(args.out / "training.json", result)
    return result


if __name__ == "__main__":
    main()

r"""PyTorch reference of the IHCP teacher (CNN-GRU, paper 000 Table 1) and student (Table 4):
eager and ``torch.compile``.

Standalone on purpose: it imports nothing from millheat, only ``torch`` and the standard library,
so it runs in any interpreter that has torch (millheat does not depend on torch).
:mod:`benchmarks.training` runs it in a subprocess and sets the JAX step time beside it.

Architecture (the same layers and parameter counts as ``surrogates/ihcp/models.py``; input
(B, w, F) with w = 20 steps, F = 7 features, output (B,)):

* ``Conv1d`` kernel k = 4, 'valid', + ReLU: :math:`k\,c_{in}c_{out} + c_{out}` parameters;
  teacher 132 then 164 filters, student 148;
* ``nn.GRU`` (``batch_first``; PyTorch's cell is Keras' ``reset_after=True`` cell,
  :math:`3(u(u+i) + 2u)` parameters per layer); teacher 2 layers of 50 units, student 1 of 90;
* ``Linear(u, 1)`` on the last hidden state.

Counts: teacher 3 828 + 86 756 + 32 400 + 15 300 + 51 = 138 335, student 4 292 + 64 800 + 91 =
69 183; :func:`build_model` asserts them. With ``--inputs FILE`` (written by
:mod:`benchmarks.training`) every model starts from the JAX model's weights, converted to
PyTorch's layout, and trains on the JAX side's batch; each row then carries ``y_init``, the eager
forward of that batch on those weights, which the caller compares with the JAX forward (same
function, not only the same parameter count).

Training: Adam (lr 1e-3, PyTorch defaults :math:`\beta=(0.9, 0.999)`, :math:`\epsilon=10^{-8}`
as Optax), mean-squared-error loss, one fixed batch of 50 windows, float32. One step is
``zero_grad`` → forward → MSE → ``backward`` → ``Adam.step``, timed with ``time.perf_counter``
(CPU ops are synchronous; on CUDA the step ends with ``torch.cuda.synchronize``). The first step
is timed alone (``first_step_s``: for the compiled modes this is Dynamo tracing, AOTAutograd
and Inductor code generation + C++ compilation of the forward and backward, and one step), the
next ``--warmup - 1`` are discarded, and the median of ``--steps`` is ``step_ms``. Modes
(``--modes``):

* ``eager`` — op by op (``nn.Conv1d`` + ``nn.GRU`` on oneDNN/MKL kernels);
* ``compile`` — ``torch.compile(model)`` with the defaults (Inductor, mode ``default``), what
  a PyTorch user writes first. Dynamo does not trace ``nn.GRU`` by default
  (``torch._dynamo.config.allow_rnn = False``): it compiles the convolutions and runs the GRU
  and the head eager after a graph break (``graphs`` counts the compiled graphs,
  ``graph_breaks`` names why Dynamo stopped); the optimizer step stays eager;
* ``compile-full`` — as much of the step compiled as torch offers: ``allow_rnn=True`` (the GRU
  unrolled into the graph) and the Adam step compiled too (``torch.compile(opt.step)``, the
  PyTorch recipe for compiled optimizers). This is the peer of JAX's one jitted program.

Compile times are cold: Inductor's on-disk caches go to a fresh folder (``--warm-cache`` keeps
the usual one). Rows after the first in one process may still reuse kernels compiled in memory
by an earlier row; :mod:`benchmarks.training` therefore runs one process per (model, mode).

For every compiled mode the row's ``compiled_vs_eager_max_abs`` is the largest difference between
the compiled and the eager forward of the batch on the trained weights (a compile must not change
the function). Random data suffice for timing: the cost does not depend on the values.

Threads: ``torch.set_num_threads(--threads)`` sets the intra-op pool, which Inductor's C++/OpenMP
kernels also use; give it the number of threads JAX's CPU client uses (all cores visible to the
process, ``len(os.sched_getaffinity(0))``, 2 on the project machine, or 1 under
``XLA_FLAGS=--xla_cpu_multi_thread_eigen=false``). Inductor needs a C++ compiler (``g++``) on
the machine. Usage (Python ≥ 3.10)::

    /path/to/python-with-torch benchmarks/torch_reference.py --threads 2 --steps 200 \
        --modes eager compile compile-full

prints one JSON object ``{"torch": version, "threads": n, "device": ..., "rows": [{"model",
"mode", "params", "first_step_s", "step_ms", "step_ms_mean", "samples_per_s", ...}, ...]}``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

import torch
import torch._dynamo
import torch._inductor.config
from torch import nn

N_FEATURES = 7
WINDOW = 20
KERNEL_SIZE = 4
#: (conv filters, GRU units) of each model, as in surrogates/ihcp/models.py.
SPECS = {
    "teacher": ((132, 164), (50, 50)),
    "student": ((148,), (90,)),
}
#: Parameter counts of the JAX/Flax models (surrogates.ihcp.models, Keras formulas).
EXPECTED_PARAMS = {"teacher": 138_335, "student": 69_183}


class ConvGRU(nn.Module):
    """Conv1d(k=4, valid)+ReLU stack -> GRU stack -> Linear(1) on the last step.

    Maps windows (B, w, F) to (B,).
    """

    def __init__(self, *, filters: tuple[int, ...], units: tuple[int, ...], n_features: int):
        super().__init__()
        widths = [n_features, *filters]
        self.convs = nn.ModuleList(
            nn.Conv1d(a, b, KERNEL_SIZE) for a, b in zip(widths, widths[1:], strict=False)
        )
        if len(set(units)) != 1:
            raise ValueError(f"ConvGRU: nn.GRU stacks need equal units per layer, got {units}")
        self.gru = nn.GRU(widths[-1], units[0], num_layers=len(units), batch_first=True)
        self.head = nn.Linear(units[0], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.transpose(1, 2)  # (B, F, w): Conv1d wants channels first
        for conv in self.convs:
            x = torch.relu(conv(x))
        hs, _ = self.gru(x.transpose(1, 2))  # (B, w - 3·n_conv, u)
        return self.head(hs[:, -1, :])[:, 0]


def count_parameters(model: nn.Module) -> int:
    """Number of trainable scalars."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def build_model(name: str, *, seed: int = 0, n_features: int = N_FEATURES) -> ConvGRU:
    """The PyTorch twin of ``surrogates.ihcp.models.make_model(name)`` (teacher or student)."""
    if name not in SPECS:
        raise ValueError(f"build_model: unknown model {name!r}; use {sorted(SPECS)}")
    torch.manual_seed(seed)
    filters, units = SPECS[name]
    model = ConvGRU(filters=filters, units=units, n_features=n_features)
    if n_features == N_FEATURES and count_parameters(model) != EXPECTED_PARAMS[name]:
        raise AssertionError(
            f"{name}: PyTorch has {count_parameters(model)} parameters, "
            f"the JAX model {EXPECTED_PARAMS[name]}"
        )
    return model


MODES = ("eager", "compile", "compile-full")


def load_state(model: nn.Module, state: dict[str, dict]) -> None:
    """Set ``model``'s weights from ``{name: {"shape": [...], "data": [flat floats]}}``.

    Names and shapes are those of ``model.state_dict()`` (PyTorch layout); all must be present.
    """
    tensors = {
        k: torch.tensor(v["data"], dtype=torch.float32).reshape(v["shape"])
        for k, v in state.items()
    }
    model.load_state_dict(tensors, strict=True)


def _batch(inputs: dict | None, name: str, *, batch: int, window: int, seed: int):
    """(x, y, state) of ``name``: from the caller's ``inputs`` or random from ``seed``."""
    if inputs is not None:
        x = torch.tensor(inputs["x"], dtype=torch.float32).reshape(inputs["x_shape"])
        y = torch.tensor(inputs["y"], dtype=torch.float32)
        return x, y, inputs["models"].get(name)
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(batch, window, N_FEATURES, generator=gen) * 2 - 1
    y = torch.rand(batch, generator=gen) * 2 - 1
    return x, y, None


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def benchmark_model(
    name: str,
    *,
    mode: str = "eager",
    batch: int,
    window: int,
    steps: int,
    warmup: int,
    run_windows: int,
    seed: int,
    inputs: dict | None = None,
    device: str = "cpu",
) -> dict[str, float | int | str | list | None]:
    """Training-step time of model ``name`` in ``mode`` (see the module docstring).

    Eager rows also carry the forward latency of one window and of ``run_windows`` windows.
    """
    if mode not in MODES:
        raise ValueError(f"benchmark_model: unknown mode {mode!r}; use {list(MODES)}")
    dev = torch.device(device)
    x, y, state = _batch(inputs, name, batch=batch, window=window, seed=seed)
    x, y = x.to(dev), y.to(dev)
    model = build_model(name, seed=seed)
    if state is not None:
        load_state(model, state)
    model.to(dev).train()
    with torch.no_grad():
        y_init = model(x).cpu().tolist() if state is not None else None
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.MSELoss()
    fwd, opt_step = model, opt.step
    patch = torch._dynamo.config.patch(allow_rnn=mode == "compile-full")
    if mode != "eager":
        torch._dynamo.reset()
        counters = torch._dynamo.utils.counters  # graphs and graph breaks of this mode
        counters.clear()
        fwd = torch.compile(model)
        if mode == "compile-full":
            opt_step = torch.compile(opt.step)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(fwd(x), y)
        loss.backward()
        opt_step()
        _sync(dev)

    with patch:
        t0 = time.perf_counter()
        step()
        first_s = time.perf_counter() - t0
        step_ms, step_mean = _median_ms(step, warmup=max(0, warmup - 1), repeats=steps)
        row: dict[str, float | int | str | list | None] = {
            "model": name,
            "mode": mode,
            "device": str(dev),
            "params": count_parameters(model),
            "first_step_s": first_s,
            "step_ms": step_ms,
            "step_ms_mean": step_mean,
            "samples_per_s": 1e3 * batch / step_ms,
            "y_init": y_init,
        }
        if mode != "eager":
            row["graphs"] = int(counters["stats"]["unique_graphs"])
            reasons = [*counters["graph_break"], *counters["unimplemented"]]
            row["graph_breaks"] = sorted({r.splitlines()[0] for r in reasons})
            compiled = fwd(x).detach()  # grad mode as in training: no recompilation
            with torch.no_grad():
                eager = model(x)
            row["compiled_vs_eager_max_abs"] = float((compiled - eager).abs().max())
            return row
    model.eval()
    gen = torch.Generator().manual_seed(seed + 1)
    run = (torch.rand(run_windows, window, N_FEATURES, generator=gen) * 2 - 1).to(dev)
    one = run[:1]
    with torch.inference_mode():
        row["latency_ms_per_window"], _ = _median_ms(lambda: _fwd(model, one, dev), 5, 50)
        row["latency_ms_run"], _ = _median_ms(lambda: _fwd(model, run, dev), 3, 20)
    return row


def _fwd(model: nn.Module, x: torch.Tensor, dev: torch.device) -> None:
    model(x)
    _sync(dev)


def _median_ms(fn, warmup: int, repeats: int) -> tuple[float, float]:
    """(median, mean) wall time of ``fn()`` in ms over ``repeats`` calls after ``warmup``."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times), 1e3 * statistics.fmean(times)


def main(argv: list[str] | None = None) -> dict:
    """Command-line entry point: print (and return) the JSON result."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--models", nargs="+", default=list(SPECS), choices=list(SPECS))
    ap.add_argument("--modes", nargs="+", default=["eager"], choices=list(MODES))
    ap.add_argument("--batch", type=int, default=50, help="batch size (Table 2: 50)")
    ap.add_argument("--window", type=int, default=WINDOW, help="window length (steps)")
    ap.add_argument("--steps", type=int, default=200, help="timed training steps per row")
    ap.add_argument("--warmup", type=int, default=20, help="untimed steps first (incl. the 1st)")
    ap.add_argument("--run-windows", type=int, default=120, help="windows in one 12 s run")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument(
        "--inputs", help="JSON from benchmarks.training: batch x, y and each model's weights"
    )
    ap.add_argument(
        "--warm-cache",
        action="store_true",
        help="use Inductor's usual on-disk cache (default: a fresh one, so compile is cold)",
    )
    args = ap.parse_args(argv)
    if args.threads < 1 or args.steps < 1 or args.batch < 1:
        ap.error("--threads, --steps and --batch must be >= 1")
    if args.window < 3 * len(SPECS["teacher"][0]) + 1:
        ap.error(f"--window {args.window} too short for two kernel-4 convolutions")
    if args.device not in ("cpu", "cuda"):
        ap.error(f"--device {args.device}: use cpu or cuda")
    if args.device == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda: this torch sees no CUDA device")
    inputs = None
    if args.inputs is not None:
        with open(args.inputs, encoding="utf-8") as fh:
            inputs = json.load(fh)
        if inputs.get("x_shape") != [args.batch, args.window, N_FEATURES]:
            ap.error(
                f"--inputs {args.inputs}: x_shape {inputs.get('x_shape')} is not "
                f"[{args.batch}, {args.window}, {N_FEATURES}] (--batch, --window, features)"
            )
    torch.set_num_threads(args.threads)
    torch.set_default_dtype(torch.float32)
    # a cold compile: Inductor's on-disk caches (FX graphs, AOTAutograd, C++ kernels) in a fresh
    # folder, else a second run would load the first run's kernels and time no compilation
    cache = None if args.warm_cache else tempfile.mkdtemp(prefix="torchinductor_bench_")
    if cache is not None:
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = cache
    try:
        rows = [
            benchmark_model(
                name,
                mode=mode,
                batch=args.batch,
                window=args.window,
                steps=args.steps,
                warmup=args.warmup,
                run_windows=args.run_windows,
                seed=args.seed,
                inputs=inputs,
                device=args.device,
            )
            for name in args.models
            for mode in args.modes
        ]
    finally:
        if cache is not None:
            shutil.rmtree(cache, ignore_errors=True)
    out = {
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "threads": torch.get_num_threads(),
        "device": args.device,
        "device_name": torch.cuda.get_device_name() if args.device == "cuda" else "cpu",
        "inductor_compile_threads": torch._inductor.config.compile_threads,
        "inductor_cache": "warm" if args.warm_cache else "cold (fresh folder)",
        "batch": args.batch,
        "window": args.window,
        "steps": args.steps,
        "rows": rows,
    }
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()

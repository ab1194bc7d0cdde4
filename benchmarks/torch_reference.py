r"""PyTorch-eager reference of the IHCP teacher (CNN-GRU, paper 000 Table 1) and student (Table 4).

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
69 183; :func:`build_model` asserts them. Training: Adam (lr 1e-3, PyTorch defaults
:math:`\beta=(0.9, 0.999)`, :math:`\epsilon=10^{-8}` as Optax), mean-squared-error loss, batch 50,
float32. One step is ``zero_grad`` → forward → MSE → ``backward`` → ``Adam.step``, timed with
``time.perf_counter`` (CPU eager ops are synchronous, so no device sync is needed); the first
``--warmup`` steps are discarded and the median of ``--steps`` is reported. Random data suffice:
the cost does not depend on the values.

Threads: ``torch.set_num_threads(--threads)`` sets the intra-op pool; give it the number of
cores JAX's CPU client uses (all cores visible to the process, ``len(os.sched_getaffinity(0))``,
2 on the project machine), so both frameworks get the same CPU. Usage (Python ≥ 3.10)::

    /path/to/python-with-torch benchmarks/torch_reference.py --threads 2 --steps 200

prints one JSON object ``{"torch": version, "threads": n, "rows": [{"model", "params",
"step_ms", "step_ms_mean", "samples_per_s", "latency_ms_per_window", "latency_ms_run"}, ...]}``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import torch
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


def _median_ms(fn, *, warmup: int, repeats: int) -> tuple[float, float]:
    """(median, mean) wall time of ``fn()`` in ms over ``repeats`` calls after ``warmup``."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times), 1e3 * statistics.fmean(times)


def benchmark_model(
    name: str, *, batch: int, window: int, steps: int, warmup: int, run_windows: int, seed: int
) -> dict[str, float | int | str]:
    """Median eager training-step time and forward latency of model ``name`` on CPU."""
    model = build_model(name, seed=seed)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.MSELoss()
    gen = torch.Generator().manual_seed(seed)
    n_batches = 20  # cycle through a few distinct batches, as an epoch would
    xs = torch.rand(n_batches, batch, window, N_FEATURES, generator=gen) * 2 - 1
    ys = torch.rand(n_batches, batch, generator=gen) * 2 - 1
    counter = [0]

    def step() -> None:
        i = counter[0] % n_batches
        counter[0] += 1
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xs[i]), ys[i])
        loss.backward()
        opt.step()

    model.train()
    step_ms, step_mean = _median_ms(step, warmup=warmup, repeats=steps)
    model.eval()
    one, run = xs[0, :1], xs.reshape(-1, window, N_FEATURES)[:run_windows]
    with torch.inference_mode():
        lat_one, _ = _median_ms(lambda: model(one), warmup=5, repeats=50)
        lat_run, _ = _median_ms(lambda: model(run), warmup=3, repeats=20)
    return {
        "model": name,
        "params": count_parameters(model),
        "step_ms": step_ms,
        "step_ms_mean": step_mean,
        "samples_per_s": 1e3 * batch / step_ms,
        "latency_ms_per_window": lat_one,
        "latency_ms_run": lat_run,
    }


def main(argv: list[str] | None = None) -> dict:
    """Command-line entry point: print (and return) the JSON result."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--models", nargs="+", default=list(SPECS), choices=list(SPECS))
    ap.add_argument("--batch", type=int, default=50, help="batch size (Table 2: 50)")
    ap.add_argument("--window", type=int, default=WINDOW, help="window length (steps)")
    ap.add_argument("--steps", type=int, default=200, help="timed training steps per model")
    ap.add_argument("--warmup", type=int, default=20, help="untimed steps first")
    ap.add_argument("--run-windows", type=int, default=120, help="windows in one 12 s run")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.threads < 1 or args.steps < 1 or args.batch < 1:
        ap.error("--threads, --steps and --batch must be >= 1")
    if args.window < 3 * len(SPECS["teacher"][0]) + 1:
        ap.error(f"--window {args.window} too short for two kernel-4 convolutions")
    torch.set_num_threads(args.threads)
    torch.set_default_dtype(torch.float32)
    rows = [
        benchmark_model(
            name,
            batch=args.batch,
            window=args.window,
            steps=args.steps,
            warmup=args.warmup,
            run_windows=args.run_windows,
            seed=args.seed,
        )
        for name in args.models
    ]
    out = {
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "threads": torch.get_num_threads(),
        "batch": args.batch,
        "window": args.window,
        "steps": args.steps,
        "rows": rows,
    }
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()

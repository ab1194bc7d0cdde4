r"""The distillation temperature/weight grid of paper 000 §3.3 (T in 1–10, λ in 0.1–0.9).

The paper compares "one by one" every integer T in [1, 10] and every λ in [0.1, 0.9] (one
decimal) and keeps T = 7, λ = 0.8, without saying on which data it chose nor what it measured.
Here every grid point distils a fresh student from the *same* initial weights (one seed, so the
points differ only in the loss), with the same budget, and is scored on

* the **validation** windows (label MSE on the [-1, 1] scale, the best epoch's) — the choice
  is made here, per loss (:func:`choose`);
* the **test** windows (R², scaled MSE and RMSE in K) — reported for every point, never used to
  choose.

Both losses of :mod:`.distill`: ``"paper"`` (softmax-T over the batch, eq. 5–8) on the full
T × λ grid, and ``"regression"`` (λ·MSE(labels) + (1−λ)·MSE(teacher)), which has no
temperature: its T column would repeat the same training, so it is run once per λ and its rows
carry ``temperature = None`` (a decision, documented, not a gap). Defaults: T ∈ {1, 2, 4, 7, 10}
× λ ∈ {0.1, 0.3, 0.5, 0.7, 0.9}, a thinned version of the paper's 10 × 9 grid that keeps its
ends and its chosen T; :data:`PAPER_TEMPERATURES`/:data:`PAPER_LAMBDAS` hold the paper's full grid.
The students of one loss train together (:func:`train_grid`: the parameters stacked, the loss
vmapped over (T, λ), one compilation instead of one per point; a test checks it against
:func:`.distill.distill` point by point). Works on arrays only (no FEM): the case script builds
the windows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from flax import nnx

from surrogates.training import TrainConfig, count_parameters, predict

from .metrics import regression_report
from .windows import MinMaxScaler

TEMPERATURES: tuple[float, ...] = (1.0, 2.0, 4.0, 7.0, 10.0)
LAMBDAS: tuple[float, ...] = (0.1, 0.3, 0.5, 0.7, 0.9)
PAPER_TEMPERATURES: tuple[float, ...] = tuple(float(t) for t in range(1, 11))
PAPER_LAMBDAS: tuple[float, ...] = tuple(round(0.1 * k, 1) for k in range(1, 10))
LOSSES: tuple[str, ...] = ("paper", "regression")

Split = tuple[np.ndarray, np.ndarray]


def grid_points(
    temperatures: Sequence[float] = TEMPERATURES,
    lambdas: Sequence[float] = LAMBDAS,
    losses: Sequence[str] = LOSSES,
) -> list[tuple[str, float | None, float]]:
    """``(loss, T, λ)`` of the grid; the regression loss once per λ with T = None."""
    bad = [k for k in losses if k not in LOSSES]
    if bad or not temperatures or not lambdas:
        raise ValueError(
            f"kd grid: losses must be among {LOSSES} (got {list(losses)}), and T and λ lists "
            "must be non-empty"
        )
    if any(not t > 0 for t in temperatures) or any(not 0.0 <= lam <= 1.0 for lam in lambdas):
        raise ValueError(f"kd grid: T > 0 and λ in [0, 1] needed, got {temperatures}, {lambdas}")
    out: list[tuple[str, float | None, float]] = []
    for loss in losses:
        temps: Sequence[float | None] = [None] if loss == "regression" else temperatures
        out += [
            (loss, None if t is None else float(t), float(lam)) for t in temps for lam in lambdas
        ]
    return out


def train_grid(
    make_student: Callable[[], nnx.Module],
    teacher: nnx.Module,
    train: Split,
    val: Split,
    *,
    kind: str,
    temperatures: Sequence[float],
    lambdas: Sequence[float],
    config: TrainConfig,
) -> list[tuple[nnx.Module, int, float]]:
    """Distil one student per ``(temperatures[i], lambdas[i])`` with loss ``kind``, all in one
    jitted program (the students vmapped, so it compiles once instead of once per point).

    Same semantics as :func:`.distill.distill` with :func:`surrogates.training.fit` per point:
    the same initial weights (``make_student``), the same batch order (``config.seed``, last
    partial batch dropped), the optimiser of ``config`` (Adam acts element-wise, so one update
    of the stacked parameters is each student's own update), the best validation epoch (label
    MSE) kept per student. Returns ``[(student, best_epoch, best_val_mse)]`` in grid order.
    """
    import jax
    import jax.numpy as jnp
    import optax

    from surrogates.training import mse_loss

    from .distill import _check, paper_kd_loss, regression_kd_loss

    if len(temperatures) != len(lambdas) or not lambdas:
        raise ValueError("train_grid: one temperature per lambda needed")
    for t, lam in zip(temperatures, lambdas, strict=True):
        _check(lam, t)
    x, y = (jnp.asarray(a, jnp.float32) for a in train)
    xv, yv = (jnp.asarray(a, jnp.float32) for a in val)
    soft = jnp.asarray(predict(teacher, x), jnp.float32)
    model = make_student()
    view = nnx.view(model, deterministic=True, raise_if_not_found=False)
    graphdef, params, rest = nnx.split(view, nnx.Param, ...)
    g = len(lambdas)
    stacked = jax.tree_util.tree_map(lambda a: jnp.stack([a] * g), params)
    temps = jnp.asarray(temperatures, jnp.float32)
    lams = jnp.asarray(lambdas, jnp.float32)
    tx = config.make_optimizer()
    opt_state = tx.init(stacked)

    def loss_one(p, xb, yb, tb, t, lam):
        pred = nnx.merge(graphdef, p, rest)(xb)
        if kind == "paper":
            return paper_kd_loss(pred, (yb, tb), temperature=t, lam=lam)
        return regression_kd_loss(pred, (yb, tb), lam=lam)

    grads = jax.vmap(jax.value_and_grad(loss_one), in_axes=(0, None, None, None, 0, 0))

    @jax.jit
    def step(ps, opt, xb, yb, tb):
        loss, grad = grads(ps, xb, yb, tb, temps, lams)
        updates, opt = tx.update(grad, opt, ps)
        return optax.apply_updates(ps, updates), opt, loss

    @jax.jit
    def val_losses(ps):  # one student at a time (memory), labels only
        return jax.lax.map(
            lambda p: mse_loss(jnp.ravel(nnx.merge(graphdef, p, rest)(xv)), jnp.ravel(yv)), ps
        )

    @jax.jit
    def keep(best, ps, better):
        def pick(b, p):
            mask = better.reshape((-1,) + (1,) * (p.ndim - 1))
            return jnp.where(mask, p, b)

        return jax.tree_util.tree_map(pick, best, ps)

    n = int(y.shape[0])
    batch = min(config.batch_size, n)
    steps = max(1, n // batch)
    rng = np.random.default_rng(config.seed)
    best_val = np.full(g, np.inf)
    best_epoch = np.zeros(g, dtype=int)
    best = stacked
    for epoch in range(config.epochs):
        order = rng.permutation(n)
        for k in range(steps):
            idx = jnp.asarray(order[k * batch : (k + 1) * batch])
            stacked, opt_state, _ = step(stacked, opt_state, x[idx], y[idx], soft[idx])
        current = np.asarray(val_losses(stacked), dtype=float)
        better = current < best_val
        best = keep(best, stacked, jnp.asarray(better))
        best_val = np.where(better, current, best_val)
        best_epoch = np.where(better, epoch, best_epoch)
    out = []
    for i in range(g):
        student = make_student()
        nnx.update(student, jax.tree_util.tree_map(lambda a, i=i: a[i], best))
        out.append((student, int(best_epoch[i]), float(best_val[i])))
    return out


def kd_grid(
    make_student: Callable[[], nnx.Module],
    teacher: nnx.Module,
    train: Split,
    val: Split,
    test: Split,
    *,
    y_scaler: MinMaxScaler,
    config: TrainConfig,
    temperatures: Sequence[float] = TEMPERATURES,
    lambdas: Sequence[float] = LAMBDAS,
    losses: Sequence[str] = LOSSES,
    on_row: Callable[[dict], None] | None = None,
) -> list[dict[str, Any]]:
    """Distil one student per grid point and score it (module docstring); the points of one
    loss train together (:func:`train_grid`).

    Args:
        make_student: returns a fresh student with the same initial weights on every call.
        teacher: the trained teacher (its predictions on ``train`` are the soft targets).
        train, val, test: ``(x (n, w, F), y (n,))`` scaled windows.
        y_scaler: label scaler (for the K metrics).
        config: budget (epochs, batch, learning rate, seed of the batch order).

    Returns:
        Rows ``{loss, temperature, lam, val_mse_scaled, best_epoch, n_params, test_r2,
        test_mse_scaled, test_rmse_K}`` in :func:`grid_points` order, and ``seconds`` of the
        loss's whole grid (the students train together, so there is no time per point).
    """
    rows = []
    points = grid_points(temperatures, lambdas, losses)
    for loss in dict.fromkeys(p[0] for p in points):
        mine = [p for p in points if p[0] == loss]
        t0 = time.perf_counter()
        trained = train_grid(
            make_student, teacher, train, val, kind=loss, config=config,
            temperatures=[1.0 if t is None else t for _, t, _ in mine],
            lambdas=[lam for _, _, lam in mine],
        )  # fmt: skip
        seconds = time.perf_counter() - t0
        for (_, temperature, lam), (student, epoch, val_mse) in zip(mine, trained, strict=True):
            pred = np.asarray(predict(student, test[0]))
            rep = regression_report(test[1], pred, y_scaler=y_scaler)
            row = {
                "loss": loss,
                "temperature": temperature,
                "lam": lam,
                "val_mse_scaled": val_mse,
                "best_epoch": epoch,
                "n_params": count_parameters(student),
                "test_r2": rep["r2"],
                "test_mse_scaled": rep["mse_scaled"],
                "test_rmse_K": rep["rmse_c"],
                "grid_seconds": seconds,
            }
            if on_row is not None:
                on_row(row)
            rows.append(row)
    return rows


def choose(rows: Sequence[dict]) -> dict[str, dict]:
    """Per loss, the row with the lowest validation MSE (ties: the first in grid order)."""
    best: dict[str, dict] = {}
    for r in rows:
        if r["loss"] not in best or r["val_mse_scaled"] < best[r["loss"]]["val_mse_scaled"]:
            best[r["loss"]] = r
    return best


def plot_kd_grid(rows: Sequence[dict], path: Any, *, key: str = "val_mse_scaled") -> None:
    """Heat maps of ``key`` (rows T, columns λ) per loss, chosen point marked; written atomically.

    The regression loss has one row (no temperature)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plots import _save

    losses = [k for k in LOSSES if any(r["loss"] == k for r in rows)]
    best = choose(rows)
    fig, axes = plt.subplots(
        2, len(losses), figsize=(5.2 * len(losses), 7.4), squeeze=False,
        gridspec_kw={"height_ratios": [1, 1]},
    )  # fmt: skip
    for j, loss in enumerate(losses):
        mine = [r for r in rows if r["loss"] == loss]
        temps = sorted({r["temperature"] for r in mine}, key=lambda t: -1 if t is None else t)
        lams = sorted({r["lam"] for r in mine})
        for i, (metric, label) in enumerate(((key, key), ("test_r2", "test R² (report only)"))):
            grid = np.full((len(temps), len(lams)), np.nan)
            for r in mine:
                grid[temps.index(r["temperature"]), lams.index(r["lam"])] = r[metric]
            ax = axes[i][j]
            im = ax.imshow(grid, aspect="auto", origin="lower", cmap="viridis")
            for (a, b), v in np.ndenumerate(grid):
                ax.text(b, a, f"{v:.3g}", ha="center", va="center", fontsize=7, color="w")
            b = best[loss]
            ax.plot(lams.index(b["lam"]), temps.index(b["temperature"]), "rs", mfc="none", ms=14)
            ax.set_xticks(range(len(lams)), [f"{v:g}" for v in lams])
            ax.set_yticks(range(len(temps)), ["–" if t is None else f"{t:g}" for t in temps])
            ax.set(xlabel="λ (weight of the label loss)", ylabel="T" if loss == "paper" else "")
            ax.set_title(f"{loss} KD loss: {label}", fontsize=9)
            fig.colorbar(im, ax=ax, shrink=0.8)
    fig.suptitle("KD grid (red square: chosen on validation)", fontsize=10)
    _save(fig, path)

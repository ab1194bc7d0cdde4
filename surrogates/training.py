r"""A small, shared, JIT-compiled training loop for Flax NNX regressors.

Training minimises the mean of a per-batch loss :math:`\mathcal L(f_\theta(x_b), y_b)` with an
Optax optimiser. The model is split once into a static graph and its state; one training step

.. math::  \theta \leftarrow \theta + \mathrm{update}(\nabla_\theta \mathcal L,\ \text{opt state})

is a pure function of (parameters, other state, optimiser state, batch) compiled once with
``jax.jit``; the epoch loop stays in Python (on CPU, convolutions inside ``lax.scan`` compile to
slow code in current JAX). Validation runs each epoch with the model in evaluation mode
(``nnx.view(..., deterministic=True)``, dropout off) and the parameters of the best validation
epoch are kept. Everything random (initial shuffle order, dropout) derives from one seed.

``x`` and ``y`` may be arrays or pytrees of arrays sharing a leading sample axis (for knowledge
distillation, ``y`` can be ``(labels, teacher_predictions)`` with a loss that unpacks it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

PyTree = Any
LossFn = Callable[[jax.Array, PyTree], jax.Array]


def mse_loss(pred: jax.Array, target: jax.Array) -> jax.Array:
    """Mean squared error, mean over all elements."""
    return jnp.mean((pred - target) ** 2)


@dataclass(frozen=True)
class TrainConfig:
    """Training budget and optimiser settings.

    Attributes:
        epochs: number of passes over the training set.
        batch_size: samples per step (the last, smaller batch of an epoch is dropped when the
            set is larger than one batch, so every step has the same shape and compiles once).
        learning_rate: optimiser step size.
        optimizer: "adam" or "sgd" (SGD with ``momentum``).
        momentum: momentum of "sgd".
        seed: seed of the shuffle order.
        patience: stop after this many epochs without a better validation loss (None: never).
        progress: show a tqdm progress bar.
    """

    epochs: int = 100
    batch_size: int = 32
    learning_rate: float = 1e-3
    optimizer: str = "adam"
    momentum: float = 0.9
    seed: int = 0
    patience: int | None = None
    progress: bool = False

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or not self.learning_rate > 0:
            raise ValueError(f"TrainConfig: epochs, batch_size, learning_rate must be > 0: {self}")
        if self.optimizer not in ("adam", "sgd"):
            raise ValueError(
                f"TrainConfig: optimizer must be 'adam' or 'sgd', not {self.optimizer!r}"
            )

    def make_optimizer(self) -> optax.GradientTransformation:
        """The Optax transformation these settings describe."""
        if self.optimizer == "adam":
            return optax.adam(self.learning_rate)
        return optax.sgd(self.learning_rate, momentum=self.momentum)


@dataclass
class TrainResult:
    """Outcome of :func:`fit`.

    Attributes:
        model: the model holding the best-validation parameters (the same object passed in).
        train_loss: mean training loss per epoch, shape (epochs_run,).
        val_loss: validation loss per epoch (empty without a validation set).
        best_epoch: 0-based epoch whose parameters were kept.
        seconds_per_epoch: mean wall time of an epoch after the first (compile excluded).
    """

    model: nnx.Module
    train_loss: np.ndarray
    val_loss: np.ndarray
    best_epoch: int
    seconds_per_epoch: float
    extra: dict[str, Any] = field(default_factory=dict)


def _n_samples(tree: PyTree) -> int:
    sizes = {int(leaf.shape[0]) for leaf in jax.tree_util.tree_leaves(tree)}
    if len(sizes) != 1:
        raise ValueError(f"all arrays need the same leading (sample) size, got {sorted(sizes)}")
    return sizes.pop()


def _take(tree: PyTree, idx: np.ndarray) -> PyTree:
    return jax.tree_util.tree_map(lambda a: a[idx], tree)


def make_predictor(model: nnx.Module, *, batch_size: int = 4096) -> Callable[[PyTree], jax.Array]:
    """Evaluation-mode predict function bound to ``model``'s *current* parameters.

    The model is split once here, so each call costs only the compiled forward pass (use it for
    low-latency inference; rebuild it after further training).
    """
    eval_model = nnx.view(model, deterministic=True, raise_if_not_found=False)
    graphdef, state = nnx.split(eval_model)
    apply = _jitted_apply(graphdef)

    def predict_fn(x: PyTree) -> jax.Array:
        n = _n_samples(x)
        if n <= batch_size:
            return apply(state, x)
        starts = range(0, n, batch_size)
        chunks = [apply(state, _take(x, np.arange(i, min(i + batch_size, n)))) for i in starts]
        return jnp.concatenate(chunks, axis=0)

    return predict_fn


def predict(model: nnx.Module, x: PyTree, *, batch_size: int = 4096) -> jax.Array:
    """Evaluation-mode predictions of ``model`` on ``x`` (dropout off), batched."""
    return make_predictor(model, batch_size=batch_size)(x)


_APPLY_CACHE: dict[Any, Callable] = {}


def _jitted_apply(graphdef: Any) -> Callable:
    if graphdef not in _APPLY_CACHE:

        @jax.jit
        def apply(state: PyTree, x: PyTree) -> jax.Array:
            return nnx.merge(graphdef, state)(x)

        _APPLY_CACHE[graphdef] = apply
    return _APPLY_CACHE[graphdef]


def fit(
    model: nnx.Module,
    train: tuple[PyTree, PyTree],
    *,
    config: TrainConfig,
    val: tuple[PyTree, PyTree] | None = None,
    loss_fn: LossFn = mse_loss,
    val_loss_fn: LossFn | None = None,
    optimizer: optax.GradientTransformation | None = None,
) -> TrainResult:
    """Train ``model`` in place on ``train = (x, y)``; keep the best-validation parameters.

    Args:
        model: a Flax NNX module mapping a batch of ``x`` to predictions.
        train: training inputs and targets with a shared leading sample axis.
        config: epochs, batch size, optimiser, seed.
        val: optional validation ``(x, y)``; without it the last epoch is kept.
        loss_fn: ``loss_fn(pred, y) -> scalar`` minimised per batch.
        val_loss_fn: loss reported on validation (default ``loss_fn``).
        optimizer: an Optax transformation overriding ``config.optimizer``.

    Returns:
        A :class:`TrainResult`; ``model`` itself now holds the kept parameters.
    """
    val_loss_fn = val_loss_fn or loss_fn
    x_train, y_train = jax.tree_util.tree_map(jnp.asarray, train)
    n = _n_samples((x_train, y_train))
    batch = min(config.batch_size, n)
    steps = max(1, n // batch)
    tx = optimizer or config.make_optimizer()

    train_view = nnx.view(model, deterministic=False, raise_if_not_found=False)
    graphdef, params, rest = nnx.split(train_view, nnx.Param, ...)
    opt_state = tx.init(params)

    @jax.jit
    def train_step(params, rest, opt_state, xb, yb):
        def objective(p, r):
            m = nnx.merge(graphdef, p, r, copy=True)
            loss = loss_fn(m(xb), yb)
            return loss, nnx.state(m, nnx.Not(nnx.Param))

        (loss, new_rest), grads = jax.value_and_grad(objective, has_aux=True)(params, rest)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), new_rest, opt_state, loss

    eval_graphdef, _, _ = nnx.split(
        nnx.view(model, deterministic=True, raise_if_not_found=False), nnx.Param, ...
    )

    @jax.jit
    def val_step(params, rest, xb, yb):
        return val_loss_fn(nnx.merge(eval_graphdef, params, rest)(xb), yb)

    rng = np.random.default_rng(config.seed)
    train_hist: list[float] = []
    val_hist: list[float] = []
    best = (np.inf, 0, params)
    epoch_times: list[float] = []
    epochs = range(config.epochs)
    if config.progress:
        from tqdm.auto import tqdm

        epochs = tqdm(epochs, desc="training", unit="epoch", leave=False)
    for epoch in epochs:
        t0 = time.perf_counter()
        order = rng.permutation(n)
        losses = []
        for s in range(steps):
            idx = order[s * batch : (s + 1) * batch]
            params, rest, opt_state, loss = train_step(
                params, rest, opt_state, _take(x_train, idx), _take(y_train, idx)
            )
            losses.append(loss)
        train_hist.append(float(jnp.mean(jnp.stack(losses))))
        if val is not None:
            current = float(val_step(params, rest, *jax.tree_util.tree_map(jnp.asarray, val)))
            val_hist.append(current)
        else:
            current = train_hist[-1]
        if val is None or current < best[0]:  # without validation the last epoch is kept
            best = (current, epoch, params)
        epoch_times.append(time.perf_counter() - t0)
        if config.progress:
            epochs.set_postfix(train=f"{train_hist[-1]:.3g}", val=f"{current:.3g}")
        if config.patience is not None and val is not None and epoch - best[1] >= config.patience:
            break

    nnx.update(model, best[2])
    nnx.update(model, rest)
    per_epoch = float(np.mean(epoch_times[1:])) if len(epoch_times) > 1 else epoch_times[0]
    return TrainResult(
        model=model,
        train_loss=np.asarray(train_hist),
        val_loss=np.asarray(val_hist),
        best_epoch=best[1],
        seconds_per_epoch=per_epoch,
    )


def count_parameters(model: nnx.Module) -> int:
    """Number of trainable scalars (``nnx.Param`` leaves) in ``model``."""
    return int(sum(p.size for p in jax.tree_util.tree_leaves(nnx.state(model, nnx.Param))))

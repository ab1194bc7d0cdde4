r"""Knowledge distillation of the CNN-GRU teacher into a small student (paper 000, §3.3, eq. 5–8).

Two losses, both of the form ``loss(pred, (labels, teacher_pred))`` for
:func:`surrogates.training.fit`; ``pred``, ``labels`` and ``teacher_pred`` have shape (k,) for a
batch of k windows (scaled temperatures).

**Paper's loss, as written** (:func:`paper_kd_loss`). Soft labels are a softmax with temperature
T over the k outputs of the batch (eq. 5), :math:`p_i(v, T) = e^{v_i/T} / \sum_{j=1}^{k} e^{v_j/T}`;
the soft loss (eq. 6) is the cross-entropy between teacher and student soft labels,
:math:`L_{soft} = -\sum_{i=1}^{k} p_i(u, T)\log p_i(z, T)` (u teacher, z student outputs); the hard
loss (eq. 7) is the MSE to the labels (the paper's training loss, §3.2); and (eq. 8)

.. math::  L = \lambda L_{hard} + (1-\lambda) L_{soft}, \qquad T = 7,\ \lambda = 0.8.

Eq. 6–7 are garbled in the source text; we take Hinton et al.'s (2015) cross-entropy form without
the :math:`T^2` factor, since the paper states none. (KL divergence differs from it by the
teacher's entropy, a constant, so the gradients are the same.)

Why it is questionable for scalar regression: a softmax needs a vector of class scores, and a
scalar regressor has one output, whose softmax over itself is identically 1 (no signal). Taking
the softmax across the *batch* instead, as the paper's "k is the total number of samples"
suggests, makes the soft loss (i) invariant to adding any constant to all student outputs, so it
says nothing about the absolute temperature level, (ii) dependent on batch size and on which
windows share a batch, and (iii) nearly flat for scaled outputs in [-1, 1] at T = 7: the logits
differ by at most 2/7, so :math:`p_i \approx 1/k` and the gradient is O(1/(kT)). In practice the
paper's loss is close to :math:`\lambda` · MSE with a weak ranking term.

**Regression-sound loss** (:func:`regression_kd_loss`):
:math:`L = \lambda\,\mathrm{MSE}(z, y) + (1-\lambda)\,\mathrm{MSE}(z, u)`, i.e. the student
regresses on a λ-weighted mix of labels and teacher predictions.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from surrogates.training import LossFn, TrainConfig, TrainResult, fit, mse_loss, predict

PAPER_TEMPERATURE = 7.0
PAPER_LAMBDA = 0.8


def _check(lam: float, temperature: float = 1.0) -> None:
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"distillation: lambda must be in [0, 1], got {lam}")
    if not temperature > 0:
        raise ValueError(f"distillation: temperature T must be > 0, got {temperature}")


def soft_labels(outputs: jax.Array, *, temperature: float) -> jax.Array:
    """Eq. 5: softmax of the (k,) batch outputs divided by T, shape (k,), sums to 1."""
    return jax.nn.softmax(jnp.ravel(outputs) / temperature)


def paper_kd_loss(
    pred: jax.Array,
    targets: tuple[jax.Array, jax.Array],
    *,
    temperature: float = PAPER_TEMPERATURE,
    lam: float = PAPER_LAMBDA,
) -> jax.Array:
    """Eq. 8 with eq. 5–7: λ·MSE(pred, labels) + (1−λ)·CE(softmax(teacher/T), softmax(pred/T))."""
    labels, teacher = targets
    hard = mse_loss(jnp.ravel(pred), jnp.ravel(labels))
    p_teacher = soft_labels(teacher, temperature=temperature)
    log_p_student = jax.nn.log_softmax(jnp.ravel(pred) / temperature)
    soft = -jnp.sum(p_teacher * log_p_student)
    return lam * hard + (1.0 - lam) * soft


def regression_kd_loss(
    pred: jax.Array, targets: tuple[jax.Array, jax.Array], *, lam: float = PAPER_LAMBDA
) -> jax.Array:
    """λ·MSE(pred, labels) + (1−λ)·MSE(pred, teacher predictions)."""
    labels, teacher = targets
    z = jnp.ravel(pred)
    return lam * mse_loss(z, jnp.ravel(labels)) + (1.0 - lam) * mse_loss(z, jnp.ravel(teacher))


def label_mse(pred: jax.Array, targets: tuple[jax.Array, jax.Array]) -> jax.Array:
    """MSE to the labels only (validation loss during distillation)."""
    return mse_loss(jnp.ravel(pred), jnp.ravel(targets[0]))


def make_kd_loss(
    kind: str, *, temperature: float = PAPER_TEMPERATURE, lam: float = PAPER_LAMBDA
) -> LossFn:
    """``kind='paper'`` (:func:`paper_kd_loss`) or ``'regression'`` (:func:`regression_kd_loss`)."""
    _check(lam, temperature)
    if kind == "paper":
        return partial(paper_kd_loss, temperature=temperature, lam=lam)
    if kind == "regression":
        return partial(regression_kd_loss, lam=lam)
    raise ValueError(f"make_kd_loss: kind must be 'paper' or 'regression', got {kind!r}")


def distill(
    student: nnx.Module,
    teacher: nnx.Module,
    train: tuple[np.ndarray, np.ndarray],
    *,
    config: TrainConfig,
    val: tuple[np.ndarray, np.ndarray] | None = None,
    kind: str = "regression",
    temperature: float = PAPER_TEMPERATURE,
    lam: float = PAPER_LAMBDA,
) -> TrainResult:
    """Train ``student`` in place on ``train = (x (n, w, F), y (n,))`` guided by ``teacher``.

    The teacher's evaluation-mode predictions on the training windows are computed once and
    used as soft targets; validation (and the kept best epoch) uses MSE to the labels only.
    """
    x, y = train
    teacher_pred = np.asarray(predict(teacher, jnp.asarray(x)))
    val_pair = None
    if val is not None:
        val_pair = (val[0], (val[1], np.zeros_like(val[1])))
    return fit(
        student,
        (x, (y, teacher_pred)),
        config=config,
        val=val_pair,
        loss_fn=make_kd_loss(kind, temperature=temperature, lam=lam),
        val_loss_fn=label_mse,
    )

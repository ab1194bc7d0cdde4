"""Knowledge-distillation losses on hand-computed numbers (paper 000, eq. 5–8)."""

import math

import jax.numpy as jnp
import pytest

from surrogates.ihcp.distill import (
    make_kd_loss,
    paper_kd_loss,
    regression_kd_loss,
    soft_labels,
)

PRED = jnp.array([0.0, 1.0])
LABELS = jnp.array([0.0, 0.0])
TEACHER = jnp.array([1.0, 1.0])


def test_regression_kd_loss_by_hand():
    # MSE to labels: (0 + 1)/2 = 0.5; MSE to teacher: (1 + 0)/2 = 0.5
    assert float(regression_kd_loss(PRED, (LABELS, TEACHER), lam=0.8)) == pytest.approx(0.5)
    # labels [0, 2] -> MSE (0 + 1)/2 = 0.5; teacher [1, 1] -> MSE (1 + 0)/2 = 0.5
    assert float(
        regression_kd_loss(PRED, (jnp.array([0.0, 2.0]), jnp.array([1.0, 1.0])), lam=0.25)
    ) == pytest.approx(0.25 * 0.5 + 0.75 * 0.5)
    # lam = 1 is plain MSE to labels: (0 + 1)/2
    assert float(regression_kd_loss(PRED, (LABELS, PRED), lam=1.0)) == pytest.approx(0.5)


#: JAX computes in float32 (eps 1.2e-7): hand values are checked to ~100 float32 ulp
F32 = 1e-5


def test_soft_labels_by_hand():
    p = soft_labels(jnp.array([0.0, 2.0]), temperature=2.0)  # softmax([0, 1])
    e = math.e
    assert float(p[0]) == pytest.approx(1 / (1 + e), rel=F32)
    assert float(p[1]) == pytest.approx(e / (1 + e), rel=F32)


def test_paper_kd_loss_by_hand():
    # teacher [1, 1] -> uniform soft labels (0.5, 0.5); student [0, 1] / T=1 -> softmax
    # log p = [-log(1 + e), 1 - log(1 + e)]; CE = log(1 + e) - 0.5
    soft = math.log(1 + math.e) - 0.5
    hard = 0.5
    got = paper_kd_loss(PRED, (LABELS, TEACHER), temperature=1.0, lam=0.8)
    assert float(got) == pytest.approx(0.8 * hard + 0.2 * soft, rel=F32)


def test_paper_soft_loss_ignores_the_level_of_the_outputs():
    # the reason it is questionable for regression: shifting every output changes nothing
    kd = make_kd_loss("paper", temperature=7.0, lam=0.0)
    a = kd(PRED, (LABELS, TEACHER))
    b = kd(PRED + 100.0, (LABELS, TEACHER))
    # float32 logits near 100/7 carry ulp ~1e-6, so the shifted loss agrees to ~1e-6 only
    assert float(a) == pytest.approx(float(b), rel=1e-4)
    assert float(a) == pytest.approx(math.log(2.0), rel=1e-2)  # nearly uniform at T = 7


def test_make_kd_loss_rejects_bad_settings():
    with pytest.raises(ValueError, match="lambda"):
        make_kd_loss("paper", lam=1.5)
    with pytest.raises(ValueError, match="temperature"):
        make_kd_loss("paper", temperature=0.0)
    with pytest.raises(ValueError, match="kind"):
        make_kd_loss("kl")

"""Model shapes, Keras parameter counts (Tables 1, 2, 4) and layer maths against NumPy."""

import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from surrogates.ihcp.models import (
    GRU,
    Conv1D,
    conv_gru_param_count,
    make_model,
    make_student,
    parameter_table,
    student_sizes,
)
from surrogates.layers import LSTM
from surrogates.training import count_parameters


def conv(k, c_in, c_out):  # Keras Conv1D
    return k * c_in * c_out + c_out


def gru(u, i):  # Keras GRU, reset_after=True
    return 3 * (u * (u + i) + 2 * u)


def lstm(u, i):  # Keras LSTM
    return 4 * (u * (u + i) + u)


def dense(i, o):
    return i * o + o


W, F = 20, 7
HAND = {
    "teacher": conv(4, 7, 132) + conv(4, 132, 164) + gru(50, 164) + gru(50, 50) + dense(50, 1),
    "student": conv(4, 7, 148) + gru(90, 148) + dense(90, 1),
    "cnn": conv(4, 7, 144) + conv(4, 144, 126) + dense((W - 6) * 126, 1),
    "gru": gru(75, 7) + gru(75, 75) + dense(75, 1),
    "lstm": lstm(72, 7) + lstm(72, 72) + dense(72, 1),
}


def test_hand_formulas_give_stated_totals():
    assert HAND["teacher"] == 138_335  # the paper prints 117,157 for these layers
    assert HAND["student"] == 69_183  # the paper prints 70,170


@pytest.mark.parametrize("name", sorted(HAND))
def test_parameter_counts_match_keras_formulas(name):
    model = nnx.eval_shape(lambda: make_model(name, seed=0, window=W))
    assert count_parameters(model) == HAND[name]


def test_parameter_table_lists_ours_and_paper():
    rows = {r["model"]: r for r in parameter_table(window=W)}
    assert rows["teacher"]["ours"] == HAND["teacher"] and rows["teacher"]["paper"] == 117_157
    assert rows["student"]["paper"] == 70_170


@pytest.mark.parametrize("name", ["teacher", "student", "cnn", "gru", "lstm"])
def test_output_shape(name):
    def forward():
        return make_model(name, seed=1, window=W)(jnp.zeros((3, W, F)))

    assert nnx.eval_shape(forward).shape == (3,)


def test_same_seed_same_numbers():
    x = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, (3, W, F)), jnp.float32)
    a = make_model("student", seed=1, window=W)(x)
    # same seed, same input, one process and machine: bit-identical outputs
    np.testing.assert_array_equal(a, make_model("student", seed=1, window=W)(x))
    assert not np.allclose(a, make_model("student", seed=2, window=W)(x))


def test_student_sweep_hits_fractions_of_teacher():
    teacher = HAND["teacher"]
    assert student_sizes(0.5) == (148, 90)  # Table 4's student is half of our teacher
    for frac in (0.1, 0.3, 0.6, 0.9):
        f, u = student_sizes(frac)
        count = conv_gru_param_count(filters=(f,), units=(u,))
        assert abs(count / teacher - frac) < 0.01
        model = nnx.eval_shape(lambda f=frac: make_student(f, seed=0))
        assert count_parameters(model) == count


def test_conv1d_is_valid_cross_correlation():
    rng = np.random.default_rng(0)
    layer = Conv1D(2, 3, 4, rngs=nnx.Rngs(0))
    x = rng.normal(size=(2, 9, 2)).astype(np.float32)
    k, b = np.asarray(layer.kernel[...]), np.asarray(layer.bias[...])
    ref = np.zeros((2, 6, 3))
    for t in range(6):
        ref[:, t] = np.einsum("bjc,jco->bo", x[:, t : t + 4], k) + b
    # float32 layer (eps 1.2e-7) against float64 NumPy, outputs O(1): 1e-4 is ~800 float32
    # ulp, and a wrong tap or channel order gives errors O(0.1)
    np.testing.assert_allclose(layer(jnp.asarray(x)), np.maximum(ref, 0), atol=1e-4)


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def test_gru_and_lstm_follow_keras_equations():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 3, 4)).astype(np.float32)
    g = GRU(4, 5, rngs=nnx.Rngs(0))
    g.bias[...] = jnp.asarray(rng.normal(size=(2, 15)), jnp.float32)
    wk, uk, bb = (np.asarray(v[...]) for v in (g.kernel, g.recurrent_kernel, g.bias))
    h = np.zeros((2, 5))
    for t in range(3):
        xw, hu = x[:, t] @ wk + bb[0], h @ uk + bb[1]
        z, r = sigmoid(xw[:, :5] + hu[:, :5]), sigmoid(xw[:, 5:10] + hu[:, 5:10])
        n = np.tanh(xw[:, 10:] + r * hu[:, 10:])
        h = z * h + (1 - z) * n
    # float32 through XLA's own sigmoid/tanh approximations, |h| < 1: 1e-4 (~800 float32 ulp)
    # leaves room for the rounding; a wrong gate order changes h by O(0.1)
    np.testing.assert_allclose(g(jnp.asarray(x))[:, -1], h, atol=1e-4)

    cell = LSTM(4, 5, rngs=nnx.Rngs(0))
    wk, uk, bb = (np.asarray(v[...]) for v in (cell.kernel, cell.recurrent_kernel, cell.bias))
    np.testing.assert_array_equal(bb[5:10], 1.0)  # unit forget bias
    h, c = np.zeros((2, 5)), np.zeros((2, 5))
    for t in range(3):
        a = x[:, t] @ wk + h @ uk + bb
        c = sigmoid(a[:, 5:10]) * c + sigmoid(a[:, :5]) * np.tanh(a[:, 10:15])
        h = sigmoid(a[:, 15:]) * np.tanh(c)
    np.testing.assert_allclose(cell(jnp.asarray(x))[:, -1], h, atol=1e-4)


def test_bad_names_and_short_windows_fail_clearly():
    with pytest.raises(ValueError, match="unknown model"):
        make_model("transformer", seed=0)
    with pytest.raises(ValueError, match="shorter than kernel"):
        nnx.eval_shape(lambda: make_model("teacher", seed=0)(jnp.ones((1, 5, F))))

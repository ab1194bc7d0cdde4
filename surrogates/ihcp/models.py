r"""Flax NNX models of paper 000: CNN-GRU teacher (Table 1), CNN/GRU/LSTM baselines (Table 2),
the one-conv one-GRU student (Table 4) and a size-scalable student for the 10 %…90 % sweep (§3.3).

All models map a batch of windows ``x`` of shape (B, w, F) (w time steps, F = 7 features) to a
scalar per window, shape (B,): the scaled F1 temperature at the window's last step.

Layers (written to have exactly the Keras parameter counts):

* :class:`Conv1D` — 'valid' 1-D convolution as unfold + matmul,
  :math:`y_{t,o} = b_o + \sum_{j<k}\sum_c x_{t+j,c} W_{j,c,o}`, output (B, w-k+1, c_out),
  parameters :math:`k\,c_{in}c_{out} + c_{out}`. ReLU follows each convolution.
* :class:`GRU` — Keras' GRU with ``reset_after=True`` (also PyTorch's):
  :math:`z=\sigma(xW_z+b^x_z+hU_z+b^h_z)`, :math:`r=\sigma(xW_r+b^x_r+hU_r+b^h_r)`,
  :math:`n=\tanh(xW_n+b^x_n+r\odot(hU_n+b^h_n))`, :math:`h'=z\odot h+(1-z)\odot n`;
  parameters :math:`3(u(u+i)+2u)`. The input projection of all steps is one matmul; only
  :math:`hU` runs inside ``lax.scan`` over time.
* :class:`LSTM` — Keras' LSTM (gates i, f, c, o; forget bias initialised to 1);
  parameters :math:`4(u(u+i)+u)`.

Parameter counts (F = 7, w = 20; Keras formulas, dense head on the last hidden state):
teacher 3 828 + 86 756 + 32 400 + 15 300 + 51 = **138 335** where the paper's Table 1 says
117 157, and the Table 4 student 4 292 + 64 800 + 91 = **69 183** where the paper says 70 170.
For F inputs the stated teacher layers have 528 F + 134 639 parameters, more than 117 157 for any
F, so the paper's count is not that of its stated layers (it used PyTorch, whose Conv1d and GRU
counts follow the same formulas). With our counts the Table 4 student is 50 % of the teacher,
not the 60 % the paper reports; the sweep (:func:`student_sizes`) scales to a fraction of *our*
teacher count. Table 2 gives no architecture for the baselines, and no one- or two-layer GRU/LSTM
stack (8–199 units per layer, dense head) on 7 inputs matches its counts; we pick two-layer stacks
and a two-conv CNN whose counts come close (:data:`BASELINE_SPECS`, see :func:`parameter_table`).
The paper mentions pooling in the CNN-GRU workflow but lists none in Table 1; we use none. It
states no dropout either; an optional ``dropout`` rate (default 0, an identity) before the head
also gives each model the ``deterministic`` switch that :func:`surrogates.training.fit` sets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx

from surrogates.layers import LSTM
from surrogates.training import count_parameters

from .windows import N_FEATURES

#: Parameter counts printed in the paper (Tables 1, 2, 4).
PAPER_PARAMS = {
    "cnn": 78_633,
    "gru": 53_283,
    "lstm": 65_389,
    "teacher": 117_157,
    "student": 70_170,
}
TEACHER_FILTERS = (132, 164)
TEACHER_UNITS = (50, 50)
STUDENT_FILTERS = (148,)
STUDENT_UNITS = (90,)
KERNEL_SIZE = 4
DEFAULT_WINDOW = 20
#: Baseline architectures chosen so the counts come close to Table 2 at w = 20, F = 7.
BASELINE_SPECS = {
    "cnn": {"filters": (144, 126)},  # conv-conv-flatten-dense: 78 643 (paper 78 633)
    "gru": {"units": (75, 75)},  # 53 176 (paper 53 283)
    "lstm": {"units": (72, 72)},  # 64 873 (paper 65 389)
}


class Conv1D(nnx.Module):
    """'valid' Conv1D as unfold + matmul: (B, L, c_in) -> (B, L-k+1, c_out), then ReLU."""

    def __init__(self, in_features: int, out_features: int, kernel_size: int, *, rngs: nnx.Rngs):
        self.kernel_size = kernel_size
        init = nnx.initializers.glorot_uniform()  # fans k·c_in, k·c_out as in Keras
        self.kernel = nnx.Param(init(rngs.params(), (kernel_size, in_features, out_features)))
        self.bias = nnx.Param(jnp.zeros((out_features,)))

    def __call__(self, x: jax.Array) -> jax.Array:
        k = self.kernel_size
        b, length, c = x.shape
        n = length - k + 1
        if n < 1:
            raise ValueError(f"Conv1D: sequence length {length} shorter than kernel size {k}")
        patches = jnp.concatenate([x[:, j : j + n, :] for j in range(k)], axis=-1)  # (B, n, k*c)
        w = self.kernel[...].reshape(k * c, -1)
        return jax.nn.relu(patches @ w + self.bias[...])


class GRU(nnx.Module):
    """Keras GRU (reset_after=True) returning the full sequence (B, T, in) -> (B, T, units)."""

    def __init__(self, in_features: int, units: int, *, rngs: nnx.Rngs):
        self.units = units
        self.kernel = nnx.Param(
            nnx.initializers.glorot_uniform()(rngs.params(), (in_features, 3 * units))
        )
        self.recurrent_kernel = nnx.Param(
            nnx.initializers.orthogonal()(rngs.params(), (units, 3 * units))
        )
        self.bias = nnx.Param(jnp.zeros((2, 3 * units)))  # input bias, recurrent bias

    def project(self, x: jax.Array) -> jax.Array:
        """Input part of all gates, x W + b_x: (..., T, in) -> (..., T, 3u); no recurrence."""
        return x @ self.kernel[...] + self.bias[0]

    def recur(self, xw: jax.Array, *, unroll: int | bool = 1) -> jax.Array:
        """The recurrence from h = 0 over projected inputs (B, T, 3u) -> (B, T, units).

        ``unroll`` is passed to ``lax.scan`` (``True``: a straight-line program; faster
        inference on CPU for short windows, longer compile; training keeps the loop)."""
        u = self.units
        uk, bh = self.recurrent_kernel[...], self.bias[1]

        def step(h, xw_t):
            hu = h @ uk + bh
            z = jax.nn.sigmoid(xw_t[:, :u] + hu[:, :u])
            r = jax.nn.sigmoid(xw_t[:, u : 2 * u] + hu[:, u : 2 * u])
            n = jnp.tanh(xw_t[:, 2 * u :] + r * hu[:, 2 * u :])
            h = z * h + (1.0 - z) * n
            return h, h

        h0 = jnp.zeros((xw.shape[0], u), xw.dtype)
        _, hs = jax.lax.scan(step, h0, jnp.swapaxes(xw, 0, 1), unroll=unroll)
        return jnp.swapaxes(hs, 0, 1)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.recur(self.project(x))  # one matmul for the inputs of all steps

    def restarted(self, xs: Sequence[jax.Array]) -> list[jax.Array]:
        r"""The recurrence from h = 0 over per-step projected inputs ``xs[j]`` of shape (B, 3u)
        -> the states after each step, a list of (B, units); a straight-line program.

        The equations of :meth:`recur`, with two exact rewrites for speed in inference: the
        first step skips :math:`hU` since h = 0 there (0·U + b_h = b_h and z·0 = 0 exactly),
        one matmul in ``len(xs)`` fewer; and :math:`\sigma(a) = (1 + \tanh(a/2))/2`, one
        tanh in place of an exp and a division (equal in exact arithmetic; in float32 the two
        differ by about one ulp, and XLA's CPU tanh is the cheaper). Taking the inputs as
        separate arrays lets the caller pass views of one sequence (window i reads
        ``xw[i + j]`` at step j) instead of gathered windows."""
        u = self.units
        uk, bh = self.recurrent_kernel[...], self.bias[1]

        def sigmoid(a: jax.Array) -> jax.Array:
            return 0.5 + 0.5 * jnp.tanh(0.5 * a)

        states: list[jax.Array] = []
        for xw_t in xs:
            hu = bh if not states else states[-1] @ uk + bh
            z = sigmoid(xw_t[:, :u] + hu[..., :u])
            r = sigmoid(xw_t[:, u : 2 * u] + hu[..., u : 2 * u])
            n = jnp.tanh(xw_t[:, 2 * u :] + r * hu[..., 2 * u :])
            states.append((1.0 - z) * n if not states else z * states[-1] + (1.0 - z) * n)
        return states


class ConvRecurrent(nnx.Module):
    """Conv1D stack -> GRU/LSTM stack -> Dense(1) on the last hidden state; (B, w, F) -> (B,).

    With ``filters=()`` this is a pure recurrent net (the GRU/LSTM baselines).
    """

    def __init__(
        self,
        *,
        n_features: int = N_FEATURES,
        filters: Sequence[int] = TEACHER_FILTERS,
        units: Sequence[int] = TEACHER_UNITS,
        kernel_size: int = KERNEL_SIZE,
        cell: str = "gru",
        dropout: float = 0.0,
        rngs: nnx.Rngs,
    ):
        if cell not in ("gru", "lstm"):
            raise ValueError(f"ConvRecurrent: cell must be 'gru' or 'lstm', got {cell!r}")
        if not units:
            raise ValueError("ConvRecurrent: need at least one recurrent layer (units)")
        widths = [n_features, *filters]
        self.convs = nnx.List(
            [Conv1D(a, b, kernel_size, rngs=rngs) for a, b in zip(widths, widths[1:], strict=False)]
        )
        layer = GRU if cell == "gru" else LSTM
        widths = [widths[-1], *units]
        self.rnns = nnx.List(
            [layer(a, b, rngs=rngs) for a, b in zip(widths, widths[1:], strict=False)]
        )
        self.dropout = nnx.Dropout(dropout, rngs=rngs)
        self.head = nnx.Linear(units[-1], 1, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        for conv in self.convs:
            x = conv(x)
        for rnn in self.rnns:
            x = rnn(x)
        return self.head(self.dropout(x[:, -1, :]))[:, 0]

    def sliding(self, seq: jax.Array, *, window: int, chunks: int = 1) -> jax.Array:
        """Outputs of every window of ``window`` steps of one sequence (L, F) -> (L - w + 1,).

        Equal to ``self(windows)`` with ``windows[i] = seq[i:i+w]``, but the convolutions and
        the first recurrent layer's input projection x W + b (position-wise, so the same in
        every window) are computed once on the whole sequence; only the recurrences, which
        restart at each window's start, run per window, as a straight-line program (short
        fixed length, :meth:`GRU.restarted`). Step j of all windows reads the contiguous rows
        ``xw[j : j + n_windows]`` of the projected sequence, so no window is gathered or copied.
        ``chunks`` > 1 splits the windows into that many contiguous groups whose recurrences
        are independent chains of operations (the XLA CPU runtime may run them on different
        cores); the numbers are the same. A pure function of the parameters: it vmaps over
        stacked members (:class:`..estimator.NeuralInverse` runs its ensemble as one call).
        """
        x = seq[None]
        for conv in self.convs:
            x = conv(x)
        width = window - (seq.shape[0] - x.shape[1])  # window length after the convolutions
        xw = self.rnns[0].project(x[0])  # (L', gates)
        n = xw.shape[0] - width + 1
        if not isinstance(self.rnns[0], GRU):  # LSTM baseline: gathered windows
            idx = jnp.arange(n)[:, None] + jnp.arange(width)[None, :]
            h = self.rnns[0].recur(xw[idx], unroll=True)  # (n_windows, width, units)
            for rnn in self.rnns[1:]:
                h = rnn.recur(rnn.project(h), unroll=True)
            return self.head(self.dropout(h[:, -1, :]))[:, 0]
        chunks = max(1, min(int(chunks), n))
        bounds = [round(c * n / chunks) for c in range(chunks + 1)]
        last = []
        for a, b in zip(bounds, bounds[1:], strict=False):
            states = self.rnns[0].restarted([xw[a + j : b + j] for j in range(width)])
            for rnn in self.rnns[1:]:
                projected = rnn.project(jnp.stack(states))  # (width, windows, gates): one matmul
                states = rnn.restarted([projected[j] for j in range(width)])
            last.append(states[-1])
        h = last[0] if len(last) == 1 else jnp.concatenate(last)
        return self.head(self.dropout(h))[:, 0]


class CNN(nnx.Module):
    """Conv1D stack -> flatten -> Dense(1) (the CNN baseline); (B, w, F) -> (B,)."""

    def __init__(
        self,
        *,
        window: int,
        n_features: int = N_FEATURES,
        filters: Sequence[int] = BASELINE_SPECS["cnn"]["filters"],
        kernel_size: int = KERNEL_SIZE,
        dropout: float = 0.0,
        rngs: nnx.Rngs,
    ):
        widths = [n_features, *filters]
        self.convs = nnx.List(
            [Conv1D(a, b, kernel_size, rngs=rngs) for a, b in zip(widths, widths[1:], strict=False)]
        )
        length = window - len(filters) * (kernel_size - 1)
        if length < 1:
            raise ValueError(f"CNN: window {window} too short for {len(filters)} convolutions")
        self.dropout = nnx.Dropout(dropout, rngs=rngs)
        self.head = nnx.Linear(length * filters[-1], 1, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        for conv in self.convs:
            x = conv(x)
        return self.head(self.dropout(x.reshape(x.shape[0], -1)))[:, 0]


def make_model(
    name: str, *, seed: int, window: int = DEFAULT_WINDOW, n_features: int = N_FEATURES
) -> nnx.Module:
    """Build ``name`` in {teacher, student, cnn, gru, lstm}, parameters drawn from ``seed``."""
    rngs = nnx.Rngs(seed)
    if name == "teacher":
        return ConvRecurrent(n_features=n_features, rngs=rngs)
    if name == "student":
        return ConvRecurrent(
            n_features=n_features, filters=STUDENT_FILTERS, units=STUDENT_UNITS, rngs=rngs
        )
    if name == "cnn":
        return CNN(window=window, n_features=n_features, rngs=rngs)
    if name in ("gru", "lstm"):
        units = BASELINE_SPECS[name]["units"]
        return ConvRecurrent(n_features=n_features, filters=(), units=units, cell=name, rngs=rngs)
    raise ValueError(f"make_model: unknown model {name!r}; use teacher, student, cnn, gru, lstm")


def conv_gru_param_count(
    *, filters: Sequence[int], units: Sequence[int], n_features: int = N_FEATURES, k: int = 4
) -> int:
    """Keras count of Conv1D stack + GRU stack + Dense(1) (formulas in the module docstring)."""
    total, width = 0, n_features
    for f in filters:
        total += k * width * f + f
        width = f
    for u in units:
        total += 3 * (u * (u + width) + 2 * u)
        width = u
    return total + width + 1


def student_sizes(
    fraction: float, *, n_features: int = N_FEATURES, teacher_params: int | None = None
) -> tuple[int, int]:
    """(filters, units) of a one-conv one-GRU student with ``fraction`` of the teacher's parameters.

    Filters and units are scaled together from Table 4's 148:90 ratio, ``(round(148 s),
    round(90 s))``, and ``s`` is found by bisection so the Keras count is closest to
    ``fraction · teacher_params`` (default: our teacher's count).
    """
    if not 0.0 < fraction <= 1.5:
        raise ValueError(f"student_sizes: fraction must be in (0, 1.5], got {fraction}")
    if teacher_params is None:
        teacher_params = conv_gru_param_count(
            filters=TEACHER_FILTERS, units=TEACHER_UNITS, n_features=n_features
        )
    target = fraction * teacher_params

    def sizes(s: float) -> tuple[int, int]:
        return max(1, round(STUDENT_FILTERS[0] * s)), max(1, round(STUDENT_UNITS[0] * s))

    def count(s: float) -> int:
        return count_fu(sizes(s))

    def count_fu(fu: tuple[int, int]) -> int:
        return conv_gru_param_count(filters=(fu[0],), units=(fu[1],), n_features=n_features)

    lo, hi = 1e-3, 10.0
    for _ in range(60):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if count(mid) < target else (lo, mid)
    return min((sizes(lo), sizes(hi)), key=lambda fu: abs(count_fu(fu) - target))


def make_student(
    fraction: float, *, seed: int, n_features: int = N_FEATURES, teacher_params: int | None = None
) -> ConvRecurrent:
    """A one-conv one-GRU student with about ``fraction`` of the teacher's parameter count."""
    f, u = student_sizes(fraction, n_features=n_features, teacher_params=teacher_params)
    return ConvRecurrent(n_features=n_features, filters=(f,), units=(u,), rngs=nnx.Rngs(seed))


def parameter_table(
    *, window: int = DEFAULT_WINDOW, n_features: int = N_FEATURES
) -> list[dict[str, int | str]]:
    """Rows ``{"model", "ours", "paper"}`` for cnn, gru, lstm, teacher, student (Tables 1, 2, 4)."""
    rows = []
    for name in ("cnn", "gru", "lstm", "teacher", "student"):
        model = nnx.eval_shape(
            lambda name=name: make_model(name, seed=0, window=window, n_features=n_features)
        )
        rows.append({"model": name, "ours": count_parameters(model), "paper": PAPER_PARAMS[name]})
    return rows

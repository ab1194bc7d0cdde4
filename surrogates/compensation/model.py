r"""The pretrained BiLSTM compensator of paper 001 (Table 1) and its structural expansions (§2.3.2).

Keras-compatible layers written as Flax NNX modules:

* :class:`surrogates.layers.LSTM` — Keras LSTM, the one LSTM of millheat, shared with the IHCP
  networks (gates i, f, c, o; ``kernel`` (in, 4u), ``recurrent_kernel``
  (u, 4u), one ``bias`` (4u) with forget bias 1), so its parameter count is Keras'
  :math:`4\,(u\,(u+\text{in})+u)`:

  .. math:: i,f,o=\sigma(\cdot),\ \tilde c=\tanh(\cdot),\ c_t=f c_{t-1}+i\tilde c,\
            h_t=o\tanh c_t,\quad [\cdot]=x_tW+h_{t-1}U+b.

* :class:`BiLSTM` — forward and backward LSTM, outputs concatenated (Keras ``merge_mode="concat"``).
* :class:`Dense` — affine, linear activation (Keras default), Glorot-uniform kernel, zero bias.

:class:`CompensationNet` maps temperature rises (batch, 1, 3) in °C to the Z drift (batch,) in µm:
``x/INPUT_SCALE_C → [insert I] → bidirectional (3 units, sequences) → [insert II] →
bidirectional_1 (3 units) → [insert III] → dropout → regression_head_1 Dense(1) → [insert IV]
→ ×OUTPUT_SCALE_UM``. Without inserts: 168 + 240 + 7 = 415 parameters (Table 1).

Generalisations beyond the paper (defaults reproduce it): ``n_inputs`` features per step (any
machine's CSV may give another number of temperature-sensitive points, or a spindle-speed input);
any sequence length (a *window* of past samples, ``(batch, W, n_inputs)``, which is what lets the
LSTMs model thermal lag: with the paper's length-1 input the network is a static map); input and
output scales as fixed, non-trainable constants of the graph.

Insert layers keep the width at their position (I: n_inputs features per step, II: 6 per step,
III: 6, IV: 1), so pretrained weights transfer unchanged: "dense" is Dense(width), "lstm" a
unidirectional LSTM(width) (Table 2 says "LSTM layer"; a bidirectional one cannot keep an odd
width). At III and IV, where the sequence axis is gone, the LSTM reads its input as a length-1
sequence. The paper does not give the dropout rate; 0.25 (one of AutoKeras' choices, §2.2.2)
is the default. The fixed input/output scales (5 °C, 10 µm) play the role of Keras'
normalisation and are not trainable.
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
from flax import nnx

from surrogates.layers import LSTM

POSITIONS: tuple[str, ...] = ("I", "II", "III", "IV")
INSERT_KINDS: tuple[str, ...] = ("none", "dense", "lstm")
PRETRAINED_LAYERS: tuple[str, ...] = ("bidirectional", "bidirectional_1", "regression_head_1")
INPUT_SCALE_C = 5.0
OUTPUT_SCALE_UM = 10.0
_WIDTH = {"I": 3, "II": 6, "III": 6, "IV": 1}

Structure = tuple[str, str, str, str]


def all_structures() -> list[Structure]:
    """The 3^4 − 1 = 80 insertion structures of Eq. (6) (kinds at positions I–IV)."""
    return [s for s in itertools.product(INSERT_KINDS, repeat=4) if any(k != "none" for k in s)]


def structure_label(structure: Structure) -> str:
    """Readable label, e.g. ("none", "lstm", "none", "dense") -> "II:lstm+IV:dense"."""
    parts = [f"{p}:{k}" for p, k in zip(POSITIONS, structure, strict=True) if k != "none"]
    return "+".join(parts) if parts else "pretrained"


def _glorot(key: jax.Array, shape: tuple[int, int]) -> jax.Array:
    return jax.nn.initializers.glorot_uniform()(key, shape, jnp.float32)


class Dense(nnx.Module):
    """Affine layer ``y = x @ kernel + bias`` on the last axis; (in+1)·out parameters."""

    def __init__(self, in_features: int, out_features: int, *, rngs: nnx.Rngs):
        self.kernel = nnx.Param(_glorot(rngs.params(), (in_features, out_features)))
        self.bias = nnx.Param(jnp.zeros((out_features,), jnp.float32))

    def __call__(self, x: jax.Array) -> jax.Array:
        return x @ self.kernel[...] + self.bias[...]


class BiLSTM(nnx.Module):
    """Bidirectional LSTM, outputs concatenated: (batch, T, in) -> (batch, T, 2u) or (batch, 2u)."""

    def __init__(self, in_features: int, units: int, *, return_sequences: bool, rngs: nnx.Rngs):
        self.forward_layer = LSTM(in_features, units, rngs=rngs)
        self.backward_layer = LSTM(in_features, units, rngs=rngs)
        self.return_sequences = return_sequences

    def __call__(self, x: jax.Array) -> jax.Array:
        fwd = self.forward_layer(x)
        bwd = jnp.flip(self.backward_layer(jnp.flip(x, axis=1)), axis=1)
        if self.return_sequences:
            return jnp.concatenate([fwd, bwd], axis=-1)
        return jnp.concatenate([fwd[:, -1], bwd[:, 0]], axis=-1)


class InsertLSTM(nnx.Module):
    """Unidirectional LSTM(width) keeping the width; reads 2-D input as a length-1 sequence."""

    def __init__(self, width: int, *, rngs: nnx.Rngs):
        self.cell = LSTM(width, width, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        if x.ndim == 2:
            return self.cell(x[:, None, :])[:, 0]
        return self.cell(x)


class CompensationNet(nnx.Module):
    """Pretrained network of Table 1 plus optional inserts at positions I–IV.

    Args:
        structure: kind ("none"/"dense"/"lstm") at positions I, II, III, IV.
        dropout: rate of the Dropout layer (training only).
        rngs: parameter initialisation.

    Call ``model(x, dropout_key=None)`` with ``x`` (batch, window, n_inputs) temperature rises in
    °C (the paper: (batch, 1, 3)); returns
    the Z drift (batch,) in µm. Dropout is applied only when ``dropout_key`` is given.
    """

    def __init__(
        self,
        structure: Structure = ("none", "none", "none", "none"),
        *,
        dropout: float = 0.25,
        n_inputs: int = 3,
        input_scale: float = INPUT_SCALE_C,
        output_scale: float = OUTPUT_SCALE_UM,
        rngs: nnx.Rngs,
    ):
        structure = tuple(structure)
        if len(structure) != 4 or any(k not in INSERT_KINDS for k in structure):
            raise ValueError(
                f"CompensationNet: structure must be 4 of {INSERT_KINDS}, got {structure!r}"
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"CompensationNet: dropout must be in [0, 1), got {dropout}")
        if n_inputs < 1 or not input_scale > 0 or not output_scale > 0:
            raise ValueError(
                f"CompensationNet: need n_inputs >= 1 and positive scales, got {n_inputs}, "
                f"{input_scale}, {output_scale}"
            )
        self.structure = structure
        self.dropout = dropout
        self.n_inputs = int(n_inputs)
        self.input_scale = float(input_scale)
        self.output_scale = float(output_scale)
        inserts = dict(zip(POSITIONS, structure, strict=True))
        widths = {**_WIDTH, "I": self.n_inputs}

        def insert(pos: str) -> None:
            kind, width = inserts[pos], widths[pos]
            if kind == "dense":
                setattr(self, f"insert_{pos}", Dense(width, width, rngs=rngs))
            elif kind == "lstm":
                setattr(self, f"insert_{pos}", InsertLSTM(width, rngs=rngs))

        insert("I")
        self.bidirectional = BiLSTM(self.n_inputs, 3, return_sequences=True, rngs=rngs)
        insert("II")
        self.bidirectional_1 = BiLSTM(6, 3, return_sequences=False, rngs=rngs)
        insert("III")
        self.regression_head_1 = Dense(6, 1, rngs=rngs)
        insert("IV")

    def _maybe(self, pos: str, x: jax.Array) -> jax.Array:
        layer = getattr(self, f"insert_{pos}", None)
        return x if layer is None else layer(x)

    def __call__(self, x: jax.Array, *, dropout_key: jax.Array | None = None) -> jax.Array:
        if x.ndim != 3 or x.shape[2] != self.n_inputs:
            raise ValueError(
                f"CompensationNet: input must be (batch, window, {self.n_inputs}), got {x.shape}"
            )
        h = self._maybe("I", x / self.input_scale)
        h = self.bidirectional(h)
        h = self._maybe("II", h)
        h = self.bidirectional_1(h)
        h = self._maybe("III", h)
        if dropout_key is not None and self.dropout > 0.0:
            keep = jax.random.bernoulli(dropout_key, 1.0 - self.dropout, h.shape)
            h = jnp.where(keep, h / (1.0 - self.dropout), 0.0)
        h = self.regression_head_1(h)
        h = self._maybe("IV", h)
        return h[:, 0] * self.output_scale


def net_options(model: CompensationNet) -> dict:
    """Constructor options of ``model`` besides the structure (to rebuild the same graph)."""
    return {
        "dropout": model.dropout,
        "n_inputs": model.n_inputs,
        "input_scale": model.input_scale,
        "output_scale": model.output_scale,
    }


def keras_lstm_params(units: int, in_features: int) -> int:
    """Keras' count for one LSTM: 4·(units·(units+in) + units)."""
    return 4 * (units * (units + in_features) + units)


def layer_parameter_counts(model: CompensationNet) -> dict[str, int]:
    """Trainable scalars per top-level layer name (e.g. ``{"bidirectional": 168, ...}``)."""
    state = nnx.state(model, nnx.Param).to_pure_dict()
    return {
        name: int(sum(a.size for a in jax.tree_util.tree_leaves(sub)))
        for name, sub in state.items()
    }

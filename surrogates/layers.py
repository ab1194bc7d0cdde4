r"""Keras-compatible recurrent layers shared by the IHCP networks and the compensation models.

:class:`LSTM` is Keras' ``LSTM`` as a Flax NNX module, the one LSTM of millheat: parameters
``kernel`` (in, 4u) (Glorot uniform), ``recurrent_kernel`` (u, 4u) (orthogonal) and one ``bias``
(4u) with the forget-gate part initialised to 1 (``unit_forget_bias``), gates in Keras' order
i, f, c, o, so its parameter count is Keras' :math:`4\,(u\,(u+\text{in})+u)`:

.. math:: [i, f, \tilde c, o] = x_t W + h_{t-1} U + b,\quad
          c_t = \sigma(f)\, c_{t-1} + \sigma(i) \tanh(\tilde c),\quad
          h_t = \sigma(o) \tanh(c_t),

from :math:`h_0 = c_0 = 0`, returning the whole sequence (batch, T, in) → (batch, T, u). The
input projection of every step is one matmul (:meth:`LSTM.project`), the recurrence a
``lax.scan`` (:meth:`LSTM.recur`; a length-1 sequence skips the scan, which is what the paper-001
compensator's (1, 3) input is).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx


class LSTM(nnx.Module):
    """Keras LSTM (gates i, f, c, o) returning the full sequence (B, T, in) -> (B, T, units)."""

    def __init__(self, in_features: int, units: int, *, rngs: nnx.Rngs):
        self.units = units
        self.kernel = nnx.Param(
            nnx.initializers.glorot_uniform()(rngs.params(), (in_features, 4 * units), jnp.float32)
        )
        self.recurrent_kernel = nnx.Param(
            nnx.initializers.orthogonal()(rngs.params(), (units, 4 * units), jnp.float32)
        )
        self.bias = nnx.Param(jnp.zeros((4 * units,), jnp.float32).at[units : 2 * units].set(1.0))

    def project(self, x: jax.Array) -> jax.Array:
        """Input part of all gates, x W + b: (..., T, in) -> (..., T, 4u); no recurrence."""
        return x @ self.kernel[...] + self.bias[...]

    def recur(self, xw: jax.Array, *, unroll: int | bool = 1) -> jax.Array:
        """The recurrence from h = c = 0 over projected inputs (B, T, 4u) -> (B, T, units).

        ``unroll`` is passed to ``lax.scan`` (``True``: a straight-line program; faster inference
        on CPU for short windows, longer compile; training keeps the loop)."""
        u = self.units
        uk = self.recurrent_kernel[...]

        def step(carry, xw_t):
            h, c = carry
            g = xw_t + h @ uk
            i, f = jax.nn.sigmoid(g[..., :u]), jax.nn.sigmoid(g[..., u : 2 * u])
            c = f * c + i * jnp.tanh(g[..., 2 * u : 3 * u])
            h = jax.nn.sigmoid(g[..., 3 * u :]) * jnp.tanh(c)
            return (h, c), h

        zeros = jnp.zeros((xw.shape[0], u), xw.dtype)
        if xw.shape[1] == 1:  # one step: no scan needed
            _, h = step((zeros, zeros), xw[:, 0])
            return h[:, None, :]
        _, hs = jax.lax.scan(step, (zeros, zeros), jnp.swapaxes(xw, 0, 1), unroll=unroll)
        return jnp.swapaxes(hs, 0, 1)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.recur(self.project(x))

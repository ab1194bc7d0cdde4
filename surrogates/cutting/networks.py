r"""The two chained feed-forward networks of paper 002 (§3, Table 3).

Network 1 maps the encoded inputs x (shape (n, d)) to the standardised ln Vc:

.. math::  h_1 = \sigma(W_1 x + b_1),\ h_2 = \sigma(W_2 h_1 + b_2),\ h_3 = W_3 h_2 + b_3,
           \ \hat z_{vc} = w_o^\top h_3 + b_o

(hidden layers 7 sigmoid, 7 sigmoid, 7 linear as in Table 3). Network 2 maps
:math:`[x, z_{vc}]` (shape (n, d + 1)) through 8 sigmoid, 8 sigmoid hidden units to the
standardised ln Vf. Both output layers are linear (the paper's output format is a real speed).

Optional linear shortcut (``skip=True``, this toolkit's default training since issue 16): the
output adds :math:`w_s^\top x` (no bias, zero at initialisation), so each network is a
log-linear model plus a sigmoid correction. The handbook is multiplicative in its factors (a
log-linear function of the one-hot inputs); without the shortcut the Table 3 sigmoid networks
must build that additive map from saturating units out of ~5 training rows per material, and
they fit the bulk of the rows less exactly than a plain log-linear regression (lower GF).

Chaining (:func:`chained_predict`): at prediction time network 2 receives network 1's
*prediction* :math:`\hat z_{vc}`, never the handbook Vc. During training network 2 sees the
handbook Vc, as the paper describes ("the second network uses the set of training data plus the
correspondent cutting speed values").
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from surrogates.training import predict

ACTIVATIONS = {"sigmoid": jax.nn.sigmoid, "linear": lambda h: h, "tanh": jnp.tanh}

#: Table 3 of paper 002: (hidden sizes, activations) of network 1 (Vc) and network 2 (Vf).
VC_HIDDEN, VC_ACTIVATIONS = (7, 7, 7), ("sigmoid", "sigmoid", "linear")
VF_HIDDEN, VF_ACTIVATIONS = (8, 8), ("sigmoid", "sigmoid")


class MLP(nnx.Module):
    """Fully connected network with per-layer activations and one linear output.

    Args:
        in_features: input width d.
        hidden: hidden-layer sizes, e.g. (7, 7, 7).
        activations: one name per hidden layer from :data:`ACTIVATIONS`.
        rngs: Flax random streams for the initial weights.

    Calling it on x of shape (n, d) returns shape (n,).
    """

    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int],
        activations: Sequence[str],
        *,
        rngs: nnx.Rngs,
        skip: bool = False,
    ) -> None:
        if len(hidden) != len(activations) or not hidden:
            raise ValueError(f"need one activation per hidden layer: {hidden} vs {activations}")
        unknown = [a for a in activations if a not in ACTIVATIONS]
        if unknown or any(int(h) < 1 for h in hidden) or in_features < 1:
            raise ValueError(
                f"bad MLP spec: in_features={in_features}, hidden={hidden}, "
                f"activations={activations}; activations must be in {sorted(ACTIVATIONS)}"
            )
        sizes = [in_features, *map(int, hidden)]
        self.layers = nnx.List(
            [nnx.Linear(a, b, rngs=rngs) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
        )
        self.activations = tuple(activations)
        self.out = nnx.Linear(sizes[-1], 1, rngs=rngs)
        # optional linear shortcut x -> output (zero at initialisation), see module docstring
        self.skip = (
            nnx.Linear(
                in_features, 1, use_bias=False, kernel_init=nnx.initializers.zeros, rngs=rngs
            )
            if skip
            else None
        )
        self.deterministic = False

    def set_view(self, deterministic: bool | None = None) -> None:
        """Accept the shared loop's train/eval switch (``nnx.view(..., deterministic=...)``).

        The network has no dropout, so the flag changes nothing in the computation; without this
        hook ``nnx.view`` rejects the key for a module that holds no Dropout.
        """
        if deterministic is not None:
            self.deterministic = deterministic

    def __call__(self, x: jax.Array) -> jax.Array:
        h = x
        for layer, act in zip(self.layers, self.activations, strict=True):
            h = ACTIVATIONS[act](layer(h))
        y = self.out(h)[:, 0]
        return y if self.skip is None else y + self.skip(x)[:, 0]


def vc_network(
    in_features: int,
    *,
    seed: int,
    hidden: Sequence[int] = VC_HIDDEN,
    activations: Sequence[str] | None = None,
    skip: bool = False,
) -> MLP:
    """Network 1 (Vc). Default Table 3: 7 sig - 7 sig - 7 lin; other sizes get sigmoid layers
    with a linear last hidden layer when there are three."""
    if activations is None:
        activations = VC_ACTIVATIONS if tuple(hidden) == VC_HIDDEN else _default_acts(hidden)
    return MLP(in_features, hidden, activations, rngs=nnx.Rngs(seed), skip=skip)


def vf_network(
    in_features: int,
    *,
    seed: int,
    hidden: Sequence[int] = VF_HIDDEN,
    activations: Sequence[str] | None = None,
    skip: bool = False,
) -> MLP:
    """Network 2 (Vf); ``in_features`` includes the Vc column. Default Table 3: 8 sig - 8 sig."""
    if activations is None:
        activations = ("sigmoid",) * len(hidden)
    return MLP(in_features, hidden, activations, rngs=nnx.Rngs(seed), skip=skip)


def _default_acts(hidden: Sequence[int]) -> tuple[str, ...]:
    acts = ["sigmoid"] * len(hidden)
    if len(hidden) == 3:
        acts[-1] = "linear"
    return tuple(acts)


def append_vc(x: np.ndarray, z_vc: np.ndarray) -> np.ndarray:
    """Network 2 input: x (n, d) with the encoded Vc (n,) appended -> (n, d + 1), float32."""
    x = np.asarray(x, dtype=np.float32)
    z_vc = np.asarray(z_vc, dtype=np.float32).reshape(-1, 1)
    if z_vc.shape[0] != x.shape[0]:
        raise ValueError(f"x has {x.shape[0]} rows but z_vc has {z_vc.shape[0]}")
    return np.concatenate([x, z_vc], axis=1)


def chained_predict(net_vc: nnx.Module, net_vf: nnx.Module, x: np.ndarray) -> tuple:
    """Chained prediction: z_vc = net_vc(x); z_vf = net_vf([x, z_vc]).

    Returns:
        (z_vc, z_vf), both numpy arrays of shape (n,) in the standardised log scale.
    """
    z_vc = np.asarray(predict(net_vc, jnp.asarray(x, dtype=jnp.float32)))
    z_vf = np.asarray(predict(net_vf, jnp.asarray(append_vc(x, z_vc))))
    return z_vc, z_vf

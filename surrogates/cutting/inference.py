r"""NumPy forward pass of a trained cutting-condition network (no JAX import).

The recommender answers one query at a time from the command line; importing JAX and compiling
the two tiny networks costs seconds, the arithmetic microseconds. :class:`DenseStack` holds a
copy of an :class:`~surrogates.cutting.networks.MLP`'s weights and evaluates the same map

.. math::  h_0 = x,\quad h_l = \phi_l(h_{l-1} W_l + b_l)\ (l = 1..L),\quad
           y = h_L w_o + b_o\ [+\ x\,w_s]

(the last term only for networks with the linear shortcut) in float64, x of shape (n, d) -> y
of shape (n,) (Flax ``Linear`` stores W as (d_in, d_out)).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

ACTIVATIONS_NP = {
    "sigmoid": lambda h: 1.0 / (1.0 + np.exp(-h)),
    "linear": lambda h: h,
    "tanh": np.tanh,
}


@dataclass(frozen=True)
class DenseStack:
    """Weights of an MLP: ``kernels[l]`` (d_in, d_out), ``biases[l]`` (d_out,); the last pair
    is the linear output layer, ``activations`` has one entry per hidden layer."""

    kernels: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    activations: tuple[str, ...]
    skip: np.ndarray | None = None  # (d, 1) kernel of the linear shortcut, or None

    def __post_init__(self) -> None:
        if len(self.kernels) != len(self.biases) or len(self.kernels) != len(self.activations) + 1:
            raise ValueError("DenseStack needs one kernel and bias per hidden layer plus output")
        for a, b in zip(self.kernels[:-1], self.kernels[1:], strict=True):
            if a.shape[1] != b.shape[0]:
                raise ValueError(f"kernel shapes do not chain: {a.shape} then {b.shape}")
        if self.kernels[-1].shape[1] != 1:
            raise ValueError(f"output kernel must have one column, got {self.kernels[-1].shape}")
        if self.skip is not None and self.skip.shape != (self.kernels[0].shape[0], 1):
            raise ValueError(
                f"skip kernel must be ({self.kernels[0].shape[0]}, 1), got {self.skip.shape}"
            )
        unknown = [a for a in self.activations if a not in ACTIVATIONS_NP]
        if unknown:
            raise ValueError(f"unknown activations {unknown}; expected {sorted(ACTIVATIONS_NP)}")

    @property
    def in_features(self) -> int:
        """Input width d."""
        return int(self.kernels[0].shape[0])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Forward pass; x (n, d) -> (n,)."""
        x = h = np.asarray(x, dtype=float)
        if h.ndim != 2 or h.shape[1] != self.in_features:
            raise ValueError(f"input must have shape (n, {self.in_features}), got {h.shape}")
        for kernel, bias, act in zip(self.kernels, self.biases, self.activations, strict=False):
            h = ACTIVATIONS_NP[act](h @ kernel + bias)
        y = (h @ self.kernels[-1] + self.biases[-1])[:, 0]
        return y if self.skip is None else y + (x @ self.skip)[:, 0]

    @classmethod
    def from_module(cls, net: Any) -> DenseStack:
        """Copy the weights of a :class:`~surrogates.cutting.networks.MLP`."""
        layers = [*net.layers, net.out]
        return cls(
            kernels=tuple(np.array(layer.kernel[...], dtype=float) for layer in layers),
            biases=tuple(np.array(layer.bias[...], dtype=float) for layer in layers),
            activations=tuple(net.activations),
            skip=None
            if getattr(net, "skip", None) is None
            else np.array(net.skip.kernel[...], dtype=float),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (float32-trained values are exact in float64 lists)."""
        out = {
            "activations": list(self.activations),
            "kernels": [k.tolist() for k in self.kernels],
            "biases": [b.tolist() for b in self.biases],
        }
        if self.skip is not None:
            out["skip"] = self.skip.tolist()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DenseStack:
        """Inverse of :meth:`to_dict`."""
        return cls(
            kernels=tuple(np.asarray(k, dtype=float).reshape(len(k), -1) for k in data["kernels"]),
            biases=tuple(np.asarray(b, dtype=float) for b in data["biases"]),
            activations=tuple(data["activations"]),
            skip=None
            if data.get("skip") is None
            else np.asarray(data["skip"], float).reshape(-1, 1),
        )


def chain(net_vc: DenseStack, net_vf: DenseStack, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Chained prediction in NumPy: z_vc = net_vc(x), z_vf = net_vf([x, z_vc]); shapes (n,)."""
    z_vc = net_vc(x)
    z_vf = net_vf(np.concatenate([np.asarray(x, dtype=float), z_vc[:, None]], axis=1))
    return z_vc, z_vf

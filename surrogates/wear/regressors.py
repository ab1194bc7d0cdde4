r"""Tree-free regressors in JAX/Flax/Optax, fit/predict style (paper 003 §4.5, Table 7).

The paper's ten base models include six tree models (DT, RF, extra trees, XGB, LGBM, AdaBoost);
this toolkit uses none. Its four other models and a few classical tree-free ones are here; all
take inputs x (N, F) (already z-scored) and targets y (N,) and standardise y internally
(:math:`\tilde y = (y - \bar y)/s_y`), so hyper-parameters are unit-free:

* :class:`Ridge` — :math:`\min_w \|\tilde y - Xw - b\|^2 + \alpha\|w\|^2`, closed form
  :math:`w = (X_c^T X_c + \alpha I)^{-1} X_c^T \tilde y_c` (α = 0: least squares).
* :class:`SGDLinear` — the same linear model trained by mini-batch SGD with momentum on the squared
  loss, L2 weight decay α (the paper's "SGD").
* :class:`LinearSVR` — linear model, ε-insensitive loss :math:`\max(0, |r| - \varepsilon)` and
  weight decay, Adam (the paper's "LSVR").
* :class:`KernelSVR` — :math:`f(x) = \sum_i \beta_i k(x, x_i) + b`, RBF kernel
  :math:`k = \exp(-\gamma\|x - x'\|^2 / F)` on the training points, ε-insensitive loss and weight
  decay on β, full-batch Adam: an SVR-like primal fit, not the SMO dual of libsvm ("SVR").
* :class:`KernelRidge` — :math:`\beta = (K + \alpha I)^{-1}\tilde y`, same RBF kernel.
* :class:`GaussianProcess` — RBF covariance :math:`s^2 k_\ell + \sigma_n^2 I`; the length
  scale, signal and noise variances maximise the log marginal likelihood (Rasmussen & Williams,
  eq. 5.8) with Adam on their logarithms; the prediction is the posterior mean.
* :class:`KNN` — mean of the k nearest training targets (Euclidean), uniform or 1/d weights.
* :class:`MLP` — ReLU multilayer perceptron with dropout, Adam with weight decay, trained with
  :func:`surrogates.training.fit`, keeping the best epoch on a seeded 15 % validation split of the
  training data (the paper's "MLP").

Gradient-trained models use :func:`surrogates.training.fit`; every random choice takes ``seed``.
The convex ones (SGD, linear and kernel SVR) pass their training set as ``val`` so that ``fit``
keeps the epoch of lowest training loss: without ``val``, ``fit`` of this revision keeps the
*first* epoch (its "keep the last epoch" branch compares -inf < -inf), reported to the lead.
The linear and kernel SVR use full-batch steps (one compiled step per epoch).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from surrogates.training import TrainConfig, fit, predict


def _as_xy(x: np.ndarray, y: np.ndarray | None = None) -> tuple[jax.Array, jax.Array | None]:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2 or not np.all(np.isfinite(x)):
        raise ValueError(f"regressor input x must be a finite (N, F) array, got shape {x.shape}")
    if y is None:
        return jnp.asarray(x), None
    y = np.asarray(y, dtype=np.float32).reshape(-1)
    if y.shape[0] != x.shape[0] or not np.all(np.isfinite(y)):
        raise ValueError(f"regressor target y must be finite with shape ({x.shape[0]},)")
    return jnp.asarray(x), jnp.asarray(y)


class Regressor(ABC):
    """Base: standardises y, calls ``_fit(x, y_std)``; ``predict`` undoes the scaling."""

    name = "regressor"

    def fit(self, x: np.ndarray, y: np.ndarray) -> Regressor:
        """Fit on inputs ``x`` (N, F) and targets ``y`` (N,); returns ``self``."""
        xj, yj = _as_xy(x, y)
        self.y_mean_ = float(jnp.mean(yj))
        self.y_std_ = float(jnp.std(yj)) or 1.0
        self._fit(xj, (yj - self.y_mean_) / self.y_std_)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predictions (N,) in the unit of the training targets."""
        if not hasattr(self, "y_mean_"):
            raise RuntimeError(f"{type(self).__name__}.predict called before fit")
        xj, _ = _as_xy(x)
        return np.asarray(self._predict(xj)) * self.y_std_ + self.y_mean_

    @abstractmethod
    def _fit(self, x: jax.Array, y: jax.Array) -> None:
        """Fit on float32 ``x`` (N, F) and standardised targets ``y`` (N,)."""

    @abstractmethod
    def _predict(self, x: jax.Array) -> jax.Array:
        """Standardised predictions (N,) for ``x`` (N, F)."""


def rbf_kernel(a: jax.Array, b: jax.Array, *, gamma: float) -> jax.Array:
    """:math:`\\exp(-\\gamma\\|a_i - b_j\\|^2 / F)`: (Na, F), (Nb, F) -> (Na, Nb)."""
    d2 = jnp.sum(a * a, 1)[:, None] + jnp.sum(b * b, 1)[None, :] - 2.0 * a @ b.T
    return jnp.exp(-gamma * jnp.maximum(d2, 0.0) / a.shape[1])


@dataclass
class Ridge(Regressor):
    """Ridge / least squares, closed form (see module docstring)."""

    alpha: float = 1.0
    name = "ridge"

    def _fit(self, x, y):
        self.x_mean_ = jnp.mean(x, 0)
        xc = x - self.x_mean_
        a = xc.T @ xc + self.alpha * jnp.eye(x.shape[1])
        self.w_ = (
            jnp.linalg.lstsq(a, xc.T @ y)[0] if self.alpha == 0 else jnp.linalg.solve(a, xc.T @ y)
        )

    def _predict(self, x):
        return (x - self.x_mean_) @ self.w_


class _Linear(nnx.Module):
    # The rate-0 dropout is the identity; it gives the module the ``deterministic`` flag that
    # the shared training loop sets through ``nnx.view``.
    def __init__(self, n_in: int, *, rngs: nnx.Rngs):
        self.dense = nnx.Linear(n_in, 1, rngs=rngs)
        self.drop = nnx.Dropout(0.0)

    def __call__(self, x):
        return self.dense(self.drop(x))[:, 0]


def _eps_loss(epsilon: float):
    def loss(pred, target):
        return jnp.mean(jnp.maximum(jnp.abs(pred - target) - epsilon, 0.0))

    return loss


@dataclass
class SGDLinear(Regressor):
    """Linear model, squared loss, SGD with momentum and weight decay ``alpha``."""

    alpha: float = 1e-3
    learning_rate: float = 0.01
    epochs: int = 60
    batch_size: int = 32
    seed: int = 0
    name = "sgd"

    def _fit(self, x, y):
        self.model_ = _Linear(x.shape[1], rngs=nnx.Rngs(self.seed))
        cfg = TrainConfig(epochs=self.epochs, batch_size=self.batch_size, seed=self.seed)
        tx = optax.chain(
            optax.add_decayed_weights(self.alpha), optax.sgd(self.learning_rate, momentum=0.9)
        )
        fit(self.model_, (x, y), config=cfg, val=(x, y), optimizer=tx)

    def _predict(self, x):
        return predict(self.model_, x)


@dataclass
class LinearSVR(Regressor):
    """Linear model, ε-insensitive loss, Adam with weight decay ``alpha``."""

    alpha: float = 1e-3
    epsilon: float = 0.05
    learning_rate: float = 0.05
    epochs: int = 300
    seed: int = 0
    name = "linear_svr"

    def _fit(self, x, y):
        self.model_ = _Linear(x.shape[1], rngs=nnx.Rngs(self.seed))
        cfg = TrainConfig(epochs=self.epochs, batch_size=x.shape[0], seed=self.seed)
        tx = optax.adamw(self.learning_rate, weight_decay=self.alpha)
        loss = _eps_loss(self.epsilon)
        fit(self.model_, (x, y), config=cfg, val=(x, y), optimizer=tx, loss_fn=loss)

    def _predict(self, x):
        return predict(self.model_, x)


class _KernelExpansion(nnx.Module):
    def __init__(self, centres: jax.Array, *, gamma: float):
        self.centres = nnx.Variable(centres)
        self.gamma = gamma
        self.beta = nnx.Param(jnp.zeros((centres.shape[0],)))
        self.bias = nnx.Param(jnp.zeros(()))
        self.drop = nnx.Dropout(0.0)  # identity; see _Linear

    def __call__(self, x):
        k = rbf_kernel(self.drop(x), self.centres[...], gamma=self.gamma)
        return k @ self.beta[...] + self.bias[...]


@dataclass
class KernelSVR(Regressor):
    """RBF kernel expansion on the training points with ε-insensitive loss (SVR-like)."""

    gamma: float = 1.0
    alpha: float = 1e-3
    epsilon: float = 0.05
    learning_rate: float = 0.1
    epochs: int = 200
    seed: int = 0
    name = "kernel_svr"

    def _fit(self, x, y):
        self.model_ = _KernelExpansion(x, gamma=self.gamma)
        cfg = TrainConfig(epochs=self.epochs, batch_size=x.shape[0], seed=self.seed)
        tx = optax.adamw(self.learning_rate, weight_decay=self.alpha)
        loss = _eps_loss(self.epsilon)
        fit(self.model_, (x, y), config=cfg, val=(x, y), optimizer=tx, loss_fn=loss)

    def _predict(self, x):
        return predict(self.model_, x)


@dataclass
class KernelRidge(Regressor):
    """Kernel ridge regression with the RBF kernel, closed form."""

    gamma: float = 1.0
    alpha: float = 0.1
    name = "kernel_ridge"

    def _fit(self, x, y):
        self.x_ = x
        k = rbf_kernel(x, x, gamma=self.gamma)
        self.beta_ = jnp.linalg.solve(k + self.alpha * jnp.eye(x.shape[0]), y)

    def _predict(self, x):
        return rbf_kernel(x, self.x_, gamma=self.gamma) @ self.beta_


def _gp_params(log_params: jax.Array) -> jax.Array:
    """(γ, s², σ_n²) from unconstrained logs; γ in [1e-3, 1e3], σ_n² >= 1e-3 (float32 Cholesky)."""
    gamma = jnp.exp(jnp.clip(log_params[0], -6.9, 6.9))
    return jnp.stack([gamma, jnp.exp(log_params[1]), 1e-3 + jnp.exp(log_params[2])])


def _gp_nll(log_params: jax.Array, x: jax.Array, y: jax.Array) -> jax.Array:
    """Negative log marginal likelihood of a zero-mean GP with RBF covariance (per sample)."""
    gamma, signal, noise = _gp_params(log_params)
    k = signal * rbf_kernel(x, x, gamma=gamma) + noise * jnp.eye(x.shape[0])
    chol = jnp.linalg.cholesky(k)
    alpha = jax.scipy.linalg.cho_solve((chol, True), y)
    n = x.shape[0]
    return (0.5 * y @ alpha + jnp.sum(jnp.log(jnp.diag(chol))) + 0.5 * n * jnp.log(2 * jnp.pi)) / n


@partial(jax.jit, static_argnames=("steps", "learning_rate"))
def _gp_optimise(
    start: jax.Array, x: jax.Array, y: jax.Array, *, steps: int, learning_rate: float
) -> jax.Array:
    """Adam on the log hyper-parameters, ``steps`` iterations in one compiled ``lax.scan``; a
    step whose loss or gradient is not finite is skipped (float32 Cholesky near singularity)."""
    tx = optax.adam(learning_rate)

    def step(carry, _):
        params, state = carry
        value, g = jax.value_and_grad(_gp_nll)(params, x, y)
        updates, new_state = tx.update(g, state)
        ok = jnp.isfinite(value) & jnp.all(jnp.isfinite(g))
        new_params = jnp.where(ok, optax.apply_updates(params, updates), params)
        return (
            new_params,
            jax.tree_util.tree_map(lambda a, b: jnp.where(ok, a, b), new_state, state),
        ), value

    (params, _), _ = jax.lax.scan(step, (start, tx.init(start)), None, length=steps)
    return params


@dataclass
class GaussianProcess(Regressor):
    """GP regression, RBF covariance, hyper-parameters by maximum marginal likelihood."""

    gamma: float = 1.0
    noise: float = 0.1
    steps: int = 100
    learning_rate: float = 0.1
    name = "gaussian_process"

    def _fit(self, x, y):
        start = jnp.log(jnp.array([self.gamma, 1.0, self.noise]))
        params = _gp_optimise(start, x, y, steps=self.steps, learning_rate=self.learning_rate)
        self.gamma_, self.signal_, self.noise_ = (float(v) for v in _gp_params(params))
        k = self.signal_ * rbf_kernel(x, x, gamma=self.gamma_)
        self.beta_ = jnp.linalg.solve(k + self.noise_ * jnp.eye(x.shape[0]), y)
        self.x_ = x

    def _predict(self, x):
        return self.signal_ * rbf_kernel(x, self.x_, gamma=self.gamma_) @ self.beta_


@dataclass
class KNN(Regressor):
    """k-nearest-neighbour regression (uniform or inverse-distance weights)."""

    k: int = 5
    weights: str = "distance"
    name = "knn"

    def _fit(self, x, y):
        if self.weights not in ("uniform", "distance"):
            raise ValueError(f"KNN.weights must be 'uniform' or 'distance', not {self.weights!r}")
        self.x_, self.y_ = x, y

    def _predict(self, x):
        d2 = jnp.sum((x[:, None, :] - self.x_[None, :, :]) ** 2, axis=-1)
        neg, idx = jax.lax.top_k(-d2, min(self.k, self.x_.shape[0]))
        w = jnp.ones_like(neg) if self.weights == "uniform" else 1.0 / (jnp.sqrt(-neg) + 1e-6)
        return jnp.sum(w * self.y_[idx], axis=1) / jnp.sum(w, axis=1)


class _MLPNet(nnx.Module):
    def __init__(self, n_in: int, hidden: tuple[int, ...], dropout: float, *, rngs: nnx.Rngs):
        sizes = (n_in, *hidden)
        self.layers = nnx.List(
            [nnx.Linear(a, b, rngs=rngs) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
        )
        self.drop = nnx.Dropout(dropout, rngs=rngs)
        self.out = nnx.Linear(sizes[-1], 1, rngs=rngs)

    def __call__(self, x):
        for layer in self.layers:
            x = self.drop(jax.nn.relu(layer(x)))
        return self.out(x)[:, 0]


@dataclass
class MLP(Regressor):
    """ReLU MLP trained with Adam(W) by :func:`surrogates.training.fit` (best validation epoch)."""

    hidden: tuple[int, ...] = (64, 32)
    dropout: float = 0.1
    weight_decay: float = 1e-4
    learning_rate: float = 3e-3
    epochs: int = 300
    batch_size: int = 64
    seed: int = 0
    name = "mlp"

    def _fit(self, x, y):
        self.model_ = _MLPNet(
            x.shape[1], tuple(self.hidden), self.dropout, rngs=nnx.Rngs(self.seed)
        )
        order = np.random.default_rng(self.seed).permutation(x.shape[0])
        n_val = max(1, int(round(0.15 * x.shape[0])))
        val, tr = order[:n_val], order[n_val:]
        cfg = TrainConfig(epochs=self.epochs, batch_size=self.batch_size, seed=self.seed)
        tx = optax.adamw(self.learning_rate, weight_decay=self.weight_decay)
        fit(self.model_, (x[tr], y[tr]), config=cfg, val=(x[val], y[val]), optimizer=tx)

    def _predict(self, x):
        return predict(self.model_, x)

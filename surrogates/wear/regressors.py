r"""Tree-free wear regressors (paper 003 §4.5, Table 7): scikit-learn estimators and a JAX MLP.

The paper's ten base models include six tree models (DT, RF, extra trees, XGB, LGBM, AdaBoost);
this toolkit uses none. Its four other models and a few classical tree-free ones are
scikit-learn estimators, each wrapped in :class:`~sklearn.compose.TransformedTargetRegressor`
with a :class:`~sklearn.preprocessing.StandardScaler` on the target, so that the
hyper-parameters are unit-free (inputs arrive z-scored, :mod:`.selection`):

* ``ridge`` — :class:`~sklearn.linear_model.Ridge`,
  :math:`\min_w \|\tilde y - Xw - b\|^2 + \alpha\|w\|^2`.
* ``sgd`` — :class:`~sklearn.linear_model.SGDRegressor`, squared loss, L2 penalty α (the paper's
  "SGD").
* ``linear_svr`` — :class:`~sklearn.svm.LinearSVR`, ε-insensitive loss (the paper's "LSVR").
* ``kernel_svr`` — :class:`~sklearn.svm.SVR` with the RBF kernel (libsvm's dual; the paper's
  "SVR").
* ``kernel_ridge`` — :class:`~sklearn.kernel_ridge.KernelRidge`, RBF kernel.
* ``gaussian_process`` — :class:`~sklearn.gaussian_process.GaussianProcessRegressor`, covariance
  :math:`s^2 k_\ell + \sigma_n^2 I` (``ConstantKernel * RBF + WhiteKernel``), hyper-parameters
  by maximum marginal likelihood (L-BFGS-B, scikit-learn's default); posterior mean.
* ``knn`` — :class:`~sklearn.neighbors.KNeighborsRegressor`.
* ``mlp`` — :class:`MLPRegressor`: a ReLU multilayer perceptron with dropout in Flax, trained by
  :func:`surrogates.training.fit` with AdamW, keeping the best epoch on a seeded 15 % validation
  split of the training data (the paper's "MLP"). It follows the scikit-learn estimator API
  (``BaseEstimator`` + ``RegressorMixin``: ``get_params``/``set_params``, ``fit`` returns
  ``self``, ``predict``), so :class:`~sklearn.model_selection.GridSearchCV`, ``clone`` and
  :class:`~sklearn.ensemble.VotingRegressor` take it like the others.

:func:`model_grids` gives each estimator and its tuning grid. Every random choice takes a seed.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import numpy as np
import optax
from flax import nnx
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.compose import TransformedTargetRegressor
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import Ridge, SGDRegressor
from sklearn.neighbors import KNeighborsRegressor
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR, LinearSVR
from sklearn.utils.validation import check_is_fitted, check_X_y, validate_data

from surrogates.training import TrainConfig, fit, predict


class MLPRegressor(RegressorMixin, BaseEstimator):
    """ReLU MLP with dropout in JAX/Flax, scikit-learn estimator API (see module docstring).

    Args:
        hidden: hidden-layer widths.
        dropout: dropout rate after every hidden layer.
        weight_decay: AdamW weight decay.
        learning_rate: AdamW step size.
        epochs: training epochs (the best-validation epoch is kept).
        batch_size: mini-batch size.
        seed: seed of initial weights, dropout, shuffles and the validation split.

    The target is standardised inside ``fit`` (and restored by ``predict``), so the settings
    are unit-free. Inputs x (N, F), targets y (N,).
    """

    def __init__(
        self,
        hidden: Sequence[int] = (64, 32),
        dropout: float = 0.1,
        weight_decay: float = 1e-4,
        learning_rate: float = 3e-3,
        epochs: int = 300,
        batch_size: int = 64,
        seed: int = 0,
    ):
        self.hidden = hidden
        self.dropout = dropout
        self.weight_decay = weight_decay
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.seed = seed

    def fit(self, X, y):  # noqa: N803 (scikit-learn's argument names)
        """Fit on X (N, F) and y (N,); returns ``self``."""
        x, y = check_X_y(X, y, dtype=np.float64, y_numeric=True)
        self.n_features_in_ = x.shape[1]
        self.y_mean_ = float(np.mean(y))
        self.y_std_ = float(np.std(y)) or 1.0
        xs = x.astype(np.float32)
        ys = ((y - self.y_mean_) / self.y_std_).astype(np.float32)
        self.model_ = _MLPNet(
            x.shape[1], tuple(self.hidden), self.dropout, rngs=nnx.Rngs(int(self.seed))
        )
        order = np.random.default_rng(self.seed).permutation(x.shape[0])
        n_val = max(1, int(round(0.15 * x.shape[0])))
        val, tr = order[:n_val], order[n_val:]
        cfg = TrainConfig(
            epochs=int(self.epochs),
            batch_size=min(int(self.batch_size), len(tr)),
            seed=int(self.seed),
        )
        tx = optax.adamw(self.learning_rate, weight_decay=self.weight_decay)
        result = fit(
            self.model_, (xs[tr], ys[tr]), config=cfg, val=(xs[val], ys[val]), optimizer=tx
        )
        self.best_epoch_ = int(result.best_epoch)
        return self

    def predict(self, X):  # noqa: N803
        """Predictions (N,) in the unit of the training targets."""
        check_is_fitted(self, "model_")
        x = validate_data(self, X, dtype=np.float64, reset=False)
        z = np.asarray(predict(self.model_, x.astype(np.float32)), dtype=np.float64)
        return z * self.y_std_ + self.y_mean_


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


def scaled_target(estimator) -> TransformedTargetRegressor:
    """``estimator`` fitted on the standardised target (predictions back in its unit)."""
    return TransformedTargetRegressor(regressor=estimator, transformer=StandardScaler())


def _gp_kernel():
    return ConstantKernel(1.0, (1e-2, 1e2)) * RBF(
        length_scale=3.0, length_scale_bounds=(1e-1, 1e3)
    ) + WhiteKernel(0.1, (1e-4, 1e1))


def model_grids(*, quick: bool, seed: int) -> dict[str, tuple[BaseEstimator, dict[str, list]]]:
    """Each model (an unfitted estimator) and its GridSearchCV grid (smaller when ``quick``).

    RBF widths γ are per squared z-score unit summed over the selected features; with ~30
    features a γ of 1/30 corresponds to unit length scale per feature.
    """
    r = "regressor__"
    gammas = [0.01, 0.03] if quick else [0.003, 0.01, 0.03, 0.1]
    return {
        "ridge": (scaled_target(Ridge()), {f"{r}alpha": [0.1, 1.0, 10.0, 100.0]}),
        "sgd": (
            scaled_target(SGDRegressor(penalty="l2", max_iter=2000, tol=1e-5, random_state=seed)),
            {f"{r}alpha": [1e-3, 1e-2] if quick else [1e-4, 1e-3, 1e-2, 1e-1]},
        ),
        "linear_svr": (
            scaled_target(LinearSVR(epsilon=0.05, max_iter=20_000, random_state=seed)),
            {f"{r}C": [0.1, 1.0] if quick else [0.03, 0.1, 0.3, 1.0, 3.0]},
        ),
        "kernel_svr": (
            scaled_target(SVR(kernel="rbf", epsilon=0.05)),
            {f"{r}C": [1.0, 10.0] if quick else [1.0, 3.0, 10.0, 30.0], f"{r}gamma": gammas},
        ),
        "kernel_ridge": (
            scaled_target(KernelRidge(kernel="rbf")),
            {f"{r}alpha": [1e-2, 1e-1], f"{r}gamma": gammas},
        ),
        "gaussian_process": (
            scaled_target(GaussianProcessRegressor(kernel=_gp_kernel(), random_state=seed)),
            {f"{r}n_restarts_optimizer": [0]},
        ),
        "knn": (
            KNeighborsRegressor(),
            {
                "n_neighbors": [3, 5, 9],
                "weights": ["distance"] if quick else ["uniform", "distance"],
            },
        ),
        "mlp": (
            MLPRegressor(epochs=150 if quick else 300, seed=seed),
            {"weight_decay": [1e-3] if quick else [1e-4, 1e-2]},
        ),
    }

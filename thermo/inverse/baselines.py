r"""Baselines a sceptical referee tries before believing any inverse method (DESIGN.md).

Both follow the one method contract (:mod:`thermo.inverse.method`) and are fitted on training
records (option ``training``: sensor records with ``truth``, sampled on one grid), so they stand
beside the classical and neural methods in every table:

* :class:`ParamsOnly` (``params-only``): the boundary history predicted from the machining
  parameters alone, no sensor: multi-output ridge regression of the sampled history
  :math:`u(t_n)` on the standardised parameters and their squares and products,

  .. math:: \hat u(t_n) = \beta_{0n} + \sum_j \beta_{jn}\, \phi_j(N, f_z, a_e),

  α chosen by leave-one-record-out cross-validation (``RidgeCV``). If it is as good as a method
  that reads the sensors, the data set does not test the inverse at all.
* :class:`FIRFilter` (``fir``): a linear filter on the sensors, ridge regression of
  :math:`u(t_n)` on the lagged sensor values :math:`y_s(t_{n-k})`, k = −F … P−1 (P past lags,
  F future ones; the default P = 20, F = 0 is causal, like the networks' windows), plus the
  parameters; the record start is padded with its first row (the tool rests at T0). α by
  grouped cross-validation over training records (``GridSearchCV`` with ``GroupKFold``), so
  samples of one record never sit on both sides. The linear-filter equivalent of a trained
  network: a network that does not beat it has learned nothing non-linear.

Both estimate from any subset of the sensors (``subsets``): the FIR refits per subset (cheap),
the parameters-only model ignores the sensors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from thermo.inverse.method import BoundaryEstimate, MethodContext
from thermo.inverse.record import PARAM_KEYS, SensorRecord

#: Ridge strengths searched by the cross-validation.
ALPHAS = tuple(float(a) for a in np.logspace(-4, 4, 9))


def _training(context: MethodContext, name: str) -> list[SensorRecord]:
    records = list(context.option("training") or [])
    if not records:
        raise ValueError(f"{name}: needs training records (option training=[SensorRecord, ...])")
    if any(r.truth is None for r in records):
        raise ValueError(f"{name}: every training record needs its boundary truth")
    return records


def _param_features(p: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Standardised parameters, their squares and pairwise products, shape (n, 9)."""
    z = (np.atleast_2d(p) - mean) / scale
    i, j = np.triu_indices(z.shape[1])
    return np.concatenate([z, z[:, i] * z[:, j]], axis=1)


class ParamsOnly:
    """Boundary history from the machining parameters alone (module docstring)."""

    name = "params-only"
    subsets = True

    def __init__(self, context: MethodContext) -> None:
        from sklearn.linear_model import RidgeCV

        context.check_options(self.name, ("training",))
        records = _training(context, self.name)
        self.times = records[0].times
        if any(r.times.shape != self.times.shape or not np.allclose(r.times, self.times)
               for r in records):  # fmt: skip
            raise ValueError(f"{self.name}: training records must share one time grid")
        P = np.stack([r.param_vector() for r in records])
        # a parameter constant over the training records carries no information: z = 0 for it
        # (scale inf), so a record at another level is not extrapolated along it
        # (a spread below 1e-9 of the value is round-off of equal levels)
        mean, std = P.mean(axis=0), P.std(axis=0)
        self.mean = mean
        self.scale = np.where(std > 1e-9 * np.maximum(np.abs(mean), 1e-300), std, np.inf)
        Y = np.stack([r.truth for r in records])
        self.model = RidgeCV(alphas=ALPHAS).fit(_param_features(P, self.mean, self.scale), Y)

    def estimate(
        self, record: SensorRecord, *, sensors: Sequence[str] | None = None
    ) -> BoundaryEstimate:
        x = _param_features(record.param_vector(), self.mean, self.scale)
        u = self.model.predict(x)[0]
        values = np.interp(record.times, self.times, u)
        return BoundaryEstimate(record.times, values, info={"alpha": float(self.model.alpha_)})


def lagged(values: np.ndarray, *, past: int, future: int) -> np.ndarray:
    """Rows [y(t_{n+F}), …, y(t_n), …, y(t_{n−P+1})] per step n, edges padded, (n_t, n_s·(P+F))."""
    n_t = values.shape[0]
    padded = np.concatenate(
        [np.repeat(values[:1], past - 1, 0), values, np.repeat(values[-1:], future, 0)], 0
    )
    cols = [padded[past - 1 - k : past - 1 - k + n_t] for k in range(-future, past)]
    return np.concatenate(cols, axis=1)


class FIRFilter:
    """Ridge FIR filter on lagged sensors and the parameters (module docstring)."""

    name = "fir"
    subsets = True

    def __init__(self, context: MethodContext) -> None:
        context.check_options(self.name, ("training", "past", "future", "folds"))
        self.records = _training(context, self.name)
        self.past = int(context.option("past", 20))
        self.future = int(context.option("future", 0))
        self.folds = int(context.option("folds", 3))
        if self.past < 1 or self.future < 0:
            raise ValueError(
                f"fir: past >= 1 and future >= 0 needed, got {self.past}, {self.future}"
            )
        self._fits: dict[tuple[str, ...], Any] = {}

    def _features(self, record: SensorRecord, names: Sequence[str]) -> np.ndarray:
        y = record.values[:, record.columns(names)]
        p = np.broadcast_to(record.param_vector(), (y.shape[0], len(PARAM_KEYS)))
        return np.concatenate([lagged(y, past=self.past, future=self.future), p], axis=1)

    def _fit(self, names: tuple[str, ...]):
        if names not in self._fits:
            from sklearn.linear_model import Ridge
            from sklearn.model_selection import GridSearchCV, GroupKFold
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import StandardScaler

            X = np.concatenate([self._features(r, names) for r in self.records])
            y = np.concatenate([r.truth for r in self.records])
            groups = np.concatenate([np.full(r.times.size, i) for i, r in enumerate(self.records)])
            folds = min(self.folds, len(self.records))
            search = GridSearchCV(
                make_pipeline(StandardScaler(), Ridge()),
                {"ridge__alpha": list(ALPHAS)},
                cv=GroupKFold(n_splits=folds),
                scoring="neg_mean_squared_error",
            )
            self._fits[names] = search.fit(X, y, groups=groups)
        return self._fits[names]

    def estimate(
        self, record: SensorRecord, *, sensors: Sequence[str] | None = None
    ) -> BoundaryEstimate:
        names = tuple(record.names if sensors is None else sensors)
        fit = self._fit(names)
        values = fit.predict(self._features(record, names))
        info = {"alpha": float(fit.best_params_["ridge__alpha"]), "past": self.past}
        return BoundaryEstimate(record.times, values, info=info | {"future": self.future})


def params_only(context: MethodContext) -> ParamsOnly:
    """Registry factory of :class:`ParamsOnly`."""
    return ParamsOnly(context)


def fir(context: MethodContext) -> FIRFilter:
    """Registry factory of :class:`FIRFilter`."""
    return FIRFilter(context)

r"""Sliding windows, min–max scaling and the case split of the IHCP data set (paper 000, §3.2).

A milling case is a :class:`thermo.inverse.record.SensorRecord` (the one record type). Per time
step :math:`t` the network sees 7 features (:func:`features`)

.. math::  u_t = (N,\ f_z,\ a_e,\ T_{s1}(t),\ T_{s2}(t),\ T_{s3}(t),\ T_{s4}(t))

(spindle speed in r/min, feed per tooth in mm, radial depth in mm, the four sensor temperatures
in °C) and a window of ``window`` consecutive steps :math:`U_t = (u_{t-w+1},\dots,u_t)` is
labelled with the F1 (cutting-zone) temperature at the window's **last** step,
:math:`y_t = T_{F1}(t)`, so the inverse map is causal.
A case with :math:`n` steps yields :math:`n-w+1` windows.

Scaling (eq. 1–2). The paper writes eq. 1 as :math:`x^* = (x-x_{min})/(x_{max}-x_{min})`, which maps
to [0, 1], while its text says [-1, 1]. We follow the text (and issue 4):

.. math::  x^* = 2\,\frac{x - x_{min}}{x_{max}-x_{min}} - 1, \qquad
           x = \frac{(x^*+1)}{2}\,(x_{max}-x_{min}) + x_{min}

per feature, with :math:`x_{min}, x_{max}` taken from the **training split only** (fitting on all
cases would leak the test case's range). A feature constant over the training split maps to 0.

Split (§3.2). Case 24 (1-based, as in the paper) is the test set; the remaining 26 cases are split
80/20 into training/validation **by case** with a seeded permutation (21/5 cases). The paper does
not say whether it splits cases or windows; splitting windows of one transient would put
near-duplicate neighbours on both sides and overstate validation accuracy, so we split cases.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from thermo.inverse.record import PARAM_KEYS, SensorRecord

N_PARAMS = 3  # N (r/min), fz (mm/z), ae (mm)
N_SENSORS = 4
N_FEATURES = N_PARAMS + N_SENSORS


def features(record: SensorRecord) -> np.ndarray:
    """Per-step inputs (N, fz, ae, T_s1..T_sm) of a sensor record, shape (n_steps, 3 + n_s)
    (7 in the paper); the record needs its machining parameters."""
    p = record.param_vector()
    n = record.values.shape[0]
    return np.concatenate([np.broadcast_to(p, (n, N_PARAMS)), record.values], axis=1)


def label(record: SensorRecord) -> np.ndarray:
    """The F1 label of a record (its ``truth``), shape (n_steps,); ValueError without one."""
    if record.truth is None:
        where = record.meta.get("source", "record")
        raise ValueError(f"{where}: a training record needs its F1 truth (the label)")
    return record.truth


def sliding_windows(
    features: np.ndarray, labels: np.ndarray, *, window: int
) -> tuple[np.ndarray, np.ndarray]:
    """Windows of ``window`` steps labelled at their last step.

    Args:
        features: shape (n_steps, n_features).
        labels: shape (n_steps,).
        window: window length w >= 1.

    Returns:
        ``x`` of shape (n_steps - w + 1, w, n_features) with ``x[i] = features[i : i + w]`` and
        ``y`` of shape (n_steps - w + 1,) with ``y[i] = labels[i + w - 1]``.
    """
    features = np.asarray(features, float)
    labels = np.asarray(labels, float)
    if features.ndim != 2 or labels.shape != (features.shape[0],):
        raise ValueError(
            f"sliding_windows: expected features (n_steps, n_features) and labels (n_steps,), "
            f"got {features.shape} and {labels.shape}"
        )
    if not 1 <= window <= features.shape[0]:
        raise ValueError(f"sliding_windows: window must be in 1..{features.shape[0]}, got {window}")
    x = np.lib.stride_tricks.sliding_window_view(features, window, axis=0)  # (m, F, w)
    return np.ascontiguousarray(np.swapaxes(x, 1, 2)), labels[window - 1 :].copy()


@dataclass(frozen=True)
class MinMaxScaler:
    """Per-feature min–max scaling to [-1, 1] (eq. 1) and its inverse (eq. 2).

    Attributes:
        data_min: per-feature minimum, shape (n_features,) (or () for a scalar label).
        data_max: per-feature maximum, same shape.
    """

    data_min: np.ndarray
    data_max: np.ndarray

    @classmethod
    def fit(cls, data: np.ndarray) -> MinMaxScaler:
        """Fit on ``data`` of shape (..., n_features) (leading axes reduced) or (n,) (scalar)."""
        data = np.asarray(data, float)
        if data.size == 0 or not np.all(np.isfinite(data)):
            raise ValueError("MinMaxScaler.fit: data must be non-empty and finite")
        axes = tuple(range(data.ndim - 1)) if data.ndim > 1 else (0,)
        return cls(data_min=data.min(axis=axes), data_max=data.max(axis=axes))

    @property
    def _span(self) -> np.ndarray:
        span = self.data_max - self.data_min
        return np.where(span > 0, span, 1.0)

    def transform(self, data: np.ndarray) -> np.ndarray:
        """x* = 2 (x - min) / (max - min) - 1; constant features map to 0 (not -1)."""
        data = np.asarray(data, float)
        const = self.data_max == self.data_min
        return np.where(const, 0.0, 2.0 * (data - self.data_min) / self._span - 1.0)

    def inverse_transform(self, data: np.ndarray) -> np.ndarray:
        """x = (x* + 1) / 2 · (max - min) + min."""
        return (np.asarray(data, float) + 1.0) / 2.0 * (self.data_max - self.data_min) + (
            self.data_min
        )


def split_cases(
    case_ids: Sequence[int], *, seed: int, test_case: int = 24, val_fraction: float = 0.2
) -> dict[str, list[int]]:
    """Split case ids into ``train``/``val``/``test`` (test = ``[test_case]``).

    The other cases are permuted with ``numpy.random.default_rng(seed)``; the first
    ``round(val_fraction · n)`` (at least 1 when n >= 2) go to validation. Lists are sorted.
    """
    ids = [int(c) for c in case_ids]
    if len(set(ids)) != len(ids):
        raise ValueError(f"split_cases: duplicate case ids in {ids}")
    if test_case not in ids:
        raise ValueError(f"split_cases: test case {test_case} not among case ids {sorted(ids)}")
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"split_cases: val_fraction must be in (0, 1), got {val_fraction}")
    rest = np.array(sorted(c for c in ids if c != test_case))
    if rest.size < 2:
        raise ValueError("split_cases: need at least 2 non-test cases for train and validation")
    order = np.random.default_rng(seed).permutation(rest)
    n_val = max(1, int(round(val_fraction * rest.size)))
    return {
        "train": sorted(int(c) for c in order[n_val:]),
        "val": sorted(int(c) for c in order[:n_val]),
        "test": [int(test_case)],
    }


@dataclass(frozen=True)
class WindowedSplit:
    """Scaled windows of one split. ``x``: (n, w, 7); ``y``: (n,); ``case``: (n,) case id of each
    window; ``step``: (n,) index of each window's last step within its case."""

    x: np.ndarray
    y: np.ndarray
    case: np.ndarray
    step: np.ndarray


@dataclass(frozen=True)
class IHCPData:
    """Train/val/test windows plus the scalers fitted on the training split."""

    train: WindowedSplit
    val: WindowedSplit
    test: WindowedSplit
    x_scaler: MinMaxScaler
    y_scaler: MinMaxScaler
    split: dict[str, list[int]]
    window: int


def pad_start(features: np.ndarray, *, window: int) -> np.ndarray:
    """Prepend ``window - 1`` copies of the first row (the state before the cut starts).

    Before t = 0 the tool rests at the initial temperature with the parameters already set, so
    repeating the first sample is the physical history, and with it every step t >= 0 (not
    only t >= (w - 1) dt) gets a window ending at t. Shape (n_steps + w - 1, n_features).
    """
    features = np.asarray(features, float)
    return np.concatenate([np.repeat(features[:1], window - 1, axis=0), features])


def window_cases(
    cases: Mapping[int, SensorRecord],
    ids: Sequence[int],
    *,
    x_scaler: MinMaxScaler,
    y_scaler: MinMaxScaler,
    window: int,
    padded: bool = False,
) -> WindowedSplit:
    """Scaled windows of the cases ``ids`` (``padded``: with :func:`pad_start`, one window per
    step; else the paper's n - w + 1 windows per case)."""
    parts = []
    for c in ids:
        case = cases[c]
        feats = x_scaler.transform(features(case))
        labels = y_scaler.transform(label(case))
        if padded:
            feats = pad_start(feats, window=window)
            labels = np.concatenate([np.full(window - 1, labels[0]), labels])
        x, y = sliding_windows(feats, labels, window=window)
        n = case.times.size
        steps = np.arange(n - y.shape[0], n)
        parts.append((x, y, np.full(y.shape, c), steps))
    return WindowedSplit(*(np.concatenate(a) for a in zip(*parts, strict=True)))


def prepare_dataset(
    cases: Mapping[int, SensorRecord],
    *,
    window: int,
    seed: int,
    test_case: int = 24,
    val_fraction: float = 0.2,
    padded: bool = False,
) -> IHCPData:
    """Split ``cases`` (keyed by 1-based case id), fit scalers on training steps, window all splits.

    Scalers are fitted on the per-step training features (n_train_steps, 7) and labels, so every
    training window lies in [-1, 1]; validation/test values may fall outside. ``padded`` windows
    every step (:func:`pad_start`); the paper's default windows only complete histories.
    """
    split = split_cases(list(cases), seed=seed, test_case=test_case, val_fraction=val_fraction)
    train_feats = np.concatenate([features(cases[c]) for c in split["train"]])
    train_labels = np.concatenate([label(cases[c]) for c in split["train"]])
    xs, ys = MinMaxScaler.fit(train_feats), MinMaxScaler.fit(train_labels)
    kw = {"x_scaler": xs, "y_scaler": ys, "window": window, "padded": padded}
    return IHCPData(
        train=window_cases(cases, split["train"], **kw),
        val=window_cases(cases, split["val"], **kw),
        test=window_cases(cases, split["test"], **kw),
        x_scaler=xs,
        y_scaler=ys,
        split=split,
        window=window,
    )


def add_sensor_noise(case: SensorRecord, *, sigma: float, seed: int) -> SensorRecord:
    """Copy of ``case`` with i.i.d. noise N(0, sigma²) (sigma in K) on the sensors (§4.1)."""
    if sigma < 0:
        raise ValueError(f"add_sensor_noise: sigma must be >= 0 K, got {sigma}")
    noise = np.random.default_rng(seed).normal(0.0, sigma, size=case.values.shape)
    return case.with_values(case.values + noise, sigma_K=float(sigma), noise_seed=seed)


def cases_from_arrays(
    *,
    case_ids: np.ndarray,
    params: np.ndarray,
    times: np.ndarray,
    f1: np.ndarray,
    sensors: np.ndarray,
) -> dict[int, SensorRecord]:
    """``{case_id: SensorRecord}`` from stacked arrays in the data-set layout (sensors S1..Sn).

    Args:
        case_ids: shape (n_cases,), 1-based ids.
        params: shape (n_cases, 3), (N r/min, fz mm/z, ae mm).
        times: shared time axis, shape (n_t,) in s.
        f1: F1 temperatures, shape (n_cases, n_t) in °C.
        sensors: sensor temperatures, shape (n_cases, n_t, n_sensors) in °C (clean or one
            noise level).
    """
    ids = np.asarray(case_ids).ravel()
    params, times = np.asarray(params, float), np.asarray(times, float)
    f1, sensors = np.asarray(f1, float), np.asarray(sensors, float)
    n, n_t = ids.size, times.size
    expected = {
        "params": (params.shape, (n, N_PARAMS)),
        "f1": (f1.shape, (n, n_t)),
        "sensors": (sensors.shape[:2], (n, n_t)),
    }
    for name, (got, want) in expected.items():
        if got != want:
            raise ValueError(
                f"cases_from_arrays: {name} has shape {got} (leading axes), expected {want}"
            )
    names = tuple(f"S{j + 1}" for j in range(sensors.shape[2]))
    return {
        int(c): SensorRecord(
            times=times,
            values=sensors[i],
            names=names,
            params=dict(zip(PARAM_KEYS, params[i], strict=True)),
            truth=f1[i],
            meta={"case": int(c)},
        )
        for i, c in enumerate(ids)
    }

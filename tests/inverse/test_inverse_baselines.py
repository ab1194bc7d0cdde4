"""Baselines on problems with a known answer: the parameters-only ridge recovers a history that
is a quadratic function of the parameters; the FIR filter inverts first-order sensors exactly."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import lfilter

from thermo.inverse.evaluation import method_loso
from thermo.inverse.record import SensorRecord
from thermo.inverse.registry import make_method

T0 = 20.0
TIMES = 0.1 * np.arange(61)
GAINS, TAUS = np.array([0.8, 0.5, 0.3]), np.array([0.3, 0.6, 1.0])


def _sensors(u: np.ndarray) -> np.ndarray:
    """First-order lags y_n = a y_{n−1} + (1 − a) g u_n (exact discrete): invertible by 2 taps."""
    cols = []
    for g, tau in zip(GAINS, TAUS, strict=True):
        a = np.exp(-0.1 / tau)
        cols.append(T0 + g * lfilter([1 - a], [1, -a], u - T0))
    return np.stack(cols, axis=1)


def _records(n: int, seed: int, *, params_only: bool) -> list[SensorRecord]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        p = {"n_rpm": rng.uniform(380, 640), "fz_mm": rng.uniform(0.05, 0.1), "ae_mm": 0.2}
        level = 200 + 0.5 * p["n_rpm"] + 2e4 * p["fz_mm"] ** 2
        if params_only:  # the history is a function of the parameters
            u = T0 + level * (1 - np.exp(-TIMES / 0.8))
        else:  # random steps the parameters do not determine
            u = T0 + level * (TIMES > rng.uniform(0.5, 2.0)) * rng.uniform(0.6, 1.2)
        y = _sensors(u)
        out.append(SensorRecord(TIMES, y, ("S1", "S2", "S3"), params=p, truth=u, clean=y))
    return out


def test_params_only_recovers_a_function_of_the_parameters():
    train, test = _records(40, 0, params_only=True), _records(5, 1, params_only=True)
    method = make_method("params-only", training=train)
    for r in test:
        est = method.estimate(r)
        rise = r.truth.max() - T0
        assert np.sqrt(np.mean((est.values - r.truth) ** 2)) < 0.01 * rise


def test_fir_inverts_first_order_sensors_and_loso():
    train, test = _records(30, 2, params_only=False), _records(4, 3, params_only=False)
    fir = make_method("fir", training=train, past=3)
    params = make_method("params-only", training=train)
    for r in test:
        rise = r.truth.max() - T0
        err = np.sqrt(np.mean((fir.estimate(r).values - r.truth) ** 2))
        assert err < 0.01 * rise
        # the parameters alone cannot know when the step comes: a clearly larger error
        assert np.sqrt(np.mean((params.estimate(r).values - r.truth) ** 2)) > 10 * err

    def predict(u):
        return _sensors(u)

    loso = method_loso(fir, test[0], predict=predict)
    assert loso["mean"]["rmse"] < 0.02 * (test[0].truth.max() - T0)


def test_baselines_need_training_records():
    with pytest.raises(ValueError, match="needs training records"):
        make_method("fir")
    bare = SensorRecord(TIMES, np.zeros((TIMES.size, 1)), ("S1",), params={"n_rpm": 1.0})
    with pytest.raises(ValueError, match="needs its boundary truth"):
        make_method("params-only", training=[bare])


def test_params_only_does_not_extrapolate_along_a_constant_parameter():
    """Training records that share a level (spread only by round-off) must not make a record at
    another level explode (a standardised feature of zero spread is dropped)."""
    recs = []
    for i, n in enumerate((380.0, 450.0, 520.0, 600.0)):
        p = {"n_rpm": n, "fz_mm": 0.05 + 1e-18 * i, "ae_mm": 0.2}
        u = T0 + (0.5 * n) * (1 - np.exp(-TIMES / 0.8))
        recs.append(SensorRecord(TIMES, _sensors(u), ("S1", "S2", "S3"), params=p, truth=u))
    method = make_method("params-only", training=recs)
    other = SensorRecord(
        TIMES, recs[0].values, recs[0].names, params={**recs[1].params, "fz_mm": 0.1}
    )
    values = method.estimate(other).values
    assert np.all(np.abs(values - T0) < 2.0 * np.max(recs[-1].truth - T0))

"""Realistic sensor model (thermo.inverse.sensors: SensorModel, first_order_lag,
random_walk_drift, apply_sensor_model, measure_record): lag against analytic responses, noise
and drift statistics within their sampling errors, quantisation, zero settings pass through."""

import dataclasses
import math

import numpy as np
import pytest

from thermo.inverse.record import SensorRecord
from thermo.inverse.sensors import (
    SensorModel,
    apply_sensor_model,
    first_order_lag,
    measure_record,
    random_walk_drift,
)

T = np.linspace(0.0, 12.0, 241)  # dt = 0.05 s, the data set's grid


def test_defaults_and_validation():
    m = SensorModel()
    assert (m.tau_s, m.sigma_K, m.drift_K, m.quantum_K, m.drift_ref_s) == (
        0.1,
        0.0,
        0.5,
        0.1,
        12.0,
    )
    assert m.as_meta()["quantum_K"] == pytest.approx(0.1)
    with pytest.raises(ValueError, match="tau_s"):
        SensorModel(tau_s=-0.1)
    with pytest.raises(ValueError, match="in ms"):
        SensorModel(tau_s=100.0)
    with pytest.raises(ValueError, match="sigma_K"):
        SensorModel(sigma_K=float("nan"))
    with pytest.raises(ValueError, match="drift_ref_s"):
        SensorModel(drift_ref_s=0.0)


def test_lag_reproduces_a_ramp_exactly_on_a_coarse_grid():
    """x = 20 + c t, y(0) = x(0): y = x − c τ (1 − e^{−t/τ}). The first-order hold is exact for
    a ramp, so the tolerance (1e-6 K on a 600 K ramp) is far below any discretisation error
    (c h = 2.5 K per step here) and far above round-off."""
    c, tau = 50.0, 0.2
    x = 20.0 + c * T
    y = first_order_lag(T, x, tau)
    exact = x - c * tau * (1.0 - np.exp(-T / tau))
    np.testing.assert_allclose(y, exact, rtol=0, atol=1e-6)
    # late in the ramp the sensor lags by c τ = 10 K
    assert x[-1] - y[-1] == pytest.approx(c * tau, rel=1e-6)


@pytest.mark.parametrize("tau", [0.05, 0.1, 0.3])
def test_lag_step_response_against_the_analytic_solution(tau):
    """Unit step at t_s midway between two samples: exact y = 1 − e^{−(t − t_s)/τ}. Under the
    first-order hold the sampled step is a ramp over one step h centred on t_s, whose response
    at the samples after it is 1 − e^{−(t − t_s)/τ} sinh(u)/u with u = h/(2τ): an error below
    u²/6 (1 + u²) ≈ (h/τ)²/24. Tolerance: twice that, (h/τ)²/12 (4e-6 … 8e-5 here)."""
    h = 1e-3
    t = np.arange(0.0, 3.0 + h / 2, h)
    t_s = 0.5 + h / 2
    x = (t >= t_s).astype(float)
    y = first_order_lag(t, x, tau)
    exact = np.where(t >= t_s, 1.0 - np.exp(-np.clip(t - t_s, 0, None) / tau), 0.0)
    assert np.max(np.abs(y - exact)) <= (h / tau) ** 2 / 12
    # and it is the time constant: 63.2 % at t_s + τ, 99.3 % at t_s + 5 τ (linear interpolation
    # between samples adds at most h² max|y''|/8 = (h/τ)²/8)
    tol = (h / tau) ** 2 / 12 + (h / tau) ** 2 / 8
    assert np.interp(t_s + tau, t, y) == pytest.approx(1 - math.exp(-1), abs=tol)
    assert np.interp(t_s + 5 * tau, t, y) == pytest.approx(1 - math.exp(-5), abs=tol)
    np.testing.assert_allclose(y[t < t_s - h], 0.0, atol=1e-12)


def test_lag_per_column_and_refuses_nonuniform_grids():
    x = np.stack([20.0 + 10.0 * T, 20.0 + 10.0 * T], axis=1)
    y = first_order_lag(T, x, np.array([0.0, 0.2]))
    np.testing.assert_array_equal(y[:, 0], x[:, 0])  # τ = 0: passed through untouched
    assert x[-1, 1] - y[-1, 1] == pytest.approx(2.0, rel=1e-6)
    with pytest.raises(ValueError, match="uniformly spaced"):
        first_order_lag(np.array([0.0, 0.1, 0.3]), np.zeros(3), 0.1)


def test_zero_settings_reproduce_the_clean_values():
    clean = np.stack([20.0 + 7.3 * np.sin(T), 25.0 + T], axis=1)
    out = apply_sensor_model(T, clean, SensorModel(0.0, 0.0, 0.0, 0.0), seed=3)
    np.testing.assert_array_equal(out, clean)  # every step skipped: no arithmetic at all


def test_quantisation_gives_multiples_of_the_quantum():
    clean = np.stack([20.0 + 7.3 * np.sin(T), 25.0 + 3.1 * T], axis=1)
    q = 0.1
    model = SensorModel(tau_s=0.1, sigma_K=2.0, drift_K=0.5, quantum_K=q)
    out = apply_sensor_model(T, clean, model, seed=1)
    steps = out / q
    np.testing.assert_allclose(steps, np.round(steps), atol=1e-6)
    raw = apply_sensor_model(T, clean, SensorModel(0.1, 2.0, 0.5, 0.0), seed=1)
    assert np.max(np.abs(out - raw)) <= q / 2 + 1e-9  # rounding to the nearest step
    assert np.unique(np.round(steps)).size > 100  # not collapsed to a few levels


def test_white_noise_statistics():
    """n = 20 000 samples at σ = 5 K: mean within 4 σ/√n (0.14 K) of 0 and the standard
    deviation within 4 σ/√(2n) (0.10 K) of σ (4 standard errors; seeded, so deterministic)."""
    n, sigma = 20_000, 5.0
    t = np.arange(n) * 1e-3
    clean = np.full((n, 1), 100.0)
    out = apply_sensor_model(t, clean, SensorModel(0.0, sigma, 0.0, 0.0), seed=11)
    e = (out - clean).ravel()
    assert abs(e.mean()) < 4 * sigma / math.sqrt(n)
    assert abs(e.std(ddof=1) - sigma) < 4 * sigma / math.sqrt(2 * n)
    # white: lag-1 autocorrelation within 4/√n of zero
    assert abs(np.corrcoef(e[:-1], e[1:])[0, 1]) < 4 / math.sqrt(n)


def test_drift_rms_over_the_record():
    """Random walk from 0, E[mean_t d²] = drift_K² over a 12 s record. Over M = 2000 channels
    the mean of the per-channel mean squares is within 4 standard errors of drift_K²: the
    relative standard deviation of ∫W² over [0, 1] is √(1/3)/(1/2) ≈ 1.155, so 4·1.155/√M."""
    m, d = 2000, 0.5
    drift = random_walk_drift(T, m, drift_K=d, ref_s=12.0, rng=np.random.default_rng(5))
    assert drift.shape == (T.size, m)
    np.testing.assert_allclose(drift[0], 0.0, atol=1e-12)
    ms = np.mean(drift**2, axis=0)
    assert abs(ms.mean() / d**2 - 1.0) < 4 * 1.155 / math.sqrt(m)
    # slow: the drift changes little from one sample to the next compared with its size
    assert np.std(np.diff(drift, axis=0)) < 0.2 * math.sqrt(ms.mean())
    # through the model: the drift does not depend on σ (independent seed children)
    clean = np.full((T.size, 3), 50.0)
    a = apply_sensor_model(T, clean, SensorModel(0.0, 0.0, d, 0.0), seed=9)
    b = apply_sensor_model(T, clean, SensorModel(0.0, 4.0, d, 0.0), seed=9)
    resid = (b - a).ravel()
    assert abs(resid.std() - 4.0) < 4 * 4.0 / math.sqrt(2 * resid.size)


def test_seeded():
    clean = np.stack([20.0 + T, 30.0 + T], axis=1)
    model = SensorModel(sigma_K=1.0)
    a = apply_sensor_model(T, clean, model, seed=2)
    np.testing.assert_array_equal(a, apply_sensor_model(T, clean, model, seed=2))
    assert not np.allclose(a, apply_sensor_model(T, clean, model, seed=3))


def test_measure_record_keeps_the_truth():
    clean = np.stack([20.0 + 5.0 * T, 20.0 + 2.0 * T], axis=1)
    rec = SensorRecord(
        times=T,
        values=clean,
        names=("S1", "S2"),
        params={"n_rpm": 509.0, "fz_mm": 0.075, "ae_mm": 0.2},
        truth=20.0 + 50.0 * T,
        meta={"case": 14},
    )
    model = SensorModel(tau_s=0.2, sigma_K=0.0, drift_K=0.0, quantum_K=0.0)
    out = measure_record(rec, model, seed=4)
    np.testing.assert_array_equal(out.clean, clean)
    np.testing.assert_array_equal(out.truth, rec.truth)
    assert out.names == rec.names and out.params == rec.params
    assert out.meta["case"] == 14 and out.meta["sensor_model"]["tau_s"] == pytest.approx(0.2)
    assert out.meta["sensor_seed"] == 4
    # the measured values lag the ramp by c τ (5·0.2 = 1 K, 2·0.2 = 0.4 K)
    np.testing.assert_allclose(clean[-1] - out.values[-1], [1.0, 0.4], rtol=1e-6)
    # a record that already has clean values is measured from them, not from its values
    noisy = dataclasses.replace(rec, values=clean + 3.0, clean=clean)
    again = measure_record(noisy, model, seed=4)
    np.testing.assert_allclose(again.values, out.values, rtol=0, atol=1e-9)

"""Cutting-zone input model (thermo.inverse.cutting_zone) and sensor model
(thermo.inverse.sensors)."""

import math

import numpy as np
import pytest

from thermo.inverse.cutting_zone import CuttingConditions, f1_heat_flux, f1_temperature, fluctuation
from thermo.inverse.sensors import lowpass, measure, ordered_sensors

T = np.linspace(0.0, 12.0, 241)


def test_cutting_speed_and_rise_time():
    c = CuttingConditions(n_rpm=509, fz_mm=0.075, ae_mm=0.2, diameter_mm=25.0)
    assert c.vc_m_min == pytest.approx(math.pi * 25.0 * 509 / 1000.0)
    assert c.vf_mm_min == pytest.approx(0.075 * 2 * 509)
    assert c.rise_time_s == pytest.approx(60 * math.sqrt(0.2 * 24.8) / (0.075 * 2 * 509))
    assert c.steady_rise_K() == pytest.approx(520.0)  # the reference point of the model


def test_temperature_starts_at_ambient_and_levels_order():
    kw = dict(fz_mm=0.075, ae_mm=0.2, seed=1, rel_fluctuation=0.0)
    lows = f1_temperature(T, n_rpm=382, **kw)
    highs = f1_temperature(T, n_rpm=636, **kw)
    assert np.all(lows[T <= 0.5] == 20.0)
    assert np.all(highs[T > 3.0] > lows[T > 3.0])
    assert 300.0 < lows[-1] < highs[-1] < 900.0
    for name, lo, hi in (("fz_mm", 0.05, 0.1), ("ae_mm", 0.1, 0.3)):
        base = dict(n_rpm=509, fz_mm=0.075, ae_mm=0.2, seed=0, rel_fluctuation=0.0)
        a = f1_temperature(T, **{**base, name: lo})
        b = f1_temperature(T, **{**base, name: hi})
        assert b[-1] > a[-1]


def test_fluctuation_seeded_and_sized():
    a = fluctuation(np.linspace(0, 120, 2401), seed=4, rel_std=0.03)
    b = fluctuation(np.linspace(0, 120, 2401), seed=4, rel_std=0.03)
    c = fluctuation(np.linspace(0, 120, 2401), seed=5, rel_std=0.03)
    np.testing.assert_array_equal(a, b)  # same seed, same process: bit-identical
    assert not np.allclose(a, c)
    assert 0.02 < a.std() < 0.04


def test_heat_flux_positive_and_zero_before_cut_in():
    q = f1_heat_flux(T, n_rpm=509, fz_mm=0.075, ae_mm=0.2, seed=2)
    assert np.all(q[T <= 0.5] == 0.0)
    assert np.all(q[T > 3.0] > 0.0)
    assert 1e5 < q[-1] < 1e8  # W/m²: MW/m² order for the time-averaged tool share
    with pytest.raises(ValueError, match="ae_mm"):
        f1_heat_flux(T, n_rpm=509, fz_mm=0.075, ae_mm=25.0)


def test_measure_noise_resample_and_filter():
    clean = np.stack([np.sin(2 * np.pi * 0.1 * T), np.cos(2 * np.pi * 0.1 * T)], axis=1) + 100
    t, y = measure(T, clean, sigma=5.0, seed=0)
    assert np.std(y - clean) == pytest.approx(5.0, rel=0.1)
    t2, y2 = measure(T, clean, sigma=5.0, seed=0)
    np.testing.assert_array_equal(y, y2)  # same seed, same process: bit-identical
    ts, ys = measure(T, clean, sigma=0.0, seed=0, sample_interval=0.1)
    assert ts[1] - ts[0] == pytest.approx(0.1) and ys.shape == (121, 2)
    np.testing.assert_allclose(ys[:, 0], np.sin(2 * np.pi * 0.1 * ts) + 100, atol=2e-3)
    tf, yf = measure(T, clean, sigma=5.0, seed=0, cutoff_hz=1.0)
    assert np.std(yf - clean) < 0.5 * np.std(y - clean)
    # zero phase: a slow signal passes the filter without lag
    np.testing.assert_allclose(lowpass(clean, dt=0.05, cutoff_hz=2.0), clean, atol=0.02)
    with pytest.raises(ValueError, match="cutoff_hz"):
        lowpass(clean, dt=0.05, cutoff_hz=50.0)


def test_ordered_sensors_checks_shape():
    pts = ordered_sensors({"S2": np.array([0, 1, 2.0]), "S1": [1e-3, 0, 0]})
    assert list(pts) == ["S1", "S2"]
    with pytest.raises(ValueError, match="S3"):
        ordered_sensors({"S3": [1.0, 2.0]})

"""Classical inverse methods on an exact linear forward model: the semi-infinite solid.

A sudden unit surface-temperature rise of a semi-infinite WC–Co solid gives, at depth x,
S(x, t) = erfc(x / (2 sqrt(alpha t))) (Carslaw & Jaeger §2.4), so the Duhamel sum with this S at
sensor depths 1–4 mm is an exact linear forward model. Truth: a triangular surface-temperature
pulse of 500 K (0 until 1 s, peak at 5 s, back to 0 at 9 s), dt = 0.05 s, 12 s. Noise "1 %" is
σ = 1 % of the largest sensor temperature rise (≈ 4.5 K).

Stated tolerances (boundary RMSE against the truth): zero noise, exact-fit methods < 1e-3 K;
1 % noise, Tikhonov order 1 (discrepancy, GCV, L-curve) < 2 % of the peak (10 K), Tikhonov order
0 and SFSM < 3 % of the peak (15 K).
"""

import numpy as np
import pytest
from scipy.special import erfc

from thermo.inverse.duhamel import DuhamelOperator
from thermo.inverse.evaluation import (
    boundary_metrics,
    leave_one_sensor_out,
    r2,
    rmse,
    sensor_fit_metrics,
)
from thermo.inverse.kalman import kalman_smoother, realize
from thermo.inverse.sensitivity import build_sensitivity
from thermo.inverse.sfsm import choose_future_steps, sfsm
from thermo.inverse.tikhonov import tikhonov

ALPHA = 85.0 / (14900.0 * 220.0)
DEPTHS = np.array([1.0, 2.0, 3.0, 4.0]) * 1e-3
TIMES = np.linspace(0.0, 12.0, 241)
PEAK = 500.0


@pytest.fixture(scope="module")
def model():
    step = np.zeros((TIMES.size, DEPTHS.size))
    step[1:] = erfc(DEPTHS[None, :] / (2.0 * np.sqrt(ALPHA * TIMES[1:, None])))
    truth = np.interp(TIMES, [0, 1, 5, 9, 12], [0, 0, PEAK, 0, 0])
    clean = DuhamelOperator(step, y0=20.0)(truth)
    sigma = 0.01 * float(np.max(clean - 20.0))
    noisy = clean + sigma * np.random.default_rng(1).standard_normal(clean.shape)
    sens = build_sensitivity(step, TIMES, y0=20.0, probe_names=["S1", "S2", "S3", "S4"])
    return {
        "step": step,
        "truth": truth,
        "clean": clean,
        "noisy": noisy,
        "sigma": sigma,
        "sens": sens,
    }


def test_sensitivity_reproduces_forward_model(model):
    sens = model["sens"]
    theta = model["truth"][1:]
    np.testing.assert_allclose(sens.predict(theta), model["clean"][1:], atol=1e-9)
    assert sens.exact and sens.X.shape == (240, 4, 240)
    # the basis is a selection matrix ([0; I]): products with 0 and 1 are exact on any CPU
    np.testing.assert_allclose(sens.input_on_grid(theta), model["truth"], atol=1e-12)


@pytest.mark.parametrize(("order", "rule"), [(0, "gcv"), (1, "gcv"), (1, "lcurve")])
def test_zero_noise_recovers_truth(model, order, rule):
    res = tikhonov(model["sens"], model["clean"][1:], order=order, rule=rule)
    assert boundary_metrics(res.theta, model["truth"][1:])["rmse"] < 1e-3


def test_sfsm_one_future_step_is_exact_without_noise(model):
    res = sfsm(model["sens"], model["clean"][1:], future_steps=1)
    assert rmse(res.theta, model["truth"][1:]) < 1e-6


@pytest.mark.parametrize(
    ("order", "rule", "tol"),
    [
        (1, "discrepancy", 10.0),
        (1, "gcv", 10.0),
        (1, "lcurve", 10.0),
        (0, "discrepancy", 15.0),
        (0, "gcv", 15.0),
    ],
)
def test_tikhonov_with_one_percent_noise(model, order, rule, tol):
    res = tikhonov(model["sens"], model["noisy"][1:], order=order, rule=rule, sigma=model["sigma"])
    m = boundary_metrics(res.theta, model["truth"][1:])
    assert m["rmse"] < tol and m["r2"] > 0.99
    assert res.lam > 0


def test_discrepancy_residual_equals_sigma_sqrt_n(model):
    sigma = model["sigma"]
    res = tikhonov(model["sens"], model["noisy"][1:], order=1, rule="discrepancy", sigma=sigma)
    n = model["noisy"][1:].size
    assert res.residual_norm == pytest.approx(sigma * np.sqrt(n), rel=1e-6)
    assert res.info["discrepancy"] == "met"
    fit = sensor_fit_metrics(res.fitted, model["noisy"][1:], names=model["sens"].probe_names)
    assert fit["all"]["rmse"] == pytest.approx(sigma, rel=1e-6)


def test_sfsm_with_one_percent_noise(model):
    res = choose_future_steps(model["sens"], model["noisy"][1:], sigma=model["sigma"])
    assert res.future_steps > 1 and res.residual_rms >= model["sigma"]
    assert rmse(res.theta, model["truth"][1:]) < 15.0


def test_leave_one_sensor_out_predicts_held_out_sensor(model):
    sens = model["sens"]

    def estimate(measured_subset, kept):
        sub = sens.select_probes(kept)
        return tikhonov(
            sub, measured_subset, order=1, rule="discrepancy", sigma=model["sigma"]
        ).theta

    out = leave_one_sensor_out(
        estimate=estimate,
        predict=sens.predict,
        measured=model["noisy"][1:],
        reference=model["clean"][1:],
        names=sens.probe_names,
    )
    assert set(out) == {"S1", "S2", "S3", "S4", "mean"}
    assert out["mean"]["rmse"] < model["sigma"] and out["mean"]["r2"] > 0.999


def test_metric_definitions():
    truth = np.array([1.0, 2.0, 3.0, 4.0])
    est = truth + np.array([1.0, -1.0, 1.0, -1.0])
    assert rmse(est, truth) == pytest.approx(1.0)
    assert r2(est, truth) == pytest.approx(1.0 - 4.0 / 5.0)
    with pytest.raises(ValueError, match="shape"):
        rmse(est, truth[:3])


def test_bad_inputs_are_named(model):
    with pytest.raises(ValueError, match="n_probes=4"):
        tikhonov(model["sens"], model["noisy"][1:, :3])
    with pytest.raises(ValueError, match="sigma"):
        tikhonov(model["sens"], model["noisy"][1:], rule="discrepancy")
    with pytest.raises(ValueError, match="future_steps"):
        sfsm(model["sens"], model["noisy"][1:], future_steps=0)


def test_era_realization_reproduces_step_response(model):
    real = realize(model["step"], order=20)
    assert real.step_rel_error < 1e-6
    assert np.max(np.abs(np.linalg.eigvals(real.A))) < 1.0  # a stable (decaying) conduction model


def test_kalman_smoother_with_one_percent_noise(model):
    res = kalman_smoother(
        model["step"], model["noisy"][1:], sigma=model["sigma"], y0=20.0, order=12, q_grid=6
    )
    assert rmse(res.smoothed, model["truth"]) < 15.0
    assert rmse(res.filtered, model["truth"]) < 25.0  # causal estimate lags the truth
    assert np.all(res.smoothed_std[1:] > 0) and res.q > 0

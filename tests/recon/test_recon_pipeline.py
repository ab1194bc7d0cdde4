"""Reconstruction pipeline (thermo.inverse.reconstruction) on an analytic linear response: known
answers."""

from __future__ import annotations

import numpy as np
import pytest

from thermo.inverse.linear_response import LinearResponse
from thermo.inverse.reconstruction import (
    CONDITIONS,
    InverseMethod,
    case_number,
    classical_method,
    reconstruct,
    tikhonov_method,
    virtual_measurement,
)

T0 = 20.0


def _response(n_t: int = 81, dt: float = 0.15) -> LinearResponse:
    """First-order sensors S_p(t) = g_p (1 − exp(−t/τ_p)) and a 3-dof "field" of the same kind."""
    times = dt * np.arange(n_t)
    gains, taus = np.array([0.8, 0.65, 0.5, 0.3]), np.array([0.4, 0.8, 1.2, 2.5])
    step = gains * (1.0 - np.exp(-times[:, None] / taus))
    field = np.stack([1.0 - np.exp(-times / tau) for tau in (0.2, 1.0, 4.0)], axis=1)
    return LinearResponse(
        times=times,
        step=step,
        probe_names=("S1", "S2", "S3", "S4"),
        kind="temperature",
        boundary="F1",
        T0=T0,
        scheme="backward-euler",
        field_step=field,
    )


def test_case_numbers_are_the_papers_reconstruction_cases():
    assert [case_number(*c) for c in CONDITIONS] == [5, 14, 23]
    with pytest.raises(ValueError, match="n_rpm"):
        case_number(400.0, 0.075, 0.2)


def test_tikhonov_recovers_history_with_little_noise():
    resp = _response()
    params = dict(n_rpm=509.0, fz_mm=0.075, ae_mm=0.2)
    vm = virtual_measurement(resp, **params, sigma=0.05, seed=3)
    rec = reconstruct(
        resp,
        tikhonov_method(resp, sigma=0.05),
        measured=vm["measured"],
        params=params,
        truth_f1=vm["f1"],
        clean=vm["clean"],
        field_times=(4.5, 12.0),
    )
    rise = vm["f1"].max() - T0
    assert rec.metrics["boundary"]["rmse"] < 0.03 * rise
    assert rec.metrics["sensors"]["all"]["rmse_clean"] < 0.5
    # field at the output times is the Duhamel sum of the estimate: close to that of the truth
    exact = resp.fields(vm["f1"], at_times=(4.5, 12.0))
    assert rec.fields.shape == (2, 3)
    np.testing.assert_allclose(rec.fields, exact, atol=0.03 * rise)
    for name in resp.probe_names:
        assert rec.metrics["loso"][name]["rmse"] < 0.03 * rise


@pytest.mark.parametrize("name", ["tikhonov", "sfsm", "kalman"])
def test_methods_give_finite_metrics_and_bands(name):
    resp = _response()
    params = dict(n_rpm=636.0, fz_mm=0.075, ae_mm=0.2)
    vm = virtual_measurement(resp, **params, sigma=5.0, seed=0)
    rec = reconstruct(
        resp,
        classical_method(name, resp, sigma=5.0),
        measured=vm["measured"],
        params=params,
        truth_f1=vm["f1"],
        clean=vm["clean"],
        field_times=(6.0,),
    )
    m = rec.metrics
    assert all(np.isfinite(m["sensors"][n]["rmse"]) for n in resp.probe_names)
    assert 2.0 < m["sensors"]["all"]["rmse"] < 10.0  # noise σ = 5 K dominates the misfit
    assert m["boundary"]["rmse"] < 0.1 * (vm["f1"].max() - T0)
    if name == "sfsm":
        assert rec.f1_band is None and rec.sensor_band is None
    else:
        band = rec.f1_band
        assert np.all(band[1:, 0] < rec.f1[1:]) and np.all(rec.f1[1:] < band[1:, 1])
        assert 0.5 < m["band_coverage"] <= 1.0
        assert np.all(rec.sensor_band[..., 0] <= rec.sensor_band[..., 1])


def test_posterior_band_scales_with_sigma_at_fixed_lambda():
    """Cov = σ² (XᵀX + λ²LᵀL)⁻¹: with λ fixed (GCV on the same data) the band half-width ∝ σ."""
    from thermo.inverse.reconstruction import _posterior_sd

    resp = _response(n_t=41)
    sens = resp.sensitivity()
    theta = np.zeros(sens.n_par)
    data = np.full((sens.n_obs, sens.n_probes), T0)
    sd1, _ = _posterior_sd(sens, theta, data, 0.3, 1.0)
    sd2, _ = _posterior_sd(sens, theta, data, 0.3, 2.0)
    np.testing.assert_allclose(sd2, 2.0 * sd1)
    X = sens.flat()
    L = np.eye(sens.n_par) - np.eye(sens.n_par, k=-1)
    cov = np.linalg.inv(X.T @ X + 0.09 * L.T @ L)
    np.testing.assert_allclose(sd1[1:], np.sqrt(np.diag(cov)), rtol=1e-10)


def test_pluggable_estimator_and_bad_input():
    resp = _response()
    params = dict(n_rpm=382.0, fz_mm=0.075, ae_mm=0.2)
    vm = virtual_measurement(resp, **params, sigma=0.0, seed=1)

    def oracle(times, measured, p):
        assert measured.shape == (times.size, 4) and p["n_rpm"] == 382.0
        return vm["f1"], None

    rec = reconstruct(
        resp,
        InverseMethod("oracle", oracle),
        measured=vm["measured"],
        params=params,
        truth_f1=vm["f1"],
        field_times=(3.0,),
    )
    # structural zero: the oracle returns the truth array itself, so every error is x − x = 0
    assert rec.metrics["boundary"]["rmse"] == 0.0 and rec.metrics["loso"] is None
    assert rec.metrics["sensors"]["S1"]["rmse"] < 1e-9
    with pytest.raises(ValueError, match=r"shape \(n_t=81, 4\)"):
        reconstruct(
            resp, InverseMethod("oracle", oracle), measured=vm["measured"][:, :3], params=params
        )
    bad = vm["measured"].copy()
    bad[5, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        reconstruct(resp, InverseMethod("oracle", oracle), measured=bad, params=params)

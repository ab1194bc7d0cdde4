"""Reconstruction pipeline (thermo.inverse.reconstruction) on an analytic linear response: known
answers."""

from __future__ import annotations

import numpy as np
import pytest

from thermo.inverse.classical import posterior_sd
from thermo.inverse.design import CONDITIONS, case_number
from thermo.inverse.linear_response import LinearResponse
from thermo.inverse.method import BoundaryEstimate
from thermo.inverse.reconstruction import reconstruct, virtual_measurement
from thermo.inverse.registry import make_method

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
    method = make_method("tikhonov", response=resp, sigma=0.05)
    rec = reconstruct(resp, method, vm, field_times=(4.5, 12.0))
    rise = vm.truth.max() - T0
    assert rec.metrics["boundary"]["rmse"] < 0.03 * rise
    assert rec.metrics["sensors"]["all"]["rmse_clean"] < 0.5
    # field at the output times is the Duhamel sum of the estimate: close to that of the truth
    exact = resp.fields(vm.truth, at_times=(4.5, 12.0))
    assert rec.fields.shape == (2, 3)
    np.testing.assert_allclose(rec.fields, exact, atol=0.03 * rise)
    for name in resp.probe_names:
        assert rec.metrics["loso"][name]["rmse"] < 0.03 * rise
    assert rec.record is vm and rec.params == params


@pytest.mark.parametrize("name", ["tikhonov", "sfsm", "kalman"])
def test_methods_give_finite_metrics_and_bands(name):
    resp = _response()
    params = dict(n_rpm=636.0, fz_mm=0.075, ae_mm=0.2)
    vm = virtual_measurement(resp, **params, sigma=5.0, seed=0)
    rec = reconstruct(resp, make_method(name, response=resp, sigma=5.0), vm, field_times=(6.0,))
    m = rec.metrics
    assert all(np.isfinite(m["sensors"][n]["rmse"]) for n in resp.probe_names)
    assert 2.0 < m["sensors"]["all"]["rmse"] < 10.0  # noise σ = 5 K dominates the misfit
    assert m["boundary"]["rmse"] < 0.1 * (vm.truth.max() - T0)
    if name == "sfsm":
        assert rec.f1_band is None and rec.sensor_band is None
    else:
        band = rec.f1_band
        assert np.all(band[1:, 0] < rec.f1[1:]) and np.all(rec.f1[1:] < band[1:, 1])
        assert 0.5 < m["band_coverage"] <= 1.0
        assert np.all(rec.sensor_band[..., 0] <= rec.sensor_band[..., 1])


def test_flux_input_reconstructs_too():
    """The F1 kind is handled in one place: a flux response gives a W/m² estimate and truth."""
    temp = _response()
    resp = LinearResponse(
        times=temp.times,
        step=temp.step * 1e-4,  # K per W/m²
        probe_names=temp.probe_names,
        kind="flux",
        boundary="F1",
        T0=T0,
        scheme="backward-euler",
        field_step=temp.field_step * 1e-4,
    )
    vm = virtual_measurement(resp, n_rpm=509.0, fz_mm=0.075, ae_mm=0.2, sigma=0.05, seed=1)
    assert vm.truth.max() > 1e5  # W/m², not °C
    rec = reconstruct(
        resp, make_method("tikhonov", response=resp, sigma=0.05), vm, field_times=(6.0,)
    )
    assert rec.metrics["boundary"]["rmse"] < 0.05 * vm.truth.max()
    assert rec.f1[0] == 0.0  # a flux starts from zero, a temperature from T0


def test_posterior_band_scales_with_sigma_at_fixed_lambda():
    """Cov = σ² (XᵀX + λ²LᵀL)⁻¹: with λ fixed the band half-width ∝ σ."""
    from thermo.inverse.tikhonov import TikhonovSolver

    resp = _response(n_t=41)
    sens = resp.sensitivity()
    solver = TikhonovSolver(sens, order=1)
    spectral = solver.spectral_rows(sens.basis) ** 2
    theta = np.zeros(sens.n_par)
    data = np.full((sens.n_obs, sens.n_probes), T0)
    sd1, _ = posterior_sd(solver, spectral, theta, data, 0.3, 1.0)
    sd2, _ = posterior_sd(solver, spectral, theta, data, 0.3, 2.0)
    np.testing.assert_allclose(sd2, 2.0 * sd1, rtol=1e-12)  # exact scaling by a power of two
    X = sens.flat()
    L = np.eye(sens.n_par) - np.eye(sens.n_par, k=-1)
    cov = np.linalg.inv(X.T @ X + 0.09 * L.T @ L)
    np.testing.assert_allclose(sd1[1:], np.sqrt(np.diag(cov)), rtol=1e-7)


class _Oracle:
    """A method that returns the truth it was given (checks the plumbing, not the maths)."""

    name = "oracle"
    subsets = False

    def __init__(self, truth):
        self.truth = truth

    def estimate(self, record, *, sensors=None):
        assert record.values.shape == (record.times.size, 4) and record.params["n_rpm"] == 382.0
        return BoundaryEstimate(record.times, self.truth)


def test_pluggable_estimator_and_bad_input():
    resp = _response()
    params = dict(n_rpm=382.0, fz_mm=0.075, ae_mm=0.2)
    vm = virtual_measurement(resp, **params, sigma=0.0, seed=1)
    rec = reconstruct(resp, _Oracle(vm.truth), vm, field_times=(3.0,))
    # structural zero: the oracle returns the truth array itself, so every error is x − x = 0
    assert rec.metrics["boundary"]["rmse"] == 0.0 and rec.metrics["loso"] is None
    assert rec.metrics["sensors"]["S1"]["rmse"] < 1e-9
    short = vm.select(["S1", "S2", "S3"])
    with pytest.raises(AssertionError):
        reconstruct(resp, _Oracle(vm.truth), short)
    off_grid = type(vm)(vm.times * 1.5, vm.values, vm.names, params=params)
    with pytest.raises(ValueError, match="step grid"):
        reconstruct(resp, _Oracle(vm.truth), off_grid)

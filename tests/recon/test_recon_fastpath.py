"""Fast reconstruction path: cached Tikhonov band and low-rank field response (issue 5)."""

from __future__ import annotations

import numpy as np
import pytest

from thermo.inverse import tikhonov as tik
from thermo.inverse.duhamel import (
    duhamel_weights,
    index_of_times,
    single_blas_thread,
    superpose_at,
)
from thermo.inverse.linear_response import LinearResponse
from thermo.inverse.lowrank import compress_step
from thermo.inverse.reconstruction import reconstruct, virtual_measurement
from thermo.inverse.registry import make_method
from thermo.inverse.tikhonov import tikhonov

T0 = 20.0
PARAMS = dict(n_rpm=509.0, fz_mm=0.075, ae_mm=0.2)


def _response(n_t: int = 81, dt: float = 0.15, n_dofs: int = 300) -> LinearResponse:
    """First-order sensors and a diffusive "field": dof j responds like a sum of two
    first-order lags with time constants spread over 0.05 … 20 s (a smooth, low-rank family)."""
    times = dt * np.arange(n_t)
    gains, taus = np.array([0.8, 0.65, 0.5, 0.3]), np.array([0.4, 0.8, 1.2, 2.5])
    step = gains * (1.0 - np.exp(-times[:, None] / taus))
    rng = np.random.default_rng(0)
    tau = np.exp(rng.uniform(np.log(0.05), np.log(20.0), size=(2, n_dofs)))
    mix = rng.uniform(0.0, 1.0, size=n_dofs)
    t = times[:, None]
    field = mix * (1.0 - np.exp(-t / tau[0])) + (1.0 - mix) * (1.0 - np.exp(-t / tau[1]))
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


def _ref_posterior_sd(sens, theta, measured, lam, sigma):
    """The band before the cached decomposition: an explicit inverse of XᵀX + λ²LᵀL."""
    X = sens.flat()
    m = X.shape[1]
    L = np.eye(m) - np.eye(m, k=-1)
    A_inv = np.linalg.inv(X.T @ X + lam**2 * (L.T @ L))
    if sigma is None:
        r = sens.residual_data(measured) - X @ theta
        dof = max(X.shape[0] - float(np.trace(X @ A_inv @ X.T)), 1.0)
        sigma = float(np.sqrt(r @ r / dof))
    cov = sigma**2 * A_inv
    return np.sqrt(np.clip(np.diag(sens.basis @ cov @ sens.basis.T), 0.0, None))


@pytest.mark.parametrize("rule", ["discrepancy", "gcv"])
@pytest.mark.parametrize("kept", [[0, 1, 2, 3], [0, 2, 3]])
def test_band_equals_explicit_inverse(rule, kept):
    resp = _response()
    vm = virtual_measurement(resp, **PARAMS, sigma=2.0, seed=4)
    sigma = 2.0 if rule == "discrepancy" else None
    method = make_method("tikhonov", response=resp, sigma=sigma, rule=rule)
    names = [resp.probe_names[k] for k in kept]
    measured = vm.values[:, kept]
    est = method.estimate(vm, sensors=names)
    f1, band = est.values, est.band
    sens = resp.sensitivity().select_probes(kept)
    ref = tikhonov(sens, measured[1:], order=1, rule=rule, sigma=sigma)
    np.testing.assert_allclose(f1[1:] - T0, ref.theta, rtol=1e-10)
    sd_ref = _ref_posterior_sd(sens, ref.theta, measured[1:], ref.lam, sigma)
    sd = (band[:, 1] - f1) / 1.96
    assert sd[0] == 0.0  # structural: sd[0] is set to 0 (F1(0) = T0 is known), f1 ± 1.96·0 = f1
    np.testing.assert_allclose(sd[1:], sd_ref[1:], rtol=1e-8)
    # symmetric band f1 ± 1.96 sd: the two half-widths differ by the rounding of the two
    # elementwise additions only, a few ulp of |band| (no BLAS involved)
    ulp_band = np.finfo(float).eps * np.abs(band).max()
    np.testing.assert_allclose((f1 - band[:, 0]) / 1.96, sd, rtol=0, atol=8 * ulp_band)


def test_solver_built_once_per_sensor_subset(monkeypatch):
    built = []
    original = tik._StandardForm.__init__

    def counting(self, X, order):
        built.append(X.shape)
        original(self, X, order)

    monkeypatch.setattr(tik._StandardForm, "__init__", counting)
    resp = _response()
    vm = virtual_measurement(resp, **PARAMS, sigma=2.0, seed=4)
    method = make_method("tikhonov", response=resp, sigma=2.0)
    for _ in range(3):
        method.estimate(vm)
        method.estimate(vm, sensors=["S1", "S2", "S4"])
    assert len(built) == 2


def _history(resp: LinearResponse, seed: int = 0) -> np.ndarray:
    """Cut-like F1 history with noise (large total variation), °C."""
    t = resp.times
    rng = np.random.default_rng(seed)
    return T0 + 300.0 * np.clip(t / 2.0, 0.0, 1.0) + 8.0 * rng.normal(size=t.size) * (t > 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compressed_fields_within_documented_bound(dtype):
    resp = _response()
    S = resp.field_step
    comp = compress_step(S, rel_tol=1e-6, dtype=dtype)
    assert comp.tol == pytest.approx(1e-6 * np.abs(S).max())
    assert comp.rank < S.shape[0] // 3  # diffusive responses are low rank
    assert comp.dof_factor.dtype == np.dtype(dtype)
    err = np.abs(S - comp.time_factor @ comp.dof_factor.astype(float)).max()
    assert err == pytest.approx(comp.max_error) and err <= comp.tol
    # one rank less does not meet the tolerance (the rank is the smallest one found)
    A = comp.time_factor[:, :-1]
    assert np.abs(S - A @ (A.T @ S)).max() > comp.tol
    f1 = _history(resp)
    u = resp.input_samples(f1)
    idx = np.arange(0, resp.times.size, 7)
    exact = superpose_at(S, u, idx)
    fast = comp.superpose_at(u, idx)
    bound = comp.error_bound(u, idx)
    tv = np.abs(duhamel_weights(u, idx)).sum(axis=1)
    assert np.all(np.abs(fast - exact).max(axis=1) <= bound)
    assert np.all(bound >= tv * comp.max_error) and tv.max() > 500.0
    assert np.abs(fast - exact).max() < 0.01  # K, for a 300 K rise with 8 K noise


def _svd_truncation_errors(S: np.ndarray) -> np.ndarray:
    """max |S − U_r U_rᵀ S| for r = 1 … min(S.shape), U from a full SVD."""
    U = np.linalg.svd(S, full_matrices=False)[0]
    with single_blas_thread():  # 81 tiny products: threaded BLAS is slow on a loaded machine
        C = U.T @ S
        return np.array([np.abs(S - U[:, :r] @ C[:r]).max() for r in range(1, U.shape[1] + 1)])


def _decidable_rank(S: np.ndarray, tol: float) -> int:
    """Smallest SVD rank meeting ``tol``, asserting that no CPU's round-off can change it.

    The truncation errors of S (and of any factorisation of it) carry a round-off of order
    eps · ‖S‖₂ times a modest function of the size; the margin taken here is
    eps · ‖S‖₂ · max(S.shape) (≈ 8e-12 for the 81 × 300 response). The errors at the rank
    found and at one rank less must both be farther than that from ``tol``; at a 1e-13 relative
    tolerance they are not (ranks 26 and 27 are both within 2e-14 of it, and which one qualifies
    depends on the BLAS kernels), so such tolerances are not asked for.
    """
    errors = _svd_truncation_errors(S)
    margin = np.finfo(float).eps * np.linalg.norm(S, 2) * max(S.shape)
    rank = 1 + int(np.argmax(errors <= tol))
    assert errors[rank - 1] < tol - margin, (rank, errors[rank - 1], tol, margin)
    assert rank == 1 or errors[rank - 2] > tol + margin, (rank, errors[rank - 2], tol, margin)
    return rank


@pytest.mark.parametrize("rel_tol", [1e-3, 1e-6, 1e-9])
def test_compressed_rank_is_the_exact_svd_rank(rel_tol):
    """The randomised range finder (k = 32) finds the same smallest rank as a full SVD, for
    tolerances whose rank is decided with margin over round-off (:func:`_decidable_rank`);
    below float32 resolution B falls back to float64."""
    S = _response().field_step
    comp = compress_step(S, rel_tol=rel_tol)
    tol = rel_tol * np.abs(S).max()
    assert comp.rank == _decidable_rank(S, tol)
    assert comp.max_error <= tol
    assert comp.dof_factor.dtype == (np.float64 if rel_tol < 1e-8 else np.float32)


def test_compressed_rank_doubles_k_when_the_rank_is_high(monkeypatch):
    """A response of exact rank 30 (singular values 1 … 1e-3, then 1e-12): k = 32 leaves too
    little oversampling, so k is doubled to 64 and the rank found is 30; at a tolerance below
    float32 resolution B is kept in float64. Every error is orders of magnitude from tol."""
    import thermo.inverse.lowrank as lowrank

    rng = np.random.default_rng(5)
    q1 = np.linalg.qr(rng.standard_normal((81, 81)))[0]
    q2 = np.linalg.qr(rng.standard_normal((300, 81)))[0]
    s = np.concatenate([np.logspace(0.0, -3.0, 30), np.full(51, 1e-12)])
    S = (q1 * s) @ q2.T
    ks = []
    original = lowrank._left_singular_vectors

    def spy(S_, k):
        ks.append(k)
        return original(S_, k)

    monkeypatch.setattr(lowrank, "_left_singular_vectors", spy)
    comp = compress_step(S, rel_tol=1e-8)
    tol = 1e-8 * np.abs(S).max()
    assert ks == [32, 64]
    assert comp.rank == _decidable_rank(S, tol) == 30
    assert comp.max_error <= tol and comp.dof_factor.dtype == np.float64


def test_fields_compressed_default_in_reconstruct_and_cache():
    resp = _response()
    vm = virtual_measurement(resp, **PARAMS, sigma=1.0, seed=2)
    method = make_method("tikhonov", response=resp, sigma=1.0)
    kw = dict(field_times=(4.5, 9.0), loso=False)
    fast = reconstruct(resp, method, vm, **kw)
    exact = reconstruct(resp, method, vm, **kw, compressed_fields=False)
    comp = resp.field_compression()
    assert resp.field_compression() is comp  # cached
    # bit identity of the same code on the same arrays in one process (which path reconstruct
    # takes), not a claim across machines or library builds
    np.testing.assert_array_equal(exact.fields, resp.fields(exact.f1, at_times=(4.5, 9.0)))
    np.testing.assert_array_equal(
        fast.fields, resp.fields(fast.f1, at_times=(4.5, 9.0), compressed=True)
    )
    u = resp.input_samples(fast.f1)
    bound = comp.error_bound(u, index_of_times(resp.times, (4.5, 9.0)))
    assert np.all(np.abs(fast.fields - exact.fields).max(axis=1) <= bound)
    assert resp.field_compression(dtype=np.float64).dof_factor.dtype == np.float64
    resp.field_step = resp.field_step.copy()  # replaced response: factors recomputed
    assert resp.field_compression() is not comp


def test_save_load_keeps_factors_and_old_files(tmp_path):
    resp = _response()
    resp.save(tmp_path / "plain")
    old = LinearResponse.load(tmp_path / "plain")
    assert not old.has_field_compression
    assert old.field_compression().rank >= 1  # computed lazily for files without factors
    comp = resp.field_compression()
    resp.save(tmp_path / "packed")
    with np.load(tmp_path / "packed.npz") as data:
        assert {"field_time_factor", "field_dof_factor"} <= set(data.files)
    back = LinearResponse.load(tmp_path / "packed")
    loaded = back.field_compression()
    assert back.field_compression() is loaded
    # stored arrays and numbers come back bit for bit (a file round trip, nothing recomputed)
    np.testing.assert_array_equal(loaded.dof_factor, comp.dof_factor)
    assert loaded.dof_factor.dtype == comp.dof_factor.dtype
    assert (loaded.tol, loaded.max_error, loaded.rank) == (comp.tol, comp.max_error, comp.rank)


def test_compress_bad_input():
    with pytest.raises(ValueError, match="tol"):
        compress_step(np.ones((5, 3)), tol=0.0)
    with pytest.raises(ValueError, match="dtype"):
        compress_step(np.ones((5, 3)), dtype=np.int32)
    resp = _response()
    resp.field_step = None
    with pytest.raises(ValueError, match="no field response"):
        resp.fields(_history(resp), at_times=(1.5,), compressed=True)

"""TikhonovSolver (cached standard-form SVD) against the original one-shot implementation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize

from thermo.inverse import tikhonov as tik
from thermo.inverse.sensitivity import Sensitivity, build_sensitivity
from thermo.inverse.tikhonov import TikhonovSolver, tikhonov


class _RefStandardForm:
    """The implementation before the solver object (scalar λ, loop over the GCV grid)."""

    def __init__(self, X, d, order):
        m = X.shape[1]
        self.Linv = np.eye(m) if order == 0 else np.tril(np.ones((m, m)))
        self.U, self.s, self.Vt = np.linalg.svd(X @ self.Linv, full_matrices=False)
        self.beta = self.U.T @ d
        self.perp2 = max(float(d @ d - self.beta @ self.beta), 0.0)
        self.n = X.shape[0]

    def filters(self, lam):
        return self.s**2 / (self.s**2 + lam**2)

    def residual2(self, lam):
        return float(np.sum(((1.0 - self.filters(lam)) * self.beta) ** 2) + self.perp2)

    def seminorm2(self, lam):
        return float(np.sum((self.filters(lam) * self.beta / self.s) ** 2))

    def solution(self, lam):
        return self.Linv @ (self.Vt.T @ (self.filters(lam) * self.beta / self.s))

    def gcv(self, lam):
        return self.residual2(lam) / (self.n - float(np.sum(self.filters(lam)))) ** 2

    def curvature(self, lam):
        f = self.filters(lam)
        cf = 1.0 - f
        xi2, b2 = (self.beta / self.s) ** 2, self.beta**2
        eta, rho = math.sqrt(self.seminorm2(lam)), math.sqrt(self.residual2(lam))
        f1 = -2.0 * f * cf / lam
        f2 = -f1 * (3.0 - 4.0 * f) / lam
        phi, psi = float(np.sum(f * f1 * xi2)), float(np.sum(cf * f1 * b2))
        dphi = float(np.sum((f1**2 + f * f2) * xi2))
        dpsi = float(np.sum((-(f1**2) + cf * f2) * b2))
        deta, drho = phi / eta, -psi / rho
        ddeta, ddrho = dphi / eta - deta * deta / eta, -dpsi / rho - drho * drho / rho
        dle, dlr = deta / eta, drho / rho
        ddle, ddlr = ddeta / eta - dle**2, ddrho / rho - dlr**2
        return float((dlr * ddle - ddlr * dle) / (dlr**2 + dle**2) ** 1.5)


def _ref_grid(fun, lo, hi):
    grid = np.logspace(math.log10(lo), math.log10(hi), 400)
    vals = np.array([fun(x) for x in grid])
    i = int(np.argmin(vals))
    a, b = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    res = optimize.minimize_scalar(
        lambda x: fun(10.0**x), bounds=(math.log10(a), math.log10(b)), method="bounded"
    )
    return float(10.0**res.x) if res.fun <= vals[i] else float(grid[i])


def _ref_tikhonov(sens, measured, *, order, rule, sigma=None, lam=None):
    sf = _RefStandardForm(sens.flat(), sens.residual_data(measured), order)
    s_max = float(sf.s[0])
    lo, hi = 1e-6 * s_max, 1e2 * s_max
    if rule == "fixed":
        chosen = lam
    elif rule == "discrepancy":
        target = sigma**2 * sf.n

        def gap(x):
            return sf.residual2(10.0**x) - target

        chosen = float(10.0 ** optimize.brentq(gap, math.log10(lo), math.log10(hi), xtol=1e-10))
    elif rule == "gcv":
        chosen = _ref_grid(sf.gcv, lo, hi)
    else:
        chosen = _ref_grid(lambda x: -sf.curvature(x), lo, s_max)
    return chosen, sf


#: How closely λ is determined by each rule's search, relative: fixed is passed through;
#: brentq stops at xtol = 1e-10 in log10 λ (2.3e-10 relative), so 1e-8; the GCV / L-curve
#: minimum is located by a bounded minimiser with xatol = 1e-5 in log10 λ (2.3e-5 relative),
#: so 1e-4. Round-off in the two implementations may move λ within these, not beyond.
LAM_REL = {"fixed": 1e-12, "discrepancy": 1e-8, "gcv": 1e-4, "lcurve": 1e-4}


def _random_problem(seed=0, n_obs=60, n_probes=2, m=20, sigma=0.05):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_obs, n_probes, m))
    theta = np.sin(np.linspace(0.0, 3.0, m))
    measured = X @ theta + sigma * rng.normal(size=(n_obs, n_probes))
    tau = np.arange(1.0, m + 1.0)
    sens = Sensitivity(
        X=X,
        y0=np.zeros((n_obs, n_probes)),
        obs_times=np.arange(1.0, n_obs + 1.0),
        param_times=tau,
        basis=np.vstack([np.zeros(m), np.eye(m)]),
        grid_times=np.arange(m + 1.0),
        probe_names=tuple(f"P{i}" for i in range(n_probes)),
        exact=True,
    )
    return sens, measured, sigma


def _response_problem(seed=1, sigma=0.3):
    """First-order sensors on a 0.15 s grid (as tests/recon), F1 ramp with a plateau."""
    times = 0.15 * np.arange(81)
    gains, taus = np.array([0.8, 0.65, 0.5, 0.3]), np.array([0.4, 0.8, 1.2, 2.5])
    step = gains * (1.0 - np.exp(-times[:, None] / taus))
    sens = build_sensitivity(step, times)
    u = np.clip(times / 3.0, 0.0, 1.0) * 300.0
    clean = sens.predict(u[1:])
    rng = np.random.default_rng(seed)
    return sens, clean + sigma * rng.normal(size=clean.shape), sigma


@pytest.mark.parametrize("problem", [_random_problem, _response_problem])
@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("rule", ["discrepancy", "gcv", "lcurve", "fixed"])
def test_solver_matches_reference(problem, order, rule):
    sens, measured, sigma = problem()
    kw = {"sigma": sigma} if rule == "discrepancy" else {}
    if rule == "fixed":
        kw = {"lam": 0.37}
    lam_ref, ref = _ref_tikhonov(sens, measured, order=order, rule=rule, **kw)
    solver = TikhonovSolver(sens, order=order)
    for res in (
        solver.solve(measured, rule=rule, **kw),
        tikhonov(sens, measured, order=order, rule=rule, **kw),
    ):
        assert res.lam == pytest.approx(lam_ref, rel=LAM_REL[rule])
        # the solution at the λ it chose: the reference formulas at that same λ
        theta_ref = ref.solution(res.lam)
        np.testing.assert_allclose(
            res.theta, theta_ref, rtol=1e-10, atol=1e-10 * np.abs(theta_ref).max()
        )


def test_solver_is_reusable_across_data():
    sens, measured, sigma = _response_problem()
    solver = TikhonovSolver(sens, order=1)
    other = measured + 2.0 * np.random.default_rng(5).normal(size=measured.shape)
    first = solver.solve(measured, rule="discrepancy", sigma=sigma)
    solver.solve(other, rule="gcv")
    again = solver.solve(measured, rule="discrepancy", sigma=sigma)
    # the same solver object on the same data in one process: bit-identical, and a fresh
    # solver on the same machine computes the same SVD of the same matrix
    assert again.lam == first.lam
    np.testing.assert_array_equal(again.theta, first.theta)
    fresh = tikhonov(sens, other, order=1, rule="gcv")
    assert solver.solve(other, rule="gcv").lam == pytest.approx(fresh.lam, rel=1e-12)


def test_solve_does_no_new_svd(monkeypatch):
    sens, measured, sigma = _response_problem()
    solver = TikhonovSolver(sens, order=1)
    calls = []
    monkeypatch.setattr(tik.np.linalg, "svd", lambda *a, **k: calls.append(1))
    solver.solve(measured, rule="discrepancy", sigma=sigma)
    solver.solve(measured, rule="gcv")
    assert calls == []


@pytest.mark.parametrize("shape", [(30, 2, 12), (5, 1, 12)])  # well- and under-determined
@pytest.mark.parametrize("order", [0, 1])
def test_inverse_diag_and_dof_match_dense_formulas(shape, order):
    sens, measured, _ = _random_problem(n_obs=shape[0], n_probes=shape[1], m=shape[2])
    solver = TikhonovSolver(sens, order=order)
    X, m, lam = sens.flat(), shape[2], 0.7
    L = np.eye(m) - (np.eye(m, k=-1) if order == 1 else 0.0)
    A_inv = np.linalg.inv(X.T @ X + lam**2 * L.T @ L)
    R = np.random.default_rng(2).normal(size=(7, m))
    np.testing.assert_allclose(
        solver.inverse_diag(lam, solver.spectral_rows(R) ** 2),
        np.diag(R @ A_inv @ R.T),
        rtol=1e-10,
    )
    np.testing.assert_allclose(
        solver.inverse_diag(lam, solver.spectral_rows() ** 2), np.diag(A_inv), rtol=1e-10
    )
    assert solver.effective_dof(lam) == pytest.approx(np.trace(X @ A_inv @ X.T), rel=1e-10)


def test_bad_input():
    sens, measured, _ = _random_problem()
    with pytest.raises(ValueError, match="order"):
        TikhonovSolver(sens, order=2)
    solver = TikhonovSolver(sens, order=1)
    with pytest.raises(ValueError, match="sigma"):
        solver.solve(measured, rule="discrepancy")
    with pytest.raises(ValueError, match="shape"):
        solver.solve(measured[:, :1], rule="gcv")
    with pytest.raises(ValueError, match="rows"):
        solver.spectral_rows(np.ones((3, 4)))

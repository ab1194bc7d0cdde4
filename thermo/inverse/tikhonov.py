r"""Tikhonov regularisation of order 0 and 1 with automatic parameter choice.

Problem (flattened data :math:`d = y_{meas} - y_0`, sensitivity X of shape (n, m)):

.. math::

    \hat\theta_\lambda = \arg\min_\theta \|X\theta - d\|^2 + \lambda^2 \|L\theta\|^2,

order 0: :math:`L = I`; order 1: :math:`(L\theta)_j = \theta_j - \theta_{j-1}` with
:math:`\theta_0 = 0` (the history starts at the baseline, :mod:`thermo.inverse.sensitivity`),
so L is square, lower bidiagonal and invertible. Substituting :math:`v = L\theta` gives the
standard form with :math:`\tilde X = X L^{-1}` (column j of :math:`\tilde X` is the response to a
unit step of the history at :math:`\tau_j`). One SVD :math:`\tilde X = U \Sigma V^T` then gives,
for every λ, the filter factors :math:`f_i = s_i^2/(s_i^2+\lambda^2)`, the solution
:math:`v_\lambda = \sum_i f_i \beta_i / s_i\, v_i` (:math:`\beta = U^T d`) and the residual
:math:`\|r_\lambda\|^2 = \sum_i (1-f_i)^2\beta_i^2 + \|d_\perp\|^2`
(Hansen, *Discrete Inverse Problems*, SIAM 2010, ch. 4–5).

Parameter choice:

* ``discrepancy`` (σ known): λ with :math:`\|r_\lambda\| = \tau\,\sigma\sqrt{n}` (Morozov),
  found by Brent's method on log λ (the residual is monotone in λ); τ = 1 by default.
* ``gcv`` (σ unknown): minimiser of :math:`G(\lambda) = \|r_\lambda\|^2 / (n - \sum_i f_i)^2`.
* ``lcurve`` (σ unknown): corner of :math:`(\log\|r_\lambda\|, \log\|L\theta_\lambda\|)`, the
  maximum of its closed-form curvature in terms of the SVD (Hansen 2010 §5.3; the formulas of
  his Regularization Tools ``lcfun``).

GCV searches a log grid of 400 values over [1e-6 s_max, 1e2 s_max], the L-curve over
[1e-6 s_max, s_max]; the best grid point is refined by a bounded scalar minimisation. The L-curve
of a mildly ill-posed problem (sensors close to F1) can lack a corner; the result then says so in
``info["lcurve"]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import optimize
from threadpoolctl import threadpool_limits

from thermo.inverse.sensitivity import Sensitivity

Rule = Literal["discrepancy", "gcv", "lcurve", "fixed"]


@dataclass(frozen=True)
class TikhonovResult:
    """Estimate and diagnostics.

    Attributes:
        theta: estimated boundary values at the parameter times, shape (n_par,).
        lam: regularisation parameter λ (units of X).
        rule: how λ was chosen.
        order: 0 or 1.
        residual_norm: ‖X θ − d‖ (K).
        seminorm: ‖L θ‖.
        fitted: fitted probe values y0 + X θ, shape (n_obs, n_probes).
        info: extra diagnostics (e.g. whether the discrepancy target was reachable).
    """

    theta: np.ndarray
    lam: float
    rule: str
    order: int
    residual_norm: float
    seminorm: float
    fitted: np.ndarray
    info: dict = field(default_factory=dict)


class _StandardForm:
    """SVD of X L⁻¹ and the closed-form λ-dependent quantities."""

    def __init__(self, X: np.ndarray, d: np.ndarray, order: int) -> None:
        m = X.shape[1]
        if order == 0:
            self.Linv = np.eye(m)
        elif order == 1:
            self.Linv = np.tril(np.ones((m, m)))
        else:
            raise ValueError(f"tikhonov: order must be 0 or 1, got {order!r}")
        Xt = X @ self.Linv
        # small dense SVDs run faster on one BLAS thread than on a shared, loaded machine
        with threadpool_limits(limits=1, user_api="blas"):
            self.U, self.s, self.Vt = np.linalg.svd(Xt, full_matrices=False)
        self.beta = self.U.T @ d
        self.perp2 = max(float(d @ d - self.beta @ self.beta), 0.0)
        self.n = X.shape[0]

    def filters(self, lam: float) -> np.ndarray:
        s2 = self.s**2
        return s2 / (s2 + lam**2)

    def residual2(self, lam: float) -> float:
        f = self.filters(lam)
        return float(np.sum(((1.0 - f) * self.beta) ** 2) + self.perp2)

    def seminorm2(self, lam: float) -> float:
        f = self.filters(lam)
        return float(np.sum((f * self.beta / self.s) ** 2))

    def solution(self, lam: float) -> np.ndarray:
        f = self.filters(lam)
        v = self.Vt.T @ (f * self.beta / self.s)
        return self.Linv @ v

    def gcv(self, lam: float) -> float:
        return self.residual2(lam) / (self.n - float(np.sum(self.filters(lam)))) ** 2

    def curvature(self, lam: float) -> float:
        """Curvature of (log ‖r‖, log ‖Lθ‖) at λ (as Hansen's Regularization Tools lcfun)."""
        f = self.filters(lam)
        cf = 1.0 - f
        xi2 = (self.beta / self.s) ** 2
        b2 = self.beta**2
        eta = math.sqrt(self.seminorm2(lam))
        rho = math.sqrt(self.residual2(lam))
        f1 = -2.0 * f * cf / lam
        f2 = -f1 * (3.0 - 4.0 * f) / lam
        phi = float(np.sum(f * f1 * xi2))
        psi = float(np.sum(cf * f1 * b2))
        dphi = float(np.sum((f1**2 + f * f2) * xi2))
        dpsi = float(np.sum((-(f1**2) + cf * f2) * b2))
        deta, drho = phi / eta, -psi / rho
        ddeta = dphi / eta - deta * deta / eta
        ddrho = -dpsi / rho - drho * drho / rho
        dle, dlr = deta / eta, drho / rho
        ddle = ddeta / eta - dle**2
        ddlr = ddrho / rho - dlr**2
        return float((dlr * ddle - ddlr * dle) / (dlr**2 + dle**2) ** 1.5)


def _grid_then_refine(fun, lo: float, hi: float) -> float:
    grid = np.logspace(math.log10(lo), math.log10(hi), 400)
    vals = np.array([fun(x) for x in grid])
    i = int(np.argmin(vals))
    a, b = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    res = optimize.minimize_scalar(
        lambda x: fun(10.0**x), bounds=(math.log10(a), math.log10(b)), method="bounded"
    )
    return float(10.0**res.x) if res.fun <= vals[i] else float(grid[i])


def tikhonov(
    sens: Sensitivity,
    measured: np.ndarray,
    *,
    order: int = 1,
    rule: Rule = "gcv",
    sigma: float | None = None,
    tau: float = 1.0,
    lam: float | None = None,
) -> TikhonovResult:
    """Tikhonov estimate of the boundary history (module docstring).

    Args:
        sens: linear forward model.
        measured: probe measurements (°C), shape (n_obs, n_probes) at ``sens.obs_times``.
        order: 0 (small values) or 1 (smooth history).
        rule: "discrepancy" (needs ``sigma``), "gcv", "lcurve", or "fixed" (needs ``lam``).
        sigma: noise standard deviation, K.
        tau: safety factor of the discrepancy principle.
        lam: λ for ``rule="fixed"``.
    """
    d = sens.residual_data(measured)
    sf = _StandardForm(sens.flat(), d, order)
    s_max = float(sf.s[0])
    lo, hi = 1e-6 * s_max, 1e2 * s_max
    info: dict = {}
    if rule == "fixed":
        if lam is None or not lam > 0:
            raise ValueError("tikhonov: rule='fixed' needs lam > 0")
        chosen = float(lam)
    elif rule == "discrepancy":
        if sigma is None or not sigma > 0:
            raise ValueError("tikhonov: rule='discrepancy' needs the noise sigma > 0 (K)")
        target = (tau * sigma) ** 2 * sf.n
        info["target_residual"] = math.sqrt(target)

        def gap(x: float) -> float:
            return sf.residual2(10.0**x) - target

        if gap(math.log10(lo)) >= 0.0:
            chosen, info["discrepancy"] = lo, "residual above target already at smallest λ"
        elif gap(math.log10(hi)) <= 0.0:
            chosen, info["discrepancy"] = hi, "residual below target even at largest λ"
        else:
            chosen = float(10.0 ** optimize.brentq(gap, math.log10(lo), math.log10(hi), xtol=1e-10))
            info["discrepancy"] = "met"
    elif rule == "gcv":
        chosen = _grid_then_refine(sf.gcv, lo, hi)
    elif rule == "lcurve":
        chosen = _grid_then_refine(lambda x: -sf.curvature(x), lo, s_max)
        if chosen <= lo * 1.05 or chosen >= s_max / 1.05:
            info["lcurve"] = "curvature maximum at the search boundary: no clear corner"
    else:
        raise ValueError(f"tikhonov: rule must be discrepancy, gcv, lcurve or fixed, got {rule!r}")
    theta = sf.solution(chosen)
    return TikhonovResult(
        theta=theta,
        lam=chosen,
        rule=rule,
        order=order,
        residual_norm=math.sqrt(sf.residual2(chosen)),
        seminorm=math.sqrt(sf.seminorm2(chosen)),
        fitted=sens.predict(theta),
        info=info,
    )

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

:class:`TikhonovSolver` keeps the SVD for repeated inversions with one sensitivity (per call only
:math:`\beta = U^T d` and the λ search; the GCV and L-curve grids are evaluated vectorised), and
gives the diagonal of :math:`(X^TX + \lambda^2 L^TL)^{-1}` for any λ from the same SVD (posterior
band, :mod:`thermo.inverse.reconstruction`). :func:`tikhonov` is the one-off call (one SVD per
call).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import optimize

from thermo.inverse.duhamel import single_blas_thread
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
    """SVD of X L⁻¹ (data independent) and the closed-form λ-dependent quantities of one data
    vector d. The λ functions accept a scalar or a 1-D array of λ (then they return an array)."""

    def __init__(self, X: np.ndarray, order: int) -> None:
        n, m = X.shape
        if order == 0:
            self.Linv = np.eye(m)
        elif order == 1:
            self.Linv = np.tril(np.ones((m, m)))
        else:
            raise ValueError(f"tikhonov: order must be 0 or 1, got {order!r}")
        self.n, self.m = n, m
        Xt = X @ self.Linv
        # small dense SVDs run faster on one BLAS thread than on a shared, loaded machine
        with single_blas_thread():
            self.U, self.s, self.Vt = np.linalg.svd(Xt, full_matrices=False)
        self.s2 = self.s**2
        self.beta = np.zeros(self.s.size)
        self.perp2 = 0.0

    def with_data(self, d: np.ndarray) -> _StandardForm:
        """A shallow copy (sharing the SVD) with the data projected: β = Uᵀ d and
        ‖d_⊥‖² = ‖d‖² − ‖β‖² (the part outside the range of X)."""
        out = copy.copy(self)
        out.beta = self.U.T @ d
        out.perp2 = max(float(d @ d - out.beta @ out.beta), 0.0)
        return out

    def filters(self, lam):
        lam = np.asarray(lam, dtype=float)
        return self.s2 / (self.s2 + lam[..., None] ** 2)

    def residual2(self, lam):
        f = self.filters(lam)
        return _out(np.sum(((1.0 - f) * self.beta) ** 2, axis=-1) + self.perp2)

    def seminorm2(self, lam):
        f = self.filters(lam)
        return _out(np.sum((f * self.beta / self.s) ** 2, axis=-1))

    def solution(self, lam: float) -> np.ndarray:
        f = self.filters(lam)
        v = self.Vt.T @ (f * self.beta / self.s)
        return self.Linv @ v

    def gcv(self, lam):
        f = self.filters(lam)
        r2 = np.sum(((1.0 - f) * self.beta) ** 2, axis=-1) + self.perp2
        return _out(r2 / (self.n - np.sum(f, axis=-1)) ** 2)

    def curvature(self, lam):
        """Curvature of (log ‖r‖, log ‖Lθ‖) at λ (as Hansen's Regularization Tools lcfun)."""
        lam = np.asarray(lam, dtype=float)
        f = self.filters(lam)
        cf = 1.0 - f
        xi2 = (self.beta / self.s) ** 2
        b2 = self.beta**2
        eta = np.sqrt(np.sum((f * self.beta / self.s) ** 2, axis=-1))
        rho = np.sqrt(np.sum((cf * self.beta) ** 2, axis=-1) + self.perp2)
        lam_c = lam[..., None]
        f1 = -2.0 * f * cf / lam_c
        f2 = -f1 * (3.0 - 4.0 * f) / lam_c
        phi = np.sum(f * f1 * xi2, axis=-1)
        psi = np.sum(cf * f1 * b2, axis=-1)
        dphi = np.sum((f1**2 + f * f2) * xi2, axis=-1)
        dpsi = np.sum((-(f1**2) + cf * f2) * b2, axis=-1)
        deta, drho = phi / eta, -psi / rho
        ddeta = dphi / eta - deta * deta / eta
        ddrho = -dpsi / rho - drho * drho / rho
        dle, dlr = deta / eta, drho / rho
        ddle = ddeta / eta - dle**2
        ddlr = ddrho / rho - dlr**2
        return _out((dlr * ddle - ddlr * dle) / (dlr**2 + dle**2) ** 1.5)


def _out(value: np.ndarray):
    """A 0-d result as a Python float, an array result as is."""
    return float(value) if np.ndim(value) == 0 else value


def _grid_then_refine(fun, lo: float, hi: float) -> float:
    """Minimiser of ``fun`` (vectorised over λ) on a 400-point log grid, refined by a bounded
    scalar minimisation between the neighbours of the best grid point."""
    grid = np.logspace(math.log10(lo), math.log10(hi), 400)
    vals = np.asarray(fun(grid), dtype=float)
    i = int(np.argmin(vals))
    a, b = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    res = optimize.minimize_scalar(
        lambda x: fun(10.0**x), bounds=(math.log10(a), math.log10(b)), method="bounded"
    )
    return float(10.0**res.x) if res.fun <= vals[i] else float(grid[i])


class TikhonovSolver:
    r"""Reusable Tikhonov solver for one sensitivity: the standard-form SVD
    :math:`X L^{-1} = U \Sigma V^T` (module docstring) is computed once, each :meth:`solve` only
    projects the data (:math:`\beta = U^T d`, one (m × n) product) and chooses λ from the closed
    forms. ``solve`` gives the same result as :func:`tikhonov` (which builds one per call).

    The decomposition also gives the regularised normal matrix for every λ without a new
    factorisation. With :math:`\tilde V` the square orthogonal completion of V (zero singular
    values appended when n < m),

    .. math::

        X^T X + \lambda^2 L^T L = L^T \tilde V (\tilde\Sigma^2 + \lambda^2 I) \tilde V^T L,
        \qquad
        \operatorname{diag}\big(R (X^T X + \lambda^2 L^T L)^{-1} R^T\big)
        = (P \circ P)\, (\tilde s^2 + \lambda^2)^{-1},\quad P = R L^{-1} \tilde V,

    (:meth:`spectral_rows`, :meth:`inverse_diag`), and the trace of the influence matrix
    :math:`\operatorname{tr} X (X^T X + \lambda^2 L^T L)^{-1} X^T = \sum_i f_i`
    (:meth:`effective_dof`); see Hansen, *Discrete Inverse Problems*, SIAM 2010, §4.2, §5.4.

    Args:
        sens: linear forward model (its ``flat()`` X, shape (n_obs · n_probes, n_par)).
        order: 0 (L = I) or 1 (first differences with θ_0 = 0).
    """

    def __init__(self, sens: Sensitivity, *, order: int = 1) -> None:
        X = sens.flat()
        if X.shape[0] == 0 or X.shape[1] == 0 or not np.all(np.isfinite(X)):
            raise ValueError(f"TikhonovSolver: sensitivity must be finite, non-empty; {X.shape}")
        self.sens = sens
        self.order = order
        self._sf = _StandardForm(X, order)
        self._V_full: np.ndarray | None = None

    @property
    def singular_values(self) -> np.ndarray:
        """Singular values of X L⁻¹, descending, shape (min(n, m),)."""
        return self._sf.s

    def solve(
        self,
        measured: np.ndarray,
        *,
        rule: Rule = "gcv",
        sigma: float | None = None,
        tau: float = 1.0,
        lam: float | None = None,
    ) -> TikhonovResult:
        """Tikhonov estimate for one data set (arguments as :func:`tikhonov`).

        Args:
            measured: probe measurements (°C), shape (n_obs, n_probes) at ``sens.obs_times``.
            rule: "discrepancy" (needs ``sigma``), "gcv", "lcurve", or "fixed" (needs ``lam``).
            sigma: noise standard deviation, K.
            tau: safety factor of the discrepancy principle.
            lam: λ for ``rule="fixed"``.
        """
        sens = self.sens
        with single_blas_thread():  # small products: one thread is faster on a loaded machine
            sf = self._sf.with_data(sens.residual_data(measured))
            chosen, info = _choose_lambda(sf, rule=rule, sigma=sigma, tau=tau, lam=lam)
            theta = sf.solution(chosen)
            fitted = sens.predict(theta)
        return TikhonovResult(
            theta=theta,
            lam=chosen,
            rule=rule,
            order=self.order,
            residual_norm=math.sqrt(sf.residual2(chosen)),
            seminorm=math.sqrt(sf.seminorm2(chosen)),
            fitted=fitted,
            info=info,
        )

    def _square_V(self) -> tuple[np.ndarray, np.ndarray]:
        """(Ṽ (m, m) orthogonal, s̃² (m,)): V completed by the null directions of X L⁻¹."""
        sf = self._sf
        if self._V_full is None:
            if sf.s.size == sf.m:
                self._V_full = sf.Vt.T
            else:  # n < m: complete V with an orthonormal basis of the null space
                _, _, Vt = np.linalg.svd(sf.Vt, full_matrices=True)
                null = Vt[sf.s.size :].T
                self._V_full = np.concatenate([sf.Vt.T, null], axis=1)
        s2 = np.zeros(sf.m)
        s2[: sf.s.size] = sf.s2
        return self._V_full, s2

    def spectral_rows(self, rows: np.ndarray | None = None) -> np.ndarray:
        """P = R L⁻¹ Ṽ, shape (k, m), for rows R (k, m) (default the identity: θ itself)."""
        V, _ = self._square_V()
        LinvV = self._sf.Linv @ V
        if rows is None:
            return LinvV
        rows = np.asarray(rows, dtype=float)
        if rows.ndim != 2 or rows.shape[1] != self._sf.m:
            raise ValueError(f"spectral_rows: rows need shape (k, {self._sf.m}), got {rows.shape}")
        return rows @ LinvV

    def inverse_diag(self, lam: float, spectral_sq: np.ndarray) -> np.ndarray:
        """diag(R (XᵀX + λ² LᵀL)⁻¹ Rᵀ) = (P∘P) · 1/(s̃² + λ²), shape (k,).

        Args:
            lam: λ > 0.
            spectral_sq: P∘P (elementwise square of :meth:`spectral_rows`), shape (k, m).
        """
        if not lam > 0:
            raise ValueError(f"inverse_diag: needs lam > 0, got {lam!r}")
        _, s2 = self._square_V()
        return spectral_sq @ (1.0 / (s2 + lam**2))

    def effective_dof(self, lam: float) -> float:
        """tr H = Σ_i f_i, H = X (XᵀX + λ² LᵀL)⁻¹ Xᵀ the influence matrix."""
        return float(np.sum(self._sf.filters(lam)))


def _choose_lambda(
    sf: _StandardForm, *, rule: str, sigma: float | None, tau: float, lam: float | None
) -> tuple[float, dict]:
    """λ by the rule (module docstring) for the data already projected in ``sf``."""
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
    return chosen, info


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

    One-off call: builds a :class:`TikhonovSolver` (one SVD) and solves once. Use the solver
    directly when the same sensitivity is inverted for many data sets.

    Args:
        sens: linear forward model.
        measured: probe measurements (°C), shape (n_obs, n_probes) at ``sens.obs_times``.
        order: 0 (small values) or 1 (smooth history).
        rule: "discrepancy" (needs ``sigma``), "gcv", "lcurve", or "fixed" (needs ``lam``).
        sigma: noise standard deviation, K.
        tau: safety factor of the discrepancy principle.
        lam: λ for ``rule="fixed"``.
    """
    return TikhonovSolver(sens, order=order).solve(
        measured, rule=rule, sigma=sigma, tau=tau, lam=lam
    )

r"""Classical inverse methods on the FEM linear response, behind the one method contract.

Each method inverts the linear model :math:`y = y_0 + X\theta` of
:mod:`thermo.inverse.sensitivity`, built from a
:class:`thermo.inverse.linear_response.LinearResponse` for the record's sampling times
:math:`0 < t_i \le t_{end}` (one unknown per sampling time, the history linear in between
and at its baseline at t = 0). What is shared lives in
:class:`SensitivityMethod`: picking the record's columns, building (once per sampling grid)
and sub-selecting (per sensor subset) the sensitivity, and turning θ into the absolute history
:math:`u(t) = u_{base} + \theta` — :math:`T_0` for a temperature input (°C), 0 for a flux
(W/m²). The F1 kind (temperature or flux) is handled here and nowhere else.

* :func:`tikhonov`: order 0/1 (option ``order``, default 1); λ by ``rule``: the discrepancy
  principle when σ > 0 is known, else GCV (or ``"lcurve"``); first-order estimates carry the
  Gaussian posterior band :math:`\hat\theta \pm z\,\mathrm{sd}`,
  :math:`\operatorname{Cov}\hat\theta = \sigma^2 (X^TX + \lambda^2 L^TL)^{-1}` (σ replaced by
  :math:`\|r\|^2/(n - \operatorname{tr}H)` under GCV), from the cached standard-form SVD
  (:class:`thermo.inverse.tikhonov.TikhonovSolver`). The band ignores the regularisation bias.
* :func:`sfsm`: Beck's sequential function specification. The number of future steps r is, in
  this order: the ``future_steps`` option; with σ > 0 known, the smallest r whose residual RMS
  reaches σ (discrepancy principle); with σ = 0 (noise-free data), r = 1; with σ unknown,
  r = :data:`SFSM_DEFAULT_R` (Beck, Blackwell & St. Clair, *Inverse Heat Conduction*, 1985,
  ch. 5: r of 2–5 for noisy data). One rule for every entry point.
* :func:`kalman`: Kalman filter + Rauch–Tung–Striebel smoother on an ERA realisation of the step
  response, random-walk variance q by maximum likelihood; needs σ (floored at
  :data:`SIGMA_FLOOR_K` for noise-free data) and one sample per time step; band ± z smoothed sd.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

import numpy as np

from thermo.inverse.method import BoundaryEstimate, MethodContext
from thermo.inverse.record import SensorRecord
from thermo.inverse.sensitivity import Sensitivity

#: SFSM future steps when σ is unknown (module docstring).
SFSM_DEFAULT_R = 3
#: σ (K) the Kalman smoother uses on noise-free data (it needs a positive measurement variance).
SIGMA_FLOOR_K = 0.01
#: Half-width of the 95 % bands in standard deviations.
Z95 = 1.96


class SensitivityMethod(abc.ABC):
    """Base of the classical methods: record → sensitivity → θ → absolute history.

    Subclasses implement :meth:`solve` ``(sens, data, cols) -> (theta, sd | None, info)`` with
    ``data`` the record's values at t > 0 (n_obs, n_kept), ``cols`` the response columns of the
    kept sensors and ``sd`` the standard deviation of θ on the FEM grid (n_t,) or at θ (n_par,).
    """

    name = "classical"
    subsets = True

    def __init__(self, context: MethodContext, allowed: Sequence[str] = ()) -> None:
        context.check_options(self.name, allowed)
        self.context = context
        self.response = context.need_response(self.name)
        self.sigma = context.sigma
        self._cache: dict[tuple, Any] = {}

    @property
    def base(self) -> float:
        return self.response.T0 if self.response.kind == "temperature" else 0.0

    def sensitivity(self, obs: np.ndarray, cols: list[int]) -> Sensitivity:
        """Sensitivity of the response columns ``cols`` at sampling times ``obs``: built once per
        sampling grid, sub-selected once per sensor subset (both cached)."""
        full_key = ("sens", obs.tobytes(), None)
        if full_key not in self._cache:
            self._cache[full_key] = self.response.sensitivity(obs_times=obs, param_times=obs)
        full = self._cache[full_key]
        if cols == list(range(full.n_probes)):
            return full
        key = ("sens", obs.tobytes(), tuple(cols))
        if key not in self._cache:
            self._cache[key] = full.select_probes(cols)
        return self._cache[key]

    def estimate(
        self, record: SensorRecord, *, sensors: Sequence[str] | None = None
    ) -> BoundaryEstimate:
        names = list(record.names) if sensors is None else list(sensors)
        data_cols = record.columns(names)
        missing = [n for n in names if n not in self.response.probe_names]
        if missing:
            raise ValueError(
                f"{self.name}: sensors {missing} are not probes of the response "
                f"({list(self.response.probe_names)})"
            )
        cols = [self.response.probe_names.index(n) for n in names]
        t_end = float(self.response.times[-1])
        keep = (record.times > 0.0) & (record.times <= t_end * (1.0 + 1e-12))
        if keep.sum() < 2:
            raise ValueError(f"{self.name}: fewer than 2 samples in (0, {t_end:g}] s")
        obs = record.times[keep]
        data = record.values[keep][:, data_cols]
        theta, sd, info = self.solve(self.sensitivity(obs, cols), data, cols)
        times = np.concatenate([[0.0], obs])
        values = self.base + np.concatenate([[0.0], theta])
        band = None
        if sd is not None:
            sd = np.concatenate([[0.0], sd[-theta.size :]])
            band = np.stack([values - Z95 * sd, values + Z95 * sd], axis=1)
        if record.times[0] > 0.0:
            times, values = times[1:], values[1:]
            band = None if band is None else band[1:]
        return BoundaryEstimate(times=times, values=values, band=band, info=info)

    @abc.abstractmethod
    def solve(self, sens: Sensitivity, data: np.ndarray, cols: list[int]):
        """``(theta (n_par,), sd (n_t,) | (n_par,) | None, info)`` for one record (class doc)."""


class TikhonovMethod(SensitivityMethod):
    """Tikhonov regularisation (module docstring)."""

    def __init__(self, context: MethodContext) -> None:
        super().__init__(context, allowed=("order", "rule"))
        self.order = int(context.option("order", 1))
        if self.order not in (0, 1):
            raise ValueError(f"tikhonov: order must be 0 or 1, got {self.order}")
        sigma = self.sigma
        rule = context.option("rule") or ("discrepancy" if sigma else "gcv")
        if rule == "discrepancy" and not (sigma and sigma > 0):
            rule = "gcv"
        if rule not in ("discrepancy", "gcv", "lcurve"):
            raise ValueError(f"tikhonov: rule must be discrepancy, gcv or lcurve, got {rule!r}")
        self.rule = rule
        self.name = f"tikhonov{self.order}-{rule}"

    def _solver(self, sens: Sensitivity, cols: list[int]):
        """Standard-form SVD (and the band's spectral rows) once per sampling grid and subset."""
        from thermo.inverse.tikhonov import TikhonovSolver

        key = ("solver", sens.obs_times.tobytes(), tuple(cols))
        if key not in self._cache:
            solver = TikhonovSolver(sens, order=self.order)
            spectral = solver.spectral_rows(sens.basis) ** 2 if self.order == 1 else None
            self._cache[key] = (solver, spectral)
        return self._cache[key]

    def solve(self, sens: Sensitivity, data: np.ndarray, cols: list[int]):
        from thermo.inverse.duhamel import single_blas_thread

        solver, spectral = self._solver(sens, cols)
        noise = self.sigma if self.rule == "discrepancy" else None
        res = solver.solve(data, rule=self.rule, sigma=noise)
        info = {"lam": res.lam, "rule": self.rule, "order": self.order, **res.info}
        sd = None
        if spectral is not None:
            with single_blas_thread():
                sd, sigma_used = posterior_sd(solver, spectral, res.theta, data, res.lam, noise)
            info["band_sigma_K"] = sigma_used
            sd = sd[1:] if sd.size == sens.grid_times.size else sd
            if sd.size != res.theta.size:  # the band lives on the FEM grid: sample at θ's times
                sd = np.interp(sens.param_times, sens.grid_times, np.concatenate([[0.0], sd]))
        return res.theta, sd, info


def posterior_sd(solver, spectral_sq, theta, measured, lam, sigma) -> tuple[np.ndarray, float]:
    r"""Posterior sd of the input on the FEM grid (n_t,) and the σ used (K).

    :math:`\operatorname{sd}_n^2 = \sigma^2 [P (X^TX + \lambda^2 L^TL)^{-1} P^T]_{nn}` with P the
    parameter basis, from the solver's cached SVD as
    :math:`\sigma^2 \sum_i Q_{ni}^2 / (\tilde s_i^2 + \lambda^2)`
    (:meth:`thermo.inverse.tikhonov.TikhonovSolver.inverse_diag`); with ``sigma=None`` (GCV)
    σ² is the residual estimate :math:`\|r\|^2 / (n - \sum_i f_i)`.
    """
    sens = solver.sens
    if sigma is None:
        r = sens.residual_data(measured) - sens.flat() @ theta
        dof = max(sens.flat().shape[0] - solver.effective_dof(lam), 1.0)
        sigma = float(np.sqrt(r @ r / dof))
    var = sigma**2 * solver.inverse_diag(lam, spectral_sq)
    return np.sqrt(np.clip(var, 0.0, None)), sigma


class SFSMMethod(SensitivityMethod):
    """Beck's sequential function specification (module docstring)."""

    name = "sfsm"

    def __init__(self, context: MethodContext) -> None:
        super().__init__(context, allowed=("future_steps",))
        r = context.option("future_steps")
        if r is not None and not (isinstance(r, int) and r >= 1):
            raise ValueError(f"sfsm: future_steps must be an integer >= 1, got {r!r}")
        self.future_steps = r

    def solve(self, sens: Sensitivity, data: np.ndarray, cols: list[int]):
        from thermo.inverse.sfsm import choose_future_steps
        from thermo.inverse.sfsm import sfsm as run_sfsm

        if self.future_steps is not None:
            res, how = run_sfsm(sens, data, future_steps=self.future_steps), "given"
        elif self.sigma is None:
            res, how = run_sfsm(sens, data, future_steps=SFSM_DEFAULT_R), "default (σ unknown)"
        elif self.sigma > 0:
            res, how = choose_future_steps(sens, data, sigma=self.sigma), "discrepancy"
        else:
            res, how = run_sfsm(sens, data, future_steps=1), "noise-free data"
        return res.theta, None, {"future_steps": res.future_steps, "future_steps_rule": how}


class KalmanMethod(SensitivityMethod):
    """Kalman filter + RTS smoother (module docstring)."""

    name = "kalman"

    def __init__(self, context: MethodContext) -> None:
        super().__init__(context, allowed=())
        if self.sigma is None:
            raise ValueError("kalman: needs the sensor noise σ (--sigma K)")

    def solve(self, sens: Sensitivity, data: np.ndarray, cols: list[int]):
        from thermo.inverse.kalman import kalman_smoother

        times = self.response.times
        if not sens.exact or sens.obs_times.size != times.size - 1:
            raise ValueError(
                "kalman: needs one sample per time step of the case "
                f"(t = {times[1]:g}, …, {times[-1]:g} s)"
            )
        res = kalman_smoother(
            self.response.step[:, cols], data, sigma=max(self.sigma, SIGMA_FLOOR_K), y0=sens.y0
        )
        info = {"q": res.q, "era_step_rel_error": res.realization.step_rel_error}
        return res.smoothed[1:], res.smoothed_std, info


def tikhonov(context: MethodContext) -> TikhonovMethod:
    """Registry factory of :class:`TikhonovMethod`."""
    return TikhonovMethod(context)


def sfsm(context: MethodContext) -> SFSMMethod:
    """Registry factory of :class:`SFSMMethod`."""
    return SFSMMethod(context)


def kalman(context: MethodContext) -> KalmanMethod:
    """Registry factory of :class:`KalmanMethod`."""
    return KalmanMethod(context)

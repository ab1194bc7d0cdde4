r"""Regularised Gauss–Newton inverse for temperature-dependent properties (issue 15).

With k(T), ρc(T) the sensors are a nonlinear function :math:`y = F(\theta)` of the boundary
history θ (one FEM run with Newton per step, :mod:`thermo.nonlinear`). The estimate minimises

.. math::  \|d - F(\theta)\|^2 + \lambda^2 \|L\theta\|^2

(first-order L as :mod:`thermo.inverse.tikhonov`) by Gauss–Newton iterations that use the
**linear response at a reference temperature** as Jacobian :math:`X` (the linear model of the
same case with every property evaluated at :math:`T_{ref}`, default T0): iterate k solves the
linearised problem

.. math::  \theta_{k+1} = \arg\min_\theta \|d - F(\theta_k) - X(\theta - \theta_k)\|^2
           + \lambda_k^2 \|L\theta\|^2

with :math:`\lambda_k` re-chosen each iteration by the same rule as the linear inverse (the
discrepancy principle when σ is known, else GCV), on the linearised data — one forward run and
one cached-SVD solve per iteration (:class:`thermo.inverse.tikhonov.TikhonovSolver`). A step that
raises the objective is halved (at most 4 times: Levenberg–Marquardt-like damping along the
step). It stops when the relative change of θ falls below ``tol`` or after ``max_it``.

What it converges to: a fixed point satisfies :math:`X^T(d - F(\theta^*)) = \lambda^2 L^TL
\theta^*`, the stationarity of the regularised nonlinear problem with X in place of the true
Jacobian J(θ*). The two agree where the residual is at the noise level and X ≈ J (mild
nonlinearity near the data); the test measures how close it comes to the truth where the linear
inverse cannot (k varying by 2× over the range). A full-Jacobian or adjoint (CGM) variant is
future work. The first iterate is the linear Tikhonov estimate itself, so the method is never
worse than its starting point in the objective.

Diagnostics in ``info``: iterations, forward solves, the objective and relative change per
iteration, the final λ, whether ``tol`` was met, and the wall time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from thermo.inverse.method import BoundaryEstimate, MethodContext
from thermo.inverse.record import SensorRecord

#: forward(history on the response's grid (n_t,)) -> all response probes (n_t, n_probes) °C
Forward = Callable[[np.ndarray], np.ndarray]


class GaussNewton:
    """Regularised Gauss–Newton on the nonlinear forward model (module docstring)."""

    name = "gauss-newton"
    subsets = False

    def __init__(self, context: MethodContext) -> None:
        context.check_options(self.name, ("forward", "max_it", "tol", "rule"))
        self.response = context.need_response(self.name)
        forward = context.option("forward")
        if forward is None:
            raise ValueError(
                "gauss-newton: needs the nonlinear forward model (option forward=...; "
                "millheat inverse supplies it for cases with temperature-dependent properties)"
            )
        self.forward: Forward = forward
        self.sigma = context.sigma
        self.max_it = int(context.option("max_it", 20))
        self.tol = float(context.option("tol", 1e-4))
        rule = context.option("rule") or ("discrepancy" if self.sigma else "gcv")
        if rule == "discrepancy" and not (self.sigma and self.sigma > 0):
            rule = "gcv"
        self.rule = rule

    def estimate(
        self, record: SensorRecord, *, sensors: Sequence[str] | None = None
    ) -> BoundaryEstimate:
        from thermo.inverse.tikhonov import TikhonovSolver

        t0 = time.perf_counter()
        resp = self.response
        names = list(record.names if sensors is None else sensors)
        cols = [resp.probe_names.index(n) for n in names]
        keep = (record.times > 0.0) & (record.times <= resp.times[-1] * (1 + 1e-12))
        obs = record.times[keep]
        data = record.values[keep][:, record.columns(names)]
        sens = resp.sensitivity(obs_times=obs, param_times=obs, probes=names)
        solver = TikhonovSolver(sens, order=1)
        noise = self.sigma if self.rule == "discrepancy" else None
        base = resp.T0 if resp.kind == "temperature" else 0.0
        L = np.eye(sens.n_par) - np.eye(sens.n_par, k=-1)

        def forward(theta: np.ndarray) -> np.ndarray:
            history = base + sens.basis @ theta
            y = np.asarray(self.forward(history), dtype=float)[:, cols]
            return np.stack([np.interp(obs, resp.times, y[:, j]) for j in range(len(cols))], 1)

        def objective(theta: np.ndarray, y: np.ndarray, lam: float) -> float:
            r = data - y
            return float(np.sum(r * r) + lam**2 * np.sum((L @ theta) ** 2))

        first = solver.solve(data, rule=self.rule, sigma=noise)
        theta, lam = first.theta, first.lam
        y = forward(theta)
        n_forward = 1
        history_obj, history_change = [objective(theta, y, lam)], []
        converged = False
        for _ in range(self.max_it):
            linearised = data - y + sens.predict(theta)  # d - F(θ_k) + y0 + X θ_k
            res = solver.solve(linearised, rule=self.rule, sigma=noise)
            step = res.theta - theta
            current = objective(theta, y, res.lam)
            for _halving in range(5):
                trial = theta + step
                y_trial = forward(trial)
                n_forward += 1
                if objective(trial, y_trial, res.lam) <= current * (1 + 1e-12):
                    break
                step = 0.5 * step
            change = float(np.linalg.norm(trial - theta) / max(np.linalg.norm(trial), 1e-300))
            theta, y, lam = trial, y_trial, res.lam
            history_obj.append(objective(theta, y, lam))
            history_change.append(change)
            if change < self.tol:
                converged = True
                break
        times = np.concatenate([[0.0], obs])
        values = base + np.concatenate([[0.0], theta])
        if record.times[0] > 0.0:
            times, values = times[1:], values[1:]
        r = data - y
        info = {
            "iterations": len(history_change),
            "forward_solves": n_forward,
            "converged": converged,
            "lam": float(lam),
            "rule": self.rule,
            "order": 1,
            "objective": history_obj,
            "relative_change": history_change,
            "residual_rms_K": float(np.sqrt(np.mean(r * r))),
            "wall_s": time.perf_counter() - t0,
        }
        return BoundaryEstimate(times=times, values=values, info=info)


def gauss_newton(context: MethodContext) -> GaussNewton:
    """Registry factory of :class:`GaussNewton`."""
    return GaussNewton(context)

r"""Sensitivity matrix of the sensors with respect to a parametrised F1 boundary history.

Unknowns: boundary values :math:`\theta_j = u(\tau_j)` at parameter times
:math:`0 < \tau_1 < \dots < \tau_m` (s), with :math:`u(0) = 0` (the history starts at the
baseline: T_F1 = T0, or q = 0), linear in between and constant after :math:`\tau_m`. On the
FEM grid :math:`t_n` this is :math:`u = P\theta` with the interpolation matrix P (n_t × m).
Observations: probe values at times :math:`s_i` (s); when they lie on the FEM grid the rows are
exact, otherwise they are linearly interpolated between grid values (an approximation, recorded
in :attr:`Sensitivity.exact`). With the exact discrete Duhamel map of :mod:`thermo.inverse.duhamel`,

.. math::

    y(s_i, p) = y_0 + \sum_j X_{i p j}\,\theta_j, \qquad
    X_{\cdot p j} = E\,\mathcal D_p(P_{\cdot j}),

where :math:`\mathcal D_p` is the Duhamel sum of probe p and E (n_obs × n_t) the output
interpolation. X has shape (n_obs, n_probes, m); :meth:`Sensitivity.flat` stacks it time-major
into the (n_obs · n_probes, m) matrix of the least-squares estimators (row i · n_probes + p).
Units: X is (probe K) per (input unit: K of T_F1 − T0, or W/m²).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from thermo.inverse.duhamel import DuhamelOperator


@dataclass(frozen=True)
class Sensitivity:
    """Linear forward model y = y0 + X θ of the inverse problem.

    Attributes:
        X: sensitivity, shape (n_obs, n_probes, n_par).
        y0: baseline probe values (°C), shape (n_obs, n_probes) (the response to the known
            data with the unknown input at its baseline; T0 for a homogeneous problem).
        obs_times: observation times s, shape (n_obs,).
        param_times: parameter times τ_j s, shape (n_par,).
        basis: P, shape (n_t, n_par): input on the FEM grid u = P θ.
        grid_times: FEM step times s, shape (n_t,).
        probe_names: names of the probe columns.
        exact: True when every observation time lies on the FEM grid.
    """

    X: np.ndarray
    y0: np.ndarray
    obs_times: np.ndarray
    param_times: np.ndarray
    basis: np.ndarray
    grid_times: np.ndarray
    probe_names: tuple[str, ...]
    exact: bool

    @property
    def n_obs(self) -> int:
        return self.X.shape[0]

    @property
    def n_probes(self) -> int:
        return self.X.shape[1]

    @property
    def n_par(self) -> int:
        return self.X.shape[2]

    def flat(self) -> np.ndarray:
        """X stacked time-major, shape (n_obs · n_probes, n_par)."""
        return self.X.reshape(-1, self.n_par)

    def predict(self, theta: np.ndarray) -> np.ndarray:
        """Probe values y0 + X θ, shape (n_obs, n_probes)."""
        theta = np.asarray(theta, dtype=float).reshape(-1)
        if theta.size != self.n_par:
            raise ValueError(
                f"Sensitivity.predict: theta needs {self.n_par} values, got {theta.size}"
            )
        return self.y0 + self.X @ theta

    def residual_data(self, measured: np.ndarray) -> np.ndarray:
        """Measured minus baseline, flattened time-major, shape (n_obs · n_probes,)."""
        measured = np.asarray(measured, dtype=float)
        if measured.shape != (self.n_obs, self.n_probes):
            raise ValueError(
                f"measurements need shape (n_obs={self.n_obs}, n_probes={self.n_probes}) "
                f"for probes {list(self.probe_names)}, got {measured.shape}"
            )
        if not np.all(np.isfinite(measured)):
            raise ValueError("measurements contain NaN/inf")
        return (measured - self.y0).reshape(-1)

    def select_probes(self, keep: Sequence[int]) -> Sensitivity:
        """The same model restricted to probe columns ``keep`` (e.g. leave one sensor out)."""
        keep = list(keep)
        return Sensitivity(
            X=self.X[:, keep, :],
            y0=self.y0[:, keep],
            obs_times=self.obs_times,
            param_times=self.param_times,
            basis=self.basis,
            grid_times=self.grid_times,
            probe_names=tuple(self.probe_names[i] for i in keep),
            exact=self.exact,
        )

    def input_on_grid(self, theta: np.ndarray) -> np.ndarray:
        """Boundary input u = P θ on the FEM grid, shape (n_t,)."""
        return self.basis @ np.asarray(theta, dtype=float).reshape(-1)


def interpolation_matrix(x_from: np.ndarray, x_to: np.ndarray) -> np.ndarray:
    """Matrix W (len(x_to), len(x_from)) of piecewise-linear interpolation (constant outside)."""
    x_from = np.asarray(x_from, dtype=float)
    eye = np.eye(x_from.size)
    return np.stack([np.interp(x_to, x_from, col) for col in eye], axis=1)


def build_sensitivity(
    step: np.ndarray,
    grid_times: np.ndarray,
    *,
    obs_times: np.ndarray | None = None,
    param_times: np.ndarray | None = None,
    y0: float | np.ndarray = 0.0,
    probe_names: Sequence[str] | None = None,
) -> Sensitivity:
    """Sensitivity of probes to the parametrised boundary history (module docstring).

    Args:
        step: unit-step response S, shape (n_t, n_probes) (from
        :mod:`thermo.inverse.linear_response`
            or an analytic model).
        grid_times: FEM step times s, shape (n_t,), uniform from 0.
        obs_times: observation times s (default: the grid without t = 0).
        param_times: parameter times s, all > 0 (default: ``obs_times`` without t = 0).
        y0: baseline probe values (°C): scalar, (n_probes,) or (n_obs, n_probes).
        probe_names: names of the probe columns (default P1, P2, …).
    """
    step = np.asarray(step, dtype=float)
    if step.ndim == 1:
        step = step[:, None]
    grid_times = np.asarray(grid_times, dtype=float).reshape(-1)
    if step.shape[0] != grid_times.size:
        raise ValueError(
            f"build_sensitivity: step has {step.shape[0]} rows, grid_times {grid_times.size}"
        )
    dt = np.diff(grid_times)
    if grid_times[0] != 0.0 or np.any(np.abs(dt - dt[0]) > 1e-9 * max(1.0, dt[0])):
        raise ValueError("build_sensitivity: grid_times must be uniform and start at 0 s")
    obs = grid_times[1:] if obs_times is None else np.asarray(obs_times, dtype=float).ravel()
    if param_times is None:
        param_times = obs[obs > 0.0]
    tau = np.asarray(param_times, dtype=float).reshape(-1)
    if tau.size == 0 or tau[0] <= 0.0 or np.any(np.diff(tau) <= 0):
        raise ValueError("build_sensitivity: param_times must be > 0 s and strictly increasing")
    if obs.size == 0 or obs.min() < 0 or obs.max() > grid_times[-1] + 1e-12:
        raise ValueError(
            f"build_sensitivity: obs_times must lie in [0, {grid_times[-1]:g}] s (the FEM run)"
        )
    n_probes = step.shape[1]
    names = (
        tuple(probe_names)
        if probe_names is not None
        else tuple(f"P{i + 1}" for i in range(n_probes))
    )
    if len(names) != n_probes:
        raise ValueError(f"build_sensitivity: {len(names)} probe names for {n_probes} columns")
    basis = interpolation_matrix(np.concatenate([[0.0], tau]), grid_times)[:, 1:]
    out_interp = interpolation_matrix(grid_times, obs)
    op = DuhamelOperator(step)
    cols = np.stack([out_interp @ op(basis[:, j]) for j in range(tau.size)], axis=2)
    on_grid = np.abs(obs / dt[0] - np.rint(obs / dt[0])) < 1e-6
    return Sensitivity(
        X=cols,
        y0=np.broadcast_to(np.asarray(y0, dtype=float), (obs.size, n_probes)).copy(),
        obs_times=obs,
        param_times=tau,
        basis=basis,
        grid_times=grid_times,
        probe_names=names,
        exact=bool(np.all(on_grid)),
    )

r"""Beck's sequential function specification method (SFSM) with r future time steps.

J. V. Beck, B. Blackwell, C. R. St. Clair, *Inverse Heat Conduction: Ill-Posed Problems*,
Wiley 1985, ch. 6. The boundary history is estimated one parameter time at a time. At step j
the values θ_1 … θ_{j−1} are known; the next r values are *temporarily* assumed equal,
θ_j = … = θ_{j+r−1} = c, and c minimises the misfit at the r observation times
s_j … s_{j+r−1} over all sensors:

.. math::

    c = \frac{\sum_{i,p} Z_{ip}\,(d_{ip} - \hat d_{ip})}{\sum_{i,p} Z_{ip}^2}, \quad
    Z_{ip} = \sum_{l=j}^{j+r-1} X_{ipl}, \quad
    \hat d_{ip} = \sum_{l<j} X_{ipl}\,\theta_l,

then only θ_j = c is kept and the window moves on. r = 1 is exact inversion (unstable with
noise); larger r regularises (smooths and lags less than it damps). Near the end of the record
the window shrinks to the remaining observations. The method needs observation times equal to
the parameter times (the usual setting: one unknown per sample) and a causal X, which the
Duhamel sensitivity is.

Choice of r when σ is known (:func:`choose_future_steps`): the smallest r whose RMS residual
reaches σ (discrepancy principle applied to r, Beck et al. 1985 §6.4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from thermo.inverse.sensitivity import Sensitivity


@dataclass(frozen=True)
class SFSMResult:
    """Estimate and diagnostics.

    Attributes:
        theta: boundary values at the parameter times, shape (n_par,).
        future_steps: r used.
        fitted: fitted probe values, shape (n_obs, n_probes).
        residual_rms: RMS of measured − fitted over all samples, K.
    """

    theta: np.ndarray
    future_steps: int
    fitted: np.ndarray
    residual_rms: float


def sfsm(sens: Sensitivity, measured: np.ndarray, *, future_steps: int = 3) -> SFSMResult:
    """Sequential function specification estimate (module docstring).

    Args:
        sens: forward model whose ``obs_times`` equal its ``param_times``.
        measured: probe data (°C), shape (n_obs, n_probes).
        future_steps: r ≥ 1.
    """
    if not (isinstance(future_steps, int) and future_steps >= 1):
        raise ValueError(f"sfsm: future_steps must be an integer ≥ 1, got {future_steps!r}")
    if sens.n_obs != sens.n_par or not np.allclose(sens.obs_times, sens.param_times):
        raise ValueError(
            "sfsm: the sensitivity needs one parameter per observation time "
            "(build_sensitivity(..., obs_times=t, param_times=t) with t > 0)"
        )
    d = sens.residual_data(measured).reshape(sens.n_obs, sens.n_probes)
    X = sens.X
    m = sens.n_par
    theta = np.zeros(m)
    dhat = np.zeros_like(d)  # contribution of the estimated θ_l, l < j
    for j in range(m):
        stop = min(j + future_steps, m)
        Z = X[j:stop, :, j:stop].sum(axis=2)
        resid = d[j:stop] - dhat[j:stop]
        denom = float(np.sum(Z * Z))
        if denom <= 0.0:
            raise ValueError(
                f"sfsm: no sensitivity at parameter time {sens.param_times[j]:g} s within "
                f"{future_steps} future steps; increase future_steps"
            )
        theta[j] = float(np.sum(Z * resid)) / denom
        dhat += X[:, :, j] * theta[j]
    fitted = sens.predict(theta)
    rms = math.sqrt(float(np.mean((np.asarray(measured) - fitted) ** 2)))
    return SFSMResult(theta=theta, future_steps=future_steps, fitted=fitted, residual_rms=rms)


def choose_future_steps(
    sens: Sensitivity, measured: np.ndarray, *, sigma: float, r_max: int = 20
) -> SFSMResult:
    """SFSM with the smallest r ≤ ``r_max`` whose residual RMS is ≥ σ (K); r_max otherwise."""
    if not sigma > 0:
        raise ValueError(f"choose_future_steps: sigma must be > 0 K, got {sigma!r}")
    if not (isinstance(r_max, int) and r_max >= 1):
        raise ValueError(f"choose_future_steps: r_max must be an integer ≥ 1, got {r_max!r}")
    for r in range(1, r_max):
        result = sfsm(sens, measured, future_steps=r)
        if result.residual_rms >= sigma:
            return result
    return sfsm(sens, measured, future_steps=r_max)

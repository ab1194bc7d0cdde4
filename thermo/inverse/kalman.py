r"""Kalman filter and Rauch–Tung–Striebel smoother for the boundary input.

State-space form of the Duhamel model. With the unit-pulse response
:math:`h_j = S_j - S_{j-1}` (:mod:`thermo.inverse.duhamel`), the sensors obey
:math:`y_n = y_0 + \sum_{j\ge1} h_j u_{n-j+1}`. The Eigensystem Realization Algorithm (ERA;
Juang & Pappa, J. Guidance 8 (1985) 620–627) fits a small discrete system to the Markov
parameters :math:`h_{j+1} = C A^{j-1} B` (j ≥ 1) from the SVD of their block Hankel matrices
:math:`H_0 = [h_{i+k+1}]`, :math:`H_1 = [h_{i+k+2}]`, truncated to ``order`` singular values:
:math:`A = \Sigma^{-1/2} U^T H_1 V \Sigma^{-1/2}`, :math:`B = \Sigma^{1/2} V^T e_1`,
:math:`C = E_1^T U \Sigma^{1/2}`, with direct feed-through :math:`D = h_1`. Then

.. math::

    x_n = A x_{n-1} + B u_{n-1}, \qquad y_n - y_0 = C x_n + D u_n + v_n,
    \qquad u_n = u_{n-1} + w_n,

with sensor noise :math:`v_n \sim N(0, \sigma^2 I)` and a random-walk model of the unknown input
:math:`w_n \sim N(0, q)` (the stochastic counterpart of first-order Tikhonov; the smoother's
estimate equals order-1 Tikhonov with :math:`\lambda^2 = \sigma^2/q` for the same model). The
augmented state :math:`z_n = [x_n; u_n]` starts at rest (:math:`x_0 = 0,\ u_0 = 0`, the history
starts at the baseline). The forward Kalman filter gives the causal (on-line) estimate; the RTS
smoother (Rauch, Tung & Striebel, AIAA J. 3 (1965) 1445–1450) the fixed-interval one.

``q`` is chosen, when not given, by maximising the innovation log-likelihood over a log grid
(Harvey, *Forecasting, Structural Time Series Models and the Kalman Filter*, 1989, §3.4).
``sigma`` must be known (> 0). The realisation error (max relative deviation of the realised step
response from S) is reported; raise ``order`` if it is not small against σ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits


@dataclass(frozen=True)
class Realization:
    """Discrete system (A (r, r), B (r,), C (n_p, r), D (n_p,)) and its step-response error."""

    A: np.ndarray
    B: np.ndarray
    C: np.ndarray
    D: np.ndarray
    step_rel_error: float


def realize(step: np.ndarray, *, order: int = 20) -> Realization:
    """ERA realisation of a step response ``step`` (n_t, n_probes) (module docstring)."""
    step = np.asarray(step, dtype=float)
    if step.ndim == 1:
        step = step[:, None]
    n_t, n_p = step.shape
    h = np.diff(step, axis=0)  # h[j-1] = h_j, j = 1..n_t-1
    h[0] = step[1]
    m = h.shape[0] - 1  # Markov parameters h_2.. available
    rows = cols = m // 2
    if not (isinstance(order, int) and 1 <= order <= min(rows, cols)):
        raise ValueError(f"realize: order must be an integer in 1..{min(rows, cols)}, got {order}")
    markov = h[1:]  # markov[k] = h_{k+2} = C A^k B
    H0 = np.empty((rows * n_p, cols))
    H1 = np.empty((rows * n_p, cols))
    for i in range(rows):
        H0[i * n_p : (i + 1) * n_p] = markov[i : i + cols].T
        H1[i * n_p : (i + 1) * n_p] = markov[i + 1 : i + 1 + cols].T
    with threadpool_limits(limits=1, user_api="blas"):  # small SVD: faster on one thread
        U, s, Vt = np.linalg.svd(H0, full_matrices=False)
    U, s, Vt = U[:, :order], s[:order], Vt[:order]
    sq = np.sqrt(s)
    A = (U.T @ H1 @ Vt.T) / np.outer(sq, sq)
    B = sq * Vt[:, 0]
    C = U[:n_p] * sq
    D = h[0]
    # realised step response: S_1 = D, S_n = D + sum_{k=0}^{n-2} C A^k B
    S = np.zeros_like(step)
    x = B.copy()
    acc = np.zeros(n_p)
    for n in range(1, n_t):
        if n >= 2:
            acc = acc + C @ x
            x = A @ x
        S[n] = D + acc
    scale = max(float(np.max(np.abs(step))), 1e-300)
    err = float(np.max(np.abs(S - step)) / scale)
    return Realization(A=A, B=B, C=C, D=D, step_rel_error=err)


@dataclass(frozen=True)
class KalmanResult:
    """Filtered (causal) and smoothed input estimates u (n_t,) with u[0] = 0, their standard
    deviations, the chosen q, the log-likelihood and the realisation."""

    filtered: np.ndarray
    smoothed: np.ndarray
    smoothed_std: np.ndarray
    q: float
    loglik: float
    realization: Realization


def _run(real: Realization, d: np.ndarray, sigma: float, q: float, smooth: bool):
    A, B, C, D = real.A, real.B, real.C, real.D
    r = A.shape[0]
    F = np.zeros((r + 1, r + 1))
    F[:r, :r], F[:r, r], F[r, r] = A, B, 1.0
    H = np.hstack([C, D[:, None]])
    Q = np.zeros((r + 1, r + 1))
    Q[r, r] = q
    R = sigma**2 * np.eye(C.shape[0])
    n = d.shape[0]
    z = np.zeros(r + 1)
    P = np.zeros((r + 1, r + 1))
    zf, Pf, zp, Pp = [], [], [], []
    loglik = 0.0
    for k in range(n):
        z_pred, P_pred = F @ z, F @ P @ F.T + Q
        innov = d[k] - H @ z_pred
        Sk = H @ P_pred @ H.T + R
        L = np.linalg.cholesky(Sk)
        sol = np.linalg.solve(L, innov)
        loglik -= (
            0.5 * (sol @ sol)
            + np.sum(np.log(np.diag(L)))
            + 0.5 * len(innov) * math.log(2 * math.pi)
        )
        K = np.linalg.solve(Sk, H @ P_pred).T
        z = z_pred + K @ innov
        P = (np.eye(r + 1) - K @ H) @ P_pred
        P = 0.5 * (P + P.T)
        zf.append(z)
        Pf.append(P)
        zp.append(z_pred)
        Pp.append(P_pred)
    zf_arr = np.array(zf)
    if not smooth:
        return zf_arr, None, None, loglik
    zs = zf_arr.copy()
    Ps = np.array(Pf)
    for k in range(n - 2, -1, -1):
        G = np.linalg.lstsq(Pp[k + 1].T, (Pf[k] @ F.T).T, rcond=None)[0].T
        zs[k] = zf[k] + G @ (zs[k + 1] - zp[k + 1])
        Ps[k] = Pf[k] + G @ (Ps[k + 1] - Pp[k + 1]) @ G.T
    return zf_arr, zs, Ps, loglik


def kalman_smoother(
    step: np.ndarray,
    measured: np.ndarray,
    *,
    sigma: float,
    y0: float | np.ndarray = 0.0,
    q: float | None = None,
    order: int = 20,
    q_grid: int = 21,
) -> KalmanResult:
    """Kalman filter + RTS smoother estimate of the input on the step grid.

    Args:
        step: step response S, shape (n_t, n_probes), S[0] = 0.
        measured: sensor data (°C) at the step times t_1 … t_N, shape (n_t − 1, n_probes).
        sigma: sensor noise standard deviation, K (> 0).
        y0: baseline sensor values, scalar, (n_probes,) or (n_t − 1, n_probes).
        q: random-walk variance of the input per step (input units²); ``None`` → maximum
            likelihood over 10^(−4 … 6) × (σ / max|S|)².
        order: ERA state dimension.
        q_grid: number of log-spaced q values tried when ``q`` is None.
    """
    step = np.asarray(step, dtype=float)
    if step.ndim == 1:
        step = step[:, None]
    measured = np.asarray(measured, dtype=float)
    if measured.shape != (step.shape[0] - 1, step.shape[1]):
        raise ValueError(
            f"kalman_smoother: measured needs shape {(step.shape[0] - 1, step.shape[1])} "
            f"(the step times after t = 0), got {measured.shape}"
        )
    if not (sigma is not None and sigma > 0):
        raise ValueError(f"kalman_smoother: sigma must be > 0 K, got {sigma!r}")
    d = measured - np.asarray(y0, dtype=float)
    with threadpool_limits(limits=1, user_api="blas"):  # many tiny products: no BLAS threads
        return _smooth(step, d, sigma=sigma, q=q, order=order, q_grid=q_grid)


def _smooth(
    step: np.ndarray, d: np.ndarray, *, sigma: float, q: float | None, order: int, q_grid: int
) -> KalmanResult:
    real = realize(step, order=order)
    if q is None:
        scale = (sigma / max(float(np.max(np.abs(step))), 1e-300)) ** 2
        grid = scale * np.logspace(-4, 6, max(int(q_grid), 2))
        scores = [_run(real, d, sigma, float(g), smooth=False)[3] for g in grid]
        q = float(grid[int(np.argmax(scores))])
    zf, zs, Ps, loglik = _run(real, d, sigma, q, smooth=True)
    pad = np.zeros(1)
    return KalmanResult(
        filtered=np.concatenate([pad, zf[:, -1]]),
        smoothed=np.concatenate([pad, zs[:, -1]]),
        smoothed_std=np.concatenate([pad, np.sqrt(np.maximum(Ps[:, -1, -1], 0.0))]),
        q=q,
        loglik=loglik,
        realization=real,
    )

r"""Discrete Duhamel superposition: exact fast forward model of a linear time-stepping scheme.

With constant material properties and boundary data that are homogeneous except for one input
(the F1 temperature or heat flux), the θ-scheme of the FEM solver is a linear, time-invariant
map from the input samples :math:`u_n = u(t_n)` (deviation from the baseline: :math:`T_{F1} -
T_0` in K, or :math:`q_{F1}` in W/m²) to every probe or dof value :math:`y_n = y(t_n)` on the
uniform grid :math:`t_n = n\,\Delta t`, n = 0 … N. One FEM run with the unit step input
:math:`u_0 = 0,\ u_n = 1\ (n \ge 1)` from the uniform initial state :math:`T_0` gives the step
response :math:`S_n` (:math:`S_0 = 0`). For any input with :math:`u_0 = 0` (the history starts at
the baseline: cut starts at ambient / no heat input) the scheme's own solution is

.. math::

    y_n = y_0 + \sum_{k=1}^{n} (u_k - u_{k-1})\, S_{n-k+1}
        = y_0 + \sum_{j=1}^{n} h_j\, u_{n-j+1}, \qquad h_j = S_j - S_{j-1},

**exactly** (to round-off), for backward Euler and Crank–Nicolson alike, because step n of the
scheme depends only on the state at n−1 and on :math:`u_n` (and :math:`u_{n-1}` for a θ-weighted
flux), so a step switched on at step k is the unit-step response delayed by k − 1 steps. Here
"exact" means: equal to the discrete FEM solution for the sampled input, with the solver's
interpolation of the history between steps irrelevant since only :math:`u(t_n)` enters.
For backward Euler the value :math:`u_0` does not enter the scheme at all (the initial field is
the uniform :math:`T_0`), so the statement holds for any :math:`u_0`; with Crank–Nicolson and a
flux input, :math:`u_0 \ne 0` would enter step 1 and is not represented (it is ignored here).

Shapes: step responses are (n_t, ...) with n_t = N + 1 (probes: (n_t, n_probes); fields:
(n_t, n_dofs)); inputs are (n_t,). The probe sum is a causal convolution: for small problems
(n_t² · n_probes ≤ :data:`DENSE_LIMIT`, e.g. 240 steps × 4 probes) :class:`DuhamelOperator`
caches the lower-triangular Toeplitz matrix and applies it with one matrix–vector product,
otherwise it uses real FFTs of length ≥ 2N with the transform of h cached; field values are only
formed at the requested step indices, all of them in one (k × n_t) · (n_t × n_dofs) product.
For repeated field evaluations :func:`thermo.inverse.lowrank.compress_step` keeps a truncated SVD
S ≈ A B of the field step response (rank r ≪ n_t for a diffusive response, chosen by a
max-abs tolerance), so a field costs (k × n_t)(n_t × r)(r × n_dofs) with a proven entrywise
error bound (:class:`thermo.inverse.lowrank.CompressedStep`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy import fft as sfft
from threadpoolctl import ThreadpoolController


def _check_step(step: np.ndarray, where: str) -> np.ndarray:
    step = np.asarray(step, dtype=float)
    if step.ndim < 1 or step.shape[0] < 2:
        raise ValueError(f"{where}: step response needs shape (n_t >= 2, ...), got {step.shape}")
    if not np.all(np.isfinite(step)):
        raise ValueError(f"{where}: step response contains NaN/inf")
    return step


def _check_input(u: np.ndarray, n_t: int, where: str) -> np.ndarray:
    u = np.asarray(u, dtype=float)
    if u.shape != (n_t,):
        raise ValueError(
            f"{where}: input must be sampled at the {n_t} step times, shape ({n_t},); got {u.shape}"
        )
    if not np.all(np.isfinite(u)):
        raise ValueError(f"{where}: input contains NaN/inf")
    return u


def impulse_from_step(step: np.ndarray) -> np.ndarray:
    """Unit-pulse response h, same shape as ``step``: h_0 = 0, h_j = S_j − S_{j−1} (j ≥ 1)."""
    step = _check_step(step, "impulse_from_step")
    h = np.zeros_like(step)
    h[1:] = np.diff(step, axis=0)
    h[1] = step[1]  # S_0 is ignored (it is 0 for a response from rest)
    return h


def sample_input(
    history: Callable[[np.ndarray], np.ndarray] | np.ndarray,
    times: np.ndarray,
    *,
    baseline: float = 0.0,
) -> np.ndarray:
    """Input samples u_n = history(t_n) − baseline, shape (n_t,).

    ``history`` is a callable of time (e.g. :class:`thermo.problem.History`) or an array already
    sampled at ``times`` (s). ``baseline`` is T0 for a temperature input, 0 for a flux.
    """
    times = np.asarray(times, dtype=float)
    if callable(history):
        values = np.asarray(history(times), dtype=float).reshape(-1)
    else:
        values = np.asarray(history, dtype=float).reshape(-1)
    return _check_input(values - baseline, times.size, "sample_input")


#: Largest n_t² · n_outputs for which the operator keeps the dense lower-triangular Toeplitz
#: matrix (16 MB of doubles): one matrix–vector product beats two FFTs at these sizes.
DENSE_LIMIT = 2_000_000


class DuhamelOperator:
    """Cached causal convolution y = y0 + h * u for a probe step response.

    Args:
        step: unit-step response S, shape (n_t, n_probes) (or (n_t,)), units of y per unit of u.
        y0: baseline output (e.g. T0 in °C), scalar or shape (n_probes,).

    Calling the operator with u (n_t,) returns y (n_t, n_probes) (or (n_t,)), the exact
    discrete Duhamel sum of the module docstring.
    """

    def __init__(self, step: np.ndarray, *, y0: float | np.ndarray = 0.0) -> None:
        step = _check_step(step, "DuhamelOperator")
        self.step = step
        self.y0 = np.asarray(y0, dtype=float)
        self.n_t = step.shape[0]
        self.n_fft = sfft.next_fast_len(2 * self.n_t, real=True)
        self._h_hat = sfft.rfft(impulse_from_step(step), n=self.n_fft, axis=0)
        self._tail = (1,) * (step.ndim - 1)
        n_out = int(np.prod(step.shape[1:], dtype=int))
        self._dense = None
        if self.n_t * self.n_t * n_out <= DENSE_LIMIT:
            self._dense = self.matrix().reshape(self.n_t * n_out, self.n_t)

    def __call__(self, u: np.ndarray) -> np.ndarray:
        u = _check_input(u, self.n_t, "DuhamelOperator")
        if self._dense is not None:
            return (self._dense @ u).reshape(self.step.shape) + self.y0
        # y_n = sum_j h_j u_{n-j+1}: convolve h with u shifted by one step (u_0 is not used)
        v = np.zeros(self.n_t)
        v[:-1] = u[1:]
        v_hat = sfft.rfft(v, n=self.n_fft)
        y = sfft.irfft(self._h_hat * v_hat.reshape((-1,) + self._tail), n=self.n_fft, axis=0)
        y = y[: self.n_t].reshape(self.step.shape)
        y[0] = 0.0  # y_0 is the initial state exactly (remove FFT round-off)
        return y + self.y0

    def matrix(self) -> np.ndarray:
        """Dense map, shape (n_t, n_probes, n_t): y[n, p] = y0 + Σ_k M[n, p, k] u[k].

        Column k = 0 is zero (u_0 does not enter); M[n, p, k] = h_{n−k+1}[p] for 1 ≤ k ≤ n.
        """
        h = impulse_from_step(self.step).reshape(self.n_t, -1)
        n = np.arange(self.n_t)[:, None]
        k = np.arange(self.n_t)[None, :]
        lag = n - k + 1
        valid = (k >= 1) & (lag >= 1)
        m = np.where(valid[:, :, None], h[np.clip(lag, 0, self.n_t - 1)], 0.0)
        m = np.moveaxis(m, 2, 1)  # (n_t, n_probes, n_t)
        return m.reshape((self.n_t,) + self.step.shape[1:] + (self.n_t,))


def superpose(step: np.ndarray, u: np.ndarray, *, y0: float | np.ndarray = 0.0) -> np.ndarray:
    """One-off Duhamel sum y (n_t, ...) for step response ``step`` (n_t, ...) and input u (n_t,).

    Use :class:`DuhamelOperator` when evaluating many inputs with the same step response.
    """
    return DuhamelOperator(step, y0=y0)(u)


def superpose_at(
    step: np.ndarray,
    u: np.ndarray,
    indices: Sequence[int] | np.ndarray,
    *,
    y0: float | np.ndarray = 0.0,
) -> np.ndarray:
    """Duhamel sum at selected step indices only: shape (len(indices), ...).

    For full fields, ``step`` has shape (n_t, n_dofs); y_n = y0 + Σ_{k=1}^{n} Δu_k S_{n−k+1}
    for every requested n, formed as one (k × n_t) weight matrix times the response.
    """
    step = _check_step(step, "superpose_at")
    n_t = step.shape[0]
    u = _check_input(u, n_t, "superpose_at")
    idx = np.asarray(indices, dtype=int).reshape(-1)
    if idx.size and (idx.min() < 0 or idx.max() >= n_t):
        raise ValueError(f"superpose_at: indices must be in [0, {n_t - 1}], got {idx}")
    flat = step.reshape(n_t, -1)
    out = duhamel_weights(u, idx) @ flat  # one pass over the (n_t, n_dofs) response
    return out.reshape((idx.size,) + step.shape[1:]) + y0


def duhamel_weights(u: np.ndarray, indices: Sequence[int] | np.ndarray) -> np.ndarray:
    r"""Weights W (k, n_t) of the step-response rows in y at the requested steps:
    :math:`y_{n_i} = y_0 + \sum_m W_{im} S_m`, :math:`W_{im} = u_{n_i-m+1} - u_{n_i-m}` for
    1 ≤ m ≤ n_i (u_0 taken as 0), else 0. :math:`\|W_{i\cdot}\|_1` is the total variation of
    u up to step n_i (it bounds the effect of an error in S,
    :class:`thermo.inverse.lowrank.CompressedStep`)."""
    u = np.asarray(u, dtype=float)
    n_t = u.size
    idx = np.asarray(indices, dtype=int).reshape(-1)
    if idx.size and (idx.min() < 0 or idx.max() >= n_t):
        raise ValueError(f"duhamel_weights: indices must be in [0, {n_t - 1}], got {idx}")
    du = np.diff(u, prepend=0.0)
    du[1] = u[1]
    weights = np.zeros((idx.size, n_t))
    for i, n in enumerate(idx):
        weights[i, 1 : n + 1] = du[n:0:-1]
    return weights


_BLAS_CONTROLLER: ThreadpoolController | None = None


def single_blas_thread():
    """Context manager running BLAS on one thread (threadpoolctl; the controller is created
    once, so entering costs ~10 µs instead of ~0.3 ms).

    For the small products of the fast reconstruction path ((3 × 16)(16 × 28 000), 240 × 960
    matrix–vector products) a multithreaded OpenBLAS on a shared, loaded machine spends more
    time synchronising its threads than computing: measured 16 ms vs 0.5 ms for the compressed
    fields at 4/8/12 s on 2 loaded cores.
    """
    global _BLAS_CONTROLLER
    if _BLAS_CONTROLLER is None:
        _BLAS_CONTROLLER = ThreadpoolController()
    return _BLAS_CONTROLLER.limit(limits=1, user_api="blas")


def index_of_times(times: np.ndarray, query: Sequence[float] | np.ndarray) -> np.ndarray:
    """Step indices of ``query`` times (s) on the uniform grid ``times``; each must lie on it
    within 1e-6 of a step."""
    times = np.asarray(times, dtype=float)
    query = np.asarray(query, dtype=float).reshape(-1)
    dt = times[1] - times[0]
    idx = np.rint((query - times[0]) / dt).astype(int)
    if (
        np.any(idx < 0)
        or np.any(idx >= times.size)
        or np.any(np.abs(times[np.clip(idx, 0, times.size - 1)] - query) > 1e-6 * max(dt, 1.0))
    ):
        raise ValueError(
            f"index_of_times: times {query} are not all on the step grid "
            f"0, {dt:g}, …, {times[-1]:g} s"
        )
    return idx

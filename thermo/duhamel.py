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
For repeated field evaluations :func:`compress_step` keeps a truncated SVD S ≈ A B of the field
step response (rank r ≪ n_t for a diffusive response, chosen by a max-abs tolerance), so a field
costs (k × n_t)(n_t × r)(r × n_dofs) with a proven entrywise error bound
(:class:`CompressedStep`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

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
    u up to step n_i (it bounds the effect of an error in S, :class:`CompressedStep`)."""
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


#: Default tolerance of :func:`compress_step`, relative to max |S|: 1e-6 keeps the Duhamel
#: error below 1e-6 · max|S| · TV(u), i.e. < 1 mK per K of input for a 1000 K total variation.
COMPRESS_REL_TOL = 1e-6


@dataclass(frozen=True)
class CompressedStep:
    r"""Low-rank step response :math:`S \approx A B` (A (n_t, r), B (r, n_out)).

    Duhamel sums at k steps cost (k × n_t)(n_t × r) + (k × r)(r × n_out) instead of reading the
    whole (n_t × n_out) response. For weights W (:func:`duhamel_weights`) the error of row i is
    bounded entrywise by

    .. math::

        \Big|\sum_m W_{im} (S - AB)_{m j}\Big| \le \|W_{i\cdot}\|_1\, \max_{m,j} |S - AB|_{mj}
        = \mathrm{TV}_{n_i}(u)\; \varepsilon_{\max}

    (triangle inequality), with :math:`\varepsilon_{\max}` = :attr:`max_error`, measured with B
    in its stored dtype. With float32 B the product (W A) B runs in float32, which adds a
    rounding of order 1e-6 relative to the output magnitude; :meth:`error_bound` adds its
    standard bound.

    Attributes:
        time_factor: A, orthonormal columns (left singular vectors of S), float64 (n_t, r).
        dof_factor: B = Aᵀ S (projection of S), (r, n_out), float32 or float64.
        tol: requested max |S − AB|, units of S (K per input unit).
        max_error: achieved max |S − AB| (≤ tol), same units.
    """

    time_factor: np.ndarray
    dof_factor: np.ndarray
    tol: float
    max_error: float

    @property
    def rank(self) -> int:
        return int(self.time_factor.shape[1])

    def superpose_at(
        self, u: np.ndarray, indices: Sequence[int] | np.ndarray, *, y0: float | np.ndarray = 0.0
    ) -> np.ndarray:
        """Duhamel sum (W A) B at the step ``indices``, shape (k, n_out) (float64 result)."""
        n_t = self.time_factor.shape[0]
        u = _check_input(u, n_t, "CompressedStep.superpose_at")
        with single_blas_thread():
            wa = duhamel_weights(u, indices) @ self.time_factor
            out = wa.astype(self.dof_factor.dtype) @ self.dof_factor
        return out.astype(float) + y0

    def error_bound(self, u: np.ndarray, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """Bound on max_j |y_ij − exact_ij| at each requested step, shape (k,), units of S·u.

        ``‖W_i‖₁ · max_error`` (truncation and storage of B) plus the rounding of the
        product in B's precision (unit roundoff ε: 2⁻²⁴ float32, 2⁻⁵³ float64) by the standard
        bound for a dot product of length r + 1 (Higham, *Accuracy and Stability of Numerical
        Algorithms*, 2nd ed., §3.1): γ_{r+1} · max_j (|W A| |B|)_ij, γ_n = nε/(1 − nε).
        """
        u = _check_input(u, self.time_factor.shape[0], "CompressedStep.error_bound")
        weights = duhamel_weights(u, indices)
        eps = float(np.finfo(self.dof_factor.dtype).eps) / 2.0
        n = self.rank + 1
        gamma = n * eps / (1.0 - n * eps)
        magnitude = np.abs(weights @ self.time_factor) @ np.abs(self.dof_factor.astype(float))
        return np.abs(weights).sum(axis=1) * self.max_error + gamma * magnitude.max(axis=1)


def compress_step(
    step: np.ndarray,
    *,
    tol: float | None = None,
    rel_tol: float = COMPRESS_REL_TOL,
    dtype: type = np.float32,
) -> CompressedStep:
    """Truncated SVD of a step response S (n_t, n_out) with the smallest rank r such that
    max |S − AB| ≤ tol (measured, B rounded to ``dtype``; A = U_r, B = U_rᵀ S).

    Left singular vectors U by a randomised range finder (Halko, Martinsson & Tropp, SIAM Rev.
    53 (2011) 217, Alg. 4.1; Gaussian test matrix with a fixed seed, so the result is
    deterministic): Q = orth(S Ω) with Ω (n_out × k), then the R-SVD of the small Qᵀ S (QR of
    its transpose and the SVD of the k × k factor; Golub & Van Loan, *Matrix Computations*, 4th
    ed., §8.6.2), U = Q U_B. Cost ≈ 4 k n_t n_out flops for k = 32 instead of the 2 n_t² n_out of
    a full R-SVD. For exact singular vectors max |S − A_r B_r| ≤ ‖S − A_r B_r‖₂ = s_{r+1}, so
    the rank with s_{r+1} ≤ tol is the starting upper bound; the smallest rank whose measured
    error meets ``tol`` is found by bisection (the error decreases with r). When that rank comes
    within :data:`_OVERSAMPLE` of k, k is doubled (up to n_t: a full R-SVD). If float32 rounding
    of B alone exceeds ``tol``, B is kept in float64.

    Args:
        step: step response, shape (n_t, ...) (flattened to (n_t, n_out)).
        tol: absolute tolerance in units of S (K per input unit); default rel_tol · max |S|.
        rel_tol: tolerance relative to max |S| when ``tol`` is None.
        dtype: storage of B, np.float32 (half the memory traffic) or np.float64.
    """
    S = _check_step(step, "compress_step").reshape(np.shape(step)[0], -1)
    scale = float(np.max(np.abs(S)))
    tol = rel_tol * scale if tol is None else float(tol)
    if not tol > 0:
        raise ValueError(f"compress_step: tol must be > 0, got {tol!r} (max |S| = {scale:g})")
    if np.dtype(dtype) not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"compress_step: dtype must be float32 or float64, got {dtype!r}")
    full = min(S.shape)
    k = min(32, full)
    with single_blas_thread():  # ~10x faster than threaded OpenBLAS on a loaded machine
        while True:
            U, s = _left_singular_vectors(S, k)
            C = U.T @ S  # B_r = C[:r]
            rank = _smallest_rank(S, U, C, s, tol)
            if k >= full or (rank is not None and rank <= k - _OVERSAMPLE):
                break
            k = min(2 * k, full)
        if rank is None:  # unreachable in exact arithmetic: full rank reproduces S
            raise ValueError(f"compress_step: no rank meets tol = {tol:g} (round-off of S)")
        r = rank
        B, err = _factor_error(S, U, C, r, dtype)
        while err > tol and r < U.shape[1] and r < rank + 4:  # float32 rounding of B
            r += 1
            B, err = _factor_error(S, U, C, r, dtype)
        if err > tol:
            r = rank
            B, err = _factor_error(S, U, C, r, np.float64)
    A = np.ascontiguousarray(U[:, :r])
    return CompressedStep(time_factor=A, dof_factor=B, tol=tol, max_error=err)


#: Oversampling of the randomised range finder: the rank must stay this far below k.
_OVERSAMPLE = 8


def _left_singular_vectors(S: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(U (n_t, k), s (k,)): approximate leading left singular vectors and values of S from
    the range of S Ω (k columns; the exact R-SVD when k ≥ min(S.shape))."""
    n_t, n_out = S.shape
    if k >= min(n_t, n_out):
        Q, B = np.eye(n_t), S
    else:
        omega = np.random.default_rng(0).standard_normal((n_out, k))
        Q, _ = np.linalg.qr(S @ omega)
        B = Q.T @ S
    R = np.linalg.qr(B.T, mode="r")  # Bᵀ = Q' R, so B = Rᵀ Q'ᵀ and B's left vectors are Rᵀ's
    U_b, s, _ = np.linalg.svd(R.T, full_matrices=False)
    return Q @ U_b, s


def _factor_error(
    S: np.ndarray, U: np.ndarray, C: np.ndarray, r: int, dtype
) -> tuple[np.ndarray, float]:
    """B = C_r = U_rᵀ S in ``dtype`` and the measured max |S − U_r B|."""
    B = np.ascontiguousarray(C[:r]).astype(dtype)
    return B, float(np.max(np.abs(S - U[:, :r] @ B.astype(float))))


def _smallest_rank(
    S: np.ndarray, U: np.ndarray, C: np.ndarray, s: np.ndarray, tol: float
) -> int | None:
    """Smallest r with max |S − U_r U_rᵀ S| ≤ tol (float64), or None if even all of U fail."""
    n = U.shape[1]

    def ok(r: int) -> bool:
        return _factor_error(S, U, C, r, np.float64)[1] <= tol

    hi = min(max(int(np.count_nonzero(s > tol)), 1), n)
    lo = 0  # rank 0 is taken as failing: at least one vector is kept
    while not ok(hi):  # the 2-norm start can fail with approximate vectors
        if hi == n:
            return None
        lo, hi = hi, min(2 * hi, n)
    while hi - lo > 1:  # invariant: hi qualifies, lo does not
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


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

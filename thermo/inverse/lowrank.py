r"""Low-rank factors of a step response for fast Duhamel sums (the reconstruction's hot path).

A field step response S (n_t × n_dofs) is factored as S ≈ A B with the smallest rank r whose
measured max |S − AB| is within a tolerance; a Duhamel sum at k steps
(:mod:`thermo.inverse.duhamel`,
weights W of :func:`thermo.inverse.duhamel.duhamel_weights`) then costs (W A) B instead of reading
the
whole response, with the error bound of :meth:`CompressedStep.error_bound`.

:mod:`thermo.inverse.streaming_lowrank` builds the same :class:`CompressedStep` row by row
during the FEM run (never holding S; owned dofs per MPI rank), with ``max_error`` a proven
upper bound of max |S − AB| instead of its measured value; the error bound below only needs
max |S − AB| ≤ ``max_error`` and holds for both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from thermo.inverse.duhamel import _check_input, _check_step, duhamel_weights, single_blas_thread

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
        max_error: achieved max |S − AB| (≤ tol), same units: measured by
            :func:`compress_step`, a proven upper bound from
            :class:`thermo.inverse.streaming_lowrank.StreamingCompressor`.

    With B holding only this MPI rank's dof columns (streamed factors), :meth:`superpose_at`
    and :meth:`error_bound` are per rank (no communication); ``max_error`` and A are global.
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

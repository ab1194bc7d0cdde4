r"""Low-rank factors of a field step response built *during* the FEM run (one row per step).

:func:`thermo.inverse.lowrank.compress_step` needs the whole (n_t × n_dofs) step response S in
memory: 240 steps × 1e6 dofs = 1.9 GB of doubles, growing with the number of steps. The
:class:`StreamingCompressor` here receives the rows :math:`s_n` of S one at a time (the field
of step n, from the solver's ``on_step``), keeps only an orthonormal basis of the rows seen so
far (k × n_dofs, k a few tens) and their coefficients (n_t × k), and returns the same
:class:`thermo.inverse.lowrank.CompressedStep` (A orthonormal n_t × r, B r × n_dofs) with the
same guarantee, :math:`\max|S - AB| \le` ``max_error`` ``≤ tol``, so
:meth:`CompressedStep.error_bound` holds unchanged. Under MPI every rank holds only the columns
of its **owned** dofs (no ghosts); inner products and maxima are ``comm.allreduce`` sums and
maxima, and the small (n_t × k) decompositions are computed on rank 0 and broadcast, so every
rank takes the same decisions and the numbers do not depend on the partition beyond round-off
of the reductions.

**Algorithm** (incremental SVD with truncation, the row-space variant of Brand, *Linear Algebra
Appl.* 415 (2006) 20, with a max-abs instead of a 2-norm criterion).

1. *Stream.* With the orthonormal rows :math:`V` (k × n) so far, row n gets the coefficients
   :math:`c_n = V s_n` and the residual :math:`e_n = s_n - V^T c_n` (both global via
   ``allreduce``). If :math:`\max_j |e_{nj}| \le \tau_n` the row is represented by
   :math:`c_n` and its residual is dropped; otherwise :math:`e_n` is re-orthogonalised once
   (classical Gram–Schmidt twice: "twice is enough", Giraud et al., *Numer. Math.* 101 (2005)
   87), normalised and appended to V, and row n is represented exactly (coefficient
   :math:`\|e_n\|_2` on the new row). New rows of V are orthogonal to the old ones, so later
   additions do not change the representation of earlier rows: with C the coefficients
   (n_t × k, zero-padded) and :math:`\tilde S = C V`,

   .. math:: \varepsilon_s := \max_{n,j} |S - \tilde S|_{nj} = \max_n \max_j |e_{nj}|

   is known exactly from the dropped residuals (plus the rounding of the normalisation,
   counted as 4 u max|e| with u the unit roundoff). The threshold is
   :math:`\tau_n = \eta\, \mathrm{rel\_tol}\, \max_{m \le n} \max_j |s_{mj}|` (η =
   ``stream_fraction``, default 1/4): the running maximum never exceeds the final max |S|, so
   :math:`\varepsilon_s \le \eta\, \mathrm{tol}` with tol = rel_tol · max |S| (or the
   absolute ``tol`` given).
2. *Truncate.* SVD of the small coefficient matrix :math:`C = U \Sigma W^T` (rank 0, then
   broadcast); :math:`\tilde S = U G` with :math:`G = \Sigma W^T V` (k × n, formed in place of
   V block by block). For rank r, A = :math:`U_r` (orthonormal), :math:`B = \mathrm{fl}(G_r)`
   (rounded to the storage dtype), and the truncation-plus-storage error

   .. math:: \delta_r := \max_{n,j} |\tilde S - A B|_{nj}
             = \max |U_{>r} G_{>r} + U_r (G_r - \mathrm{fl}(G_r))|

   is *measured*, in dof blocks of :data:`BLOCK` columns (never the full n_t × n matrix),
   maximum over ranks by ``allreduce``. By the triangle inequality

   .. math:: \max_{n,j} |S - AB|_{nj} \le \varepsilon_s + \delta_r =: \texttt{max\_error},

   and r is the smallest rank with :math:`\varepsilon_s + \delta_r \le \mathrm{tol}`
   (bisection on float64 δ, as in :func:`compress_step`; r = k always qualifies since
   :math:`\delta_k = 0` in float64). If float32 rounding of B pushes the sum over tol, r grows
   by up to 4, else B stays float64.

So the stored ``max_error`` is a proven upper bound of max |S − AB| (where
:func:`compress_step` stores the measured value itself); the bound of
:meth:`CompressedStep.error_bound` only uses max |S − AB| ≤ max_error and is therefore the
same statement. What is lost against the exact path: the rank may be a little larger (the
budget tol − ε_s, ≥ (1 − η) tol, is left for the truncation), and the factors differ from the
exact ones within the two bounds. ``tests/inverse/test_streaming_lowrank.py`` checks the bound
against the full matrix, the agreement with :func:`compress_step`, and 1 vs 2 ranks.

Memory: V (k × n_owned doubles, allocated in chunks of :data:`CHUNK` rows) plus the
coefficients; at 1e6 dofs and k = 40, 320 MB, independent of the number of steps. Cost per step:
two passes over V (k · n multiply-adds each), four for a step that adds a row.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from thermo.inverse.duhamel import single_blas_thread
from thermo.inverse.lowrank import COMPRESS_REL_TOL, CompressedStep

#: Rows of V allocated at once (no copy when the basis grows).
CHUNK = 16
#: Dof columns per block of the final truncation (n_t × BLOCK doubles at a time).
BLOCK = 16384
#: Default share η of the tolerance spent on the streamed residuals.
STREAM_FRACTION = 0.25


class _SerialComm:
    """The two collective operations used here, for a run without MPI."""

    rank = 0
    size = 1

    @staticmethod
    def allreduce(value: Any, op: Any = None) -> Any:
        return value

    @staticmethod
    def bcast(value: Any, root: int = 0) -> Any:
        return value


def _ops(comm: Any) -> tuple[Any, Any]:
    """(SUM, MAX) operations of ``comm`` (mpi4py), or None for the serial stand-in."""
    if isinstance(comm, _SerialComm):
        return None, None
    from mpi4py import MPI

    return MPI.SUM, MPI.MAX


class StreamingCompressor:
    """Incremental low-rank factors of a step response received one row (time step) at a time.

    Args:
        n_local: number of dof columns held by this rank (its owned dofs).
        tol: absolute tolerance on max |S − AB| (units of S); default rel_tol · max |S|.
        rel_tol: tolerance relative to max |S| (the final global maximum) when ``tol`` is None.
        dtype: storage of B, np.float32 or np.float64.
        comm: mpi4py communicator whose ranks each hold a disjoint block of the columns
            (None: serial).
        stream_fraction: η, share of tol allowed for the dropped residuals (0 < η < 1).
        max_rank: cap on the streamed basis size (default 256); rows whose residual exceeds
            the threshold once the cap is reached are kept with their residual counted in
            ``max_error`` (a warning says so).

    Use :meth:`push` for every step (in order, n = 0 … n_t − 1), then :meth:`finish`.
    """

    def __init__(
        self,
        n_local: int,
        *,
        tol: float | None = None,
        rel_tol: float = COMPRESS_REL_TOL,
        dtype: type = np.float32,
        comm: Any = None,
        stream_fraction: float = STREAM_FRACTION,
        max_rank: int = 256,
    ) -> None:
        if np.dtype(dtype) not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise ValueError(
                f"StreamingCompressor: dtype must be float32 or float64, got {dtype!r}"
            )
        if not 0.0 < stream_fraction < 1.0:
            raise ValueError(
                f"StreamingCompressor: stream_fraction must be in (0, 1), got {stream_fraction!r}"
            )
        if tol is not None and not float(tol) > 0:
            raise ValueError(f"StreamingCompressor: tol must be > 0, got {tol!r}")
        if not rel_tol > 0:
            raise ValueError(f"StreamingCompressor: rel_tol must be > 0, got {rel_tol!r}")
        if int(n_local) < 0 or int(max_rank) < 1:
            raise ValueError("StreamingCompressor: n_local must be >= 0 and max_rank >= 1")
        self.n_local = int(n_local)
        self.tol = None if tol is None else float(tol)
        self.rel_tol = float(rel_tol)
        self.dtype = np.dtype(dtype)
        self.comm = _SerialComm() if comm is None else comm
        self._sum, self._max = _ops(self.comm)
        self.eta = float(stream_fraction)
        self.max_rank = int(max_rank)
        self._chunks: list[np.ndarray] = []
        self.k = 0  # basis rows in use
        self._coef: list[np.ndarray] = []
        self.scale = 0.0  # running global max |s|
        self.stream_error = 0.0  # ε_s
        self.capped = 0  # rows kept with a residual above the threshold (cap reached)
        self._finished = False

    # -- collectives -------------------------------------------------------------------------
    def _allsum(self, x: np.ndarray) -> np.ndarray:
        if self._sum is None:
            return x
        out = np.empty_like(x)
        self.comm.Allreduce(np.ascontiguousarray(x), out, op=self._sum)
        return out

    def _allmax(self, x: float) -> float:
        return float(x) if self._max is None else float(self.comm.allreduce(float(x), op=self._max))

    # -- basis -------------------------------------------------------------------------------
    def _project(self, s: np.ndarray) -> np.ndarray:
        """Global V s (k,)."""
        local = np.empty(self.k)
        i = 0
        for chunk in self._chunks:
            m = min(CHUNK, self.k - i)
            if m <= 0:
                break
            local[i : i + m] = chunk[:m] @ s
            i += m
        return self._allsum(local)

    def _subtract(self, s: np.ndarray, c: np.ndarray) -> np.ndarray:
        """s − Vᵀ c (local columns)."""
        e = s.copy()
        i = 0
        for chunk in self._chunks:
            m = min(CHUNK, self.k - i)
            if m <= 0:
                break
            e -= c[i : i + m] @ chunk[:m]
            i += m
        return e

    def _append(self, v: np.ndarray) -> None:
        if self.k == len(self._chunks) * CHUNK:
            self._chunks.append(np.zeros((CHUNK, self.n_local)))
        self._chunks[self.k // CHUNK][self.k % CHUNK] = v
        self.k += 1

    def _threshold(self) -> float:
        tol = self.rel_tol * self.scale if self.tol is None else self.tol
        return self.eta * tol

    def push(self, row: np.ndarray) -> None:
        """Add the next row of S (this rank's owned dof values of step n, shape (n_local,))."""
        if self._finished:
            raise ValueError("StreamingCompressor.push: finish() was already called")
        s = np.asarray(row, dtype=float).reshape(-1)
        if s.size != self.n_local:
            raise ValueError(
                f"StreamingCompressor.push: row must have {self.n_local} local values, got {s.size}"
            )
        local_max = float(np.max(np.abs(s))) if s.size else 0.0
        if not np.isfinite(local_max):
            raise ValueError("StreamingCompressor.push: row contains NaN/inf")
        with single_blas_thread():
            self.scale = max(self.scale, self._allmax(local_max))
            c = self._project(s) if self.k else np.zeros(0)
            e = self._subtract(s, c) if self.k else s.copy()
            emax = self._allmax(np.max(np.abs(e)) if e.size else 0.0)
            if emax > self._threshold() and emax > 0.0:
                if self.k >= self.max_rank:
                    self.capped += 1
                    self.stream_error = max(self.stream_error, emax)
                else:
                    if self.k:
                        c2 = self._project(e)
                        e = self._subtract(e, c2)
                        c = c + c2
                    norm = float(np.sqrt(self._allsum(np.array([e @ e]))[0]))
                    self._append(e / norm)
                    c = np.append(c, norm)
                    # rounding of e/‖e‖·‖e‖ against e: a few units of roundoff of max|e|
                    resid = 4.0 * np.finfo(float).eps * emax
                    self.stream_error = max(self.stream_error, resid)
            else:
                self.stream_error = max(self.stream_error, emax)
        self._coef.append(c)

    @property
    def n_rows(self) -> int:
        return len(self._coef)

    def memory_bytes(self) -> int:
        """Bytes held by the basis and coefficients on this rank."""
        return sum(ch.nbytes for ch in self._chunks) + 8 * self.k * self.n_rows

    # -- truncation --------------------------------------------------------------------------
    def _blocks(self):
        for j0 in range(0, self.n_local, BLOCK):
            yield slice(j0, min(j0 + BLOCK, self.n_local))

    def _rows(self, sl: slice) -> np.ndarray:
        """V (or G after the in-place product) columns ``sl`` as a (k, w) array."""
        parts, i = [], 0
        for chunk in self._chunks:
            m = min(CHUNK, self.k - i)
            if m <= 0:
                break
            parts.append(chunk[:m, sl])
            i += m
        return np.concatenate(parts, axis=0)

    def _set_rows(self, sl: slice, value: np.ndarray) -> None:
        i = 0
        for chunk in self._chunks:
            m = min(CHUNK, self.k - i)
            if m <= 0:
                break
            chunk[:m, sl] = value[i : i + m]
            i += m

    def _error(self, U: np.ndarray, r: int, dtype: np.dtype) -> float:
        """δ_r = max |U G − U_r fl(G_r)| over all dofs (global)."""
        local = 0.0
        for sl in self._blocks():
            G = self._rows(sl)
            D = U[:, r:] @ G[r:]
            if dtype != np.float64:
                Gr = G[:r]
                D += U[:, :r] @ (Gr - Gr.astype(dtype).astype(float))
            if D.size:
                local = max(local, float(np.max(np.abs(D))))
        return self._allmax(local)

    def finish(self) -> CompressedStep:
        """The factors A (n_t, r) (the same on every rank) and B (r, n_local) (this rank's
        columns), with ``max_error`` = ε_s + δ_r ≥ max |S − AB| (module docstring)."""
        if self._finished:
            raise ValueError("StreamingCompressor.finish: already called")
        n_t = self.n_rows
        if n_t < 2:
            raise ValueError(f"StreamingCompressor.finish: needs >= 2 rows, got {n_t}")
        self._finished = True
        tol = self.rel_tol * self.scale if self.tol is None else self.tol
        if not tol > 0:
            raise ValueError(
                f"StreamingCompressor.finish: tol must be > 0, got {tol!r} (max |S| = "
                f"{self.scale:g}: the response is zero)"
            )
        k = self.k
        if k == 0:  # every row within the threshold of zero: rank-1 zero factors
            A = np.zeros((n_t, 1))
            A[0, 0] = 1.0
            B = np.zeros((1, self.n_local), dtype=self.dtype)
            return CompressedStep(A, B, tol=tol, max_error=self.stream_error)
        C = np.zeros((n_t, k))
        for n, c in enumerate(self._coef):
            C[n, : c.size] = c
        with single_blas_thread():
            if self.comm.rank == 0:
                U, sig, Wt = np.linalg.svd(C, full_matrices=False)
            else:
                U = sig = Wt = None
            U, sig, Wt = self.comm.bcast((U, sig, Wt), root=0)
            M = sig[:, None] * Wt
            for sl in self._blocks():  # V ← G = Σ Wᵀ V, block by block, in place
                self._set_rows(sl, M @ self._rows(sl))
            budget = tol - self.stream_error
            if budget < 0:
                warnings.warn(
                    f"StreamingCompressor: {self.capped} row(s) exceeded the threshold after the "
                    f"basis cap {self.max_rank}; max_error {self.stream_error:.3g} > tol {tol:.3g}",
                    stacklevel=2,
                )
            r = self._smallest_rank(U, sig, max(budget, 0.0))
            err = self._error(U, r, self.dtype)
            dtype = self.dtype
            r32 = r
            while dtype != np.float64 and err > budget and r32 < min(k, r + 4):
                r32 += 1
                err = self._error(U, r32, dtype)
            if dtype != np.float64 and err > budget:
                dtype = np.dtype(np.float64)
                err = self._error(U, r, dtype)
            else:
                r = r32
            A = np.ascontiguousarray(U[:, :r])
            B = np.empty((r, self.n_local), dtype=dtype)
            for sl in self._blocks():
                B[:, sl] = self._rows(sl)[:r]
        self._chunks = []
        return CompressedStep(
            time_factor=A, dof_factor=B, tol=tol, max_error=self.stream_error + err
        )

    def _smallest_rank(self, U: np.ndarray, sig: np.ndarray, budget: float) -> int:
        """Smallest r with δ_r (float64) ≤ budget; r = k qualifies (δ_k = 0)."""
        k = U.shape[1]

        def ok(r: int) -> bool:
            return self._error(U, r, np.dtype(np.float64)) <= budget

        hi = min(max(int(np.count_nonzero(sig > budget)), 1), k)
        lo = 0
        while not ok(hi):
            if hi == k:
                return k
            lo, hi = hi, min(2 * hi, k)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if ok(mid):
                hi = mid
            else:
                lo = mid
        return hi


def compress_streaming(
    step: np.ndarray,
    *,
    tol: float | None = None,
    rel_tol: float = COMPRESS_REL_TOL,
    dtype: type = np.float32,
    comm: Any = None,
    stream_fraction: float = STREAM_FRACTION,
) -> CompressedStep:
    """Feed the rows of an in-memory step response (n_t, n_local) through
    :class:`StreamingCompressor` (tests, and comparison with :func:`compress_step`)."""
    S = np.asarray(step, dtype=float).reshape(np.shape(step)[0], -1)
    comp = StreamingCompressor(
        S.shape[1],
        tol=tol,
        rel_tol=rel_tol,
        dtype=dtype,
        comm=comm,
        stream_fraction=stream_fraction,
    )
    for row in S:
        comp.push(row)
    return comp.finish()

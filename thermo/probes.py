"""Point probes of a finite-element field, correct under MPI.

A probe is a named point :math:`x_p` (m); its value is the finite-element interpolant
:math:`T_h(x_p) = \\sum_j T_j \\varphi_j(x_p)` evaluated in the cell that contains it. In parallel
each point is owned by exactly one rank, found once with
``dolfinx.geometry.determine_point_ownership`` (bounding-box tree + exact point-in-cell test);
the owner evaluates and an ``MPI.Allreduce`` (sum of one non-zero contribution per probe) gives
every rank the same array, so serial and parallel runs agree to round-off.

A point farther than ``padding`` (m) from every cell raises ``ValueError`` naming the probe.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import dolfinx_solver  # noqa: F401  (initialises MPI/PETSc before dolfinx)
import numpy as np
from dolfinx import fem, geometry
from mpi4py import MPI


class Probes:
    """Named point evaluations of functions on one mesh.

    Args:
        msh: ``dolfinx.mesh.Mesh`` holding the points.
        points: probe name → coordinates (m), 1 to 3 entries (missing ones are 0).
        source: description of the mesh (file or builder) used in error messages.
        padding: bounding-box padding (m) for the ownership search; ``None`` uses
            ``1e-8 ×`` the mesh's bounding-box diagonal.
    """

    def __init__(
        self,
        *,
        msh,
        points: Mapping[str, Sequence[float]],
        source: str = "<mesh>",
        padding: float | None = None,
    ) -> None:
        self.names: list[str] = list(points)
        self._comm: MPI.Comm = msh.comm
        coords = np.zeros((len(self.names), 3), dtype=np.float64)
        for i, name in enumerate(self.names):
            p = np.asarray(points[name], dtype=np.float64).reshape(-1)
            if p.size < 1 or p.size > 3 or not np.all(np.isfinite(p)):
                raise ValueError(
                    f"probe {name!r}: coordinates must be 1 to 3 finite numbers (m), got "
                    f"{points[name]!r}"
                )
            coords[i, : p.size] = p
        self.coords = coords
        if padding is None:
            x = msh.geometry.x
            lo, hi = np.full(3, np.inf), np.full(3, -np.inf)
            if x.size:
                lo, hi = x.min(axis=0), x.max(axis=0)
            self._comm.Allreduce(MPI.IN_PLACE, lo, op=MPI.MIN)
            self._comm.Allreduce(MPI.IN_PLACE, hi, op=MPI.MAX)
            padding = 1e-8 * float(np.linalg.norm(hi - lo))
        rank = self._comm.rank
        query = coords if rank == 0 else np.zeros((0, 3), dtype=np.float64)
        data = geometry.determine_point_ownership(msh, query, padding)
        owner = np.asarray(data.src_owner, dtype=np.int32) if rank == 0 else None
        owner = self._comm.bcast(owner, root=0)
        outside = [self.names[i] for i in np.flatnonzero(owner < 0)]
        if outside:
            raise ValueError(
                f"{source}: probe(s) {outside} lie outside the mesh (coordinates "
                f"{[coords[self.names.index(n)].tolist() for n in outside]} m)"
            )
        self._mine = np.flatnonzero(owner == rank)
        self._points = np.asarray(data.dest_points, dtype=np.float64).reshape(-1, 3)
        self._cells = np.asarray(data.dest_cells, dtype=np.int32)
        if self._points.shape[0] != self._mine.size or not np.allclose(
            self._points, coords[self._mine]
        ):
            raise RuntimeError("probe ownership: owned points do not match the requested ones")

    def owned(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Probe indices owned by this rank, their points (m, shape (n, 3)) and cells."""
        return self._mine, self._points, self._cells

    def gather(self, local: np.ndarray) -> np.ndarray:
        """Sum per-rank arrays (zeros where not owned) so that every rank has all values."""
        local = np.array(local, dtype=np.float64)
        self._comm.Allreduce(MPI.IN_PLACE, local, op=MPI.SUM)
        return local

    def evaluate(self, u: fem.Function) -> np.ndarray:
        """Values of scalar ``u`` at the probes, shape (n_probes,), identical on every rank."""
        local = np.zeros(len(self.names), dtype=np.float64)
        if self._mine.size:
            local[self._mine] = u.eval(self._points, self._cells).reshape(-1)
        return self.gather(local)

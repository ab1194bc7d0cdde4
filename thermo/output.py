"""Writers for solver outputs.

* :func:`write_probes_csv`: ``probes.csv`` with a ``time_s`` column (s) and one column per probe
  (°C), rank 0 only, atomically through :func:`thermo.atomic.atomic_path`.
* :class:`FieldWriter`: the temperature time series for ParaView, either XDMF
  (``T.xdmf`` + ``T.h5``, ``dolfinx.io.XDMFFile``) or ADIOS2 VTX (``T.bp``,
  ``dolfinx.io.VTXWriter``), written in place in ``out_dir``. A series grows step by step and an
  XDMF file names its HDF5 partner by base name, so a per-file rename cannot make it atomic;
  instead callers write a whole run into a folder staged by :func:`thermo.atomic.staged_dir`
  (``millheat simulate``, the case scripts), which is published only when the run succeeded.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import dolfinx_solver  # noqa: F401  (initialises MPI/PETSc before dolfinx)
import numpy as np
from dolfinx import fem, io
from mpi4py import MPI

from thermo.atomic import atomic_path

FieldFormat = Literal["xdmf", "vtx", "none"]


def write_probes_csv(
    path: Path, *, times: np.ndarray, probes: Mapping[str, np.ndarray], comm: MPI.Comm | None = None
) -> Path:
    """Write ``time_s`` + one column per probe (°C) to ``path`` atomically (rank 0 writes).

    Args:
        path: target CSV file.
        times: time levels (s), shape (n,).
        probes: probe name → values (°C), each shape (n,).
        comm: communicator; only its rank 0 writes (``None``: ``MPI.COMM_WORLD``).
    """
    comm = MPI.COMM_WORLD if comm is None else comm
    times = np.asarray(times, dtype=float).reshape(-1)
    for name, values in probes.items():
        if np.asarray(values).shape != times.shape:
            raise ValueError(
                f"{path}: probe {name!r} has shape {np.asarray(values).shape}, expected "
                f"{times.shape} like time_s"
            )
    path = Path(path)
    if comm.rank == 0:
        with atomic_path(path) as tmp, tmp.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["time_s", *probes])
            columns = [np.asarray(v, dtype=float) for v in probes.values()]
            for i, t in enumerate(times):
                writer.writerow([repr(float(t)), *(repr(float(c[i])) for c in columns)])
    comm.barrier()
    return path


class FieldWriter:
    """Time series of temperature function(s) for ParaView, written in place in ``out_dir``.

    One function gives ``T.xdmf``/``T.h5`` or ``T.bp``; several functions (one per body, on
    different submeshes, with contact conductance) give one series per function named after the
    function (``T_insert.xdmf``, ...). Write into a staged run folder (module docstring) so that
    a crashed run leaves nothing under the final name.

    Args:
        out_dir: output folder (created if missing).
        functions: the functions to write.
        fmt: ``"xdmf"``, ``"vtx"`` or ``"none"`` (no-op).
    """

    def __init__(
        self, *, out_dir: Path, functions: list[fem.Function], fmt: FieldFormat = "xdmf"
    ) -> None:
        if fmt not in ("xdmf", "vtx", "none"):
            raise ValueError(f"fields must be 'xdmf', 'vtx' or 'none', got {fmt!r}")
        self.fmt = fmt
        self._functions = functions
        self._out = Path(out_dir)
        self._writers: list = []
        self._paths: list[Path] = []
        if fmt == "none":
            return
        comm = functions[0].function_space.mesh.comm
        self._comm = comm
        if comm.rank == 0:
            self._out.mkdir(parents=True, exist_ok=True)
        comm.barrier()
        for u in functions:
            stem = "T" if len(functions) == 1 else u.name
            if fmt == "xdmf":
                path = self._out / f"{stem}.xdmf"
                writer = io.XDMFFile(comm, path, "w")
                writer.write_mesh(u.function_space.mesh)
                self._paths += [path.with_suffix(".h5"), path]
            else:
                path = self._out / f"{stem}.bp"
                writer = io.VTXWriter(comm, path, [u], engine="BP4")
                self._paths.append(path)
            self._writers.append(writer)

    def write(self, t: float) -> None:
        """Append the current values of the functions at time ``t`` (s)."""
        for u, writer in zip(self._functions, self._writers, strict=False):
            if self.fmt == "xdmf":
                writer.write_function(u, t)
            else:
                writer.write(t)

    def close(self) -> list[Path]:
        """Finish the files; returns their paths (sorted by name, empty for ``"none"``)."""
        if not self._writers:
            return []
        for writer in self._writers:
            writer.close()
        self._writers = []
        self._comm.barrier()
        return sorted(self._paths, key=lambda p: p.name)

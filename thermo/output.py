"""Writers for solver outputs, all atomic (temporary name first, then ``os.replace``).

* :func:`write_probes_csv`: ``probes.csv`` with a ``time_s`` column (s) and one column per probe
  (°C), rank 0 only.
* :class:`FieldWriter`: the temperature time series for ParaView, either XDMF
  (``T.xdmf`` + ``T.h5``, ``dolfinx.io.XDMFFile``) or ADIOS2 VTX (``T.bp``,
  ``dolfinx.io.VTXWriter``).
  Files are written into a hidden ``.partial`` folder inside the output folder and moved into place
  by :meth:`FieldWriter.close`, so a crashed run never leaves a half-written series under the final
  name. (XDMF refers to its HDF5 file by base name, so the pair stays valid after the move.)
"""

from __future__ import annotations

import csv
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import dolfinx_solver  # noqa: F401  (initialises MPI/PETSc before dolfinx)
import numpy as np
from dolfinx import fem, io
from mpi4py import MPI

FieldFormat = Literal["xdmf", "vtx", "none"]


def atomic_write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary sibling and a rename; returns ``path``."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


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
        tmp = path.with_name(f".{path.name}.partial")
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["time_s", *probes])
            columns = [np.asarray(v, dtype=float) for v in probes.values()]
            for i, t in enumerate(times):
                writer.writerow([repr(float(t)), *(repr(float(c[i])) for c in columns)])
        os.replace(tmp, path)
    comm.barrier()
    return path


class FieldWriter:
    """Time series of temperature function(s) for ParaView, moved into place on :meth:`close`.

    One function gives ``T.xdmf``/``T.h5`` or ``T.bp``; several functions (one per body, on
    different submeshes, with contact conductance) give one series per function named after the
    function (``T_insert.xdmf``, ...).

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
        if fmt == "none":
            return
        comm = functions[0].function_space.mesh.comm
        self._comm = comm
        self._tmp = self._out / f".fields.{fmt}.partial"
        if comm.rank == 0:
            self._out.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp.mkdir()
        comm.barrier()
        for u in functions:
            stem = "T" if len(functions) == 1 else u.name
            if fmt == "xdmf":
                writer = io.XDMFFile(comm, self._tmp / f"{stem}.xdmf", "w")
                writer.write_mesh(u.function_space.mesh)
            else:
                writer = io.VTXWriter(comm, self._tmp / f"{stem}.bp", [u], engine="BP4")
            self._writers.append(writer)

    def write(self, t: float) -> None:
        """Append the current values of the functions at time ``t`` (s)."""
        for u, writer in zip(self._functions, self._writers, strict=False):
            if self.fmt == "xdmf":
                writer.write_function(u, t)
            else:
                writer.write(t)

    def close(self) -> list[Path]:
        """Finish the files and move them into ``out_dir``; returns the final paths."""
        if not self._writers:
            return []
        for writer in self._writers:
            writer.close()
        self._writers = []
        self._comm.barrier()
        moved: list[Path] = []
        names = sorted(p.name for p in self._tmp.iterdir()) if self._comm.rank == 0 else None
        for name in self._comm.bcast(names, root=0):
            target = self._out / name
            if self._comm.rank == 0:
                if target.is_dir():
                    shutil.rmtree(target)
                os.replace(self._tmp / name, target)
            moved.append(target)
        self._comm.barrier()
        if self._comm.rank == 0:
            self._tmp.rmdir()
        return moved

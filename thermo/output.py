"""Writers for solver outputs.

* :func:`write_probes_csv`: ``probes.csv`` with a ``time_s`` column (s) and one column per probe
  (°C), rank 0 only, atomically through :func:`thermo.atomic.atomic_path`.
* observers of the time loop (:class:`StepObserver`): :class:`ProbeRecorder`, :class:`FieldSeries`,
  :class:`Snapshots`, :class:`ProgressBar` and :class:`Callback`. The solver's stepper yields
  ``(step, t, functions)`` after every step (and step 0); every observer is called with the same
  triple in order and closed at the end (returning the files it wrote), in the manner of
  scikit-fem's ``evolve`` generator and FESTIM's exports.
* :class:`FieldWriter`: the temperature time series for ParaView, either XDMF
  (``T.xdmf`` + ``T.h5``, ``dolfinx.io.XDMFFile``) or ADIOS2 VTX (``T.bp``,
  ``dolfinx.io.VTXWriter``), written in place in ``out_dir``. A series grows step by step and an
  XDMF file names its HDF5 partner by base name, so a per-file rename cannot make it atomic;
  instead callers write a whole run into a folder staged by :func:`thermo.atomic.staged_dir`
  (``millheat simulate``, the case scripts), which is published only when the run succeeded.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping, Sequence
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


class StepObserver:
    """Something that watches the time loop: ``observer(step, t, functions)``, then ``close()``.

    ``functions`` is the list of temperature functions (one, or one per body with contact
    conductance) holding the solution at time ``t`` (s) of step ``step`` (0 = initial state).
    """

    def __call__(self, step: int, t: float, functions: list[fem.Function]) -> None:
        """Observe the state after ``step``."""

    def close(self) -> list[Path]:
        """Finish; returns the files written (none by default)."""
        return []


class ProbeRecorder(StepObserver):
    """Probe values per step: ``values`` has shape (n_steps + 1, n_probes), °C.

    Args:
        names: probe names.
        evaluate: ``evaluate()`` → current probe values, shape (n_probes,), same on every rank.
        n_steps: number of steps after step 0.
    """

    def __init__(self, names: Sequence[str], evaluate: Callable[[], np.ndarray], n_steps: int):
        self.names = list(names)
        self._evaluate = evaluate
        self.values = np.zeros((n_steps + 1, len(self.names)))

    def __call__(self, step: int, t: float, functions: list[fem.Function]) -> None:
        self.values[step] = self._evaluate()

    def probes(self) -> dict[str, np.ndarray]:
        """Probe name → history (°C), shape (n_steps + 1,)."""
        return {name: self.values[:, i].copy() for i, name in enumerate(self.names)}


class FieldSeries(StepObserver):
    """Write the fields every ``every`` steps and at the last step (a :class:`FieldWriter`)."""

    def __init__(self, writer: FieldWriter, *, every: int, last_step: int) -> None:
        self._writer, self._every, self._last = writer, every, last_step

    def __call__(self, step: int, t: float, functions: list[fem.Function]) -> None:
        if step % self._every == 0 or step == self._last:
            self._writer.write(t)

    def close(self) -> list[Path]:
        return self._writer.close()


class Snapshots(StepObserver):
    """Capture the fields at given steps; render PNGs on :meth:`close` (:mod:`thermo.render`).

    Args:
        steps: step index → snapshot time (s).
        out_dir: folder of the PNGs ``T_<t>s.png``.
        comm: communicator (rank 0 renders).
    """

    def __init__(self, steps: Mapping[int, float], *, out_dir: Path, comm: MPI.Comm) -> None:
        self._steps, self._out, self._comm = dict(steps), Path(out_dir), comm
        self._captures: list = []

    def __call__(self, step: int, t: float, functions: list[fem.Function]) -> None:
        if step in self._steps:
            from thermo import render  # PyVista is loaded only when snapshots are requested

            self._captures.append((t, render.capture(functions)))

    def close(self) -> list[Path]:
        if not self._captures:
            return []
        from thermo import render

        return render.render_snapshots(self._captures, out_dir=self._out, comm=self._comm)


class ProgressBar(StepObserver):
    """A tqdm bar over the steps, on rank 0 of ``comm``."""

    def __init__(self, total: int, *, comm: MPI.Comm, desc: str = "heat") -> None:
        self._bar = None
        if comm.rank == 0:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=desc, unit="step")

    def __call__(self, step: int, t: float, functions: list[fem.Function]) -> None:
        if self._bar is not None and step > 0:
            self._bar.update(1)

    def close(self) -> list[Path]:
        if self._bar is not None:
            self._bar.close()
        return []


class Callback(StepObserver):
    """Call ``fn(step, t, T)`` with ``T`` the function, or the list of per-body functions."""

    def __init__(self, fn: Callable[[int, float, object], None]) -> None:
        self._fn = fn

    def __call__(self, step: int, t: float, functions: list[fem.Function]) -> None:
        self._fn(step, t, functions[0] if len(functions) == 1 else functions)

"""Off-screen PyVista snapshots of temperature fields with one fixed colour scale.

:func:`capture` copies a P1 field at the current time into a ``pyvista.UnstructuredGrid`` on rank 0
(every rank sends its cells, points and nodal values from ``dolfinx.plot.vtk_mesh``; ghost cells
appear twice, which does not change the picture). :func:`render_snapshots` draws all captured
times with the same colour limits — the overall min/max over the snapshots unless ``clim`` is
given — so that frames compare directly, and writes ``T_<time>s.png`` atomically
(:func:`thermo.atomic.atomic_path`). Works off-screen (``pyvista.OFF_SCREEN``); VTK may print an
X-server warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import dolfinx_solver  # noqa: F401  (initialises MPI/PETSc before dolfinx)
import numpy as np
from dolfinx import fem, plot
from mpi4py import MPI

from thermo.atomic import atomic_path


def capture(functions: Sequence[fem.Function] | fem.Function):
    """Gather scalar P1 function(s) to rank 0 as one ``pyvista.UnstructuredGrid`` (else ``None``).

    The point data array ``"T"`` holds the nodal values (°C). Several functions (one per body,
    with contact conductance) are merged into one grid.
    """
    import pyvista

    if isinstance(functions, fem.Function):
        functions = [functions]
    comm: MPI.Comm = functions[0].function_space.mesh.comm
    parts = []
    for u in functions:
        topology, cell_types, x = plot.vtk_mesh(u.function_space)
        parts.append((topology, cell_types, x, u.x.array.real.copy()))
    gathered = comm.gather(parts, root=0)
    if comm.rank != 0:
        return None
    grids = []
    for rank_parts in gathered:
        for topology, cell_types, x, values in rank_parts:
            if cell_types.size == 0:
                continue
            grid = pyvista.UnstructuredGrid(topology, cell_types, x)
            grid.point_data["T"] = values
            grids.append(grid)
    merged = grids[0] if len(grids) == 1 else pyvista.merge(grids, merge_points=False)
    return merged


def render_snapshots(
    captures: Sequence[tuple[float, object]],
    *,
    out_dir: Path,
    comm: MPI.Comm = MPI.COMM_WORLD,
    clim: tuple[float, float] | None = None,
    window_size: tuple[int, int] = (1024, 768),
) -> list[Path]:
    """Render ``(time_s, grid)`` pairs from :func:`capture` to ``out_dir/T_<t>s.png`` (rank 0).

    Args:
        captures: time (s) and grid (``None`` on ranks other than 0).
        out_dir: output folder (must exist).
        comm: communicator; rank 0 renders, the paths are broadcast.
        clim: colour limits (°C); default the min/max over all captured fields.
        window_size: image size in pixels.

    Returns:
        The PNG paths, in the order of ``captures``.
    """
    paths = [Path(out_dir) / f"T_{t:g}s.png" for t, _ in captures]
    if comm.rank == 0 and captures:
        import pyvista

        pyvista.OFF_SCREEN = True
        if clim is None:
            lo = min(float(np.min(g.point_data["T"])) for _, g in captures)
            hi = max(float(np.max(g.point_data["T"])) for _, g in captures)
            clim = (lo, hi if hi > lo else lo + 1.0)
        for (t, grid), path in zip(captures, paths, strict=True):
            plotter = pyvista.Plotter(off_screen=True, window_size=list(window_size))
            plotter.add_mesh(
                grid,
                scalars="T",
                clim=clim,
                cmap="inferno",
                show_edges=False,
                scalar_bar_args={"title": "T (°C)", "fmt": "%.1f"},
                line_width=6,
            )
            plotter.add_text(f"t = {t:g} s", font_size=14)
            if grid.bounds[5] - grid.bounds[4] > 0:
                plotter.view_isometric()
            else:
                plotter.view_xy()
            with atomic_path(path) as tmp:
                plotter.screenshot(str(tmp))
            plotter.close()
    comm.barrier()
    return paths

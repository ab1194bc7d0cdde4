"""PyVista 3 × 3 panel of reconstructed tool temperature fields (paper 000 Fig. 10 A–I).

Rows are the working conditions (N = 382, 509, 636 r/min), columns the times (4, 8, 12 s). Each
row has one fixed colour scale (min/max of that condition over its three times, °C), so the
growth of the hot zone over time reads directly along a row, as in the paper. The parts stay
recognisable: the surface feature edges (angle > 30°) of insert, bolt head, pocket and gash are
drawn as thin dark lines over the colour, and the camera looks at the cutting end of the tool
(insert, bolt and body; the drawing is clipped at ``focus_height`` above the tip, the data
are not).

On any number of ranks: :func:`write_reconstruction_figures` gathers the mesh and the fields
to rank 0 in input-node order (:func:`thermo.inverse.field_order.gathered_grid`), so serial
and parallel runs draw the same picture. The PNG is written to a temporary name and renamed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from thermo.atomic import atomic_path


def render_panel(
    path: Path,
    *,
    grid,
    fields: Sequence[np.ndarray],
    row_labels: Sequence[str],
    times: Sequence[float],
    window_size: tuple[int, int] = (1500, 1200),
    focus_height: float = 0.018,
    view: tuple[float, float, float] = (1.3, 1.0, 0.5),
    zoom: float = 1.3,
) -> Path:
    """Render the fields as a rows × columns panel to ``path`` (PNG).

    Args:
        path: output PNG.
        grid: grid of the whole mesh (:func:`thermo.inverse.field_order.gathered_grid`).
        fields: per row, the point values °C at ``times`` in the grid's point order, shape
            (len(times), n_points).
        row_labels: one label per row (the working condition).
        times: column times s.
        window_size: image size in pixels.
        focus_height: only cells up to this height above the tool tip are drawn (m, along z).
        view: direction from the tool to the camera (default: facing the rake face of insert 0).
        zoom: camera zoom after framing.
    """
    import pyvista

    if len(fields) != len(row_labels):
        raise ValueError(f"render_panel: {len(fields)} field rows for {len(row_labels)} labels")
    n_pts = grid.n_points
    for row in fields:
        if np.shape(row) != (len(times), n_pts):
            raise ValueError(
                f"render_panel: each row needs shape ({len(times)}, {n_pts}), got {np.shape(row)}"
            )
    pyvista.OFF_SCREEN = True
    b = grid.bounds
    cut = {"normal": (0.0, 0.0, 1.0), "origin": (0.0, 0.0, b[4] + focus_height), "invert": True}
    edges = (
        grid.clip(**cut)
        .extract_surface(algorithm="dataset_surface")
        .extract_feature_edges(
            feature_angle=30.0, boundary_edges=False, manifold_edges=False, non_manifold_edges=False
        )
    )
    plotter = pyvista.Plotter(
        shape=(len(fields), len(times)), off_screen=True, window_size=list(window_size)
    )
    for i, (row, label) in enumerate(zip(fields, row_labels, strict=True)):
        lo, hi = float(np.min(row)), float(np.max(row))
        clim = (lo, hi if hi > lo else lo + 1.0)
        for j, t in enumerate(times):
            plotter.subplot(i, j)
            g = grid.copy(deep=False)
            g.point_data["T"] = np.asarray(row[j], dtype=float)
            g = g.clip(**cut)  # linear interpolation of the P1 field on the cut plane
            plotter.add_mesh(
                g,
                scalars="T",
                clim=clim,
                cmap="jet",
                show_scalar_bar=j == len(times) - 1,
                scalar_bar_args={
                    "title": f"°C {chr(65 + 3 * i)}-{chr(67 + 3 * i)}",
                    "fmt": "%.0f",
                    "vertical": True,
                    "width": 0.07,
                    "height": 0.75,
                    "position_x": 0.88,
                    "position_y": 0.1,
                    "title_font_size": 14,
                    "label_font_size": 12,
                },
            )
            plotter.add_mesh(edges, color="black", line_width=1)
            plotter.add_text(f"{chr(65 + 3 * i + j)}  {label}, t = {t:g} s", font_size=8)
            plotter.view_vector(view, viewup=(0.0, 0.0, 1.0))
            plotter.camera.zoom(zoom)
    path = Path(path)
    try:
        with atomic_path(path) as tmp:
            plotter.screenshot(str(tmp))
    finally:
        plotter.close()
    return path


def write_reconstruction_figures(
    folder: Path, primary: Sequence, others: dict, space, *, names: Sequence[str]
) -> None:
    """The main job's three figures into ``folder``: ``fig10_sensors.png`` (measured vs
    reconstructed sensors of the rendered method), ``boundary.png`` (every method's F1 estimate
    against the truth) and ``fig10_fields.png`` (the rendered method's fields at the
    reconstructions' field times, one row per condition).

    Collective over ``space.mesh.comm``: the records' fields hold this rank's owned dofs of the
    P1 ``space``; the mesh and the fields are gathered to rank 0 in input-node order
    (:mod:`thermo.inverse.field_order`), which draws all three (serial: the same path)."""
    from thermo.inverse.field_order import gather_columns, gathered_grid, local_input_nodes
    from thermo.inverse.recon_plots import plot_boundary, plot_sensor_curves

    comm = space.mesh.comm
    grid = gathered_grid(space)
    mine = local_input_nodes(space)
    fields = [gather_columns(comm, r.fields, mine)[0] for r in primary]
    if comm.rank != 0:
        return
    folder = Path(folder)
    plot_sensor_curves(folder / "fig10_sensors.png", primary, names=names)
    plot_boundary(folder / "boundary.png", primary, others=others)
    render_panel(
        folder / "fig10_fields.png",
        grid=grid,
        fields=fields,
        row_labels=[f"N = {r.params['n_rpm']:g} r/min" for r in primary],
        times=primary[0].field_times,
    )

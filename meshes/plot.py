"""Off-screen PyVista picture of a tagged mesh: volumes coloured, F1 highlighted, sensors marked.

Two panels: the whole tool (outer surface of each volume group, mesh edges drawn) and a close-up
of the cutting corner of insert 0 (the region around F1 and the sensors). VTK may print an
X-server warning on machines without a display; the PNG is still written.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from meshes.tagged import TaggedMesh
from thermo.atomic import atomic_path

#: colours by group name; groups not listed cycle through ``_EXTRA``.
COLOURS: dict[str, str] = {
    "insert": "#d4a017",
    "shank": "#8fa9c4",
    "bolt": "#4d4d4d",
    "F1": "#e0201b",
}
_EXTRA = ("#6aa84f", "#8e7cc3", "#e69138", "#45818e", "#c27ba0")


def _grid(tagged: TaggedMesh, dim: int, entities: np.ndarray) -> Any:
    import dolfinx.plot
    import pyvista

    cells, types, x = dolfinx.plot.vtk_mesh(tagged.mesh, dim, entities.astype(np.int32))
    return pyvista.UnstructuredGrid(cells, types, x)


def _add_scene(plotter: Any, tagged: TaggedMesh, *, closeup: bool) -> None:
    """Volume-group surfaces, F1 facets and sensor points into the current subplot."""
    import pyvista

    tdim = tagged.mesh.topology.dim
    extra = iter(_EXTRA * 4)
    for name, tag in sorted(tagged.volume_groups.items(), key=lambda kv: kv[1]):
        cells = tagged.cell_tags.find(tag)
        if cells.size == 0:
            continue
        surface = _grid(tagged, tdim, cells).extract_surface(algorithm="dataset_surface")
        colour = COLOURS.get(name) or next(extra)
        plotter.add_mesh(
            surface,
            color=colour,
            show_edges=True,
            edge_color="#303030",
            line_width=0.3 if closeup else 0.15,
            label=name,
        )
    for name in ("F1",):
        if name in tagged.facet_groups:
            facets = tagged.facet_tags.find(tagged.facet_groups[name])
            if facets.size:
                f1 = _grid(tagged, tdim - 1, facets)
                actor = plotter.add_mesh(f1, color=COLOURS["F1"], label=f"{name} (cutting zone)")
                # F1 lies on the insert's surface: pull it towards the viewer to avoid z-fighting
                actor.mapper.SetResolveCoincidentTopologyToPolygonOffset()
                actor.mapper.SetRelativeCoincidentTopologyPolygonOffsetParameters(-4.0, -40.0)
    if tagged.sensors:
        names = list(tagged.sensors)
        pts = pyvista.PolyData(np.array([tagged.sensors[n] for n in names]))
        plotter.add_mesh(
            pts,
            color="#00b050",
            point_size=14 if closeup else 9,
            render_points_as_spheres=True,
            label="sensors",
        )
        if closeup:
            plotter.add_point_labels(
                pts, names, font_size=16, point_size=1, shape_opacity=0.6, always_visible=True
            )


def _view(plotter: Any, centre: np.ndarray, span: float, direction: np.ndarray) -> None:
    plotter.camera.focal_point = tuple(centre)
    plotter.camera.position = tuple(centre + span * direction / np.linalg.norm(direction))
    plotter.camera.up = (0.0, 0.0, 1.0)


def _closeup_camera(plotter: Any, tagged: TaggedMesh) -> None:
    """Look at the cutting corner from the rake/flank side: the F1 facets nearest the sensors
    (without sensors: the F1 patch reaching furthest in +x)."""
    tdim = tagged.mesh.topology.dim
    pts = np.empty((0, 3))
    if "F1" in tagged.facet_groups:
        f1 = tagged.facet_tags.find(tagged.facet_groups["F1"])
        if f1.size:
            import dolfinx.mesh

            nodes = dolfinx.mesh.entities_to_geometry(tagged.mesh, tdim - 1, f1)
            pts = tagged.mesh.geometry.x[nodes.ravel()]
    if tagged.sensors:
        sensors = np.array(list(tagged.sensors.values()))
        ref = sensors.mean(axis=0)
        reach = 2.0 * float(np.max(np.linalg.norm(sensors - ref, axis=1))) + 1e-3
        pts = np.concatenate([pts[np.linalg.norm(pts - ref, axis=1) < reach], sensors])
    elif len(pts):  # no sensors: the F1 patch with the largest x (one insert of a multi-flute tool)
        ref = pts[np.argmax(pts[:, 0])]
        pts = pts[np.linalg.norm(pts - ref, axis=1) <= 0.6 * float(np.max(np.ptp(pts, axis=0)))]
    if pts.size == 0:
        return
    centre = 0.5 * (pts.min(axis=0) + pts.max(axis=0))
    span = float(np.max(np.ptp(pts, axis=0))) or 1.0
    outward = centre[:2] / (np.linalg.norm(centre[:2]) or 1.0)  # radial direction of the corner
    tangential = np.array([-outward[1], outward[0]])  # direction of rotation (rake side)
    _view(plotter, centre, 2.6 * span, np.r_[outward + 1.1 * tangential, -0.45])


def plot_regions(
    source: TaggedMesh | str | os.PathLike,
    png_path: str | os.PathLike,
    *,
    title: str | None = None,
    window_size: tuple[int, int] = (1800, 900),
) -> Path:
    """Render the regions of ``source`` (a TaggedMesh or a ``.msh`` path) to ``png_path``.

    Left: whole mesh; right: close-up of F1 and the sensors. Serial meshes only (the local part is
    drawn under MPI). The PNG is written atomically (:func:`thermo.atomic.atomic_path`).
    """
    import pyvista
    from mpi4py import MPI

    from meshes.io import load_mesh

    tagged = source if isinstance(source, TaggedMesh) else load_mesh(source, MPI.COMM_SELF)
    png_path = Path(png_path)
    pyvista.OFF_SCREEN = True
    plotter = pyvista.Plotter(shape=(1, 2), off_screen=True, window_size=list(window_size))
    plotter.set_background("white")
    plotter.subplot(0, 0)
    _add_scene(plotter, tagged, closeup=False)
    plotter.add_text(title or f"regions of {Path(tagged.source).name}", font_size=12, color="k")
    plotter.add_legend(bcolor="white", face="rectangle", size=(0.28, 0.22))
    plotter.add_axes(color="k")
    bounds = np.asarray(tagged.mesh.geometry.x)
    centre = 0.5 * (bounds.min(axis=0) + bounds.max(axis=0))
    _view(plotter, centre, 1.0, np.array([0.55, 1.0, -0.6]))
    plotter.reset_camera()
    plotter.subplot(0, 1)
    _add_scene(plotter, tagged, closeup=True)
    plotter.add_text("cutting corner: F1 (red) and sensors", font_size=12, color="k")
    _closeup_camera(plotter, tagged)
    try:
        with atomic_path(png_path) as tmp:
            plotter.screenshot(str(tmp))
    finally:
        plotter.close()
    return png_path

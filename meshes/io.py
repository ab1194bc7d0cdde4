"""Load a user's Gmsh ``.msh`` with named physical groups as a :class:`~meshes.tagged.TaggedMesh`.

:func:`load_mesh` reads a ``.msh`` on rank 0 and distributes it
(``dolfinx.io.gmsh.model_to_mesh``), plus the sensors side file when present. We do not call
``dolfinx.io.gmsh.read_from_msh`` directly because it cannot silence Gmsh and, when the file is
bad, raises on rank 0 only while the other ranks wait forever; here rank 0 opens and checks the
file first and broadcasts the verdict (:mod:`meshes.gmsh_bridge`), then hands the model to the
same ``model_to_mesh``. Physical groups without a name are named ``volume_<tag>`` /
``facet_<tag>``. ``unit="mm"`` scales a millimetre mesh to metres; a size implausible for the
unit is an error (:mod:`meshes.units`), and so are cells other than linear simplices
(tetrahedra in 3D).

Related: the tool mesh is built and saved by :mod:`meshes.tool`
(:func:`meshes.tool.save_tool_mesh`); other formats come in and go out through
:mod:`meshes.convert` (meshio).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from meshes.gmsh_bridge import bcast_error, gmsh_session, tagged_from_model, world
from meshes.sensors import read_sensors, sensors_path
from meshes.tagged import TaggedMesh
from meshes.units import MAX_SPAN_M, MeshUnitError, span_problem, unit_scale

__all__ = ["SUPPORTED_CELLS", "load_mesh"]


#: The one cell type millheat's P1 solver takes per topological dimension (Gmsh element types).
SUPPORTED_CELLS: dict[int, tuple[int, str]] = {
    3: (4, "linear tetrahedra (4-node)"),
    2: (2, "linear triangles (3-node)"),
    1: (1, "linear segments (2-node)"),
}


def _cell_problem(gmsh: Any, path: Path, tdim: int) -> Exception | None:
    """An error naming the unsupported cell types of the top dimension, or None."""
    types = [int(t) for t in gmsh.model.mesh.getElementTypes(dim=tdim)]
    want, label = SUPPORTED_CELLS.get(tdim, (None, ""))
    other = [t for t in types if t != want]
    if not types:
        return ValueError(f"{path}: has {tdim}D entities but no {tdim}D cells; expected {label}")
    if not other:
        return None
    names = sorted({gmsh.model.mesh.getElementProperties(t)[0] for t in other})
    return ValueError(
        f"{path}: has {', '.join(names)} cells; millheat supports {label} only in {tdim}D "
        "(re-mesh with first-order tetrahedra, e.g. Gmsh with Mesh.ElementOrder = 1 and no "
        "recombination)"
    )


def _span_problem(gmsh: Any, path: Path, unit: str, max_span: float) -> Exception | None:
    """Scale the merged mesh to metres; an error when its size is implausible for ``unit``."""
    try:
        scale = unit_scale(unit, source=str(path))
    except MeshUnitError as err:
        return err
    xyz = np.asarray(gmsh.model.mesh.getNodes()[1], dtype=float).reshape(-1, 3)
    span = float(np.max(np.ptp(xyz, axis=0))) * scale if len(xyz) else 0.0
    problem = span_problem(span, unit, max_span=max_span, set_unit='load it with unit="{unit}"')
    if problem is not None:
        return MeshUnitError(f"{path}: {problem}")
    if scale != 1.0:
        gmsh.model.mesh.affineTransform([scale, 0, 0, 0, 0, scale, 0, 0, 0, 0, scale, 0])
    return None


def _open_msh(
    gmsh: Any,
    path: Path,
    volumes: Sequence[str],
    facets: Sequence[str],
    *,
    unit: str = "m",
    max_span: float = MAX_SPAN_M,
) -> Exception | None:
    """Merge ``path`` into the Gmsh session, check it and scale it to metres (rank 0).

    Returns the error to raise on every rank, or None.
    """
    try:
        gmsh.model.add(path.stem)
        gmsh.merge(str(path))
    except Exception as err:
        return ValueError(f"{path}: Gmsh cannot read this file as a mesh ({err})")
    groups = gmsh.model.getPhysicalGroups()
    tdim = max((d for d, _ in gmsh.model.getEntities()), default=0)
    if tdim > 0 and (error := _cell_problem(gmsh, path, tdim)) is not None:
        return error
    if not any(d == tdim for d, _ in groups) or tdim == 0:
        return ValueError(
            f"{path}: no volume physical group; expected the cells tagged by named physical "
            "groups (e.g. insert, shank, bolt)"
        )
    names = {}
    for dim, tag in groups:
        name = gmsh.model.getPhysicalName(dim, tag)
        if not name:
            name = f"{'volume' if dim == tdim else 'facet'}_{tag}"
            gmsh.model.setPhysicalName(dim, tag, name)
        names.setdefault(dim, set()).add(name)
    missing_v = sorted(set(volumes) - names.get(tdim, set()))
    missing_f = sorted(set(facets) - names.get(tdim - 1, set()))
    if missing_v or missing_f:
        parts = []
        if missing_v:
            parts.append(f"volume groups {missing_v} (has {sorted(names.get(tdim, ()))})")
        if missing_f:
            parts.append(f"facet groups {missing_f} (has {sorted(names.get(tdim - 1, ()))})")
        return KeyError(f"{path}: missing physical " + " and ".join(parts))
    return _span_problem(gmsh, path, unit, max_span)


def load_mesh(
    path: str | os.PathLike,
    comm: Any = None,
    *,
    require_volumes: Sequence[str] = (),
    require_facets: Sequence[str] = (),
    unit: str = "m",
    max_span: float = MAX_SPAN_M,
    verbose: bool = False,
) -> TaggedMesh:
    """Read a Gmsh ``.msh`` with named physical groups into a :class:`TaggedMesh` (metres).

    Args:
        path: the ``.msh`` file; ``<stem>.sensors.json`` beside it is read when present (its
            own ``units`` field says whether its coordinates are m or mm).
        comm: MPI communicator (default ``MPI.COMM_WORLD``); rank 0 reads, cells are distributed.
        require_volumes / require_facets: group names that must be present.
        unit: length unit of the file's coordinates, ``"m"`` or ``"mm"``; the mesh is scaled to
            metres on load (:mod:`meshes.units`).
        max_span: largest plausible bounding-box edge (m, after scaling); see
            :func:`meshes.units.span_problem` for the check (and the 0.5 mm floor for mm).

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: Gmsh cannot read it, it has no volume group, its cells are not linear
            simplices (:data:`SUPPORTED_CELLS`), or its size does not fit ``unit``
            (:class:`meshes.units.MeshUnitError`, e.g. ``mesh spans 30 m; is it in mm?``).
        KeyError: a required group is missing (message names file, missing and present groups).
    """
    comm = world(comm)
    path = Path(path)
    if comm.rank != 0:
        bcast_error(comm, None)
        tagged = tagged_from_model(None, comm, source=str(path))
    else:
        with gmsh_session(verbose=verbose) as gmsh:
            if not path.is_file():
                error = FileNotFoundError(f"{path}: mesh file not found")
            else:
                error = _open_msh(
                    gmsh,
                    path,
                    require_volumes,
                    require_facets,
                    unit=unit,
                    max_span=max_span,
                )
            bcast_error(comm, error)
            tagged = tagged_from_model(gmsh.model, comm, source=str(path))
    side = sensors_path(path)
    sensors = read_sensors(side) if side.is_file() else {}
    return TaggedMesh(
        mesh=tagged.mesh,
        cell_tags=tagged.cell_tags,
        facet_tags=tagged.facet_tags,
        volume_groups=tagged.volume_groups,
        facet_groups=tagged.facet_groups,
        sensors=sensors,
        source=str(path),
    )

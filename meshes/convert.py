"""meshio bridges: bring users' meshes in as named-group Gmsh ``.msh`` files, export ours out.

* :func:`convert_mesh`: Abaqus ``.inp``, ``.vtu``, ``.med``, ... → Gmsh 2.2 ``.msh`` that
  :func:`meshes.io.load_mesh` reads. Element sets on the tetrahedra (or an integer cell-data
  array) become volume groups; element sets on triangles, the same array on triangles, and node
  sets (boundary/interface facets whose three vertices are all in the set) become facet groups.
* :func:`export_mesh`: a :class:`~meshes.tagged.TaggedMesh` → any meshio format with
  an integer ``region`` cell array, Abaqus element sets / Gmsh physical names where the format
  has them, and ``<stem>.groups.json`` (name → tag) plus ``<stem>.sensors.json`` beside it.

Only linear tetrahedra are handled (what the cutting-system solver uses). Files are written
through :mod:`thermo.atomic` (temporary sibling, renamed on success).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from meshes.sensors import sensors_path, write_sensors
from meshes.tagged import TaggedMesh
from meshes.units import MAX_SPAN_M, check_span, unit_scale
from thermo.atomic import atomic_path, atomic_write_json

_FACES_OF = {"tetra": ((1, 2, 3), (0, 2, 3), (0, 1, 3), (0, 1, 2))}
_FACET_TYPE = {"tetra": "triangle"}
_AUTO_ARRAYS = ("region", "gmsh:physical")
#: meshio's names of 3D cells; any but linear "tetra" is refused by :func:`convert_mesh`.
_SOLID_TYPES = frozenset(
    ("tetra", "tetra10", "hexahedron", "hexahedron20", "hexahedron27", "wedge", "wedge15",
     "pyramid", "pyramid13")
)  # fmt: skip


def groups_path(mesh_path: str | os.PathLike) -> Path:
    """``<dir>/<name>.groups.json`` (group name → tag map) written beside exported meshes."""
    p = Path(mesh_path)
    return p.with_name(p.stem + ".groups.json")


def _unique_faces(cells: np.ndarray, cell_type: str) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique facets (n_f, 3) of the volume cells and the cells on each side (n_f, 2; -1)."""
    local = _FACES_OF[cell_type]
    faces = np.concatenate([cells[:, list(f)] for f in local])
    owner = np.tile(np.arange(len(cells)), len(local))
    keys = np.sort(faces, axis=1)
    uniq, inverse, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    if counts.max(initial=0) > 2:
        raise ValueError("a facet is shared by more than two cells (non-manifold mesh)")
    sides = np.full((len(uniq), 2), -1, dtype=np.int64)
    order = np.argsort(inverse, kind="stable")
    first = np.r_[True, inverse[order][1:] != inverse[order][:-1]]
    sides[inverse[order][first], 0] = owner[order][first]
    sides[inverse[order][~first], 1] = owner[order][~first]
    return uniq, sides


def _label(n: int, members: Mapping[str, np.ndarray], what: str, src: Path) -> np.ndarray:
    """Integer label per item from disjoint named index sets (-1 where none)."""
    label = np.full(n, -1, dtype=np.int64)
    for i, (name, idx) in enumerate(members.items()):
        clash = label[idx] >= 0
        if np.any(clash):
            other = list(members)[int(label[idx][clash][0])]
            raise ValueError(
                f"{src}: {int(clash.sum())} {what} are in both sets {other!r} and {name!r}; "
                "each must belong to one group"
            )
        label[idx] = i
    return label


def _region_names(
    mesh: Any, src: Path, given: Mapping[int, str] | None
) -> tuple[dict[int, str], dict[int, str]]:
    """Region value → name for volumes and for facets (given map, groups JSON, or field data)."""
    if given is not None:
        return dict(given), dict(given)
    if groups_path(src).is_file():
        try:
            doc = json.loads(groups_path(src).read_text())
            return tuple(
                {int(t): n for n, t in doc.get(part, {}).items()} for part in ("volumes", "facets")
            )
        except (ValueError, AttributeError, TypeError) as err:
            raise ValueError(
                f"{groups_path(src)}: expected {{volumes: {{name: tag}}, ...}}"
            ) from err
    by_dim: dict[int, dict[int, str]] = {3: {}, 2: {}}
    for name, value in mesh.field_data.items():
        if len(value) == 2 and int(value[1]) in by_dim:
            by_dim[int(value[1])][int(value[0])] = name
    return by_dim[3], by_dim[2]


def _volume_sets(
    mesh: Any,
    block: int,
    src: Path,
    region_array: str | None,
    names: Mapping[int, str],
    *,
    explicit: bool,
) -> dict[str, np.ndarray]:
    """Volume group name → cell indices of the 3D block: an explicitly named region array, else
    element sets, else an automatically found region array."""
    sets = {
        name: np.asarray(per_block[block], dtype=np.int64)
        for name, per_block in mesh.cell_sets.items()
        if not name.startswith("gmsh:") and per_block[block] is not None and len(per_block[block])
    }
    if sets and not explicit:
        return sets
    if region_array is not None:
        if region_array not in mesh.cell_data:
            raise KeyError(
                f"{src}: no cell-data array {region_array!r} (has {sorted(mesh.cell_data)})"
            )
        values = np.asarray(mesh.cell_data[region_array][block]).astype(np.int64).ravel()
        return {
            names.get(int(v), f"volume_{int(v)}"): np.flatnonzero(values == v)
            for v in np.unique(values)
        }
    return {}


def _facet_sets(
    mesh: Any,
    volume_block: int,
    faces: np.ndarray,
    sides: np.ndarray,
    label: np.ndarray,
    src: Path,
    region_array: str | None,
    names: Mapping[int, str],
    *,
    explicit: bool,
) -> dict[str, np.ndarray]:
    """Facet group name → rows of ``faces`` from the region array (when ``explicit``, or when no
    2D element sets exist), 2D element sets, and node sets."""
    facet_type = _FACET_TYPE[mesh.cells[volume_block].type]
    index = {tuple(f): i for i, f in enumerate(faces)}
    out: dict[str, list[np.ndarray]] = {}

    def rows(tri: np.ndarray, what: str) -> np.ndarray:
        found = [index.get(tuple(t)) for t in np.sort(tri, axis=1)]
        if any(i is None for i in found):
            raise ValueError(f"{src}: {what} has 2D cells that are not facets of the 3D cells")
        return np.asarray(found, dtype=np.int64)

    for b, block in enumerate(mesh.cells):
        if block.type != facet_type:
            continue
        for name, per_block in mesh.cell_sets.items():
            if (
                explicit
                or name.startswith("gmsh:")
                or per_block[b] is None
                or not len(per_block[b])
            ):
                continue
            out.setdefault(name, []).append(rows(block.data[per_block[b]], f"element set {name!r}"))
        if region_array is not None and region_array in mesh.cell_data and not out:
            values = np.asarray(mesh.cell_data[region_array][b]).astype(np.int64).ravel()
            for v in np.unique(values):
                name = names.get(int(v), f"facet_{int(v)}")
                out.setdefault(name, []).append(rows(block.data[values == v], f"region {v}"))
    # node sets: boundary facets, and interface facets between different volume groups
    candidate = (sides[:, 1] < 0) | (label[sides[:, 0]] != label[np.maximum(sides[:, 1], 0)])
    for name, nodes in mesh.point_sets.items():
        inside = np.zeros(len(mesh.points), dtype=bool)
        inside[np.asarray(nodes, dtype=np.int64)] = True
        hit = np.flatnonzero(candidate & inside[faces].all(axis=1))
        if hit.size:
            out.setdefault(name, []).append(hit)
    return {name: np.unique(np.concatenate(parts)) for name, parts in out.items()}


def convert_mesh(
    src: str | os.PathLike,
    dst_msh: str | os.PathLike,
    *,
    region_array: str | None = None,
    region_names: Mapping[int, str] | None = None,
    default_volume: str = "domain",
    unit: str = "m",
    max_span: float = MAX_SPAN_M,
) -> Path:
    """Convert a user's tetrahedral mesh (any meshio format) into a named-group Gmsh ``.msh``.

    Volume groups come from the integer cell-data array ``region_array`` when it is given, else
    from element sets on the tetrahedra (Abaqus ``*ELSET``, MED families, Gmsh physical names),
    else from an array ``region`` or ``gmsh:physical`` when present (``region_names``:
    value → name; default: the ``<stem>.groups.json`` that :func:`export_mesh` writes, else the
    file's field data, else ``volume_<value>``), else all cells form ``default_volume``. Facet
    groups come from element sets on triangles (else ``region_array`` on triangles) and node sets
    (``*NSET``): a boundary or interface facet belongs to a node set when its three vertices do.

    ``unit`` (``"m"`` or ``"mm"``) is the length unit of ``src``'s coordinates; the output is in
    metres. A size implausible for ``unit`` (:func:`meshes.units.span_problem`: above
    ``max_span`` m, or below 0.5 mm for a mm mesh) raises :class:`meshes.units.MeshUnitError`.

    Raises ``ValueError`` naming ``src`` on unreadable input, no/mixed tetrahedra, cells in no or
    two volume groups, facets in two groups, a size that does not fit ``unit``; ``KeyError`` for
    an absent ``region_array``.
    """
    import meshio

    src, dst = Path(src), Path(dst_msh)
    if dst.suffix != ".msh":
        raise ValueError(f"{dst}: convert_mesh writes Gmsh .msh; got suffix {dst.suffix!r}")
    if not src.is_file():
        raise FileNotFoundError(f"{src}: mesh file not found")
    try:
        mesh = meshio.read(src)
    except Exception as err:
        raise ValueError(f"{src}: meshio cannot read this file ({err})") from err
    scale = unit_scale(unit, source=str(src))
    blocks = [b for b, c in enumerate(mesh.cells) if c.type in _FACES_OF]
    solid = sorted({c.type for c in mesh.cells if c.type in _SOLID_TYPES and c.type != "tetra"})
    if len(blocks) != 1 or solid:
        types = sorted({c.type for c in mesh.cells})
        raise ValueError(
            f"{src}: has cell blocks {types}; millheat supports exactly one block of linear "
            "tetrahedra (4-node 'tetra') as the 3D cells (re-mesh with first-order tetrahedra)"
        )
    points = np.asarray(mesh.points, dtype=float)[:, :3] * scale
    span = float(np.max(np.ptp(points, axis=0))) if len(points) else 0.0
    check_span(span, unit, source=str(src), max_span=max_span)
    block = blocks[0]
    cells = np.asarray(mesh.cells[block].data, dtype=np.int64)
    explicit = region_array is not None
    if not explicit:  # what export_mesh and Gmsh files carry
        region_array = next((a for a in _AUTO_ARRAYS if a in mesh.cell_data), None)
    vnames, fnames = _region_names(mesh, src, region_names)
    vsets = _volume_sets(mesh, block, src, region_array, vnames, explicit=explicit) or {
        default_volume: np.arange(len(cells))
    }
    label = _label(len(cells), vsets, "cells", src)
    if np.any(label < 0):
        raise ValueError(
            f"{src}: {int((label < 0).sum())} of {len(cells)} cells are in no volume set "
            f"({sorted(vsets)}); every cell must belong to exactly one"
        )
    faces, sides = _unique_faces(cells, mesh.cells[block].type)
    fsets = _facet_sets(
        mesh, block, faces, sides, label, src, region_array, fnames, explicit=explicit
    )
    flabel = _label(len(faces), fsets, "facets", src)
    if set(vsets) & set(fsets):
        raise ValueError(
            f"{src}: names used for both volumes and facets: {set(vsets) & set(fsets)}"
        )
    vtags = {name: i + 1 for i, name in enumerate(vsets)}
    ftags = {name: len(vsets) + i + 1 for i, name in enumerate(fsets)}
    tagged_faces = flabel >= 0
    phys_v = np.asarray([vtags[n] for n in vsets])[label]
    phys_f = np.asarray([ftags[n] for n in fsets] or [0])[flabel[tagged_faces]]
    out_cells = [("tetra", cells)]
    data = [phys_v]
    if tagged_faces.any():
        out_cells.append(("triangle", faces[tagged_faces]))
        data.append(phys_f)
    field_data = {n: np.array([t, 3]) for n, t in vtags.items()}
    field_data.update({n: np.array([t, 2]) for n, t in ftags.items()})
    out = meshio.Mesh(
        points,
        out_cells,
        cell_data={"gmsh:physical": data, "gmsh:geometrical": data},
        field_data=field_data,
    )
    with atomic_path(dst) as tmp:
        meshio.write(tmp, out, file_format="gmsh22", binary=False)
    return dst


def export_mesh(tagged: TaggedMesh, dst: str | os.PathLike) -> Path:
    """Write mesh + tags for other tools (format from ``dst``'s suffix, via meshio). Serial only.

    ``tagged`` is a mesh in memory (to export a ``.msh`` file, load it first with
    :func:`meshes.io.load_mesh` on ``MPI.COMM_SELF``).

    Cells and tagged facets are written as ``tetra`` and ``triangle`` blocks with an integer cell
    array ``region`` (the group tags), element sets named by group for Abaqus ``.inp``, Gmsh
    physical names for ``.msh`` (Gmsh 2.2); beside ``dst``: ``<stem>.groups.json``
    (``{"volumes": {name: tag}, "facets": {name: tag}}``, read back by :func:`convert_mesh`) and
    ``<stem>.sensors.json`` when the mesh has sensors.
    """
    import dolfinx
    import meshio

    if not isinstance(tagged, TaggedMesh):
        raise TypeError(f"export_mesh: expected a TaggedMesh, got {type(tagged).__name__}")
    msh, dst = tagged.mesh, Path(dst)
    tdim = msh.topology.dim
    if msh.comm.size > 1 or msh.topology.cell_name() != "tetrahedron":
        raise ValueError(f"{tagged.source}: export_mesh writes serial tetrahedral meshes only")
    n_cells = msh.topology.index_map(tdim).size_local
    cells = dolfinx.mesh.entities_to_geometry(msh, tdim, np.arange(n_cells, dtype=np.int32))
    cell_region = np.zeros(n_cells, dtype=np.int64)
    cell_region[tagged.cell_tags.indices] = tagged.cell_tags.values
    msh.topology.create_connectivity(tdim - 1, tdim)
    facets = dolfinx.mesh.entities_to_geometry(msh, tdim - 1, tagged.facet_tags.indices)
    f_region = np.asarray(tagged.facet_tags.values, dtype=np.int64)
    field_data = {n: np.array([t, tdim]) for n, t in tagged.volume_groups.items()}
    field_data.update({n: np.array([t, tdim - 1]) for n, t in tagged.facet_groups.items()})
    kwargs: dict[str, Any] = {"cell_data": {"region": [cell_region, f_region]}}
    if dst.suffix == ".inp":
        none = np.empty(0, dtype=np.int64)
        kwargs["cell_sets"] = {
            **{
                n: [np.flatnonzero(cell_region == t), none] for n, t in tagged.volume_groups.items()
            },
            **{n: [none, np.flatnonzero(f_region == t)] for n, t in tagged.facet_groups.items()},
        }
    elif dst.suffix == ".msh":
        both = [cell_region, f_region]
        kwargs = {"cell_data": {"gmsh:physical": both, "gmsh:geometrical": both}}
        kwargs["field_data"] = field_data
    out = meshio.Mesh(msh.geometry.x.copy(), [("tetra", cells), ("triangle", facets)], **kwargs)
    fmt = {"file_format": "gmsh22", "binary": False} if dst.suffix == ".msh" else {}
    try:
        with atomic_path(dst) as tmp:
            meshio.write(tmp, out, **fmt)
    except Exception as err:
        raise ValueError(f"{dst}: meshio cannot write this format ({err})") from err
    doc = {"volumes": dict(tagged.volume_groups), "facets": dict(tagged.facet_groups)}
    atomic_write_json(groups_path(dst), doc)
    if tagged.sensors:
        write_sensors(sensors_path(dst), tagged.sensors)
    return dst

"""Built-in DOLFINx meshes with named groups, for verification tests and quick studies.

Two shapes, each returned as a :class:`meshes.tagged.TaggedMesh`:

* :func:`bar`: an interval (1D), rectangle (2D) or box (3D) ``[0, Lx] × [0, Ly] × [0, Lz]`` with
  one volume group and the outer facet groups ``x0``, ``x1`` (and ``y0``, ``y1``, ``z0``, ``z1`` in
  2D/3D). A long, thin bar with insulated sides is the 1D model of the semi-infinite solid and the
  plane wall (Carslaw & Jaeger, *Conduction of Heat in Solids*, 2nd ed., §2.4 and §3.11).
* :func:`two_blocks`: two such bodies joined at ``x = length_left`` with volume groups ``left`` and
  ``right``, the interior facet group ``interface`` (conforming: the same nodes on both sides) and
  the outer groups ``x0``, ``x1`` (and the lateral ones, which span both blocks).

Elements are simplices (intervals, triangles, tetrahedra) so that P1 Lagrange is affine. The two
blocks may have different cell sizes along x: the mesh is built uniform and its x coordinates are
mapped piecewise linearly so that a vertex plane lies exactly at the interface.

Facet tags: 1 ``x0``, 2 ``x1``, 3 ``y0``, 4 ``y1``, 5 ``z0``, 6 ``z1``, 7 ``interface``.
Cell tags: 1 for :func:`bar` (name chosen by the caller), 1 ``left`` and 2 ``right``.
"""

from __future__ import annotations

from collections.abc import Sequence

import dolfinx_solver  # noqa: F401  (initialises MPI/PETSc before dolfinx)
import numpy as np
from dolfinx import mesh as dmesh
from mpi4py import MPI

from meshes.tagged import TaggedMesh

_SIDE_TAGS = {"x0": 1, "x1": 2, "y0": 3, "y1": 4, "z0": 5, "z1": 6}
INTERFACE_TAG = 7


def _check(name: str, lengths: Sequence[float], cells: Sequence[int]) -> None:
    if len(lengths) not in (1, 2, 3) or len(cells) != len(lengths):
        raise ValueError(
            f"meshes.boxes.{name}: lengths and cells need the same length 1, 2 or 3 "
            f"(one entry per dimension), got {tuple(lengths)!r} and {tuple(cells)!r}"
        )
    for value in lengths:
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"meshes.boxes.{name}: lengths must be positive (m), got {lengths!r}")
    for n in cells:
        if not (isinstance(n, int | np.integer) and n >= 1):
            raise ValueError(f"meshes.boxes.{name}: cells must be integers >= 1, got {cells!r}")


def _uniform(comm: MPI.Comm, lengths: Sequence[float], cells: Sequence[int]) -> dmesh.Mesh:
    dim = len(lengths)
    if dim == 1:
        return dmesh.create_interval(comm, int(cells[0]), [0.0, float(lengths[0])])
    if dim == 2:
        return dmesh.create_rectangle(
            comm,
            [np.zeros(2), np.asarray(lengths, dtype=float)],
            [int(n) for n in cells],
            cell_type=dmesh.CellType.triangle,
        )
    return dmesh.create_box(
        comm,
        [np.zeros(3), np.asarray(lengths, dtype=float)],
        [int(n) for n in cells],
        cell_type=dmesh.CellType.tetrahedron,
    )


def _outer_facets(msh: dmesh.Mesh, lengths: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Facet indices and tags of the outer faces x0, x1, (y0, y1, z0, z1)."""
    fdim = msh.topology.dim - 1
    tol = 1e-10 * max(lengths)
    indices, values = [], []
    for axis, length in enumerate(lengths):
        for side, coord in ((0, 0.0), (1, float(length))):
            name = f"{'xyz'[axis]}{side}"
            facets = dmesh.locate_entities_boundary(
                msh, fdim, lambda x, a=axis, c=coord: np.abs(x[a] - c) < tol
            )
            indices.append(facets)
            values.append(np.full(facets.size, _SIDE_TAGS[name], dtype=np.int32))
    return np.concatenate(indices), np.concatenate(values)


def _facet_tags(msh: dmesh.Mesh, indices: np.ndarray, values: np.ndarray) -> dmesh.MeshTags:
    # A facet on an edge of the box belongs to one face only (it is planar), so indices are unique.
    order = np.argsort(indices, kind="stable")
    return dmesh.meshtags(msh, msh.topology.dim - 1, indices[order], values[order])


def _side_groups(dim: int) -> dict[str, int]:
    return {name: tag for name, tag in _SIDE_TAGS.items() if "xyz".index(name[0]) < dim}


def bar(
    *,
    lengths: Sequence[float] = (0.1,),
    cells: Sequence[int] = (100,),
    volume_name: str = "bar",
    comm: MPI.Comm = MPI.COMM_WORLD,
) -> TaggedMesh:
    """A uniform simplex mesh of ``[0, Lx] (× [0, Ly] × [0, Lz])`` with named outer faces.

    Args:
        lengths: edge lengths (m), 1 to 3 entries; the number sets the dimension.
        cells: cells per direction, same number of entries as ``lengths``.
        volume_name: name of the single volume group (tag 1).
        comm: MPI communicator; the mesh is distributed over it.

    Returns:
        TaggedMesh with volume group ``{volume_name: 1}`` and facet groups ``x0``, ``x1``
        (plus ``y0``, ``y1``, ``z0``, ``z1`` in 2D/3D).
    """
    _check("bar", lengths, cells)
    msh = _uniform(comm, lengths, cells)
    tdim = msh.topology.dim
    msh.topology.create_connectivity(tdim - 1, tdim)
    n_cells = msh.topology.index_map(tdim).size_local + msh.topology.index_map(tdim).num_ghosts
    cell_tags = dmesh.meshtags(
        msh, tdim, np.arange(n_cells, dtype=np.int32), np.ones(n_cells, dtype=np.int32)
    )
    facet_tags = _facet_tags(msh, *_outer_facets(msh, lengths))
    return TaggedMesh(
        mesh=msh,
        cell_tags=cell_tags,
        facet_tags=facet_tags,
        volume_groups={volume_name: 1},
        facet_groups=_side_groups(len(lengths)),
        source=f"meshes.boxes.bar(lengths={tuple(lengths)}, cells={tuple(cells)})",
    )


def two_blocks(
    *,
    length_left: float = 0.01,
    length_right: float = 0.01,
    cells_left: int = 10,
    cells_right: int = 10,
    cross_section: Sequence[float] = (),
    cross_cells: Sequence[int] = (),
    comm: MPI.Comm = MPI.COMM_WORLD,
) -> TaggedMesh:
    """Two blocks joined at ``x = length_left`` by a conforming interface.

    Args:
        length_left, length_right: x extents of the blocks (m).
        cells_left, cells_right: cells along x in each block.
        cross_section: ``()`` for 1D, ``(Ly,)`` for 2D or ``(Ly, Lz)`` for 3D (m).
        cross_cells: cells along y (and z), same number of entries as ``cross_section``.
        comm: MPI communicator.

    Returns:
        TaggedMesh with volume groups ``left`` (1), ``right`` (2) and facet groups ``x0``, ``x1``,
        lateral faces in 2D/3D, and the interior ``interface`` (7) at ``x = length_left``.
    """
    lengths = (float(length_left) + float(length_right), *cross_section)
    cells = (int(cells_left) + int(cells_right), *cross_cells)
    _check("two_blocks", lengths, cells)
    if length_left <= 0 or length_right <= 0 or cells_left < 1 or cells_right < 1:
        raise ValueError(
            "meshes.boxes.two_blocks: block lengths (m) must be positive and cell counts >= 1"
        )
    msh = _uniform(comm, lengths, cells)
    # Piecewise-linear x map putting the vertex plane number cells_left at x = length_left.
    h = lengths[0] / cells[0]
    s = h * cells_left
    x = msh.geometry.x
    left = x[:, 0] <= s + 1e-12 * lengths[0]
    x_new = np.where(
        left,
        x[:, 0] * (length_left / s),
        length_left + (x[:, 0] - s) * (length_right / (lengths[0] - s)),
    )
    x[:, 0] = x_new
    tdim = msh.topology.dim
    fdim = tdim - 1
    msh.topology.create_connectivity(fdim, tdim)
    n_cells = msh.topology.index_map(tdim).size_local + msh.topology.index_map(tdim).num_ghosts
    all_cells = np.arange(n_cells, dtype=np.int32)
    mid_x = dmesh.compute_midpoints(msh, tdim, all_cells)[:, 0]
    cell_tags = dmesh.meshtags(
        msh, tdim, all_cells, np.where(mid_x < length_left, 1, 2).astype(np.int32)
    )
    tol = 1e-10 * lengths[0]
    interface = dmesh.locate_entities(msh, fdim, lambda x: np.abs(x[0] - length_left) < tol)
    idx, val = _outer_facets(msh, lengths)
    idx = np.concatenate([idx, interface])
    val = np.concatenate([val, np.full(interface.size, INTERFACE_TAG, dtype=np.int32)])
    groups = _side_groups(len(lengths))
    groups["interface"] = INTERFACE_TAG
    return TaggedMesh(
        mesh=msh,
        cell_tags=cell_tags,
        facet_tags=_facet_tags(msh, idx, val),
        volume_groups={"left": 1, "right": 2},
        facet_groups=groups,
        source=(
            f"meshes.boxes.two_blocks(length_left={length_left}, length_right={length_right}, "
            f"cells_left={cells_left}, cells_right={cells_right})"
        ),
    )

r"""A partition-free order for P1 field columns: the mesh's input nodes.

DOLFINx numbers dofs per rank and reorders them even in serial, so a field array of one run
cannot be read by a run on another number of ranks. The *input node index* (the node's
position in the mesh file or Gmsh model, ``mesh.geometry.input_global_indices``) is the same
on any number of ranks. For a P1 space on a linear mesh each dof is one geometry node, so

.. math::

    \text{node}(d) = \text{input}\big(g(c, i)\big) \quad\text{for every cell } c
    \text{ with } \text{dof}(c, i) = d,

with ``dof`` the space's cell dofmap and ``g`` the geometry's. This module maps dofs to input
nodes, gathers columns of any number of ranks to rank 0 in ascending input order (the order
in which :mod:`thermo.inverse.linear_response` saves field factors), picks a rank's columns
out of such an array, and builds the pyvista grid of the whole mesh on rank 0 in that order
(the main job's field figure under MPI). Used by the linear response (save/load on any rank
count) and the reconstruction figures.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def local_input_nodes(space: Any, *, owned: bool = True) -> np.ndarray:
    """Input node index (int64) of each dof of a P1 ``space`` on this rank: the owned dofs
    (``owned``) or the owned then the ghost dofs (``T.x.array``'s order).

    Raises:
        ValueError: not a scalar space with one dof per geometry node (P1 on a linear mesh).
    """
    mesh = space.mesh
    imap = space.dofmap.index_map
    gmap = mesh.geometry.index_map()
    n_local = imap.size_local + imap.num_ghosts
    if space.dofmap.index_map_bs != 1 or n_local != gmap.size_local + gmap.num_ghosts:
        raise ValueError("field_order: needs a scalar P1 space on a linear mesh (dof = node)")
    node = np.full(n_local, -1, dtype=np.int64)
    node[np.asarray(space.dofmap.list).ravel()] = np.asarray(mesh.geometry.dofmaps[0]).ravel()
    if (node < 0).any():
        raise ValueError("field_order: a dof belongs to no local cell")
    nodes = np.asarray(mesh.geometry.input_global_indices, dtype=np.int64)[node]
    return nodes[: imap.size_local] if owned else nodes


def gather_columns(comm: Any, values: np.ndarray, nodes: np.ndarray):
    """Columns of every rank on rank 0, in ascending input-node order.

    Args:
        comm: communicator (collective).
        values: this rank's columns, shape (k, n_local); column j belongs to ``nodes[j]``.
        nodes: input node index of each column; a node on several ranks (ghosts) or twice is
            kept once (its values are the same everywhere).

    Returns:
        ``(columns (k, n_nodes), nodes (n_nodes,))`` on rank 0, ``(None, None)`` elsewhere.
    """
    values = np.asarray(values)
    nodes = np.asarray(nodes, dtype=np.int64)
    if values.shape[-1] != nodes.size:
        raise ValueError(f"gather_columns: {values.shape[-1]} columns but {nodes.size} nodes")
    parts = comm.gather((nodes, values), root=0) if comm.size > 1 else [(nodes, values)]
    if comm.rank != 0:
        return None, None
    all_nodes = np.concatenate([p[0] for p in parts])
    all_values = np.concatenate([p[1] for p in parts], axis=-1)
    unique, first = np.unique(all_nodes, return_index=True)
    return all_values[..., first], unique


def column_positions(have: np.ndarray, want: np.ndarray) -> np.ndarray:
    """Positions in ``have`` (input nodes of held columns) of the nodes ``want``.

    Raises:
        ValueError: a wanted node is not held (a response of another mesh).
    """
    have = np.asarray(have, dtype=np.int64)
    want = np.asarray(want, dtype=np.int64)
    order = np.argsort(have, kind="stable")
    pos = np.searchsorted(have[order], want)
    pos = np.clip(pos, 0, max(have.size - 1, 0))
    if have.size == 0 or not np.array_equal(have[order][pos], want):
        raise ValueError("field_order: the held columns lack some nodes of this mesh")
    return order[pos]


def gathered_grid(space: Any):
    """``pyvista.UnstructuredGrid`` of the whole mesh of a P1 ``space`` on rank 0, points in
    ascending input-node order (the order of :func:`gather_columns`); None on other ranks.
    Collective."""
    from dolfinx import plot

    topology, cell_types, x = plot.vtk_mesh(space)
    nodes = local_input_nodes(space, owned=False)
    topology = np.asarray(topology, dtype=np.int64)
    n_cells = len(cell_types)
    per_cell = topology.size // max(n_cells, 1)
    if n_cells and topology.size != per_cell * n_cells:
        raise ValueError("gathered_grid: mixed cell types are not supported")
    cells = topology.reshape(n_cells, per_cell)
    cells = np.concatenate([cells[:, :1], nodes[cells[:, 1:]]], axis=1)  # dofs → input nodes
    comm = space.mesh.comm
    points, point_nodes = gather_columns(comm, np.asarray(x, dtype=float).T, nodes)
    parts = comm.gather((cells, np.asarray(cell_types)), root=0)
    if comm.rank != 0:
        return None
    import pyvista

    cells = np.concatenate([p[0] for p in parts])
    types = np.concatenate([p[1] for p in parts])
    cells[:, 1:] = np.searchsorted(point_nodes, cells[:, 1:])  # input nodes → grid points
    return pyvista.UnstructuredGrid(cells.ravel(), types, points.T.copy())

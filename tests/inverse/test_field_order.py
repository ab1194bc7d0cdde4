"""Partition-free field columns (thermo.inverse.field_order, LinearResponse.gathered/on_nodes).

* The input node of each dof is a permutation of the mesh's input nodes, and the dof's
  coordinates are those of its geometry node.
* ``gathered`` → save → load → ``on_nodes(owned dofs)`` gives back the same fields, exact and
  streamed, with and without a non-homogeneous baseline (serial; the 2-rank round trip is in
  ``tests/recon/test_recon_case.py::test_two_ranks_agree_with_serial``).
* A response of another mesh is refused; the gathered grid has every node and cell.
"""

import numpy as np
import pytest
from test_streaming_lowrank import AT, PROBES, box_problem

from meshes import boxes
from thermo.inverse.field_order import (
    column_positions,
    gather_columns,
    gathered_grid,
    local_input_nodes,
)
from thermo.inverse.linear_response import LinearResponse, compute_linear_response


@pytest.fixture(scope="module")
def space():
    from dolfinx import fem

    tagged = boxes.bar(lengths=(0.03, 0.004, 0.004), cells=(12, 2, 2))
    return tagged, fem.functionspace(tagged.mesh, ("Lagrange", 1))


def test_input_nodes_are_a_permutation_with_the_nodes_coordinates(space):
    tagged, V = space
    nodes = local_input_nodes(V)
    n = V.dofmap.index_map.size_global
    np.testing.assert_array_equal(np.sort(nodes), np.arange(n))
    geo = tagged.mesh.geometry
    by_input = np.empty((n, 3))
    by_input[np.asarray(geo.input_global_indices)] = geo.x
    X = V.tabulate_dof_coordinates()[: nodes.size]
    np.testing.assert_allclose(X, by_input[nodes], rtol=0.0, atol=1e-12)


def test_gather_and_pick_columns():
    from mpi4py import MPI

    nodes = np.array([5, 2, 9, 2])
    values = np.array([[50.0, 20.0, 90.0, 20.0]])
    cols, got = gather_columns(MPI.COMM_SELF, values, nodes)
    np.testing.assert_array_equal(got, [2, 5, 9])
    np.testing.assert_array_equal(cols, [[20.0, 50.0, 90.0]])
    np.testing.assert_array_equal(column_positions(got, [9, 2]), [2, 0])
    with pytest.raises(ValueError, match="lack"):
        column_positions(got, [3])
    with pytest.raises(ValueError, match="columns"):
        gather_columns(MPI.COMM_SELF, values, nodes[:2])


@pytest.mark.parametrize(
    ("mode", "T_inf"), [("exact", 20.0), ("streaming", 20.0), ("streaming", 60.0)]
)
def test_gathered_round_trip(space, tmp_path, mode, T_inf):
    from mpi4py import MPI

    tagged, V = space
    problem = box_problem(T_inf)
    resp = compute_linear_response(
        tagged, problem, boundary="x0", kind="temperature", probes=PROBES, record_fields=True,
        field_compression=mode, field_dtype=np.float64,
    )  # fmt: skip
    if mode == "exact":
        resp.field_compression()
    hist = problem.boundaries["x0"].value
    ref = resp.fields(hist, at_times=AT, compressed=True)
    whole = resp.gathered(MPI.COMM_SELF)
    np.testing.assert_array_equal(whole.field_nodes, np.arange(V.dofmap.index_map.size_global))
    whole.save(tmp_path / "r")
    back = LinearResponse.load(tmp_path / "r").on_nodes(local_input_nodes(V))
    np.testing.assert_allclose(back.fields(hist, at_times=AT, compressed=True), ref, rtol=1e-13)
    np.testing.assert_allclose(back.probes(hist), resp.probes(hist), rtol=1e-13)
    assert np.max(np.abs(ref - T_inf)) > 50.0  # not trivial
    with pytest.raises(ValueError, match="lack"):
        back.on_nodes(np.array([10**6]))


def test_gathered_grid_has_every_node_and_cell(space):
    _, V = space
    grid = gathered_grid(V)
    assert grid.n_points == V.dofmap.index_map.size_global
    assert grid.n_cells == V.mesh.topology.index_map(3).size_global
    assert grid.volume == pytest.approx(0.03 * 0.004 * 0.004, rel=1e-9)

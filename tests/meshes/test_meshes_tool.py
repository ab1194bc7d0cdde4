"""The insert–shank–bolt builder: groups, facet partition, cell tagging, volumes, sensors.

Known answers: the F1 area is exactly n_inserts · ap · (rake + flank strip width) (planar strips);
the insert volume is the trapezoidal prism minus the bolt hole; F1 ∪ F3 must equal DOLFINx's own
exterior facets; F2 facets must have two cells of different volume groups.
"""

import math

import dolfinx
import numpy as np
import pytest
import ufl
from mpi4py import MPI

from meshes import tags
from meshes.gmsh_bridge import gmsh_session
from meshes.tool import (
    MEASURED_DOFS,
    ToolGeometry,
    sensor_points,
    size_factor_for_dofs,
    tool_mesh,
)

COARSE = ToolGeometry(size_factor=2.0)


@pytest.fixture(scope="module")
def tagged():
    return tool_mesh(COARSE, MPI.COMM_SELF)


def _measure(tagged, tag, kind):
    msh = tagged.mesh
    if kind == "dx":
        m = ufl.Measure("dx", domain=msh, subdomain_data=tagged.cell_tags)(tag)
    else:
        m = ufl.Measure(kind, domain=msh, subdomain_data=tagged.facet_tags)(tag)
    form = dolfinx.fem.form(dolfinx.fem.Constant(msh, 1.0) * m)
    return dolfinx.fem.assemble_scalar(form)


def test_groups_named_and_coarse_mesh_small(tagged):
    assert set(tagged.volume_groups) == set(tags.VOLUME_GROUPS)
    assert set(tagged.facet_groups) == set(tags.FACET_GROUPS)
    tagged.require(volumes=tags.VOLUME_GROUPS, facets=tags.FACET_GROUPS)
    n_cells = tagged.mesh.topology.index_map(3).size_local
    assert 1000 < n_cells < 20000
    assert set(tagged.sensors) == {"S1", "S2", "S3", "S4"}


def test_every_cell_tagged_exactly_once(tagged):
    n_cells = tagged.mesh.topology.index_map(3).size_local
    idx = tagged.cell_tags.indices
    assert len(idx) == n_cells and np.array_equal(np.sort(idx), np.arange(n_cells))
    assert set(np.unique(tagged.cell_tags.values)) == set(tagged.volume_groups.values())


def test_facet_groups_partition_boundary_and_interfaces(tagged):
    msh = tagged.mesh
    tdim = msh.topology.dim
    msh.topology.create_connectivity(tdim - 1, tdim)
    ft = tagged.facet_tags
    assert len(np.unique(ft.indices)) == len(ft.indices)  # each facet at most once → disjoint
    groups = {n: np.sort(ft.find(t)) for n, t in tagged.facet_groups.items()}
    assert all(len(g) > 0 for g in groups.values())
    exterior = dolfinx.mesh.exterior_facet_indices(msh.topology)
    assert np.array_equal(np.union1d(groups["F1"], groups["F3"]), exterior)
    assert len(np.intersect1d(groups["F1"], groups["F3"])) == 0
    f2c = msh.topology.connectivity(tdim - 1, tdim)
    cell_tag = np.empty(msh.topology.index_map(tdim).size_local, dtype=np.int32)
    cell_tag[tagged.cell_tags.indices] = tagged.cell_tags.values
    pairs = np.array([f2c.links(f) for f in groups["F2"]])
    assert pairs.shape == (len(groups["F2"]), 2)  # interior: two cells each
    assert np.all(cell_tag[pairs[:, 0]] != cell_tag[pairs[:, 1]])  # between different volumes
    # every interior facet between different volume groups is in F2
    interior = np.setdiff1d(np.arange(msh.topology.index_map(tdim - 1).size_local), exterior)
    links = np.array([f2c.links(f) for f in interior])
    between = interior[cell_tag[links[:, 0]] != cell_tag[links[:, 1]]]
    assert np.array_equal(between, groups["F2"])


def test_interfaces_join_all_three_volumes(tagged):
    msh = tagged.mesh
    tdim = msh.topology.dim
    msh.topology.create_connectivity(tdim - 1, tdim)
    f2c = msh.topology.connectivity(tdim - 1, tdim)
    cell_tag = np.empty(msh.topology.index_map(tdim).size_local, dtype=np.int32)
    cell_tag[tagged.cell_tags.indices] = tagged.cell_tags.values
    f2 = tagged.facet_tags.find(tagged.facet_groups["F2"])
    kinds = {tuple(sorted(cell_tag[f2c.links(f)])) for f in f2}
    v = tagged.volume_groups
    assert kinds == {
        tuple(sorted((v["insert"], v["shank"]))),
        tuple(sorted((v["insert"], v["bolt"]))),
        tuple(sorted((v["bolt"], v["shank"]))),
    }


def test_f1_area_exact(tagged):
    g = COARSE
    expected = g.n_inserts * g.ap * (g.ae + g.flank_contact_width)
    area = _measure(tagged, tagged.facet_groups["F1"], "ds")
    assert area == pytest.approx(expected, rel=1e-9)


def test_volumes_positive_and_consistent_with_geometry(tagged):
    g = COARSE
    vol = {n: _measure(tagged, t, "dx") for n, t in tagged.volume_groups.items()}
    assert all(v > 0 for v in vol.values())
    t, w, length = g.insert_thickness, g.insert_width, g.insert_length
    rh, rs = 0.5 * g.bolt_head_diameter, 0.5 * g.bolt_shaft_diameter
    prism = length * (t * w - 0.5 * t * t * math.tan(math.radians(g.clearance_deg)))
    hole = math.pi * rh**2 * g.bolt_head_height + math.pi * rs**2 * (t - g.bolt_head_height)
    bolt = hole + math.pi * rs**2 * g.bolt_thread_length
    n = g.n_inserts
    # planar faces are exact; the bolt's cylinders are meshed as inscribed polygons (12 segments
    # per turn from curvature sizing): the bolt loses 1 - sin(2π/12)·12/(2π) ≈ 4.5 %, the insert
    # gains what its hole loses
    ratio = 12 * math.sin(2 * math.pi / 12) / (2 * math.pi)
    print(f"volumes {vol}; insert exact {n * (prism - hole)}, bolt exact {n * bolt}")
    assert n * (prism - hole) < vol["insert"] < n * (prism - (1 - 1.2 * (1 - ratio)) * hole)
    assert 0.99 * ratio * n * bolt < vol["bolt"] < n * bolt
    full = math.pi / 4 * (g.body_diameter**2 * g.body_length + g.shank_diameter**2 * g.shank_length)
    assert 0.85 * full < vol["shank"] < full
    assert sum(vol.values()) > full - vol["shank"]  # inserts protrude, so totals are plausible


def _sensor_volumes(tagged) -> list[set[int]]:
    """Volume tags of the cells that contain each sensor S1..S4."""
    msh = tagged.mesh
    pts = np.array([tagged.sensors[n] for n in ("S1", "S2", "S3", "S4")])
    tree = dolfinx.geometry.bb_tree(msh, msh.topology.dim)
    cand = dolfinx.geometry.compute_collisions_points(tree, pts)
    hits = dolfinx.geometry.compute_colliding_cells(msh, cand, pts)
    cell_tag = np.empty(msh.topology.index_map(3).size_local, dtype=np.int32)
    cell_tag[tagged.cell_tags.indices] = tagged.cell_tags.values
    return [set(cell_tag[hits.links(i)].tolist()) for i in range(len(pts))]


def test_body_sensor_layout_lies_in_the_cutter_body():
    body = tool_mesh(ToolGeometry(size_factor=2.0, sensor_layout="body"), MPI.COMM_SELF)
    shank = body.volume_groups["shank"]
    assert _sensor_volumes(body) == [{shank}] * 4
    with pytest.raises(ValueError, match="sensor_layout must be one of"):
        ToolGeometry(sensor_layout="shank")


def test_sensors_inside_insert_at_distinct_distances_from_f1(tagged):
    msh = tagged.mesh
    pts = np.array([tagged.sensors[n] for n in ("S1", "S2", "S3", "S4")])
    tree = dolfinx.geometry.bb_tree(msh, msh.topology.dim)
    cand = dolfinx.geometry.compute_collisions_points(tree, pts)
    hits = dolfinx.geometry.compute_colliding_cells(msh, cand, pts)
    cell_tag = np.empty(msh.topology.index_map(3).size_local, dtype=np.int32)
    cell_tag[tagged.cell_tags.indices] = tagged.cell_tags.values
    for i in range(len(pts)):
        cells = hits.links(i)
        assert len(cells) > 0, f"sensor {i + 1} outside the mesh"
        assert np.all(cell_tag[cells] == tagged.volume_groups["insert"])
    f1 = tagged.facet_tags.find(tagged.facet_groups["F1"])
    f1_x = msh.geometry.x[dolfinx.mesh.entities_to_geometry(msh, 2, f1)].mean(axis=1)
    dist = [np.min(np.linalg.norm(f1_x - p, axis=1)) for p in pts]
    assert np.all(np.diff(dist) > 1e-4), dist  # S1 nearest ... S4 farthest, 0.1 mm apart at least


def test_sensor_points_follow_the_flank():
    g = ToolGeometry()
    a = math.radians(g.clearance_deg)
    normal = np.array([math.cos(a), -math.sin(a), 0.0])
    edge = np.array([0.5 * g.cutting_diameter, 0.0, 0.0])
    for p in sensor_points(g).values():
        depth = -np.dot(p - edge, normal)  # signed distance below the flank plane
        assert depth == pytest.approx(0.1e-3, rel=1e-9)


def test_bad_geometry_is_rejected_with_field_names():
    with pytest.raises(ValueError, match="ToolGeometry.ap"):
        ToolGeometry(ap=-1.0)
    with pytest.raises(ValueError, match="ap must not exceed insert_length"):
        ToolGeometry(ap=20e-3)
    with pytest.raises(
        KeyError, match=r"case.toml: unknown tool-geometry parameter\(s\) \['dia'\]"
    ):
        ToolGeometry.from_mapping({"dia": 1.0}, source="case.toml")
    assert ToolGeometry.from_mapping({"ap": 6e-3}).ap == 6e-3


def test_one_insert_variant_and_clean_gmsh_state():
    import gmsh

    one = tool_mesh(ToolGeometry(size_factor=2.5, n_inserts=1), MPI.COMM_SELF)
    area = _measure(one, one.facet_groups["F1"], "ds")
    g = ToolGeometry()
    assert area == pytest.approx(g.ap * (g.ae + g.flank_contact_width), rel=1e-9)
    assert not gmsh.isInitialized()
    with pytest.raises(RuntimeError, match="boom"), gmsh_session():
        raise RuntimeError("boom")
    assert not gmsh.isInitialized()


def test_dofs_knob_matches_measured_table(tagged):
    s0, n0 = MEASURED_DOFS[0]
    assert COARSE.size_factor == s0
    nodes = tagged.mesh.geometry.index_map().size_global
    assert nodes == pytest.approx(n0, rel=0.03)  # the table describes this Gmsh build
    for s, n in MEASURED_DOFS:
        assert size_factor_for_dofs(n) == pytest.approx(s, rel=1e-9)
    targets = [1e3, 5e4, 1e5, 2e5, 4e5]
    factors = [size_factor_for_dofs(n) for n in targets]
    assert all(a > b > 0 for a, b in zip(factors, factors[1:], strict=False))
    with pytest.raises(ValueError, match="n_dofs must be positive"):
        size_factor_for_dofs(0)


def test_fine_meshes_use_a_reproducible_hxt(monkeypatch):
    """Below HXT_BELOW_SIZE_FACTOR the 3D mesher is HXT on one thread: two builds give the same
    nodes (the response caches need the same mesh), with the same groups as Delaunay's."""
    from meshes import tool_occ
    from meshes.tool import build_tool_model

    def build():
        with gmsh_session() as gmsh:
            build_tool_model(gmsh, COARSE)
            algorithm = gmsh.option.getNumber("Mesh.Algorithm3D")
            _, xyz, _ = gmsh.model.mesh.getNodes()
            groups = {
                name
                for _, name in (
                    (d, gmsh.model.getPhysicalName(d, t)) for d, t in gmsh.model.getPhysicalGroups()
                )
            }
            return algorithm, np.asarray(xyz), groups

    delaunay = build()
    monkeypatch.setattr(tool_occ, "HXT_BELOW_SIZE_FACTOR", 3.0)  # the coarse mesh by HXT
    first, second = build(), build()
    assert delaunay[0] == 1 and first[0] == second[0] == 10
    np.testing.assert_array_equal(first[1], second[1])
    assert first[2] == delaunay[2] and {tags.F1, tags.F2, tags.F3} <= first[2]
    assert first[1].size != delaunay[1].size or not np.array_equal(first[1], delaunay[1])

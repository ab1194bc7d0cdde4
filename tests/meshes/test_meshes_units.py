"""Meshes in millimetres: scaled to metres on load, and a size that does not fit the unit refused.

Known answers: a 30 × 6 × 6 mm box written in mm and loaded with ``unit="mm"`` has the same node
coordinates (m) as the same mesh written in metres; the size check's thresholds (2 m, 0.5 mm) are
far from every box here, so no assertion sits near round-off.
"""

import meshio
import numpy as np
import pytest
from mpi4py import MPI

from meshes.convert import convert_mesh
from meshes.gmsh_bridge import gmsh_session
from meshes.io import load_mesh
from meshes.units import MeshUnitError, check_span, span_problem, unit_scale

LENGTHS_M = (0.03, 0.006, 0.006)


def write_box_msh(path, *, scale=1.0, lengths=LENGTHS_M, size=0.003):
    """A Gmsh box (volume group ``block``, facet groups ``hot`` at x = 0 and ``air``) written
    with its coordinates multiplied by ``scale`` (1000 → the same mesh in millimetres)."""
    with gmsh_session() as gmsh:
        gmsh.model.add("block")
        gmsh.model.occ.addBox(0.0, 0.0, 0.0, *lengths)
        gmsh.model.occ.synchronize()
        hot = gmsh.model.getEntitiesInBoundingBox(-1e-5, -1, -1, 1e-5, 1, 1, dim=2)
        air = [t for _, t in gmsh.model.getEntities(2) if (2, t) not in hot]
        gmsh.model.addPhysicalGroup(3, [1], 1, name="block")
        gmsh.model.addPhysicalGroup(2, [t for _, t in hot], 2, name="hot")
        gmsh.model.addPhysicalGroup(2, air, 3, name="air")
        gmsh.option.setNumber("Mesh.MeshSizeMax", size)
        gmsh.model.mesh.generate(3)
        if scale != 1.0:
            gmsh.model.mesh.affineTransform([scale, 0, 0, 0, 0, scale, 0, 0, 0, 0, scale, 0])
        gmsh.write(str(path))
    return path


def _node_gap(a, b):
    """Largest distance (m) from a node of ``a`` to the nearest node of ``b`` (order-free: a sort
    of coordinates would depend on round-off between nodes on one plane)."""
    from scipy.spatial import cKDTree

    return float(np.max(cKDTree(np.asarray(b.mesh.geometry.x)).query(a.mesh.geometry.x)[0]))


def test_mm_mesh_with_unit_mm_equals_the_metre_mesh(tmp_path):
    metre = load_mesh(write_box_msh(tmp_path / "m.msh"), MPI.COMM_SELF)
    milli = load_mesh(write_box_msh(tmp_path / "mm.msh", scale=1000.0), MPI.COMM_SELF, unit="mm")
    assert milli.volume_groups == metre.volume_groups
    assert milli.facet_groups == metre.facet_groups == {"hot": 2, "air": 3}
    assert len(milli.facet_tags.find(2)) == len(metre.facet_tags.find(2)) > 0
    n = milli.mesh.geometry.x.shape[0]
    assert n == metre.mesh.geometry.x.shape[0] > 8
    assert _node_gap(milli, metre) < 1e-12 and _node_gap(metre, milli) < 1e-12  # cells ~3 mm
    span = np.ptp(np.asarray(milli.mesh.geometry.x), axis=0)
    np.testing.assert_allclose(span, LENGTHS_M, rtol=1e-9)


def test_mm_mesh_without_unit_and_metre_mesh_as_mm_are_refused(tmp_path):
    mm = write_box_msh(tmp_path / "mm.msh", scale=1000.0)
    with pytest.raises(
        MeshUnitError, match=r'mm.msh: mesh spans 30 m; is it in mm\? load it with unit="mm"'
    ):
        load_mesh(mm, MPI.COMM_SELF)
    m = write_box_msh(tmp_path / "m.msh")
    with pytest.raises(
        MeshUnitError, match="spans 0.03 mm after scaling from mm; is it already in metres"
    ):
        load_mesh(m, MPI.COMM_SELF, unit="mm")
    with pytest.raises(
        MeshUnitError, match=r"unit 'inch' is not supported; expected one of \"m\", \"mm\""
    ):
        load_mesh(m, MPI.COMM_SELF, unit="inch")
    assert load_mesh(mm, MPI.COMM_SELF, max_span=50.0).source == str(mm)  # a big metre mesh


def test_convert_mm_mesh_to_metres(tmp_path):
    src = meshio.read(write_box_msh(tmp_path / "mm.msh", scale=1000.0))
    vtu = tmp_path / "mm.vtu"
    meshio.write(vtu, meshio.Mesh(src.points, [("tetra", src.cells_dict["tetra"])]))
    with pytest.raises(
        MeshUnitError, match=r'mm.vtu: mesh spans 30 m; is it in mm\? pass unit="mm"'
    ):
        convert_mesh(vtu, tmp_path / "out.msh")
    assert not (tmp_path / "out.msh").exists()
    tagged = load_mesh(convert_mesh(vtu, tmp_path / "out.msh", unit="mm"), MPI.COMM_SELF)
    span = np.ptp(np.asarray(tagged.mesh.geometry.x), axis=0)
    np.testing.assert_allclose(span, LENGTHS_M, rtol=1e-9)
    assert tagged.volume_groups == {"domain": 1}


@pytest.mark.parametrize(
    ("span", "unit", "expected"),
    [
        (30.0, "m", 'mesh spans 30 m; is it in mm? pass unit="mm"'),
        (0.03, "m", None),
        (1.9, "m", None),
        (0.03, "mm", None),
        (6e-5, "mm", "mesh spans 0.06 mm after scaling from mm; is it already in metres? "
                     'pass unit="m"'),
        (3.0, "mm", "mesh spans 3 m after scaling from mm, more than the 2 m allowed; "
                    "check the mesh's unit"),
        (0.0, "m", "mesh has no extent (largest bounding-box edge 0.0 m)"),
    ],
)  # fmt: skip
def test_span_rule(span, unit, expected):
    assert span_problem(span, unit, set_unit='pass unit="{unit}"') == expected
    if expected is None:
        check_span(span, unit, source="x")
    else:
        with pytest.raises(MeshUnitError, match="^x: "):
            check_span(span, unit, source="x")
    assert unit_scale(unit) in (1.0, 1e-3)

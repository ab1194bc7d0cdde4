"""Mesh files: save/load of the tool mesh, clear errors, meshio conversion round trips.

Known answers: a round trip through .vtu or Abaqus .inp keeps every group's cell/facet count and
measure; a node set on one face of the unit cube gives a facet group of area exactly 1.
"""

import json

import dolfinx
import meshio
import numpy as np
import pytest
import ufl
from mpi4py import MPI

from meshes import tags
from meshes.convert import convert_mesh, export_mesh, groups_path
from meshes.gmsh_bridge import gmsh_session
from meshes.io import load_mesh
from meshes.sensors import read_sensors, sensors_path
from meshes.tool import ToolGeometry, save_tool_mesh

COARSE = ToolGeometry(size_factor=2.5)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tool")
    return save_tool_mesh(folder / "tool.msh", COARSE, comm=MPI.COMM_SELF)


def _measures(tagged):
    """Group name → volume (cells) or area (facets, counted once per facet)."""
    msh = tagged.mesh
    one = dolfinx.fem.Constant(msh, 1.0)
    out = {}
    for name, tag in tagged.volume_groups.items():
        dx = ufl.Measure("dx", domain=msh, subdomain_data=tagged.cell_tags)
        out[name] = dolfinx.fem.assemble_scalar(dolfinx.fem.form(one * dx(tag)))
    for name, tag in tagged.facet_groups.items():
        facets = tagged.facet_tags.find(tag)
        x = msh.geometry.x[dolfinx.mesh.entities_to_geometry(msh, 2, facets)]
        out[name] = (
            0.5 * np.linalg.norm(np.cross(x[:, 1] - x[:, 0], x[:, 2] - x[:, 0]), axis=1).sum()
        )
    return out


def _counts(tagged):
    c = {n: len(tagged.cell_tags.find(t)) for n, t in tagged.volume_groups.items()}
    c.update({n: len(tagged.facet_tags.find(t)) for n, t in tagged.facet_groups.items()})
    return c


def test_save_writes_msh_and_sensors_atomically(saved):
    assert saved.is_file() and sensors_path(saved).is_file()
    assert sorted(p.name for p in saved.parent.iterdir()) == ["tool.msh", "tool.sensors.json"]
    doc = json.loads(sensors_path(saved).read_text())
    assert doc["units"] == "m" and set(doc["sensors"]) == {"S1", "S2", "S3", "S4"}
    assert doc["description"]


def test_load_saved_mesh_with_groups_and_sensors(saved):
    tagged = load_mesh(
        saved, MPI.COMM_SELF, require_volumes=tags.VOLUME_GROUPS, require_facets=tags.FACET_GROUPS
    )
    assert set(tagged.volume_groups) == set(tags.VOLUME_GROUPS)
    assert set(tagged.facet_groups) == set(tags.FACET_GROUPS)
    assert tagged.source == str(saved)
    expected = read_sensors(sensors_path(saved))
    # the same JSON file parsed twice (correctly rounded decimal → float): identical by design
    assert all(np.array_equal(tagged.sensors[k], v) for k, v in expected.items())


def test_missing_group_error_names_file_and_groups(saved):
    with pytest.raises(KeyError) as err:
        load_mesh(
            saved, MPI.COMM_SELF, require_volumes=("insert", "holder"), require_facets=("F9",)
        )
    text = str(err.value)
    assert str(saved) in text and "'holder'" in text and "'F9'" in text
    assert "has ['bolt', 'insert', 'shank']" in text


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.msh: mesh file not found"):
        load_mesh(tmp_path / "nope.msh", MPI.COMM_SELF)
    bad = tmp_path / "bad.msh"
    bad.write_text("this is not a mesh")
    with pytest.raises(ValueError, match="bad.msh: Gmsh cannot read"):
        load_mesh(bad, MPI.COMM_SELF)


def _unit_cube_msh(path, *, named=True):
    """Unit cube mesh with one volume group and one facet group (x = 0), written by Gmsh."""
    with gmsh_session() as gmsh:
        gmsh.model.add("cube")
        gmsh.model.occ.addBox(0, 0, 0, 1, 1, 1)
        gmsh.model.occ.synchronize()
        x0 = [
            s
            for _, s in gmsh.model.getEntities(2)
            if abs(gmsh.model.occ.getCenterOfMass(2, s)[0]) < 1e-12
        ]
        gmsh.model.addPhysicalGroup(3, [1], 7, name="block" if named else "")
        gmsh.model.addPhysicalGroup(2, x0, 8, name="hot" if named else "")
        gmsh.option.setNumber("Mesh.MeshSizeMax", 0.35)
        gmsh.model.mesh.generate(3)
        gmsh.write(str(path))
    return path


def test_user_msh_without_names_gets_numbered_groups(tmp_path):
    tagged = load_mesh(_unit_cube_msh(tmp_path / "cube.msh", named=False), MPI.COMM_SELF)
    assert tagged.volume_groups == {"volume_7": 7} and tagged.facet_groups == {"facet_8": 8}
    with pytest.raises(KeyError, match=r"missing physical volume groups \['insert'\]"):
        tagged.require(volumes=("insert",))


@pytest.mark.parametrize("suffix", [".vtu", ".inp", ".msh"])
def test_export_convert_round_trip(saved, tmp_path, suffix):
    original = load_mesh(saved, MPI.COMM_SELF)
    exported = export_mesh(original, tmp_path / f"tool{suffix}")
    assert groups_path(exported).is_file() and sensors_path(exported).is_file()
    back = load_mesh(convert_mesh(exported, tmp_path / "back.msh"), MPI.COMM_SELF)
    assert set(back.volume_groups) | set(back.facet_groups) == set(tags.VOLUME_GROUPS) | set(
        tags.FACET_GROUPS
    )
    assert _counts(back) == _counts(original)
    m0, m1 = _measures(original), _measures(back)
    assert all(m1[k] == pytest.approx(v, rel=1e-10) for k, v in m0.items())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left


def test_convert_abaqus_node_set_to_facet_group(tmp_path):
    cube = meshio.read(_unit_cube_msh(tmp_path / "cube.msh"))
    tets = cube.cells_dict["tetra"]
    hot = np.flatnonzero(np.isclose(cube.points[:, 0], 0.0))
    inp = tmp_path / "cube.inp"
    meshio.write(
        inp,
        meshio.Mesh(
            cube.points,
            [("tetra", tets)],
            cell_sets={"steel": [np.arange(len(tets))]},
            point_sets={"hot": hot},
        ),
    )
    tagged = load_mesh(
        convert_mesh(inp, tmp_path / "from_inp.msh"),
        MPI.COMM_SELF,
        require_volumes=("steel",),
        require_facets=("hot",),
    )
    m = _measures(tagged)
    assert m["steel"] == pytest.approx(1.0, rel=1e-10)
    assert m["hot"] == pytest.approx(1.0, rel=1e-10)


def test_convert_region_array_and_errors(tmp_path):
    cube = meshio.read(_unit_cube_msh(tmp_path / "cube.msh"))
    tets = cube.cells_dict["tetra"]
    centre_x = cube.points[tets].mean(axis=1)[:, 0]
    region = np.where(centre_x < 0.5, 4, 9)
    vtu = tmp_path / "cube.vtu"
    meshio.write(vtu, meshio.Mesh(cube.points, [("tetra", tets)], cell_data={"mat": [region]}))
    out = convert_mesh(vtu, tmp_path / "two.msh", region_array="mat", region_names={4: "left"})
    tagged = load_mesh(out, MPI.COMM_SELF)
    assert set(tagged.volume_groups) == {"left", "volume_9"}
    m = _measures(tagged)
    assert m["left"] + m["volume_9"] == pytest.approx(1.0, rel=1e-10)
    with pytest.raises(KeyError, match="cube.vtu: no cell-data array 'phase'"):
        convert_mesh(vtu, tmp_path / "x.msh", region_array="phase")
    both = tmp_path / "both.inp"
    sets = {"a": [np.arange(len(tets))], "b": [np.arange(3)]}
    meshio.write(both, meshio.Mesh(cube.points, [("tetra", tets)], cell_sets=sets))
    with pytest.raises(ValueError, match="both.inp: 3 cells are in both sets 'a' and 'b'"):
        convert_mesh(both, tmp_path / "y.msh")
    with pytest.raises(FileNotFoundError, match="none.vtu: mesh file not found"):
        convert_mesh(tmp_path / "none.vtu", tmp_path / "z.msh")
    assert not (tmp_path / "x.msh").exists() and not (tmp_path / "y.msh").exists()


def test_mesh_without_facet_groups_has_empty_facet_tags(tmp_path):
    with gmsh_session() as gmsh:
        gmsh.model.add("cube")
        gmsh.model.occ.addBox(0, 0, 0, 1, 1, 1)
        gmsh.model.occ.synchronize()
        gmsh.model.addPhysicalGroup(3, [1], 1, name="block")
        gmsh.option.setNumber("Mesh.MeshSizeMax", 0.5)
        gmsh.model.mesh.generate(3)
        gmsh.write(str(tmp_path / "plain.msh"))
    tagged = load_mesh(tmp_path / "plain.msh", MPI.COMM_SELF)
    assert tagged.facet_groups == {} and len(tagged.facet_tags.indices) == 0
    with pytest.raises(KeyError, match=r"plain.msh: missing physical facet groups \['F1'\]"):
        load_mesh(tmp_path / "plain.msh", MPI.COMM_SELF, require_facets=("F1",))


def test_explicit_region_array_wins_over_element_sets(tmp_path):
    cube = meshio.read(_unit_cube_msh(tmp_path / "cube.msh"))
    tets = cube.cells_dict["tetra"]
    region = np.where(cube.points[tets].mean(axis=1)[:, 2] < 0.5, 1, 2)
    inp = tmp_path / "sets.vtu"
    sets = {"all": [np.arange(len(tets))]}
    meshio.write(
        inp,
        meshio.Mesh(cube.points, [("tetra", tets)], cell_data={"zone": [region]}, cell_sets=sets),
    )
    tagged = load_mesh(
        convert_mesh(
            inp, tmp_path / "z.msh", region_array="zone", region_names={1: "low", 2: "up"}
        ),
        MPI.COMM_SELF,
    )
    assert set(tagged.volume_groups) == {"low", "up"}


def test_convert_refuses_non_tetrahedral_cells(tmp_path):
    cube = np.array(
        [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1]],
        dtype=float,
    )
    hexa = tmp_path / "hexa.vtu"
    meshio.write(hexa, meshio.Mesh(cube, [("hexahedron", np.arange(8)[None, :])]))
    with pytest.raises(ValueError, match=r"hexa.vtu: has cell blocks \['hexahedron'\]; millheat"):
        convert_mesh(hexa, tmp_path / "h.msh")
    mixed = tmp_path / "mixed.vtu"
    tet = np.array([[0, 1, 3, 4]])
    meshio.write(mixed, meshio.Mesh(cube, [("tetra", tet), ("hexahedron", np.arange(8)[None, :])]))
    with pytest.raises(ValueError, match="supports exactly one block of linear tetrahedra"):
        convert_mesh(mixed, tmp_path / "m.msh")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hexa.vtu", "mixed.vtu"]

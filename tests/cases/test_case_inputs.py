"""Meshes in millimetres and bad input in case files: each a one-line error, nothing written.

Small Gmsh boxes (a few hundred tetrahedra) and a few time steps: every test runs in about a
second. Known answer: the same box mesh written in mm and loaded with ``[mesh] unit = "mm"`` gives
the probe temperatures of the metre mesh (MUMPS, a direct solver: equal to far below 1e-6 K).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cases.cli import main


def box_msh(path: Path, *, scale: float = 1.0, second_body: bool = False, hexes: bool = False):
    """A 30 × 6 × 6 mm box (volume ``block``, facets ``hot`` at x = 0 and ``air``), coordinates
    multiplied by ``scale``; ``second_body`` adds a detached 6 mm cube ``island`` at x = 40 mm;
    ``hexes`` meshes it with hexahedra (transfinite + recombined) instead of tetrahedra."""
    from meshes.gmsh_bridge import gmsh_session

    with gmsh_session() as gmsh:
        gmsh.model.add("block")
        gmsh.model.occ.addBox(0.0, 0.0, 0.0, 0.03, 0.006, 0.006)
        if second_body:
            gmsh.model.occ.addBox(0.04, 0.0, 0.0, 0.006, 0.006, 0.006)
        gmsh.model.occ.synchronize()
        hot = gmsh.model.getEntitiesInBoundingBox(-1e-5, -1, -1, 1e-5, 1, 1, dim=2)
        air = [t for _, t in gmsh.model.getEntities(2) if (2, t) not in hot]
        gmsh.model.addPhysicalGroup(3, [1], 1, name="block")
        if second_body:
            gmsh.model.addPhysicalGroup(3, [2], 2, name="island")
        gmsh.model.addPhysicalGroup(2, [t for _, t in hot], 3, name="hot")
        gmsh.model.addPhysicalGroup(2, air, 4, name="air")
        if hexes:
            for _dim, tag in gmsh.model.getEntities(1):
                gmsh.model.mesh.setTransfiniteCurve(tag, 3)
            for _dim, tag in gmsh.model.getEntities(2):
                gmsh.model.mesh.setTransfiniteSurface(tag)
                gmsh.model.mesh.setRecombine(2, tag)
            gmsh.model.mesh.setTransfiniteVolume(1)
        gmsh.option.setNumber("Mesh.MeshSizeMax", 0.003)
        gmsh.model.mesh.generate(3)
        if scale != 1.0:
            gmsh.model.mesh.affineTransform([scale, 0, 0, 0, 0, scale, 0, 0, 0, 0, scale, 0])
        gmsh.write(str(path))
    return path


CASE = """\
[mesh]
file = "block.msh"
{mesh_extra}
[materials.block]
name = "42crmo4"
{materials_extra}
[boundary.hot]
type = "temperature"
value = 300.0
[boundary.air]
type = "convection"
h = 25.0
[time]
dt = 1.0
t_end = 4.0
[solver]
linear_solver = "mumps"
[probes]
near = [0.004, 0.003, 0.003]
far = [0.02, 0.003, 0.003]
[output]
fields = "none"
snapshots = []
"""


def _write_case(folder: Path, text: str, name: str = "case.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _fails(argv: list[str], capsys: pytest.CaptureFixture) -> str:
    """Run ``millheat`` expecting exit 2 and one line on stderr; return that line."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("millheat simulate: error: "), err
    assert "Traceback" not in err
    return err.strip()


def test_mm_mesh_with_unit_mm_gives_the_probe_temperatures_of_the_metre_mesh(
    tmp_path: Path,
) -> None:
    metre, milli = tmp_path / "metre", tmp_path / "milli"
    metre.mkdir()
    milli.mkdir()
    box_msh(metre / "block.msh")
    box_msh(milli / "block.msh", scale=1000.0)
    text = CASE.format(mesh_extra="", materials_extra="")
    mm_text = CASE.format(mesh_extra='unit = "mm"', materials_extra="")
    runs = {}
    for folder, case_text in ((metre, text), (milli, mm_text)):
        case = _write_case(folder, case_text)
        assert main(["simulate", str(case), "--out", str(folder / "out"), "--quiet"]) == 0
        runs[folder.name] = np.genfromtxt(folder / "out" / "probes.csv", delimiter=",", names=True)
    a, b = runs["metre"], runs["milli"]
    assert a["near"][-1] > a["far"][-1] + 1.0 > 21.0  # heat has arrived, unevenly
    for name in ("time_s", "near", "far"):
        np.testing.assert_allclose(b[name], a[name], rtol=0, atol=1e-6)


def test_mm_mesh_without_unit_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    box_msh(tmp_path / "block.msh", scale=1000.0)
    case = _write_case(tmp_path, CASE.format(mesh_extra="", materials_extra=""))
    err = _fails(["simulate", str(case), "--out", str(tmp_path / "out")], capsys)
    assert f"{case}: mesh.unit: block.msh: mesh spans 30 m; is it in mm? " in err, err
    assert 'set [mesh] unit = "mm"' in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["block.msh", "case.toml"]


def test_metre_mesh_declared_mm_and_builtin_in_mm_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    box_msh(tmp_path / "block.msh")
    case = _write_case(tmp_path, CASE.format(mesh_extra='unit = "mm"', materials_extra=""))
    err = _fails(["simulate", str(case), "--out", str(tmp_path / "out")], capsys)
    assert "mesh.unit: block.msh: mesh spans 0.03 mm after scaling from mm; " in err, err
    assert 'is it already in metres? set [mesh] unit = "m"' in err
    bar = (
        '[mesh]\nbuiltin = "box"\n[mesh.params]\nlengths = [20.0, 4.0, 4.0]\n'
        '[materials.box]\nname = "wc-co"\n[time]\ndt = 1.0\nt_end = 2.0\n'
    )
    case = _write_case(tmp_path, bar, "bar.toml")
    err = _fails(["simulate", str(case), "--out", str(tmp_path / "out")], capsys)
    assert "mesh.params: the 'box' builtin: mesh spans 20 m; is it in mm? " in err, err
    assert "[mesh.params] are in metres" in err
    assert not (tmp_path / "out").exists()


def test_hexahedral_mesh_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    box_msh(tmp_path / "block.msh", hexes=True)
    case = _write_case(tmp_path, CASE.format(mesh_extra="", materials_extra=""))
    err = _fails(["simulate", str(case), "--out", str(tmp_path / "out")], capsys)
    assert (
        f"{case}: mesh.file: ValueError: {tmp_path / 'block.msh'}: has Hexahedron 8 cells; " in err
    )
    assert "millheat supports linear tetrahedra (4-node) only in 3D" in err
    assert "expected a readable .msh with named physical groups and linear tetrahedra" in err
    assert not (tmp_path / "out").exists()


def test_duplicate_probe_names_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    box_msh(tmp_path / "block.msh")
    text = CASE.format(mesh_extra="", materials_extra="")
    text = text.replace("far = [0.02, ", "near = [0.02, ")
    case = _write_case(tmp_path, text)
    err = _fails(["simulate", str(case), "--out", str(tmp_path / "out")], capsys)
    line = text.splitlines().index("near = [0.02, 0.003, 0.003]") + 1
    assert (
        f"{case}: probes.near: duplicate probe name at line {line} (first at line {line - 1})"
        in err
    )
    assert "expected each probe name once in [probes]" in err
    # the mesh's own sensors file: a repeated name is refused too (json would keep the last)
    (tmp_path / "block.sensors.json").write_text(
        '{"units": "m", "sensors": {"P": [0.01, 0.003, 0.003], "P": [0.02, 0.003, 0.003]}}',
        encoding="utf-8",
    )
    case = _write_case(
        tmp_path, CASE.format(mesh_extra="", materials_extra="").split("[probes]")[0]
    )
    err = _fails(["simulate", str(case), "--out", str(tmp_path / "out")], capsys)
    assert "block.sensors.json: sensors.P is given twice (each sensor name once)" in err
    # a name that would clash with the time column of probes.csv
    case = _write_case(
        tmp_path, CASE.format(mesh_extra="", materials_extra="").replace("far =", "time_s =")
    )
    err = _fails(["simulate", str(case), "--out", str(tmp_path / "out")], capsys)
    assert "probes.time_s: is not a usable probe name" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            "time_ms,value\n0,300\n4000,300\n",
            "time column 'time_ms' is in ms; times must be in seconds (time_s = time_ms / 1000)",
        ),
        (
            "time_s,value\n0,300\n1000,310\n4000,300\n",
            "runs to 4000 s, over 100 × t_end = 4 s: is time_s in ms?",
        ),
        ("time_s,value\n0,300\n0.004,300\n", "covers 0.0..0.004 s"),
    ],
)
def test_table_with_a_time_unit_mistake_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture, table: str, message: str
) -> None:
    box_msh(tmp_path / "block.msh")
    (tmp_path / "hot.csv").write_text(table, encoding="utf-8")
    text = CASE.format(mesh_extra="", materials_extra="").replace(
        "value = 300.0", 'table = "hot.csv"'
    )
    case = _write_case(tmp_path, text)
    err = _fails(["simulate", str(case), "--out", str(tmp_path / "out")], capsys)
    assert f"{case}: boundary.hot.table: table {tmp_path / 'hot.csv'}" in err and message in err, (
        err
    )
    assert "expected" in err and "time_s" in err.split("expected")[-1]
    assert not (tmp_path / "out").exists()


def test_a_table_ten_times_longer_than_the_run_is_accepted(tmp_path: Path) -> None:
    from thermo.case import parse_case

    box_msh(tmp_path / "block.msh")
    (tmp_path / "hot.csv").write_text("time_s,value\n0,300\n40,300\n", encoding="utf-8")
    text = CASE.format(mesh_extra="", materials_extra="").replace(
        "value = 300.0", 'table = "hot.csv"'
    )
    case = parse_case(_write_case(tmp_path, text))
    assert case.problem.boundaries["hot"].value(2.0) == pytest.approx(300.0)


def _inverse_case(tmp_path: Path, probes: str, *, second_body: bool = True) -> Path:
    box_msh(tmp_path / "block.msh", second_body=second_body)
    text = CASE.format(
        mesh_extra="",
        materials_extra='[materials.island]\nname = "42crmo4"' if second_body else "",
    )
    text = text.replace('type = "temperature"\nvalue = 300.0', 'type = "unknown-temperature"')
    return _write_case(tmp_path, text.split("[probes]")[0] + probes)


@pytest.mark.parametrize(
    ("probes", "message"),
    [
        ('[output]\nfields = "none"\n', "probes: no probes: nothing measures the unknown-"),
        (
            "[probes]\nP = [0.043, 0.003, 0.003]\n",
            "no probe sees the unknown-temperature boundary hot: probes ['P'] lie in parts of",
        ),
    ],
)  # fmt: skip
def test_unknown_boundary_without_a_probe_that_sees_it(
    tmp_path: Path, probes: str, message: str
) -> None:
    from thermo.case import CaseError, parse_case
    from thermo.case_run import check_case_against_mesh, load_case_mesh

    case = parse_case(_inverse_case(tmp_path, probes))
    with pytest.raises(CaseError) as info:
        check_case_against_mesh(case, load_case_mesh(case))
    assert info.value.key == "probes"
    assert message in str(info.value) and "a body that touches hot" in info.value.expected


def test_unknown_boundary_seen_by_one_probe_passes(tmp_path: Path) -> None:
    from thermo.case import parse_case
    from thermo.case_run import check_case_against_mesh, load_case_mesh

    probes = "[probes]\nP = [0.043, 0.003, 0.003]\nQ = [0.01, 0.003, 0.003]\n"
    case = parse_case(_inverse_case(tmp_path, probes))
    points = check_case_against_mesh(case, load_case_mesh(case))
    assert sorted(points) == ["P", "Q"]


@pytest.mark.mpi
def test_probe_connectivity_check_on_two_ranks(tmp_path: Path, mpirun: Path) -> None:
    import subprocess
    import sys

    script = Path(__file__).with_name("mpi_case_checks.py")
    out = tmp_path / "ranks.json"
    cmd = [str(mpirun), "-n", "2", sys.executable, str(script), str(tmp_path), str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = json.loads(out.read_text(encoding="utf-8"))
    assert len(ranks) == 2 and ranks[0] == ranks[1]
    assert ranks[0]["both"] == ["P", "Q"]
    assert "no probe sees the unknown-temperature boundary hot" in ranks[0]["island"]

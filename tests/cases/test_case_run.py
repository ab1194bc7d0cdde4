"""End-to-end ``millheat simulate`` on small meshes, and the checks of a case against its mesh."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cases.cli import main
from thermo.case import CaseError, parse_case
from thermo.case_run import check_case_against_mesh, load_case_mesh

#: A 20 × 4 × 4 mm WC–Co bar, 500 °C at x = 0, insulated elsewhere (unnamed faces).
BAR = """\
[mesh]
builtin = "bar"
[mesh.params]
lengths = [0.02, 0.004, 0.004]
cells = [8, 2, 2]
volume_name = "insert"
[materials.insert]
name = "wc-co"
[boundary.x0]
type = "temperature"
value = 500.0
[time]
dt = 20.0
t_end = 400.0
T0 = 20.0
[probes]
S1 = [0.02, 0.002, 0.002]
S2 = [0.01, 0.001, 0.003]
[output]
fields = "xdmf"
snapshots = [400.0]
"""


def _case(folder: Path, text: str = BAR) -> Path:
    path = folder / "bar.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_simulate_bar_writes_outputs_and_reaches_known_steady_state(tmp_path: Path) -> None:
    """Insulated bar with one face at 500 °C: after t >> L²/α = 15 s, T = 500 °C everywhere.

    Backward Euler damps the slowest mode (λ = π² α / (4 L²) = 0.16 1/s) by 1 / (1 + λ dt)
    per step: 20 steps of 20 s leave 480 K × 0.23^20 ≈ 1e-10 K. The stored energy is then the
    exact ρ c V (500 − 20) J.
    """
    out = tmp_path / "out"
    assert main(["simulate", str(_case(tmp_path)), "--out", str(out), "--quiet"]) == 0
    for name in (
        "probes.csv",
        "probes.png",
        "T.xdmf",
        "T.h5",
        "summary.json",
        "report.md",
        "case.toml",
        "T_400s.png",
    ):
        assert (out / name).is_file(), name
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no partial folders
    data = np.genfromtxt(out / "probes.csv", delimiter=",", names=True)
    np.testing.assert_allclose(data["time_s"], np.arange(0.0, 400.0 + 1.0, 20.0))
    assert data["S1"][0] == pytest.approx(20.0)
    np.testing.assert_allclose([data["S1"][-1], data["S2"][-1]], 500.0, atol=1e-6)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["n_steps"] == 20 and summary["n_dofs"] == 9 * 3 * 3
    assert summary["probes"]["S1"]["max_C"] == pytest.approx(500.0, abs=1e-6)
    rho_c_v = 14900.0 * 220.0 * 0.02 * 0.004 * 0.004
    assert summary["energy"]["stored_J"] == pytest.approx(rho_c_v * 480.0, rel=1e-8)
    # the Dirichlet heat input comes from the reaction of the GAMG solution (rtol 1e-10): measured
    # 1e-9 relative off; the bound leaves 100x margin for another machine's iteration count
    assert summary["energy"]["heat_in_J"] == pytest.approx(rho_c_v * 480.0, rel=1e-7)
    report = (out / "report.md").read_text(encoding="utf-8")
    for link in ("(probes.csv)", "(T.xdmf)", "(summary.json)", "(T_400s.png)"):
        assert link in report
    assert (out / "case.toml").read_text(encoding="utf-8") == BAR


def test_probe_outside_mesh_fails_before_solving(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import thermo.solver

    def no_solve(*args, **kwargs):
        raise AssertionError("solve_transient must not be called")

    monkeypatch.setattr(thermo.solver, "solve_transient", no_solve)
    path = _case(tmp_path, BAR.replace("S2 = [0.01, 0.001, 0.003]", "S9 = [0.05, 0.0, 0.0]"))
    out = tmp_path / "out"
    assert main(["simulate", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "probes.S9" in err and "inside the mesh" in err
    assert "Traceback" not in err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bar.toml"]


@pytest.mark.parametrize(
    ("old", "new", "key", "hint"),
    [
        ("[materials.insert]", "[materials.tip]", "materials.tip", "['insert']"),
        ('volume_name = "insert"', 'volume_name = "body"', "materials.insert", "['body']"),
        ("[boundary.x0]", "[boundary.F1]", "boundary.F1", "'x0'"),
        ("[output]", "[contact.F2]\nh_c = 1e4\n[output]", "contact.F2", "'x1'"),
        ("cells = [8, 2, 2]", "cells = [8, 2]", "mesh.params", "bar"),
        ("cells = [8, 2, 2]", "cells = [8, 2, 2]\nwidth = 3", "mesh.params", "bar"),
    ],
)
def test_case_checked_against_mesh(tmp_path: Path, old: str, new: str, key: str, hint: str) -> None:
    assert old in BAR
    case = parse_case(_case(tmp_path, BAR.replace(old, new)))
    with pytest.raises(CaseError) as info:
        check_case_against_mesh(case, load_case_mesh(case))
    assert info.value.key == key
    assert str(case.path) in str(info.value) and hint in str(info.value)


def test_unknown_boundary_is_refused_forward(tmp_path: Path, capsys) -> None:
    text = BAR.replace('type = "temperature"\nvalue = 500.0', 'type = "unknown-temperature"')
    assert main(["simulate", str(_case(tmp_path, text)), "--out", str(tmp_path / "o")]) == 2
    assert "boundary.x0.type" in capsys.readouterr().err


def test_tool_params_are_checked(tmp_path: Path) -> None:
    mesh = '[mesh]\nbuiltin = "insert-shank-bolt"\n[mesh.params]\nsize_factr = 2.0\n'
    case = parse_case(_case(tmp_path, mesh + BAR[BAR.index("[materials.insert]") :]))
    with pytest.raises(CaseError, match="size_factr") as info:
        load_case_mesh(case)
    assert info.value.key == "mesh.params"


def test_mesh_file_with_named_groups_and_default_snapshots(tmp_path: Path) -> None:
    """A user's .msh (Gmsh box with physical groups); [probes] absent: sensors JSON is used."""
    from meshes.gmsh_bridge import gmsh_session

    with gmsh_session() as gmsh:
        gmsh.model.add("block")
        gmsh.model.occ.addBox(0.0, 0.0, 0.0, 0.01, 0.003, 0.003)
        gmsh.model.occ.synchronize()
        hot = gmsh.model.getEntitiesInBoundingBox(-1e-6, -1, -1, 1e-6, 1, 1, dim=2)
        faces = [t for _, t in gmsh.model.getEntities(2) if (2, t) not in hot]
        gmsh.model.addPhysicalGroup(3, [1], 1, name="block")
        gmsh.model.addPhysicalGroup(2, [t for _, t in hot], 2, name="hot")
        gmsh.model.addPhysicalGroup(2, faces, 3, name="air")
        gmsh.option.setNumber("Mesh.MeshSizeMax", 0.0015)
        gmsh.model.mesh.generate(3)
        gmsh.write(str(tmp_path / "block.msh"))
    sensors = {"units": "m", "sensors": {"P": [0.005, 0.0015, 0.0015]}}
    (tmp_path / "block.sensors.json").write_text(json.dumps(sensors), encoding="utf-8")
    text = """\
[mesh]
file = "block.msh"
[materials.block]
k = 50.0
rho = 8000.0
c = 500.0
[boundary.hot]
type = "flux"
table = "tables/q.csv"
[boundary.air]
type = "convection"
h = 25.0
[time]
dt = 1.0
t_end = 4.0
[output]
fields = "vtx"
"""
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "q.csv").write_text("time_s,value\n0,1e5\n4,1e5\n", encoding="utf-8")
    path = tmp_path / "block.toml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "res"
    assert main(["simulate", str(path), "--out", str(out), "--quiet"]) == 0
    assert (out / "T.bp").exists() and (out / "T_4s.png").is_file()
    assert (out / "tables" / "q.csv").read_text(encoding="utf-8").startswith("time_s,value")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert list(summary["probes"]) == ["P"]
    e = summary["energy"]
    assert e["heat_in_J"] == pytest.approx(1.0e5 * 0.003 * 0.003 * 4.0, rel=1e-9)
    assert abs(e["balance_rel"]) < 1e-8


def test_rerun_replaces_old_output_only_at_the_end(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old", encoding="utf-8")
    assert main(["simulate", str(_case(tmp_path)), "--out", str(out), "--quiet"]) == 0
    assert not (out / "old.txt").exists() and (out / "summary.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bar.toml", "out"]


def test_out_onto_a_file_is_refused_and_the_file_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import thermo.case_run

    def no_mesh(*args, **kwargs):
        raise AssertionError("the mesh must not be built for a bad --out")

    monkeypatch.setattr(thermo.case_run, "load_case_mesh", no_mesh)
    target = tmp_path / "results.txt"
    target.write_bytes(b"the user's own file\n")
    assert main(["simulate", str(_case(tmp_path)), "--out", str(target), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("millheat simulate: error: "), err
    assert str(target) in err and "is a file" in err
    assert target.read_bytes() == b"the user's own file\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bar.toml", "results.txt"]


@pytest.mark.slow
def test_forward_demo_quick(tmp_path: Path) -> None:
    from cases.forward_demo import main as demo

    out = tmp_path / "demo"
    assert demo(["--quick", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert sorted(summary["probes"]) == ["S1", "S2", "S3", "S4"]
    assert summary["files"]["snapshots"] == ["T_4s.png", "T_8s.png", "T_12s.png"]
    assert abs(summary["energy"]["balance_rel"]) < 1e-6
    peaks = [summary["probes"][s]["max_C"] for s in ("S1", "S2", "S3", "S4")]
    assert all(20.0 < p < 720.0 for p in peaks) and peaks == sorted(peaks, reverse=True)


def test_forward_demo_bad_case_exits_2_with_one_line(tmp_path: Path, capsys) -> None:
    from cases.exits import run_main
    from cases.forward_demo import main as demo

    bad = tmp_path / "bad.toml"
    bad.write_text("[mesh]\nbuiltin = 'nope'\n")
    assert (
        run_main(demo, "cases.forward_demo", ["--case", str(bad), "--out", str(tmp_path / "o")])
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert err.startswith("cases.forward_demo: error: ") and "\n" not in err and "bad.toml" in err
    assert not (tmp_path / "o").exists()

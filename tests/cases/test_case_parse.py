"""Parsing and validation of TOML case files (thermo.case); no mesh and no solver needed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from thermo.case import CaseError, parse_case, read_history_table
from thermo.problem import (
    MATERIALS,
    ConvectionBC,
    FluxBC,
    InsulatedBC,
    TemperatureBC,
)

#: The example of issue 2, verbatim.
ISSUE_EXAMPLE = """\
[mesh]
file = "bar.msh"            # or builtin = "insert-shank-bolt" plus [mesh.params]
[materials.insert]          # one table per volume group name
k = 85.0                    # W/(m K)
rho = 14900.0               # kg/m^3
c = 220.0                   # J/(kg K)
[boundary.F1]
type = "temperature"        # temperature | flux | convection | insulated
value = 500.0               # constant, or table = "f1.csv" (columns time_s,value), linear in between
[boundary.F3]
type = "convection"
h = 25.0
T_inf = 20.0
[contact.F2]
h_c = 1.0e4                 # omit for perfect contact
[time]
dt = 0.05
t_end = 12.0
T0 = 20.0
scheme = "backward-euler"   # or "crank-nicolson"
[probes]
S1 = [0.001, 0.0, 0.0]      # metres
[output]
fields = "xdmf"             # xdmf | vtx | none
snapshots = [4.0, 8.0, 12.0]
"""  # noqa: E501


def _write(folder: Path, text: str, name: str = "case.toml") -> Path:
    (folder / "bar.msh").touch()
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_issue_example_parses(tmp_path: Path) -> None:
    case = parse_case(_write(tmp_path, ISSUE_EXAMPLE))
    assert case.mesh.file == (tmp_path / "bar.msh").resolve()
    assert case.mesh.builtin is None
    p = case.problem
    assert (p.materials["insert"].k, p.materials["insert"].rho, p.materials["insert"].c) == (
        85.0,
        14900.0,
        220.0,
    )
    assert isinstance(p.boundaries["F1"], TemperatureBC)
    assert p.boundaries["F1"].value(3.7) == pytest.approx(500.0, rel=1e-12)
    assert p.boundaries["F3"] == ConvectionBC(h=25.0, T_inf=20.0)
    assert p.contact["F2"].h_c == 1.0e4
    assert (p.time.dt, p.time.t_end, p.time.T0, p.time.scheme) == (
        0.05,
        12.0,
        20.0,
        "backward-euler",
    )
    assert p.time.n_steps == 240
    assert case.probes == {"S1": (0.001, 0.0, 0.0)}
    assert case.output.fields == "xdmf"
    assert case.output.snapshots == (4.0, 8.0, 12.0)
    assert case.unknown_boundary is None
    assert case.text.startswith("[mesh]")


def test_defaults_builtin_library_material_and_unknown_boundary(tmp_path: Path) -> None:
    text = """
[mesh]
builtin = "bar"
[mesh.params]
lengths = [0.1]
cells = [20]
[materials.bar]
name = "42CrMo4"
[materials.tip]
name = "wc-co"
k = 95.0
[boundary.x0]
type = "unknown-temperature"
[boundary.x1]
type = "insulated"
[boundary.y0]
type = "convection"
h = 30
[contact.F2]
[time]
dt = 0.5
t_end = 3
"""
    case = parse_case(_write(tmp_path, text))
    assert case.mesh.builtin == "bar"
    assert case.mesh.params == {"lengths": [0.1], "cells": [20]}
    assert case.problem.materials["bar"] == MATERIALS["42crmo4"]
    tip = case.problem.materials["tip"]
    assert (tip.k, tip.rho, tip.c) == (95.0, MATERIALS["wc-co"].rho, MATERIALS["wc-co"].c)
    assert case.unknown_boundary == ("x0", "temperature")
    assert "x0" not in case.problem.boundaries
    assert isinstance(case.problem.boundaries["x1"], InsulatedBC)
    assert case.problem.boundaries["y0"] == ConvectionBC(h=30.0, T_inf=20.0)
    assert dict(case.problem.contact) == {}  # empty contact table: perfect contact
    assert case.probes is None  # the mesh's sensors are used
    assert case.output.fields == "xdmf"
    assert case.output.snapshots == ()  # 4, 8, 12 s all beyond t_end = 3 s
    assert case.problem.time.T0 == 20.0 and case.problem.time.scheme == "backward-euler"


def test_flux_table_is_linear_in_between(tmp_path: Path) -> None:
    (tmp_path / "q.csv").write_text(
        "# heat flux into the tool, W/m^2\ntime_s,value\n0,0\n1,1e6\n12.5,1e6\n", encoding="utf-8"
    )
    text = ISSUE_EXAMPLE.replace(
        'type = "temperature"        # temperature | flux | convection | insulated\nvalue = 500.0',
        'type = "flux"\ntable = "q.csv"',
    )
    case = parse_case(_write(tmp_path, text))
    q = case.problem.boundaries["F1"]
    assert isinstance(q, FluxBC)
    np.testing.assert_allclose(q.value(np.array([0.0, 0.25, 1.0, 6.0, 20.0])),
                               [0.0, 2.5e5, 1e6, 1e6, 1e6])  # fmt: skip
    assert case.tables == {"boundary.F1": (tmp_path / "q.csv").resolve()}


def test_read_history_table_direct(tmp_path: Path) -> None:
    path = tmp_path / "f1.csv"
    path.write_text("time_s,value\n0.0,20.0\n1.0,520.0\n2.0,500.0\n", encoding="utf-8")
    h = read_history_table(path)
    np.testing.assert_allclose(h.times, [0.0, 1.0, 2.0])
    assert h(0.5) == pytest.approx(270.0)
    assert h(1.5) == pytest.approx(510.0)


def _variant(old: str, new: str) -> str:
    assert old in ISSUE_EXAMPLE
    return ISSUE_EXAMPLE.replace(old, new, 1)


_MATERIAL_BLOCK = ISSUE_EXAMPLE[
    ISSUE_EXAMPLE.index("[materials.insert]") : ISSUE_EXAMPLE.index("[boundary.F1]")
]

ERRORS = {
    "unknown top table": (ISSUE_EXAMPLE + "[solve]\nx = 1\n", "solve", "one of"),
    "unknown key": (_variant("h = 25.0", "h = 25.0\nhh = 3"), "boundary.F3.hh", "h, T_inf"),
    "unknown type": (_variant('"temperature" ', '"dirichlet" '), "boundary.F1.type", "flux"),
    "missing type": (_variant('type = "convection"\n', ""), "boundary.F3.type", "one of"),
    "missing k": (_variant("k = 85.0", ""), "materials.insert.k", "a positive number"),
    "string k": (_variant("k = 85.0", 'k = "85"'), "materials.insert.k", "a positive number"),
    "negative rho": (_variant("rho = 14900.0", "rho = -1.0"), "materials.insert.rho", "positive"),
    "unknown material": (
        _variant("k = 85.0", 'name = "copper"\nk = 85.0'),
        "materials.insert.name",
        '"wc-co"',
    ),
    "zero dt": (_variant("dt = 0.05", "dt = 0.0"), "time.dt", "> 0"),
    "negative dt": (_variant("dt = 0.05", "dt = -0.05"), "time.dt", "> 0"),
    "t_end not multiple": (_variant("t_end = 12.0", "t_end = 12.01"), "time.t_end", "n * dt"),
    "bad scheme": (_variant('"backward-euler"', '"rk4"'), "time.scheme", "crank-nicolson"),
    "missing time": (_variant("[time]\ndt = 0.05\nt_end = 12.0\n", ""), "time", "[time]"),
    "bool h": (_variant("h = 25.0", "h = true"), "boundary.F3.h", "finite number"),
    "value and table": (
        _variant("value = 500.0", 'value = 500.0\ntable = "f1.csv"'),
        "boundary.F1",
        "value = NUMBER or table",
    ),
    "missing table file": (
        _variant("value = 500.0", 'table = "nope.csv"'),
        "boundary.F1.table",
        "relative to the case folder",
    ),
    "probe with 2 coords": (
        _variant("[0.001, 0.0, 0.0]", "[0.001, 0.0]"),
        "probes.S1",
        "[x, y, z]",
    ),
    "probe string": (_variant("[0.001, 0.0, 0.0]", '"here"'), "probes.S1", "[x, y, z]"),
    "bad fields": (_variant('fields = "xdmf"', 'fields = "vtk"'), "output.fields", '"vtx"'),
    "snapshot after end": (_variant("12.0]", "13.0]"), "output.snapshots[2]", "t_end"),
    "mesh file and builtin": (
        _variant('file = "bar.msh"', 'file = "bar.msh"\nbuiltin = "box"'),
        "mesh",
        "builtin",
    ),
    "unknown builtin": (_variant('file = "bar.msh"', 'builtin = "cube"'), "mesh.builtin", '"box"'),
    "missing mesh file": (_variant('"bar.msh"', '"other.msh"'), "mesh.file", "path"),
    "contact key": (_variant("h_c = 1.0e4", "hc = 1.0e4"), "contact.F2.hc", "h_c"),
    "zero h_c": (_variant("h_c = 1.0e4", "h_c = 0.0"), "contact.F2.h_c", "> 0"),
    "contact and boundary": (
        _variant("[contact.F2]", "[contact.F3]"),
        "contact.F3",
        "disjoint",
    ),
    "two unknowns": (
        _variant('type = "convection"\nh = 25.0\nT_inf = 20.0', 'type = "unknown-flux"').replace(
            'type = "temperature"        # temperature | flux | convection | insulated\n'
            "value = 500.0",
            'type = "unknown-temperature"',
        ),
        "boundary.F3.type",
        "at most one",
    ),  # fmt: skip
    "materials not a table": (
        ISSUE_EXAMPLE.replace(_MATERIAL_BLOCK, "[materials]\ninsert = 3\n"),
        "materials.insert",
        "a table [materials.insert]",
    ),
    "toml syntax": (ISSUE_EXAMPLE + "[time\n", "<syntax>", "valid TOML"),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_name_file_key_and_form(tmp_path: Path, name: str) -> None:
    text, key, expected = ERRORS[name]
    path = _write(tmp_path, text)
    with pytest.raises(CaseError) as info:
        parse_case(path)
    message = str(info.value)
    assert str(path) in message, message
    assert f": {key}:" in message, message
    assert info.value.key == key
    assert expected in info.value.expected, message


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("t,value\n0,1\n12,1\n", "header"),
        ("time_s,value,extra\n0,1,2\n12,1,2\n", "header"),
        ("time_s,value\n", "no data rows"),
        ("time_s,value\n0,1\n6,nan\n12,1\n", "NaN"),
        ("time_s,value\n0,1\n6,1\n6,1\n12,1\n", "not strictly increasing"),
        ("time_s,value\n0,1\n12,abc\n", "not two numbers"),
        ("time_s,value\n0,1\n12,1,3\n", "not two numbers"),
        ("time_s,value\n0,1\n10,1\n", "covers"),
        ("time_s,value\n1,1\n12,1\n", "covers"),
        ("", "header"),
    ],
)
def test_bad_tables(tmp_path: Path, content: str, problem: str) -> None:
    (tmp_path / "f1.csv").write_text(content, encoding="utf-8")
    path = _write(tmp_path, _variant("value = 500.0", 'table = "f1.csv"'))
    with pytest.raises(CaseError) as info:
        parse_case(path)
    message = str(info.value)
    assert str(path) in message and "boundary.F1.table" in message, message
    assert problem in message, message
    assert "time_s" in info.value.expected


def test_unreadable_case_file(tmp_path: Path) -> None:
    with pytest.raises(CaseError, match="cannot be read"):
        parse_case(tmp_path / "absent.toml")

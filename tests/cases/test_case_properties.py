"""Temperature-dependent properties in case files: tables parse, bad tables fail with the file,
the key and the expected form, and a case with a table runs the nonlinear solver end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cases.cli import main
from thermo.case import CaseError, parse_case
from thermo.properties import Property

CASE = """\
[mesh]
builtin = "bar"
[mesh.params]
lengths = [0.02, 0.004, 0.004]
cells = [8, 2, 2]
volume_name = "insert"
[materials.insert]
name = "wc-co"
{k}
[boundary.x0]
type = "temperature"
value = 500.0
[time]
dt = 0.5
t_end = 5.0
T0 = 20.0
[probes]
S1 = [0.02, 0.002, 0.002]
[output]
fields = "none"
snapshots = []
"""


def _case(tmp_path: Path, k: str, table: str | None = None) -> Path:
    if table is not None:
        (tmp_path / "k.csv").write_text(table)
    path = tmp_path / "case.toml"
    path.write_text(CASE.format(k=k))
    return path


def test_inline_points_and_csv_table_give_the_same_property(tmp_path):
    inline = parse_case(_case(tmp_path, "k = { points = [[20.0, 85.0], [800.0, 68.0]] }"))
    table = "# WC-Co, falls by a fifth\nT_C,value\n20,85\n800,68\n"
    from_csv = parse_case(_case(tmp_path, 'k = { table = "k.csv" }', table))
    for case in (inline, from_csv):
        k = case.problem.materials["insert"].k
        assert isinstance(k, Property) and case.problem.is_nonlinear
        np.testing.assert_allclose(k(np.array([20.0, 410.0, 900.0])), [85.0, 76.5, 68.0])
    constant = parse_case(_case(tmp_path, "k = 85.0"))
    assert not constant.problem.is_nonlinear


@pytest.mark.parametrize(
    ("k", "table", "message"),
    [
        ("k = { points = [[800.0, 68.0], [20.0, 85.0]] }", None, "increasing"),
        ("k = { points = [[20.0, -5.0], [800.0, 68.0]] }", None, "positive"),
        ('k = { table = "k.csv" }', "T_C,value\n300,85\n1000,68\n", "does not cover"),
        ('k = { table = "k.csv" }', "T_C,value\n293,85\n1073,68\n", "kelvin"),
        ('k = { table = "missing.csv" }', None, "missing.csv"),
        ("k = { knots = [[20.0, 85.0]] }", None, "expected"),
    ],
)
def test_bad_property_tables_name_file_key_and_form(tmp_path, k, table, message):
    with pytest.raises(CaseError, match=message) as info:
        parse_case(_case(tmp_path, k, table))
    assert info.value.key == "materials.insert.k"
    assert str(tmp_path) in str(info.value)


def test_simulate_runs_a_temperature_dependent_case(tmp_path, capsys):
    path = _case(tmp_path, "k = { points = [[20.0, 85.0], [800.0, 42.5]] }")
    out = tmp_path / "out"
    assert main(["simulate", str(path), "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["materials"]["insert"]["k"] == {"points": [[20.0, 85.0], [800.0, 42.5]]}
    probes = np.genfromtxt(out / "probes.csv", delimiter=",", names=True)
    const = tmp_path / "const"
    (tmp_path / "c").mkdir()
    assert main(["simulate", str(_case(tmp_path / "c", "k = 85.0")), "--out", str(const)]) == 0
    probes_const = np.genfromtxt(const / "probes.csv", delimiter=",", names=True)
    # lower k when hot: the far end heats more slowly than with the room-temperature k
    assert probes["S1"][-1] < probes_const["S1"][-1] - 1.0
    assert np.all(np.diff(probes["S1"]) >= -1e-9)

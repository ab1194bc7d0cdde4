"""Outputs (probes.csv, XDMF/VTX series, PNG snapshots) and clear errors on bad input."""

import csv

import numpy as np
import pytest

from meshes.boxes import bar
from thermo.problem import (
    MATERIALS,
    ConvectionBC,
    FluxBC,
    HeatProblem,
    History,
    TimeStepping,
)
from thermo.solver import solve_transient


def _problem(**kw):
    return HeatProblem(
        materials={"bar": MATERIALS["42crmo4"]},
        boundaries={
            "x0": FluxBC(History.constant(1e6)),
            "x1": ConvectionBC(h=25.0, T_inf=20.0),
        },
        time=TimeStepping(dt=0.1, t_end=1.0, T0=20.0),
        **kw,
    )


def _mesh():
    return bar(lengths=(0.01, 0.002, 0.002), cells=(10, 2, 2))


@pytest.mark.parametrize("fields", ["xdmf", "vtx"])
def test_outputs_written(tmp_path, fields):
    steps = []
    result = solve_transient(
        _mesh(),
        _problem(),
        probes={"S1": (0.0, 0.001, 0.001), "S2": (0.01, 0.0, 0.0)},
        out_dir=tmp_path,
        fields=fields,
        snapshot_times=(0.5, 1.0),
        on_step=lambda n, t, T: steps.append((n, t, float(T.x.array.max()))),
    )
    assert [n for n, _, _ in steps] == list(range(11))
    with (tmp_path / "probes.csv").open() as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["time_s", "S1", "S2"]
    table = np.array(rows[1:], dtype=float)
    np.testing.assert_allclose(table[:, 0], result.times)
    np.testing.assert_allclose(table[:, 1], result.probes["S1"])
    assert table[-1, 1] > table[-1, 2] > 20.0  # heated end hotter than the far end
    names = {p.name for p in tmp_path.iterdir()}
    if fields == "xdmf":
        assert {"T.xdmf", "T.h5"} <= names
        assert "T.h5" in (tmp_path / "T.xdmf").read_text()
    else:
        assert "T.bp" in names and (tmp_path / "T.bp").is_dir()
    assert {"T_0.5s.png", "T_1s.png"} <= names
    assert (tmp_path / "T_1s.png").read_bytes()[:4] == b"\x89PNG"
    assert not [n for n in names if n.startswith(".")]  # no partial files left behind


def test_probe_outside_mesh_raises():
    with pytest.raises(ValueError, match="'far'.*outside the mesh"):
        solve_transient(
            _mesh(), _problem(), probes={"ok": (0.005, 0.001, 0.001), "far": (0.05, 0.0, 0.0)}
        )


def test_non_converged_solve_raises():
    with pytest.raises(RuntimeError, match="did not converge at step 1"):
        solve_transient(_mesh(), _problem(rtol=1e-14), petsc_options={"ksp_max_it": 1})


def test_missing_material_and_group_raise():
    problem = _problem()
    wrong = HeatProblem(materials={"steel": MATERIALS["42crmo4"]}, boundaries={}, time=problem.time)
    with pytest.raises(KeyError, match="missing \\['bar'\\].*unknown \\['steel'\\]"):
        solve_transient(_mesh(), wrong)
    no_group = HeatProblem(
        materials=problem.materials,
        time=problem.time,
        boundaries={"F1": FluxBC(History.constant(1.0))},
    )
    with pytest.raises(KeyError, match="missing physical facet groups \\['F1'\\]"):
        solve_transient(_mesh(), no_group)


def test_bad_snapshot_and_fields_raise(tmp_path):
    with pytest.raises(ValueError, match="outside the run"):
        solve_transient(_mesh(), _problem(), out_dir=tmp_path, snapshot_times=(5.0,))
    with pytest.raises(ValueError, match="fields must be"):
        solve_transient(_mesh(), _problem(), out_dir=tmp_path, fields="vtk")


def test_mumps_matches_gamg_and_energy_balance():
    a = solve_transient(_mesh(), _problem(), probes={"S": (0.002, 0.001, 0.001)})
    b = solve_transient(  # also exercises the tqdm progress bar
        _mesh(),
        _problem(linear_solver="mumps"),
        probes={"S": (0.002, 0.001, 0.001)},
        progress=True,
    )
    np.testing.assert_allclose(a.probes["S"], b.probes["S"], rtol=1e-8)
    e = a.energy
    # flux input is exact: q A t = 1e6 W/m² × 4e-6 m² × 1 s
    assert abs(e["heat_in_J"] - 4.0) < 1e-9
    assert abs(e["heat_in_J"] - e["stored_J"] - e["lost_J"]) <= 0.01 * e["heat_in_J"]
    assert e["lost_J"] > 0.0

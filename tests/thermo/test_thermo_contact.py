"""Contact conductance across an interior interface (mixed-domain submeshes).

Two blocks, heat flux q into x = 0, fixed temperature at the far end. In the steady state
(reached exactly by backward Euler with steps much longer than L²/α) every section carries q, so
the interface jump is [[T]] = q / h_c and the heated face sits at
T(0) = T_end + q (L_left/k_left + 1/h_c + L_right/k_right) (series thermal resistances).
"""

import numpy as np
import pytest

from meshes.boxes import two_blocks
from thermo.problem import (
    MATERIALS,
    ContactConductance,
    FluxBC,
    HeatProblem,
    History,
    TemperatureBC,
    TimeStepping,
)
from thermo.solver import solve_transient

WC, STEEL = MATERIALS["wc-co"], MATERIALS["42crmo4"]
Q = 1e5  # W/m²


def _problem(*, h_c, time, contact=True):
    return HeatProblem(
        materials={"left": WC, "right": STEEL},
        boundaries={
            "x0": FluxBC(History.constant(Q)),
            "x1": TemperatureBC(History.constant(20.0)),
        },
        contact={"interface": ContactConductance(h_c=h_c)} if contact else {},
        time=time,
        linear_solver="mumps",
    )


@pytest.mark.parametrize("dim", [1, 3])
def test_steady_jump_equals_q_over_hc(dim):
    h_c = 1e4
    kw = {} if dim == 1 else {"cross_section": (0.002, 0.002), "cross_cells": (2, 2)}
    mesh = two_blocks(length_left=0.01, length_right=0.01, cells_left=10, cells_right=8, **kw)
    yz = 0.0 if dim == 1 else 0.001
    eps = 1e-9
    result = solve_transient(
        mesh,
        _problem(h_c=h_c, time=TimeStepping(dt=20.0, t_end=400.0)),
        probes={"minus": (0.01 - eps, yz, yz), "plus": (0.01 + eps, yz, yz), "x0": (0.0, yz, yz)},
    )
    jump = result.probes["minus"][-1] - result.probes["plus"][-1]
    print(f"dim {dim}: jump {jump:.6f} K, q/h_c = {Q / h_c:.6f} K")
    assert jump == pytest.approx(Q / h_c, rel=1e-4)
    t_face = 20.0 + Q * (0.01 / WC.k + 1.0 / h_c + 0.01 / STEEL.k)
    assert result.probes["x0"][-1] == pytest.approx(t_face, rel=1e-6)
    e = result.energy
    assert abs(e["heat_in_J"] - e["stored_J"] - e["lost_J"]) <= 0.01 * abs(e["heat_in_J"])
    assert isinstance(result.final, list) and len(result.final) == 2


def test_large_conductance_approaches_perfect_contact():
    mesh = two_blocks(length_left=0.01, length_right=0.01, cells_left=20, cells_right=20)
    time = TimeStepping(dt=0.05, t_end=2.0)
    probes = {"S": (0.005, 0.0, 0.0), "R": (0.012, 0.0, 0.0)}
    joined = solve_transient(mesh, _problem(h_c=1.0, time=time, contact=False), probes=probes)
    glued = solve_transient(mesh, _problem(h_c=1e10, time=time), probes=probes)
    for name in probes:
        rise = joined.probes[name][-1] - 20.0
        assert rise > 1.0
        np.testing.assert_allclose(glued.probes[name], joined.probes[name], atol=1e-4 * rise)


def test_contact_outputs(tmp_path):
    mesh = two_blocks(
        length_left=0.01,
        length_right=0.01,
        cells_left=4,
        cells_right=4,
        cross_section=(0.002, 0.002),
        cross_cells=(1, 1),
    )
    result = solve_transient(
        mesh,
        _problem(h_c=1e4, time=TimeStepping(dt=0.5, t_end=1.0)),
        out_dir=tmp_path,
        fields="xdmf",
        snapshot_times=(1.0,),
    )
    names = {p.name for p in tmp_path.iterdir()}
    assert {"T_left.xdmf", "T_left.h5", "T_right.xdmf", "T_right.h5", "T_1s.png"} <= names
    assert [p.name for p in result.files][0] == "probes.csv"

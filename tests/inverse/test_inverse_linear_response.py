"""Duhamel superposition of one FEM step response vs direct FEM runs
(thermo.inverse.linear_response).

The discrete Duhamel sum is exact for the θ-scheme (thermo.inverse.duhamel), so the two must agree
to
solver tolerance: 1e-6 relative at probes and at every dof, for temperature and flux inputs,
backward Euler and Crank–Nicolson, and with a non-homogeneous baseline (convection to a
T_inf different from T0).
"""

import numpy as np
import pytest

from thermo.problem import (
    ConvectionBC,
    FluxBC,
    HeatProblem,
    History,
    Material,
    TemperatureBC,
    TimeStepping,
)

boxes = pytest.importorskip("meshes.boxes")
solver = pytest.importorskip("thermo.solver")
from thermo.inverse.linear_response import LinearResponse, compute_linear_response  # noqa: E402

WC = Material(k=85.0, rho=14900.0, c=220.0)
PROBES_1D = {"P1": (0.001, 0.0, 0.0), "P2": (0.0025, 0.0, 0.0), "P3": (0.005, 0.0, 0.0)}


def _history(kind: str, T0: float, dt: float, n: int) -> History:
    """An arbitrary piecewise-linear input starting at the baseline (u_0 = 0)."""
    rng = np.random.default_rng(3)
    t = np.linspace(0.0, n * dt, 9)
    v = rng.uniform(0.2, 1.0, t.size)
    v[0] = 0.0
    scale = 400.0 if kind == "temperature" else 2.0e5
    base = T0 if kind == "temperature" else 0.0
    return History(times=t, values=base + scale * v)


def _problem(kind, scheme, *, T_inf, history, n=40, dt=0.05):
    f1 = TemperatureBC(history) if kind == "temperature" else FluxBC(history)
    return HeatProblem(
        materials={"bar": WC},
        boundaries={"x0": f1, "x1": ConvectionBC(h=25.0, T_inf=T_inf)},
        time=TimeStepping(dt=dt, t_end=n * dt, T0=20.0, scheme=scheme),
        linear_solver="mumps",
    )


@pytest.mark.parametrize(
    ("kind", "scheme", "T_inf"),
    [
        ("temperature", "backward-euler", 20.0),
        ("flux", "crank-nicolson", 20.0),
        ("flux", "backward-euler", 35.0),
    ],
)
def test_duhamel_matches_direct_fem_1d(kind, scheme, T_inf, tmp_path):
    tagged = boxes.bar(lengths=(0.01,), cells=(40,))
    hist = _history(kind, 20.0, 0.05, 40)
    problem = _problem(kind, scheme, T_inf=T_inf, history=hist)
    resp = compute_linear_response(
        tagged, problem, boundary="x0", kind=kind, probes=PROBES_1D, record_fields=True
    )
    assert (resp.base is None) == (T_inf == 20.0)
    frames = []
    direct = solver.solve_transient(
        tagged,
        problem,
        probes=PROBES_1D,
        on_step=lambda n, t, T: frames.append(np.array(T.x.array, copy=True)),
    )
    y_direct = np.stack([direct.probes[n] for n in PROBES_1D], axis=1)
    y_duh = resp.probes(hist)
    scale = np.max(np.abs(y_direct - 20.0))
    assert np.max(np.abs(y_duh - y_direct)) <= 1e-6 * scale
    at = (0.5, 1.0, 2.0)
    f_duh = resp.fields(hist, at_times=at)
    f_direct = np.stack([frames[round(t / 0.05)] for t in at])
    assert np.max(np.abs(f_duh - f_direct)) <= 1e-6 * np.max(np.abs(f_direct - 20.0))
    # save/load round trip keeps the operator
    resp.save(tmp_path / "resp")
    again = LinearResponse.load(tmp_path / "resp")
    np.testing.assert_array_equal(again.step, resp.step)
    # same arrays, same code: equal up to a BLAS that may round by memory alignment
    np.testing.assert_allclose(again.probes(hist), y_duh, rtol=1e-10)


def test_duhamel_matches_direct_fem_3d_box():
    tagged = boxes.bar(lengths=(0.004, 0.002, 0.002), cells=(6, 3, 3))
    hist = _history("temperature", 20.0, 0.05, 30)
    problem = HeatProblem(
        materials={"bar": WC},
        boundaries={
            "x0": TemperatureBC(hist),
            "x1": ConvectionBC(h=30.0, T_inf=20.0),
            "y0": ConvectionBC(h=30.0, T_inf=20.0),
        },
        time=TimeStepping(dt=0.05, t_end=1.5, T0=20.0),
        linear_solver="mumps",
    )
    probes = {"A": (0.001, 0.001, 0.001), "B": (0.003, 0.0015, 0.0005)}
    resp = compute_linear_response(
        tagged, problem, boundary="x0", kind="temperature", probes=probes, record_fields=True
    )
    frames = []
    direct = solver.solve_transient(
        tagged,
        problem,
        probes=probes,
        on_step=lambda n, t, T: frames.append(np.array(T.x.array, copy=True)),
    )
    y_direct = np.stack([direct.probes[n] for n in probes], axis=1)
    scale = np.max(np.abs(y_direct - 20.0))
    assert np.max(np.abs(resp.probes(hist) - y_direct)) <= 1e-6 * scale
    f = resp.fields(hist, at_times=(1.5,))[0]
    assert np.max(np.abs(f - frames[-1])) <= 1e-6 * np.max(np.abs(frames[-1] - 20.0))

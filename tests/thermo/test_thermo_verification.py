"""Verification of the transient solver against exact solutions (1D/3D bars, P1, θ-method).

* Semi-infinite solid, sudden surface temperature: T = T0 + ΔT erfc(x / (2√(αt)))
  (Carslaw & Jaeger 1959, §2.4), on a bar long enough that its insulated far end is not felt.
* Semi-infinite solid, surface temperature ramp T0 + R t: T = T0 + 4 R t i²erfc(x / (2√(αt)))
  (Carslaw & Jaeger §2.5) — compatible with the initial state, so it measures convergence orders.
* Plane wall of half-thickness L, insulated mid-plane, convection (h, T∞) at x = L:
  (T − T∞)/(T0 − T∞) = Σ C_n exp(−λ_n² Fo) cos(λ_n x / L), λ_n tan λ_n = Bi,
  C_n = 4 sin λ_n / (2 λ_n + sin 2λ_n) (Incropera, Fundamentals of Heat and Mass Transfer, §5.5).
"""

import numpy as np
import pytest
import ufl
from dolfinx import fem
from scipy.optimize import brentq
from scipy.special import erfc

from meshes.boxes import bar
from thermo.problem import (
    MATERIALS,
    ConvectionBC,
    HeatProblem,
    History,
    TemperatureBC,
    TimeStepping,
)
from thermo.solver import solve_transient

MAT = MATERIALS["wc-co"]
ALPHA = MAT.diffusivity
T0, DT_SURF = 20.0, 500.0


def _erfc_exact(x, t):
    return T0 + DT_SURF * erfc(x / (2.0 * np.sqrt(ALPHA * t)))


@pytest.mark.parametrize("dim", [1, 3])
def test_erfc_sudden_surface_temperature(dim):
    length, t_end = 0.03, 1.0
    lengths = (length,) if dim == 1 else (length, 0.001, 0.001)
    cells = (300,) if dim == 1 else (150, 1, 1)
    problem = HeatProblem(
        materials={"bar": MAT},
        boundaries={"x0": TemperatureBC(History.constant(T0 + DT_SURF))},
        time=TimeStepping(dt=0.005, t_end=t_end, T0=T0),
        linear_solver="mumps" if dim == 1 else "gamg",
    )
    xs = np.array([0.5e-3, 1e-3, 2e-3, 4e-3, 8e-3])
    result = solve_transient(
        bar(lengths=lengths, cells=cells),
        problem,
        probes={
            f"x{i}": (x, 0.0005 if dim == 3 else 0.0, 0.0005 if dim == 3 else 0.0)
            for i, x in enumerate(xs)
        },
    )
    worst = 0.0
    for i, x in enumerate(xs):
        for n in (100, 200):  # t = 0.5 s and 1 s
            t = result.times[n]
            rel = abs(result.probes[f"x{i}"][n] - _erfc_exact(x, t)) / DT_SURF
            worst = max(worst, rel)
            assert rel <= 0.005, (dim, x, t, rel)
    print(f"erfc {dim}D: max error {100 * worst:.3f} % of the rise")
    # heat taken in through the surface: 2 k ΔT √(t/(πα)) per unit area (Carslaw & Jaeger §2.4)
    area = 1.0 if dim == 1 else 1e-6
    q_exact = 2 * MAT.k * DT_SURF * np.sqrt(t_end / (np.pi * ALPHA)) * area
    print(f"erfc {dim}D: heat in / exact = {result.energy['heat_in_J'] / q_exact:.5f}")
    assert abs(result.energy["heat_in_J"] / q_exact - 1.0) < 0.01
    assert abs(result.energy["balance_rel"]) < 1e-6


def _plane_wall(x, t, *, half, h, t_inf):
    bi = h * half / MAT.k
    lam = np.array(
        [
            brentq(lambda z: z * np.tan(z) - bi, n * np.pi + 1e-12, n * np.pi + np.pi / 2 - 1e-12)
            for n in range(60)
        ]
    )
    c = 4 * np.sin(lam) / (2 * lam + np.sin(2 * lam))
    fo = ALPHA * t / half**2
    series = np.sum(c * np.exp(-(lam**2) * fo) * np.cos(np.outer(x / half, lam)), axis=1)
    return t_inf + (T0 - t_inf) * series


@pytest.mark.parametrize("scheme", ["backward-euler", "crank-nicolson"])
def test_plane_wall_convection(scheme):
    half, h, t_inf, t_end = 0.01, 8500.0, 420.0, 2.0  # Bi = 1
    problem = HeatProblem(
        materials={"bar": MAT},
        boundaries={"x1": ConvectionBC(h=h, T_inf=t_inf)},
        time=TimeStepping(
            dt=0.002 if scheme == "backward-euler" else 0.01, t_end=t_end, T0=T0, scheme=scheme
        ),
        linear_solver="mumps",
    )
    xs = np.array([0.0, 0.005, 0.01])
    result = solve_transient(
        bar(lengths=(half,), cells=(100,)),
        problem,
        probes={f"x{i}": (x, 0.0, 0.0) for i, x in enumerate(xs)},
    )
    rise = t_inf - T0
    worst = 0.0
    for n in range(len(result.times) // 4, len(result.times), len(result.times) // 4):
        exact = _plane_wall(xs, result.times[n], half=half, h=h, t_inf=t_inf)
        got = np.array([result.probes[f"x{i}"][n] for i in range(len(xs))])
        worst = max(worst, float(np.max(np.abs(got - exact)) / rise))
    print(f"plane wall {scheme}: max error {100 * worst:.3f} % of the rise")
    assert worst <= 0.005
    # convection loses what the wall stores (negative: the wall heats up from the air)
    assert abs(result.energy["stored_J"] + result.energy["lost_J"]) < 1e-6 * abs(
        result.energy["stored_J"]
    )


RAMP = 500.0  # K/s


def _ramp_problem(*, dt, scheme, t_end=1.0):
    g = History(times=np.array([0.0, t_end]), values=np.array([T0, T0 + RAMP * t_end]))
    return HeatProblem(
        materials={"bar": MAT},
        boundaries={"x0": TemperatureBC(g)},
        time=TimeStepping(dt=dt, t_end=t_end, T0=T0, scheme=scheme),
        linear_solver="mumps",
    )


def _ramp_l2_error(T, t):
    x = ufl.SpatialCoordinate(T.function_space.mesh)
    z = x[0] / (2.0 * np.sqrt(ALPHA * t))
    i2erfc = 0.25 * ((1 + 2 * z**2) * (1 - ufl.erf(z)) - 2 / np.sqrt(np.pi) * z * ufl.exp(-(z**2)))
    exact = T0 + 4 * RAMP * t * i2erfc
    dx = ufl.dx(metadata={"quadrature_degree": 6})
    return float(np.sqrt(fem.assemble_scalar(fem.form((T - exact) ** 2 * dx))))


def test_space_convergence_order_p1():
    errors = []
    for n in (20, 40, 80):
        result = solve_transient(
            bar(lengths=(0.04,), cells=(n,)), _ramp_problem(dt=1e-3, scheme="crank-nicolson")
        )
        errors.append(_ramp_l2_error(result.final, 1.0))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    print(f"L2 errors {errors}, observed space orders {orders}")
    assert orders[-1] > 1.8


@pytest.mark.parametrize(("scheme", "expected"), [("backward-euler", 1.0), ("crank-nicolson", 2.0)])
def test_time_convergence_order(scheme, expected):
    mesh = bar(lengths=(0.04,), cells=(80,))
    reference = solve_transient(mesh, _ramp_problem(dt=1e-3 / 8, scheme="crank-nicolson"))
    ref = reference.final.x.array.copy()
    errors = []
    for dt in (0.04, 0.02, 0.01):
        result = solve_transient(mesh, _ramp_problem(dt=dt, scheme=scheme))
        errors.append(float(np.max(np.abs(result.final.x.array - ref))))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    print(f"{scheme}: max-norm errors {errors}, observed time orders {orders}")
    assert abs(orders[-1] - expected) < 0.15

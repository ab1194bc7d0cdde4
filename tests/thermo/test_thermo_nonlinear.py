r"""Nonlinear (temperature-dependent) solver against exact Kirchhoff-transform solutions.

For :math:`k(T) = k_0 (1 + \beta (T - T_0))` the Kirchhoff variable
:math:`U = \int_{T_0}^{T} k/k_0\,ds = (T - T_0) + \beta (T - T_0)^2 / 2` turns the steady equation
into :math:`U'' = 0`, and, when :math:`\rho c(T)` is proportional to :math:`k(T)` (constant
diffusivity :math:`\alpha = k_0/(\rho c_0)`), the transient one into :math:`\partial_t U = \alpha
\nabla^2 U` (Carslaw & Jaeger 1959 §1.7; Özışık, *Heat Conduction*, §11.2). Back-transform:
:math:`T = T_0 + (\sqrt{1 + 2\beta U} - 1)/\beta`.

* steady slab between fixed end temperatures: U linear in x (the group-FE discretisation of
  :mod:`thermo.nonlinear` is nodally exact here in 1-D: S Φ(T) = 0 makes Φ = k₀U linear);
* transient: surface U = R t on a semi-infinite solid (compatible with T(x, 0) = T₀),
  :math:`U = 4 R t\,i^2\mathrm{erfc}(x / 2\sqrt{\alpha t})` (Carslaw & Jaeger §2.5), for the L2
  error and its order under mesh refinement;
* energy balance with temperature-dependent ρc and k (library tables), flux + convection +
  Dirichlet boundaries, both θ-schemes, and the contact-conductance system.
"""

import numpy as np
import pytest
import ufl
from dolfinx import fem
from mpi4py import MPI

from meshes.boxes import bar, two_blocks
from thermo.problem import (
    MATERIALS,
    ContactConductance,
    ConvectionBC,
    FluxBC,
    HeatProblem,
    History,
    Material,
    TemperatureBC,
    TimeStepping,
)
from thermo.properties import Property
from thermo.solver import solve_transient

K0, RHO, C0, T0 = 85.0, 14900.0, 220.0, 20.0
BETA = 1.0 / 500.0  # k doubles over 500 K
ALPHA = K0 / (RHO * C0)


def _linear(value0, lo=T0 - 100.0, hi=T0 + 1500.0):
    """Table of value0 (1 + β (T − T0)) over [lo, hi] (linear inside: exact)."""
    pts = [[t, value0 * (1 + BETA * (t - T0))] for t in (lo, hi)]
    return Property.from_points(pts, source="test", key="k")


def _kirchhoff_T(U):
    return T0 + (np.sqrt(1 + 2 * BETA * U) - 1) / BETA


def _U(T):
    return (T - T0) + BETA * (T - T0) ** 2 / 2


@pytest.mark.parametrize("solver", ["mumps", "gamg"])
def test_steady_slab_kirchhoff(solver):
    length, ta, tb = 0.01, 20.0, 520.0
    mat = Material(k=_linear(K0), rho=RHO, c=C0)
    problem = HeatProblem(
        materials={"bar": mat},
        boundaries={
            "x0": TemperatureBC(History.constant(ta)),
            "x1": TemperatureBC(History.constant(tb)),
        },
        time=TimeStepping(dt=1e4, t_end=3e4, T0=T0),
        linear_solver=solver,
        rtol=1e-12,
    )
    xs = np.linspace(0.0, length, 11)
    result = solve_transient(
        bar(lengths=(length,), cells=(20,)),
        problem,
        probes={f"p{i}": (x, 0.0, 0.0) for i, x in enumerate(xs)},
    )
    exact = _kirchhoff_T(_U(ta) + (_U(tb) - _U(ta)) * xs / length)
    got = np.array([result.probes[f"p{i}"][-1] for i in range(len(xs))])
    err = float(np.max(np.abs(got - exact)))
    # the constant-k solution is linear; the exact one bows by ~40 K: the test sees k(T)
    bow = float(np.max(np.abs(exact - (ta + (tb - ta) * xs / length))))
    print(f"steady slab ({solver}): max nodal error {err:.2e} K, bow from linear {bow:.1f} K")
    assert bow > 30.0
    assert err < 1e-6


def _ramp_problem(*, dt, t_end=1.0, rise=560.0):
    """Surface U = R t, i.e. T_s(t) from the back-transform, sampled at every step time."""
    times = np.linspace(0.0, t_end, round(t_end / dt) + 1)
    g = History(times=times, values=_kirchhoff_T(rise / t_end * times))
    mat = Material(k=_linear(K0), rho=RHO, c=_linear(C0))
    return HeatProblem(
        materials={"bar": mat},
        boundaries={"x0": TemperatureBC(g)},
        time=TimeStepping(dt=dt, t_end=t_end, T0=T0, scheme="crank-nicolson"),
        linear_solver="mumps",
        rtol=1e-12,
    ), rise / t_end


def _l2_error(T, t, rate):
    x = ufl.SpatialCoordinate(T.function_space.mesh)
    z = x[0] / (2.0 * np.sqrt(ALPHA * t))
    i2erfc = 0.25 * ((1 + 2 * z**2) * (1 - ufl.erf(z)) - 2 / np.sqrt(np.pi) * z * ufl.exp(-(z**2)))
    U = 4 * rate * t * i2erfc
    exact = T0 + (ufl.sqrt(1 + 2 * BETA * U) - 1) / BETA
    dx = ufl.dx(metadata={"quadrature_degree": 6})
    comm = T.function_space.mesh.comm
    err2 = comm.allreduce(fem.assemble_scalar(fem.form((T - exact) ** 2 * dx)), op=MPI.SUM)
    ref2 = comm.allreduce(fem.assemble_scalar(fem.form((exact - T0) ** 2 * dx)), op=MPI.SUM)
    return float(np.sqrt(err2)), float(np.sqrt(ref2))


def test_transient_kirchhoff_space_order_p1():
    errors, rels = [], []
    for n in (20, 40, 80):
        problem, rate = _ramp_problem(dt=2e-3)
        result = solve_transient(bar(lengths=(0.04,), cells=(n,)), problem)
        err, ref = _l2_error(result.final, 1.0, rate)
        errors.append(err)
        rels.append(err / ref)
        assert abs(result.energy["balance_rel"]) < 1e-6
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    print(f"Kirchhoff transient: L2 errors {errors} (relative {rels}), orders {orders}")
    assert rels[-1] < 2e-3
    assert orders[-1] > 1.8


def _energy_problem(scheme, *, contact=False):
    wc, steel = MATERIALS["wc-co-t"], MATERIALS["42crmo4-t"]
    q = History(times=np.array([0.0, 0.5, 1.0]), values=np.array([0.0, 1e7, 5e6]))
    return HeatProblem(
        materials={"left": wc, "right": steel} if contact else {"bar": wc},
        boundaries={
            "x0": FluxBC(q),
            "x1": TemperatureBC(History.constant(20.0)),
            "y0": ConvectionBC(h=2e3, T_inf=20.0),
        },
        contact={"interface": ContactConductance(h_c=5e4)} if contact else {},
        time=TimeStepping(dt=0.05, t_end=1.0, T0=20.0, scheme=scheme),
        rtol=1e-12,
    )


@pytest.mark.parametrize("scheme", ["backward-euler", "crank-nicolson"])
def test_energy_balance_temperature_dependent(scheme):
    mesh = bar(lengths=(0.01, 0.002, 0.002), cells=(20, 3, 3))
    result = solve_transient(mesh, _energy_problem(scheme), probes={"S": (0.0, 0.001, 0.001)})
    e = result.energy
    rise = result.probes["S"].max() - 20.0
    print(f"{scheme}: energy {e}, surface rise {rise:.1f} K, timings {result.timings}")
    assert rise > 200.0  # k and c vary by > 10 % over the run
    assert e["heat_in_flux_J"] > 0 and e["lost_J"] > 0 and e["heat_in_dirichlet_J"] < 0
    assert abs(e["balance_rel"]) < 1e-6


def test_energy_balance_contact_conductance():
    blocks = two_blocks(
        length_left=0.005,
        length_right=0.005,
        cells_left=8,
        cells_right=8,
        cross_section=(0.002, 0.002),
        cross_cells=(2, 2),
    )
    points = {"L": (0.0049, 0.001, 0.001), "R": (0.0051, 0.001, 0.001)}
    result = solve_transient(blocks, _energy_problem("backward-euler", contact=True), probes=points)
    e = result.energy
    jump = result.probes["L"][-1] - result.probes["R"][-1]
    print(f"contact: energy {e}, interface jump {jump:.2f} K")
    assert jump > 1.0
    assert abs(e["balance_rel"]) < 1e-6


def test_constant_tables_take_the_linear_path():
    """A one-point or flat table is a constant: same numbers as floats, linear solver."""
    flat = Property.from_points([[0.0, K0], [900.0, K0]], source="test", key="k")
    mats = [Material(k=K0, rho=RHO, c=C0), Material(k=flat, rho=RHO, c=C0)]
    assert all(m.is_constant for m in mats)
    runs = []
    for mat in mats:
        problem = HeatProblem(
            materials={"bar": mat},
            boundaries={"x0": FluxBC(History.constant(1e6))},
            time=TimeStepping(dt=0.05, t_end=0.2),
            linear_solver="mumps",
        )
        runs.append(solve_transient(bar(lengths=(0.01,), cells=(10,)), problem, probes={"a": (0,)}))
    assert "newton_iterations" not in runs[1].timings
    # a flat table is stored as the constant: the same linear path runs twice in this process
    np.testing.assert_allclose(runs[0].probes["a"], runs[1].probes["a"], rtol=1e-12)
    assert runs[0].probes["a"][-1] > 25.0


def test_nonlinear_matches_linear_for_weak_dependence():
    """β → 0: the Newton path reproduces the linear solver (a table with a 1e-9 slope)."""
    tiny = Property.from_points([[0.0, K0], [1000.0, K0 * (1 + 1e-9)]], source="t", key="k")
    runs = []
    for k in (K0, tiny):
        problem = HeatProblem(
            materials={"bar": Material(k=k, rho=RHO, c=C0)},
            boundaries={
                "x0": FluxBC(History(np.array([0.0, 0.5]), np.array([0.0, 2e6]))),
                "x1": ConvectionBC(h=500.0, T_inf=20.0),
            },
            time=TimeStepping(dt=0.02, t_end=0.5, scheme="crank-nicolson"),
            rtol=1e-12,
        )
        mesh = bar(lengths=(0.01, 0.002, 0.002), cells=(10, 2, 2))
        runs.append(solve_transient(mesh, problem, probes={"a": (0.0, 0.001, 0.001)}))
    assert "newton_iterations" in runs[1].timings
    rise = runs[0].probes["a"][-1] - 20.0
    assert rise > 10.0
    np.testing.assert_allclose(runs[1].probes["a"], runs[0].probes["a"], atol=1e-6 * rise)


def test_nonlinear_outputs_and_observers(tmp_path):
    """Field series, snapshots, on_step and a user observer see the Newton steps too."""
    from thermo.output import StepObserver

    class Peak(StepObserver):
        def __init__(self):
            self.steps, self.peak = [], -np.inf

        def __call__(self, step, t, functions):
            self.steps.append(step)
            self.peak = max(self.peak, float(functions[0].x.array.max()))

    seen, peak = [], Peak()
    problem = HeatProblem(
        materials={"bar": MATERIALS["wc-co-t"]},
        boundaries={"x0": FluxBC(History.constant(5e6))},
        time=TimeStepping(dt=0.1, t_end=0.3),
    )
    result = solve_transient(
        bar(lengths=(0.01, 0.002, 0.002), cells=(6, 1, 1)),
        problem,
        out_dir=tmp_path,
        fields="xdmf",
        snapshot_times=(0.3,),
        on_step=lambda n, t, T: seen.append(n),
        observers=[peak],
    )
    names = {p.name for p in tmp_path.iterdir()}
    assert {"probes.csv", "T.xdmf", "T.h5", "T_0.3s.png"} <= names
    assert not [n for n in names if n.startswith(".")]  # nothing staged or partial left
    assert seen == peak.steps == [0, 1, 2, 3]
    assert peak.peak == pytest.approx(float(result.final.x.array.max()))
    assert result.timings["newton_iterations"] >= 3

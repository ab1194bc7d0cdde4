r"""Specification of a transient heat-conduction problem, independent of any mesh or solver.

The physics (paper 000, eq. 9) on a body :math:`\Omega = \bigcup_i \Omega_i` of volume groups:

.. math::

    \rho_i c_i \,\partial_t T = \nabla\cdot(k_i \nabla T) \quad \text{in } \Omega_i, \qquad
    T(x, 0) = T_0,

with, on named facet groups,

* ``TemperatureBC``: :math:`T = g(t)` (Dirichlet, °C),
* ``FluxBC``: :math:`k\,\partial_n T = q(t)` (W/m², positive *into* the body),
* ``ConvectionBC``: :math:`-k\,\partial_n T = h\,(T - T_\infty)` (h in W/(m² K)),
* ``InsulatedBC``: :math:`\partial_n T = 0` (also the default on unnamed boundary),

and on interior interface groups either perfect contact (continuous T) or a
``ContactConductance``: :math:`-k\,\partial_n T^{\pm} = h_c\,[\![T]\!]` (h_c in W/(m² K)).

Units are SI throughout (m, s, W, kg, J); temperatures are in °C (differences in K).
Everything here is plain Python/NumPy so that case files can be validated before DOLFINx loads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from thermo.properties import Property, PropertyLike, as_property

Scheme = Literal["backward-euler", "crank-nicolson"]
LinearSolver = Literal["gamg", "mumps"]


def _check_positive(owner: str, **values: float) -> None:
    for name, value in values.items():
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ValueError(f"{owner}: {name} must be a positive finite number, got {value!r}")


@dataclass(frozen=True)
class Material:
    """Thermal properties of one volume group: constants or tables of temperature.

    Each of ``k``, ``rho``, ``c`` is a positive float or a :class:`thermo.properties.Property`
    (piecewise linear in T, constant outside its table). A property that does not vary (one
    point, or all values equal) is stored as a float, so a material is either fully constant
    (:attr:`is_constant`: the linear solver) or temperature-dependent (the nonlinear solver,
    :mod:`thermo.nonlinear`).

    Attributes:
        k: thermal conductivity, W/(m K).
        rho: density, kg/m³.
        c: specific heat capacity, J/(kg K).
    """

    k: PropertyLike
    rho: PropertyLike
    c: PropertyLike

    def __post_init__(self) -> None:
        for name in ("k", "rho", "c"):
            value = getattr(self, name)
            if isinstance(value, Property):
                if value.is_constant:
                    object.__setattr__(self, name, float(value.values[0]))
            else:
                _check_positive("Material", **{name: value})

    @property
    def is_constant(self) -> bool:
        """True when no property depends on temperature."""
        return not any(isinstance(getattr(self, n), Property) for n in ("k", "rho", "c"))

    def at(self, T: float) -> Material:
        """The constant material with every property evaluated at ``T`` (°C).

        This is the linearisation of a temperature-dependent material at a reference
        temperature (e.g. for the linear-response model beside a nonlinear one).
        """
        return Material(**{n: float(as_property(getattr(self, n))(T)) for n in ("k", "rho", "c")})

    def as_json(self) -> dict:
        """``{"k": ..., "rho": ..., "c": ...}`` with numbers or ``{"points": [[T, v], ...]}``."""
        return {n: as_property(getattr(self, n)).as_json() for n in ("k", "rho", "c")}

    @property
    def diffusivity(self) -> float:
        """Thermal diffusivity α = k / (ρ c), m²/s (constant materials; else use :meth:`at`)."""
        if not self.is_constant:
            raise ValueError(
                "Material.diffusivity: the material has temperature-dependent properties; "
                "use material.at(T).diffusivity for the value at a temperature T (°C)"
            )
        return self.k / (self.rho * self.c)


#: Property defaults (DESIGN.md "Physics defaults"). WC–Co: k 80–100 W/(m K), ρ 14 900 kg/m³,
#: c 200–230 J/(kg K) (cemented-carbide data sheets, e.g. Sandvik H13A / ISO K20 grades);
#: 42CrMo4 alloy steel at room temperature: k 42.6, ρ 7850, c 473 (EN 10083-3 property tables).
#:
#: Temperature-dependent variants (names end in ``-T``; the constants stay the default):
#:
#: * ``wc-co-T`` (WC with 6–10 wt% Co, ISO K20-type grade). k falls by about a fifth from room
#:   temperature to 600 °C, the trend reported for straight WC–Co grades in Upadhyaya,
#:   *Cemented Tungsten Carbides* (Noyes 1998, ch. 7) and in manufacturers' data; anchored at the
#:   constant default 85 W/(m K) at 20 °C: k = 85, 77, 68, 64 W/(m K) at 20, 300, 600, 800 °C.
#:   c from the heat capacity of WC (NIST-JANAF / Chase 1998: about 0.20 J/(g K) at 300 K
#:   rising to 0.25 at 1100 K) mixed with 6–10 % Co by mass, anchored at the default 220:
#:   c = 220, 236, 250, 262, 272 J/(kg K) at 20, 200, 400, 600, 800 °C. ρ constant 14 900.
#:   Representative values, not a certified grade: replace them by your grade's data sheet.
#: * ``42crmo4-T`` (quenched-and-tempered 42CrMo4 / AISI 4140). k from 42.6 W/(m K) at 20 °C
#:   (as the constant default, EN 10083-3) falling to about 30 at 600 °C, the range of
#:   JMatPro-type and steel makers' tables for CrMo steels (e.g. ASM Handbook vol. 1, AISI 4140):
#:   k = 42.6, 42.3, 40.6, 38.6, 36.3, 33.5, 30.5, 28.0, 26.5 at 20, 100, ..., 800 °C.
#:   c from EN 1993-1-2 §3.4.1.2 (carbon steel: 425 + 0.773 T − 1.69e-3 T² + 2.22e-6 T³ below
#:   600 °C, the magnetic-transition peak at 735 °C, 650 above 900 °C), sampled at the points
#:   below (the peak itself, 5000 J/(kg K), is kept; the enthalpy form integrates it exactly).
#:   ρ constant 7850. Note c(20 °C) = 440 here against 473 in the constant default (different
#:   sources; both within the scatter of low-alloy steels).
_WC_K = ((20.0, 85.0), (300.0, 77.0), (600.0, 68.0), (800.0, 64.0))
_WC_C = ((20.0, 220.0), (200.0, 236.0), (400.0, 250.0), (600.0, 262.0), (800.0, 272.0))
_STEEL_K = tuple(
    zip(
        (20.0, 100.0, 200.0, 300.0, 400.0, 500.0, 600.0, 700.0, 800.0),
        (42.6, 42.3, 40.6, 38.6, 36.3, 33.5, 30.5, 28.0, 26.5),
        strict=True,
    )
)
_STEEL_C = tuple(
    zip(
        (20.0, 100.0, 200.0, 300.0, 400.0, 500.0, 600.0, 650.0, 700.0, 720.0, 735.0, 750.0)
        + (800.0, 900.0),
        (439.8, 487.6, 529.8, 564.7, 605.9, 666.5, 760.2, 813.8, 1008.2, 1388.3, 5000.0, 1482.9)
        + (803.3, 650.0),
        strict=True,
    )
)


def _library(points, key: str) -> Property:
    return Property.from_points(points, source="thermo.problem.MATERIALS", key=key)


MATERIALS: dict[str, Material] = {
    "wc-co": Material(k=85.0, rho=14900.0, c=220.0),
    "42crmo4": Material(k=42.6, rho=7850.0, c=473.0),
    "wc-co-t": Material(
        k=_library(_WC_K, "wc-co-T.k"), rho=14900.0, c=_library(_WC_C, "wc-co-T.c")
    ),
    "42crmo4-t": Material(
        k=_library(_STEEL_K, "42crmo4-T.k"), rho=7850.0, c=_library(_STEEL_C, "42crmo4-T.c")
    ),
}


def material(name: str) -> Material:
    """Look a material up in :data:`MATERIALS` by (case-insensitive) name, e.g. ``"wc-co-T"``."""
    key = name.lower()
    if key not in MATERIALS:
        raise KeyError(f"unknown material {name!r}; known: {', '.join(sorted(MATERIALS))}")
    return MATERIALS[key]


@dataclass(frozen=True)
class History:
    """A scalar function of time given as a table, linear in between and constant outside.

    Attributes:
        times: strictly increasing sample times, s, shape (n,).
        values: values at those times, shape (n,), unit of the quantity it describes.
    """

    times: np.ndarray
    values: np.ndarray

    def __post_init__(self) -> None:
        t = np.asarray(self.times, dtype=float).reshape(-1)
        v = np.asarray(self.values, dtype=float).reshape(-1)
        if t.size == 0 or t.shape != v.shape:
            raise ValueError(
                f"History: times and values need the same non-zero length, got "
                f"{t.shape} and {v.shape}"
            )
        if not (np.all(np.isfinite(t)) and np.all(np.isfinite(v))):
            raise ValueError("History: times and values must be finite (no NaN/inf)")
        if t.size > 1 and np.any(np.diff(t) <= 0):
            raise ValueError("History: times must be strictly increasing")
        object.__setattr__(self, "times", t)
        object.__setattr__(self, "values", v)

    @classmethod
    def constant(cls, value: float) -> History:
        """A history that is ``value`` at all times."""
        return cls(times=np.array([0.0]), values=np.array([float(value)]))

    def __call__(self, t: float | np.ndarray) -> float | np.ndarray:
        """Value at time(s) ``t`` (s)."""
        out = np.interp(t, self.times, self.values)
        return float(out) if np.ndim(out) == 0 else out


@dataclass(frozen=True)
class TemperatureBC:
    """Prescribed temperature T = value(t), °C (Dirichlet)."""

    value: History


@dataclass(frozen=True)
class FluxBC:
    """Prescribed heat flux into the body, k ∂T/∂n = value(t), W/m²."""

    value: History


@dataclass(frozen=True)
class ConvectionBC:
    """Newton cooling, −k ∂T/∂n = h (T − T_inf); h in W/(m² K), T_inf in °C."""

    h: float
    T_inf: float = 20.0

    def __post_init__(self) -> None:
        _check_positive("ConvectionBC", h=self.h)
        if not math.isfinite(self.T_inf):
            raise ValueError("ConvectionBC: T_inf must be finite")


@dataclass(frozen=True)
class InsulatedBC:
    """Adiabatic boundary, ∂T/∂n = 0."""


BoundaryCondition = TemperatureBC | FluxBC | ConvectionBC | InsulatedBC


@dataclass(frozen=True)
class ContactConductance:
    """Imperfect thermal contact across an interior interface: q = h_c [[T]], h_c in W/(m² K)."""

    h_c: float

    def __post_init__(self) -> None:
        _check_positive("ContactConductance", h_c=self.h_c)


@dataclass(frozen=True)
class TimeStepping:
    """Uniform time stepping from 0 to ``t_end`` with step ``dt`` (s) from uniform ``T0`` (°C).

    ``scheme`` is the θ-method: backward Euler (θ = 1, first order, L-stable) or Crank–Nicolson
    (θ = 1/2, second order, A-stable).
    """

    dt: float
    t_end: float
    T0: float = 20.0
    scheme: Scheme = "backward-euler"

    def __post_init__(self) -> None:
        _check_positive("TimeStepping", dt=self.dt, t_end=self.t_end)
        if self.scheme not in ("backward-euler", "crank-nicolson"):
            raise ValueError(
                f"TimeStepping: scheme must be 'backward-euler' or 'crank-nicolson', "
                f"got {self.scheme!r}"
            )
        steps = self.t_end / self.dt
        if abs(steps - round(steps)) > 1e-9 * max(1.0, steps):
            raise ValueError(f"TimeStepping: t_end={self.t_end} is not a multiple of dt={self.dt}")

    @property
    def theta(self) -> float:
        """θ of the θ-method."""
        return 1.0 if self.scheme == "backward-euler" else 0.5

    @property
    def n_steps(self) -> int:
        """Number of time steps."""
        return round(self.t_end / self.dt)

    @property
    def times(self) -> np.ndarray:
        """Time levels 0, dt, …, t_end, shape (n_steps + 1,)."""
        return np.linspace(0.0, self.n_steps * self.dt, self.n_steps + 1)


@dataclass(frozen=True)
class HeatProblem:
    """Everything the transient solver needs besides the mesh.

    Attributes:
        materials: volume group name → material; every volume group of the mesh needs one.
        boundaries: facet group name → boundary condition; unnamed boundary is insulated.
        contact: interior interface group name → contact conductance; empty means perfect
            contact (one continuous field).
        time: time stepping.
        linear_solver: "gamg" (CG + smoothed-aggregation AMG, default) or "mumps" (direct LU).
        rtol: relative residual tolerance of the iterative solver.
        newton_rtol: with temperature-dependent materials, Newton stops in a step when the
            residual norm fell by this factor from the step's first residual (or the update is
            below ``newton_rtol`` × (1 + max |T|)); see :mod:`thermo.nonlinear`.
        newton_max_it: Newton iterations allowed per step before the solver raises.
    """

    materials: Mapping[str, Material]
    boundaries: Mapping[str, BoundaryCondition]
    time: TimeStepping
    contact: Mapping[str, ContactConductance] = field(default_factory=dict)
    linear_solver: LinearSolver = "gamg"
    rtol: float = 1e-10
    newton_rtol: float = 1e-10
    newton_max_it: int = 30

    @property
    def is_nonlinear(self) -> bool:
        """True when any material property is a table of temperature (Newton per step)."""
        return not all(m.is_constant for m in self.materials.values())

    def __post_init__(self) -> None:
        if not self.materials:
            raise ValueError("HeatProblem: at least one material is needed")
        if self.linear_solver not in ("gamg", "mumps"):
            raise ValueError(
                f"HeatProblem: linear_solver must be 'gamg' or 'mumps', got {self.linear_solver!r}"
            )
        _check_positive("HeatProblem", rtol=self.rtol, newton_rtol=self.newton_rtol)
        if not (isinstance(self.newton_max_it, int) and self.newton_max_it >= 1):
            raise ValueError(
                f"HeatProblem: newton_max_it must be an integer >= 1, got {self.newton_max_it!r}"
            )
        clash = set(self.boundaries) & set(self.contact)
        if clash:
            raise ValueError(f"HeatProblem: groups {sorted(clash)} are both boundary and contact")

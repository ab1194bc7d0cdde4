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

Scheme = Literal["backward-euler", "crank-nicolson"]
LinearSolver = Literal["gamg", "mumps"]


def _check_positive(owner: str, **values: float) -> None:
    for name, value in values.items():
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ValueError(f"{owner}: {name} must be a positive finite number, got {value!r}")


@dataclass(frozen=True)
class Material:
    """Constant thermal properties of one volume group.

    Attributes:
        k: thermal conductivity, W/(m K).
        rho: density, kg/m³.
        c: specific heat capacity, J/(kg K).
    """

    k: float
    rho: float
    c: float

    def __post_init__(self) -> None:
        _check_positive("Material", k=self.k, rho=self.rho, c=self.c)

    @property
    def diffusivity(self) -> float:
        """Thermal diffusivity α = k / (ρ c), m²/s."""
        return self.k / (self.rho * self.c)


#: Property defaults (DESIGN.md "Physics defaults"). WC–Co: k 80–100 W/(m K), ρ 14 900 kg/m³,
#: c 200–230 J/(kg K) (cemented-carbide data sheets, e.g. Sandvik H13A / ISO K20 grades);
#: 42CrMo4 alloy steel at room temperature: k 42.6, ρ 7850, c 473 (EN 10083-3 property tables).
MATERIALS: dict[str, Material] = {
    "wc-co": Material(k=85.0, rho=14900.0, c=220.0),
    "42crmo4": Material(k=42.6, rho=7850.0, c=473.0),
}


def material(name: str) -> Material:
    """Look a material up in :data:`MATERIALS` by (case-insensitive) name."""
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
    """

    materials: Mapping[str, Material]
    boundaries: Mapping[str, BoundaryCondition]
    time: TimeStepping
    contact: Mapping[str, ContactConductance] = field(default_factory=dict)
    linear_solver: LinearSolver = "gamg"
    rtol: float = 1e-10

    def __post_init__(self) -> None:
        if not self.materials:
            raise ValueError("HeatProblem: at least one material is needed")
        if self.linear_solver not in ("gamg", "mumps"):
            raise ValueError(
                f"HeatProblem: linear_solver must be 'gamg' or 'mumps', got {self.linear_solver!r}"
            )
        clash = set(self.boundaries) & set(self.contact)
        if clash:
            raise ValueError(f"HeatProblem: groups {sorted(clash)} are both boundary and contact")

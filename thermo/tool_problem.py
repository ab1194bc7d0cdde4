"""The cutting tool's forward problem, defined once (paper 000 §3.1, DESIGN.md physics defaults).

The insert–shank–bolt system of :mod:`meshes.tool`: WC–Co inserts (k 85 W/(m K), ρ 14 900 kg/m³,
c 220 J/(kg K)), 42CrMo4 shank and bolts (k 42.6, ρ 7850, c 473), perfect contact on F2 (one
conforming mesh), convection to air on F3 with h = 25 W/(m² K) to 20 °C (rotating cylinder,
Nu = 0.133 Re^(2/3) Pr^(1/3) at 382–636 r/min gives 20–30 W/(m² K)), starting at 20 °C, 12 s of
cutting. The cutting zone F1 is the unknown (the inverse problem's input) unless ``f1`` is given.

The same problem is written out, commented, in ``cases/examples/tool_forward.toml`` (with a
prescribed F1 table); a test checks that the two agree. Every script and benchmark that needs
the tool's forward problem calls :func:`tool_problem`; the response cache key is derived from the
problem and the mesh geometry themselves (:func:`thermo.inverse.linear_response.cache_key`).
"""

from __future__ import annotations

from collections.abc import Mapping

from thermo.problem import (
    BoundaryCondition,
    ConvectionBC,
    HeatProblem,
    Material,
    TimeStepping,
    material,
)

#: Material name of each volume group of the built-in tool.
TOOL_MATERIALS: dict[str, str] = {"insert": "wc-co", "shank": "42crmo4", "bolt": "42crmo4"}
#: F3 heat-transfer coefficient to air, W/(m² K) (module docstring).
H_F3 = 25.0
#: Ambient and initial temperature, °C.
T_AMBIENT = 20.0
#: Duration of the cut, s (paper 000 Fig. 10 runs to 12 s).
T_END = 12.0
#: Default time step, s (240 steps to 12 s).
DT = 0.05


def tool_problem(
    *,
    dt: float = DT,
    t_end: float = T_END,
    h_F3: float = H_F3,
    T0: float = T_AMBIENT,
    f1: BoundaryCondition | None = None,
    scheme: str = "backward-euler",
    materials: Mapping[str, Material] | None = None,
) -> HeatProblem:
    """The tool's forward problem (module docstring); ``f1`` adds a boundary condition on F1.

    Args:
        dt: time step s.
        t_end: end time s.
        h_F3: F3 convection coefficient W/(m² K) (to ``T0``).
        T0: initial and ambient temperature °C.
        f1: F1 condition (``TemperatureBC``/``FluxBC``), or None for the inverse problem.
        scheme: "backward-euler" or "crank-nicolson".
        materials: volume group → material, default :data:`TOOL_MATERIALS` from the library.
    """
    mats = (
        dict(materials)
        if materials is not None
        else {group: material(name) for group, name in TOOL_MATERIALS.items()}
    )
    boundaries: dict[str, BoundaryCondition] = {"F3": ConvectionBC(h=h_F3, T_inf=T0)}
    if f1 is not None:
        boundaries["F1"] = f1
    return HeatProblem(
        materials=mats,
        boundaries=boundaries,
        time=TimeStepping(dt=dt, t_end=t_end, T0=T0, scheme=scheme),
    )

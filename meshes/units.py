"""Length unit of a user's mesh file and the plausibility check of its size.

CAD-made Gmsh and Abaqus meshes usually come in millimetres; millheat computes in metres. A mesh
read with the wrong unit is off by 1000 in every length, and the temperatures it gives are
meaningless (10⁶ in every area, 10⁹ in every volume), so it must not pass silently:

* :func:`unit_scale` maps ``"m"`` → 1 and ``"mm"`` → 1e-3 (metres per mesh unit); the loaders
  (:func:`meshes.io.load_mesh`, :func:`meshes.convert.convert_mesh`) scale the coordinates to
  metres on load. Probe coordinates given in a case file, sensors side files (which carry their
  own ``units``) and every output stay in metres.
* :func:`check_span` refuses a mesh whose largest bounding-box edge, in metres after scaling, is
  above ``max_span`` (default :data:`MAX_SPAN_M` = 2 m: a milling tool with its holder, a test
  specimen or a workpiece fixture is well below it, while a tool drawn in mm and read as metres
  spans 10–100 m), or, for a mesh declared in mm, below :data:`MIN_SPAN_MM_M` = 0.5 mm (an insert's
  cutting corner alone is ~1 mm, so a whole mesh under 0.5 mm after the mm → m scaling was almost
  certainly in metres already: a 60 mm tool in metres read as mm spans 0.06 mm). A genuinely
  larger metre mesh (a machine-tool structure) passes with a larger ``max_span``.

Standard library only (no DOLFINx, no Gmsh).
"""

from __future__ import annotations

#: Metres per mesh unit.
UNITS: dict[str, float] = {"m": 1.0, "mm": 1.0e-3}
#: Largest plausible bounding-box edge (m) of a mesh, by default.
MAX_SPAN_M = 2.0
#: Smallest plausible bounding-box edge (m, after scaling) of a mesh declared in millimetres.
MIN_SPAN_MM_M = 0.5e-3


class MeshUnitError(ValueError):
    """A mesh's size does not fit its declared unit (or the unit is not one of :data:`UNITS`)."""


def unit_scale(unit: str, *, source: str = "mesh") -> float:
    """Metres per mesh unit for ``unit`` in :data:`UNITS`; :class:`MeshUnitError` otherwise."""
    if unit not in UNITS:
        raise MeshUnitError(
            f"{source}: unit {unit!r} is not supported; expected one of "
            + ", ".join(f'"{u}"' for u in UNITS)
        )
    return UNITS[unit]


def _fmt(metres: float) -> str:
    return f"{metres:.3g} m" if metres >= 0.1 else f"{metres * 1e3:.3g} mm"


def span_problem(
    span_m: float,
    unit: str,
    *,
    max_span: float = MAX_SPAN_M,
    set_unit: str = 'set [mesh] unit = "{unit}"',
) -> str | None:
    """What is wrong with a mesh of largest bounding-box edge ``span_m`` (m, after scaling).

    Returns ``None`` when the size is plausible for ``unit``, else one sentence such as
    ``mesh spans 30 m; is it in mm? set [mesh] unit = "mm"``. ``set_unit`` is the advice to the
    user, with ``{unit}`` standing for the unit to set (the case-file key by default; the
    converter passes ``pass unit="{unit}"``).
    """
    if not span_m > 0:
        return f"mesh has no extent (largest bounding-box edge {span_m!r} m)"
    if span_m > max_span:
        if unit == "m":
            advice = set_unit.format(unit="mm")
            return f"mesh spans {_fmt(span_m)}; is it in mm? {advice}"
        return (
            f"mesh spans {_fmt(span_m)} after scaling from {unit}, more than the "
            f"{_fmt(max_span)} allowed; check the mesh's unit"
        )
    if unit == "mm" and span_m < MIN_SPAN_MM_M:
        advice = set_unit.format(unit="m")
        return f"mesh spans {_fmt(span_m)} after scaling from mm; is it already in metres? {advice}"
    return None


def check_span(
    span_m: float,
    unit: str,
    *,
    source: str,
    max_span: float = MAX_SPAN_M,
    set_unit: str = 'pass unit="{unit}"',
) -> None:
    """Raise :class:`MeshUnitError` ``"{source}: {problem}"`` if :func:`span_problem` finds one."""
    problem = span_problem(span_m, unit, max_span=max_span, set_unit=set_unit)
    if problem is not None:
        raise MeshUnitError(f"{source}: {problem}")

"""Dimensions and mesh-size targets of the insert–shank–bolt cutting system (paper 000, Fig. 9).

The data half of :mod:`meshes.tool` (which documents the geometry, the modelling choices and the
mesh sizes): a validated frozen dataclass in metres, shared by the OCC construction
(:mod:`meshes.tool_occ`) and the builder. Imports nothing from millheat.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_MM = 1.0e-3
#: Sensor layouts of the built-in tool (:func:`meshes.tool.sensor_points`).
SENSOR_LAYOUTS: tuple[str, ...] = ("flank", "body")


@dataclass(frozen=True)
class ToolGeometry:
    """Dimensions (m) and mesh-size targets (m) of the insert–shank–bolt cutting system.

    Defaults: 2-flute indexable end mill, cutting diameter 25 mm, APMT 1135-type insert
    (11 × 6.5 × 3.5 mm, 11° clearance), M2.5 clamping screw, cutting zone from paper 000 §3.1
    (ae = 0.2 mm, ap = 8 mm). ``size_factor`` scales every mesh size (smaller → finer).

    Attributes (lengths in m):
        cutting_diameter: D, diameter swept by the cutting edges (25 mm).
        body_diameter, body_length: cutter body below the shank (24 mm, 30 mm).
        shank_diameter, shank_length: cylindrical shank above the body (20 mm, 30 mm).
        n_inserts: number of flutes/inserts, evenly spaced about the axis (2).
        insert_length: along the axis (11 mm); insert_width: radial (6.5 mm);
            insert_thickness: normal to the rake face (3.5 mm).
        clearance_deg: flank clearance angle, degrees (11).
        insert_overhang: axial protrusion of the insert below the body tip (0.5 mm).
        bolt_shaft_diameter, bolt_head_diameter, bolt_head_height: M2.5 screw (2.5, 4.0, 1.2 mm);
            bolt_thread_length: shaft length in the body beyond the insert (1.5 mm).
        gash_depth: chip gash in front of the rake face, tangential depth (4 mm).
        ae: radial depth of cut = rake-face width of F1 (0.2 mm, paper 000 §3.1 and §4.2).
        ap: axial depth of cut = length of F1 along the edge from the insert tip (8 mm).
        flank_contact_width: flank-face width of F1 (0.1 mm; 0 = rake strip only).
        h_f1, h_insert, h_body: target element sizes on F1, in inserts/bolts, elsewhere
            (0.15, 0.8, 4 mm), each multiplied by ``size_factor``.
        refine_distance: distance from F1 at which the size has grown to h_insert (3 mm).
        size_factor: mesh knob, see :data:`MEASURED_DOFS` and :func:`size_factor_for_dofs`.
        sensor_layout: where the sensors S1..S4 sit (:func:`meshes.tool.sensor_points`):
            ``"flank"`` (thin-film thermocouples on the insert flank, 0.5–2 mm from the edge,
            the default) or ``"body"`` (thermocouples in blind holes in the cutter body above
            the insert seat, whose signals fall in the range paper 000's own fit figures imply).
    """

    cutting_diameter: float = 25.0 * _MM
    body_diameter: float = 24.0 * _MM
    body_length: float = 30.0 * _MM
    shank_diameter: float = 20.0 * _MM
    shank_length: float = 30.0 * _MM
    n_inserts: int = 2
    insert_length: float = 11.0 * _MM
    insert_width: float = 6.5 * _MM
    insert_thickness: float = 3.5 * _MM
    clearance_deg: float = 11.0
    insert_overhang: float = 0.5 * _MM
    bolt_shaft_diameter: float = 2.5 * _MM
    bolt_head_diameter: float = 4.0 * _MM
    bolt_head_height: float = 1.2 * _MM
    bolt_thread_length: float = 1.5 * _MM
    gash_depth: float = 4.0 * _MM
    ae: float = 0.2 * _MM
    ap: float = 8.0 * _MM
    flank_contact_width: float = 0.1 * _MM
    h_f1: float = 0.15 * _MM
    h_insert: float = 0.8 * _MM
    h_body: float = 4.0 * _MM
    refine_distance: float = 3.0 * _MM
    size_factor: float = 1.0
    sensor_layout: str = "flank"

    def __post_init__(self) -> None:
        if not (isinstance(self.n_inserts, int) and 1 <= self.n_inserts <= 8):
            raise ValueError(
                f"ToolGeometry.n_inserts must be an int in 1..8, got {self.n_inserts!r}"
            )
        if self.sensor_layout not in SENSOR_LAYOUTS:
            raise ValueError(
                f"ToolGeometry.sensor_layout must be one of {SENSOR_LAYOUTS}, got "
                f"{self.sensor_layout!r}"
            )
        for f in dataclasses.fields(self):
            if f.name in ("size_factor", "sensor_layout"):
                continue
            value = getattr(self, f.name)
            ok = isinstance(value, int | float) and math.isfinite(value) and value >= 0
            if not ok or (value == 0 and f.name != "flank_contact_width"):
                raise ValueError(f"ToolGeometry.{f.name} must be a positive number, got {value!r}")
        if not (isinstance(self.size_factor, int | float) and 0 < self.size_factor < 100):
            raise ValueError(
                f"ToolGeometry.size_factor must be in (0, 100), got {self.size_factor!r}"
            )
        self._check_consistency()

    def _check_consistency(self) -> None:
        r_c, r_b = 0.5 * self.cutting_diameter, 0.5 * self.body_diameter
        x_b = r_c - 0.5 * self.insert_width  # bolt axis
        y_end = self.insert_thickness + self.bolt_thread_length
        rules = (
            (r_b < r_c, "body_diameter must be smaller than cutting_diameter"),
            (self.insert_width < r_c, "insert_width must be smaller than cutting_diameter / 2"),
            (self.ap <= self.insert_length, "ap must not exceed insert_length"),
            (self.ae < 0.5 * self.insert_width, "ae (F1 rake width) must be below insert_width/2"),
            (
                self.flank_contact_width < 0.5 * self.insert_thickness,
                "flank_contact_width must be below insert_thickness / 2",
            ),
            (
                self.bolt_shaft_diameter < self.bolt_head_diameter,
                "bolt_head_diameter must exceed bolt_shaft_diameter",
            ),
            (
                self.bolt_head_height < self.insert_thickness,
                "bolt_head_height must be below insert_thickness",
            ),
            (
                math.hypot(x_b + 0.5 * self.bolt_shaft_diameter, y_end) <= r_b - 0.3 * _MM,
                "bolt shaft ends within 0.3 mm of the body surface: shorten bolt_thread_length",
            ),
            (
                x_b + 0.5 * self.bolt_head_diameter < r_c - self.ae,
                "bolt head overlaps the F1 strip: reduce bolt_head_diameter",
            ),
            (
                self.insert_length - self.insert_overhang < self.body_length,
                "insert_length - insert_overhang must be below body_length",
            ),
            (0 < self.clearance_deg < 30, "clearance_deg must be in (0, 30)"),
        )
        problems = [message for ok, message in rules if not ok]
        if problems:
            raise ValueError("ToolGeometry: " + "; ".join(problems))

    @classmethod
    def from_mapping(cls, params: Mapping[str, Any], *, source: str = "<params>") -> ToolGeometry:
        """Build from a mapping of field names (SI units), e.g. a TOML ``[mesh.params]`` table.

        Raises ``KeyError`` naming ``source`` and the unknown keys, ``ValueError`` on bad values.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(params) - known)
        if unknown:
            raise KeyError(
                f"{source}: unknown tool-geometry parameter(s) {unknown}; known: {sorted(known)}"
            )
        try:
            return cls(**dict(params))
        except ValueError as err:
            raise ValueError(f"{source}: {err}") from err

    @property
    def insert_tip_z(self) -> float:
        """Axial coordinate (m) of the insert's lower end (tip), below the body tip z = 0."""
        return -self.insert_overhang

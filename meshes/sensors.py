r"""Thin-film thermocouple (TFTC) positions S1..S4 on the insert's flank, and their JSON side file.

Paper 000 §3.1 measures four points on the flank ("back face") of the insert close to the main
cutting edge with an embedded TFTC array; it gives no coordinates. We place them on insert 0 of
:class:`meshes.tool.ToolGeometry` at increasing distance from the cutting zone F1, so that each
carries different information for an inverse method:

.. math::

    \mathbf{x}_i = \mathbf{e}(z_i) + d_i\,\mathbf{u} - \delta\,\mathbf{n},\qquad
    \mathbf{e}(z) = (D/2,\ 0,\ z),\quad
    \mathbf{u} = (-\sin\alpha,\ -\cos\alpha,\ 0),\quad
    \mathbf{n} = (\cos\alpha,\ -\sin\alpha,\ 0),

with :math:`\alpha` the clearance angle, :math:`\mathbf{u}` the unit vector down the flank away
from the edge, :math:`\mathbf{n}` the flank's outward normal, :math:`d_i` the distance from the
edge along the flank (default 0.5, 1.0, 1.5, 2.0 mm), :math:`z_i` the height above the insert tip
(default 2, 4, 6, 9.5 mm; S4 lies beyond ap = 8 mm) and :math:`\delta` = 0.1 mm the depth below the
surface, so that point evaluation never falls on a facet of the boundary.

The side file ``<name>.sensors.json`` beside ``<name>.msh`` holds
``{"units": "m", "description": ..., "sensors": {"S1": [x, y, z], ...}}``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from meshes.tool import ToolGeometry
from thermo.atomic import atomic_write_json

SENSOR_NAMES: tuple[str, ...] = ("S1", "S2", "S3", "S4")
DEFAULT_EDGE_DISTANCES: tuple[float, ...] = (0.5e-3, 1.0e-3, 1.5e-3, 2.0e-3)
DEFAULT_HEIGHTS: tuple[float, ...] = (2.0e-3, 4.0e-3, 6.0e-3, 9.5e-3)
DEFAULT_DEPTH = 0.1e-3


def sensor_points(
    geometry: ToolGeometry,
    *,
    edge_distances: Sequence[float] = DEFAULT_EDGE_DISTANCES,
    heights: Sequence[float] = DEFAULT_HEIGHTS,
    depth: float = DEFAULT_DEPTH,
) -> dict[str, np.ndarray]:
    """Sensor coordinates (m), name → array of shape (3,), on the flank of insert 0.

    Args:
        geometry: the tool the sensors belong to.
        edge_distances: distance d_i (m) from the cutting edge along the flank, one per sensor.
        heights: height z_i (m) above the insert tip, one per sensor.
        depth: distance δ (m) below the flank surface.
    """
    if len(edge_distances) != len(heights):
        raise ValueError(
            f"sensor_points: edge_distances ({len(edge_distances)}) and heights ({len(heights)}) "
            "must have the same length"
        )
    names = SENSOR_NAMES if len(heights) == 4 else tuple(f"S{i + 1}" for i in range(len(heights)))
    a = math.radians(geometry.clearance_deg)
    u = np.array([-math.sin(a), -math.cos(a), 0.0])
    n = np.array([math.cos(a), -math.sin(a), 0.0])
    max_d = geometry.insert_thickness / math.cos(a)
    points = {}
    for name, d, h in zip(names, edge_distances, heights, strict=True):
        if not (0 < d < max_d and 0 < h < geometry.insert_length and 0 < depth < d):
            raise ValueError(
                f"sensor {name}: need 0 < depth < edge distance < flank height {max_d:.4g} m and "
                f"0 < height < insert_length {geometry.insert_length:.4g} m; got d={d}, h={h}, "
                f"depth={depth}"
            )
        edge = np.array([0.5 * geometry.cutting_diameter, 0.0, geometry.insert_tip_z + h])
        points[name] = edge + d * u - depth * n
    return points


def sensors_path(mesh_path: str | os.PathLike) -> Path:
    """``<dir>/<name>.sensors.json`` for ``<dir>/<name>.msh``."""
    p = Path(mesh_path)
    return p.with_name(p.stem + ".sensors.json")


def write_sensors(
    path: str | os.PathLike, sensors: Mapping[str, Sequence[float]], *, description: str = ""
) -> Path:
    """Write the sensors JSON atomically (:func:`thermo.atomic.atomic_write_json`)."""
    path = Path(path)
    doc = {
        "units": "m",
        "description": description
        or "Thin-film thermocouple points (paper 000 §3.1), 0.1 mm below the insert flank.",
        "sensors": {k: [float(c) for c in v] for k, v in sensors.items()},
    }
    return atomic_write_json(path, doc)


class _DuplicateKey(Exception):
    pass


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """``json`` object hook that refuses a repeated key (json keeps the last one silently)."""
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(f"sensors.{key}" if isinstance(value, list) else key)
        out[key] = value
    return out


def read_sensors(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a sensors JSON; coordinates converted to metres (``units`` "m" or "mm").

    Raises ``ValueError`` naming the file and field when the content is malformed or a sensor
    name is given twice.
    """
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_unique_keys)
    except _DuplicateKey as err:
        raise ValueError(
            f"{path}: {err.args[0]} is given twice; expected each sensor name once"
        ) from err
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: cannot read sensors JSON ({err})") from err
    if not isinstance(doc, dict) or not isinstance(doc.get("sensors"), dict):
        raise ValueError(f"{path}: expected an object with a 'sensors' object of name -> [x, y, z]")
    scale = {"m": 1.0, "mm": 1.0e-3}.get(doc.get("units", "m"))
    if scale is None:
        raise ValueError(f"{path}: field 'units' must be 'm' or 'mm', got {doc['units']!r}")
    out = {}
    for name, xyz in doc["sensors"].items():
        arr = np.asarray(xyz, dtype=float) if isinstance(xyz, list) else np.empty(0)
        if arr.shape != (3,) or not np.all(np.isfinite(arr)):
            raise ValueError(
                f"{path}: sensors.{name} must be [x, y, z] finite numbers, got {xyz!r}"
            )
        out[name] = scale * arr
    return out

"""The sensors side file: ``<name>.sensors.json`` beside a mesh ``<name>.msh``.

It holds ``{"units": "m" | "mm", "description": ..., "sensors": {"S1": [x, y, z], ...}}`` and
travels with the mesh (:attr:`meshes.tagged.TaggedMesh.sensors`, read back in metres). The tool's
own sensor positions are :func:`meshes.tool.sensor_points`. Standard library and NumPy only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from thermo.atomic import atomic_write_json


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
        raise ValueError(f"{path}: {err.args[0]} is given twice (each sensor name once)") from err
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

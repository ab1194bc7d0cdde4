r"""Temperature-dependent material properties: a constant or a table of temperature.

A :class:`Property` is a continuous piecewise-linear function of temperature through its points
:math:`(T_i, v_i)` (°C, value), **constant outside** the table (the first value below
:math:`T_0`, the last above :math:`T_{n-1}`). One point is a constant. Values are strictly
positive and finite, temperatures strictly increasing.

In case files (``[materials.GROUP]``, keys ``k``, ``rho``, ``c``) a property is written as

* a number: ``k = 85.0``,
* a CSV table next to the case file: ``k = { table = "k.csv" }`` (two columns ``T_C,value``;
  ``#`` starts a comment; an optional header line ``T_C,value``),
* inline points: ``k = { points = [[20.0, 85.0], [800.0, 68.0]] }``.

:func:`parse_property` turns any of these into a ``float`` (constants, which keep the fast linear
solver path) or a :class:`Property`. Errors name the file, the key and the expected form.

**Initial temperature outside a table.** Constant extrapolation makes every temperature
well-defined, so the solver itself never fails there. A table that does not contain the initial
temperature is nevertheless almost always a mistake (most often a table in kelvin for a model in
°C: 293–1073 K against T0 = 20 °C), and it silently turns the property into a constant over the
part of the run that matters. :func:`check_covers` therefore raises :class:`PropertyError`; add a
point at (or below) the initial temperature to extend a table deliberately.

Enthalpy: :meth:`Property.enthalpy_with` integrates the product of two properties,
:math:`H(T) = \int_{T_{ref}}^{T} \rho(s)\,c(s)\,ds` (J/m³), exactly (the product of two
piecewise-linear functions is piecewise quadratic on the union of the breakpoints); the nonlinear
solver uses the same construction in UFL.

Plain NumPy, no DOLFINx: case files are validated before the FEM stack loads.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "Property",
    "PropertyError",
    "PropertyLike",
    "as_property",
    "check_covers",
    "parse_property",
]

_FORM = PROPERTY_FORM = (
    'a positive number, { table = "FILE.csv" } (columns T_C,value) or '
    "{ points = [[T_C, value], ...] } with strictly increasing T_C and positive values"
)


class PropertyError(ValueError):
    """A property value or table is wrong; the message names the source, the key and the form."""


@dataclass(frozen=True, eq=False)
class Property:
    """A property as a function of temperature: linear between points, constant outside.

    Attributes:
        T: temperatures (°C), strictly increasing, shape (n,), n >= 1.
        values: property values (SI unit of the property), positive and finite, shape (n,).
        source: where the points came from (file, case file or ``"library"``), for messages.
        key: what the property is (e.g. ``"materials.insert.k"``), for messages.
    """

    T: np.ndarray
    values: np.ndarray
    source: str = "<python>"
    key: str = "property"

    def __post_init__(self) -> None:
        where = f"{self.source}: {self.key}"
        try:
            t = np.asarray(self.T, dtype=float).reshape(-1)
            v = np.asarray(self.values, dtype=float).reshape(-1)
        except (TypeError, ValueError) as exc:
            raise PropertyError(f"{where}: not numbers ({exc}); expected {_FORM}") from None
        if t.size == 0 or t.shape != v.shape:
            raise PropertyError(
                f"{where}: needs at least one (T_C, value) point with as many temperatures as "
                f"values, got {t.size} and {v.size}; expected {_FORM}"
            )
        if not np.all(np.isfinite(t)):
            raise PropertyError(f"{where}: temperatures must be finite; expected {_FORM}")
        bad = np.flatnonzero(~(np.isfinite(v) & (v > 0)))
        if bad.size:
            i = int(bad[0])
            raise PropertyError(
                f"{where}: value {v[i]!r} at T = {t[i]:g} °C is not a positive finite number; "
                f"expected {_FORM}"
            )
        steps = np.flatnonzero(np.diff(t) <= 0)
        if steps.size:
            i = int(steps[0])
            raise PropertyError(
                f"{where}: temperatures must be strictly increasing, got {t[i]:g} then "
                f"{t[i + 1]:g} °C; expected {_FORM}"
            )
        t.setflags(write=False)
        v.setflags(write=False)
        object.__setattr__(self, "T", t)
        object.__setattr__(self, "values", v)

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def constant(cls, value: float, *, source: str = "<python>", key: str = "property"):
        """A temperature-independent property."""
        return cls(T=np.array([20.0]), values=np.array([value]), source=source, key=key)

    @classmethod
    def from_points(cls, points: Sequence[Sequence[float]], *, source: str, key: str) -> Property:
        """From ``[[T_C, value], ...]`` (e.g. a TOML array of pairs)."""
        where = f"{source}: {key}"
        try:
            arr = np.asarray(points, dtype=float)
        except (TypeError, ValueError):
            raise PropertyError(f"{where}: points are not numbers; expected {_FORM}") from None
        if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] < 1:
            raise PropertyError(
                f"{where}: points must be a list of [T_C, value] pairs, got shape "
                f"{arr.shape}; expected {_FORM}"
            )
        return cls(T=arr[:, 0], values=arr[:, 1], source=source, key=key)

    @classmethod
    def from_csv(cls, path: str | Path, *, key: str) -> Property:
        """Read a ``T_C,value`` CSV file (``#`` comments, optional header line)."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise PropertyError(
                f"{path}: {key}: cannot read the property table ({exc.strerror or exc}); "
                f"expected a CSV file with columns T_C,value"
            ) from None
        rows: list[tuple[float, float]] = []
        for lineno, raw in enumerate(text.splitlines(), start=1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            cells = [c.strip() for c in line.split(",")]
            if not rows and [c.lower() for c in cells] == ["t_c", "value"]:
                continue  # header
            try:
                if len(cells) != 2:
                    raise ValueError
                rows.append((float(cells[0]), float(cells[1])))
            except ValueError:
                raise PropertyError(
                    f"{path}: {key}: line {lineno} {raw.strip()!r} is not 'T_C,value' "
                    "(two numbers; '#' starts a comment)"
                ) from None
        if not rows:
            raise PropertyError(f"{path}: {key}: no data rows; expected lines 'T_C,value'")
        arr = np.array(rows)
        return cls(T=arr[:, 0], values=arr[:, 1], source=str(path), key=key)

    # -- evaluation ---------------------------------------------------------------------------
    @property
    def is_constant(self) -> bool:
        """True when the property does not depend on temperature (one point or equal values)."""
        return bool(np.all(self.values == self.values[0]))

    @property
    def slopes(self) -> np.ndarray:
        """Slope of each linear piece, shape (n - 1,), unit per K."""
        return np.diff(self.values) / np.diff(self.T)

    def __call__(self, T: float | np.ndarray) -> float | np.ndarray:
        """Value at temperature(s) ``T`` (°C)."""
        out = np.interp(T, self.T, self.values)
        return float(out) if np.ndim(out) == 0 else out

    def covers(self, T: float) -> bool:
        """True when ``T`` (°C) lies within the table's temperature range (ends included)."""
        return bool(self.T[0] <= T <= self.T[-1])

    def scaled(self, factor: float) -> Property:
        """The property times ``factor`` (> 0)."""
        return Property(T=self.T, values=self.values * factor, source=self.source, key=self.key)

    def enthalpy_with(self, other: Property, T: float | np.ndarray, T_ref: float) -> np.ndarray:
        r"""Exact :math:`\int_{T_{ref}}^{T} p(s)\,q(s)\,ds` of this property ``p`` and ``other``.

        ``T`` may be an array; returns an array of the same shape (unit: p·q·K).
        """
        knots = np.union1d(self.T, other.T)
        T = np.asarray(T, dtype=float)

        def antiderivative(x: np.ndarray) -> np.ndarray:
            out = np.zeros_like(x)
            a, b = knots[0], knots[-1]
            out += np.minimum(x - a, 0.0) * self(a) * other(a)  # constant below the table
            out += np.maximum(x - b, 0.0) * self(b) * other(b)  # constant above
            for lo, hi in zip(knots[:-1], knots[1:], strict=True):
                u = np.clip(x, lo, hi) - lo
                p0, q0 = self(lo), other(lo)
                p1 = (self(hi) - p0) / (hi - lo)
                q1 = (other(hi) - q0) / (hi - lo)
                out += p0 * q0 * u + (p0 * q1 + p1 * q0) * u**2 / 2 + p1 * q1 * u**3 / 3
            return out

        return antiderivative(T) - antiderivative(np.asarray(float(T_ref)))

    def as_json(self) -> float | dict:
        """A JSON-friendly form: the number for a one-point property, else the points."""
        if self.T.size == 1:
            return float(self.values[0])
        return {"points": [[float(t), float(v)] for t, v in zip(self.T, self.values, strict=True)]}

    def __repr__(self) -> str:
        pts = ", ".join(f"({t:g}, {v:g})" for t, v in zip(self.T, self.values, strict=True))
        return f"Property([{pts}], key={self.key!r})"


PropertyLike = float | Property


def as_property(value: PropertyLike, *, key: str = "property") -> Property:
    """A :class:`Property` for a number or a property (numbers become one-point tables)."""
    if isinstance(value, Property):
        return value
    return Property.constant(float(value), key=key)


def parse_property(value: object, *, case_path: str | Path, key: str) -> PropertyLike:
    """A case-file property value → ``float`` (constant) or :class:`Property` (table).

    Args:
        value: what TOML gave: a number, ``{"table": "k.csv"}`` or ``{"points": [[T, v], ...]}``.
        case_path: the case file; relative table paths are read from its folder.
        key: the key path for messages, e.g. ``"materials.insert.k"``.

    Returns:
        A positive finite float for a number or a one-point table (so constant properties keep
        the linear solver), otherwise a :class:`Property` with ``source`` the table file or the
        case file.

    Raises:
        PropertyError: wrong type, unknown or missing keys, bad numbers, unreadable table.
    """
    case_path = Path(case_path)
    where = f"{case_path}: {key}"
    if isinstance(value, bool):
        raise PropertyError(f"{where}: got a boolean; expected {_FORM}")
    if isinstance(value, int | float):
        if not (math.isfinite(value) and value > 0):
            raise PropertyError(f"{where}: {value!r} is not a positive finite number")
        return float(value)
    if not isinstance(value, dict):
        raise PropertyError(f"{where}: got {type(value).__name__} {value!r}; expected {_FORM}")
    keys = set(value)
    if len(keys) != 1 or not keys <= {"table", "points"}:
        raise PropertyError(
            f"{where}: a property table has exactly one of the keys 'table' or 'points', got "
            f"{sorted(keys)}; expected {_FORM}"
        )
    if "table" in value:
        name = value["table"]
        if not isinstance(name, str) or not name:
            raise PropertyError(f"{where}: table must be a file name (string), got {name!r}")
        path = Path(name)
        if not path.is_absolute():
            path = case_path.parent / path
        prop = Property.from_csv(path, key=key)
    else:
        prop = Property.from_points(value["points"], source=str(case_path), key=key)
    if prop.T.size == 1:
        return float(prop.values[0])
    return prop


def check_covers(prop: PropertyLike, T: float, *, what: str = "the initial temperature") -> None:
    """Raise :class:`PropertyError` when table ``prop`` does not contain temperature ``T`` (°C).

    Numbers and one-point tables cover everything. See the module docstring for why this is an
    error although constant extrapolation would be well-defined.
    """
    if not isinstance(prop, Property) or prop.T.size == 1 or prop.covers(T):
        return
    hint = " (is the table in kelvin? tables are in °C)" if prop.T[0] > 250.0 > T else ""
    raise PropertyError(
        f"{prop.source}: {prop.key}: the table spans {prop.T[0]:g} to {prop.T[-1]:g} °C and does "
        f"not cover {what} {T:g} °C{hint}; expected a table whose T_C range contains it (add a "
        "point there to extend it on purpose)"
    )

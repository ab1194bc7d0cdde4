"""TOML case files: parse and validate a transient heat case before anything is solved.

A case file (stdlib :mod:`tomllib`) describes one run of paper 000 eq. (9) on a tagged mesh::

    [mesh]            file = "x.msh" | builtin = "insert-shank-bolt" | "box" | "bar" | "two-blocks"
                      unit = "m" | "mm" (file only; default "m"), max_span [m] (default 2)
    [mesh.params]     keyword arguments of the builtin's geometry (metres)
    [materials.NAME]  k [W/(m K)], rho [kg/m³], c [J/(kg K)]  and/or  name = "wc-co"; each a
                      number or a table of temperature: { table = "k.csv" } (columns T_C,value)
                      or { points = [[20.0, 85.0], [800.0, 68.0]] } (thermo.properties)
    [boundary.NAME]   type = temperature | flux | convection | insulated
                             | unknown-temperature | unknown-flux (inverse problem)
    [contact.NAME]    h_c [W/(m² K)]  (empty table = perfect contact)
    [time]            dt, t_end [s], T0 [°C], scheme = backward-euler | crank-nicolson
    [solver]          linear_solver = gamg | mumps, rtol; newton_rtol, newton_max_it (tables)
    [probes]          NAME = [x, y, z]  (metres; absent → the mesh's own sensors)
    [output]          fields = xdmf | vtx | none, snapshots = [s, ...]

Temperature and flux values are either a constant (``value = 500.0``, °C or W/m²) or a table
(``table = "f1.csv"``, columns ``time_s,value``) read into :class:`thermo.problem.History`
(linear in between, constant outside; ``#`` lines are comments). Relative paths are relative to
the case file's folder.

Choices where the issue is silent:

* Units: ``[mesh] unit = "mm"`` scales the mesh file's coordinates to metres on load; everything
  else in the case stays in SI: ``[probes]`` coordinates are metres whatever the mesh's unit (they
  are the case's, not the mesh's), a sensors side file beside the mesh says its own ``units``, and
  every output is in metres. A mesh whose largest bounding-box edge is above ``max_span`` (2 m)
  after scaling, or below 0.5 mm for ``unit = "mm"``, is refused (``mesh.unit``) with the likely
  fix (:mod:`meshes.units`); the builtins take metres only (their span is checked the same way).
* A table must cover the run (first time <= 0, last >= t_end): a history ending early is almost
  always a unit mistake (minutes for seconds), not intent. The other unit mistake, a time column
  in ms, is caught twice: a header naming another unit (``time_ms``, ``t_ms``, ``time_min``, ...)
  is refused with the conversion to apply, and a table whose last time is more than
  :data:`TABLE_SPAN_LIMIT` = 100 × t_end is refused as "is time_s in ms?" (a table in ms for the
  run it was made for ends near 1000 × t_end; a table made in seconds for a longer run than this
  one rarely exceeds 10 ×, and trimming it is the fix when it does).
* Probe names head the columns of ``probes.csv`` and of measurement CSVs: letters, digits,
  ``_ . -`` only, not ``time_s``, and each once (TOML refuses a repeated key; the error says
  ``probes.NAME: duplicate probe name at line N``).
* ``name = "wc-co"`` in a material table takes that library material (DESIGN.md physics
  defaults; ``wc-co-T`` and ``42crmo4-T`` with k(T), c(T)); any of ``k``, ``rho``, ``c`` given
  next to it override the library value.
* A property table is linear between its points and constant outside them; a table that does not
  contain the initial temperature T0 is refused (almost always a table in kelvin). Any table makes
  the forward model nonlinear (Newton per step, :mod:`thermo.nonlinear`).
* At most one ``unknown-*`` boundary: the inverse methods of paper 000 estimate one history (F1).
  It is recorded as ``Case.unknown_boundary`` and left out of the forward problem.
* ``[output]`` defaults: fields ``"xdmf"``, snapshots those of 4, 8, 12 s (paper 000 §4.2,
  Fig. 10) that lie within the run.

Every problem raises :class:`CaseError` naming the file, the key path (``boundary.F1.type``) and
the expected form. Checks that need the mesh (groups exist, probes inside) live in
:mod:`thermo.case_run`, still before solving.
"""

from __future__ import annotations

import csv
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from meshes.units import MAX_SPAN_M
from meshes.units import UNITS as MESH_UNITS
from thermo.problem import (
    MATERIALS,
    BoundaryCondition,
    ContactConductance,
    ConvectionBC,
    FluxBC,
    HeatProblem,
    History,
    InsulatedBC,
    Material,
    TemperatureBC,
    TimeStepping,
)
from thermo.properties import _FORM as PROPERTY_FORM
from thermo.properties import PropertyError, check_covers, parse_property

FieldFormat = Literal["xdmf", "vtx", "none"]
BUILTIN_MESHES: tuple[str, ...] = ("insert-shank-bolt", "box", "bar", "two-blocks")
#: Keys besides ``type`` that each boundary type accepts.
_BOUNDARY_KEYS = {"temperature": ("value", "table"), "flux": ("value", "table"),
                  "convection": ("h", "T_inf")}  # fmt: skip
BOUNDARY_TYPES = (*_BOUNDARY_KEYS, "insulated", "unknown-temperature", "unknown-flux")
DEFAULT_SNAPSHOTS: tuple[float, ...] = (4.0, 8.0, 12.0)
_OTHER_TIME_UNIT = re.compile(r"(?:time|t)_?\(?(ms|us|µs|min|h)\)?")
_PROBE_NAME = re.compile(r"[A-Za-z0-9_.\-]+")
#: A table whose last time exceeds this many end times is taken for a unit mistake (ms for s).
TABLE_SPAN_LIMIT = 100.0
_TOP_KEYS = ("mesh", "materials", "boundary", "contact", "time", "solver", "probes", "output")


class CaseError(ValueError):
    """A case file is wrong; the message names the file, the key path and the expected form."""

    def __init__(self, file: Path | str, key: str, problem: str, expected: str) -> None:
        self.file, self.key, self.expected = str(file), key, expected
        super().__init__(f"{file}: {key}: {problem}; expected {expected}")


@dataclass(frozen=True)
class MeshSpec:
    """Where the mesh comes from: exactly one of ``file`` (absolute path) and ``builtin``.

    ``params`` are keyword arguments for the builtin's geometry (metres, counts). ``unit`` is the
    length unit of ``file``'s coordinates (``"m"`` or ``"mm"``; the mesh is scaled to metres on
    load); ``max_span`` the largest plausible bounding-box edge in metres (:mod:`meshes.units`).
    """

    file: Path | None = None
    builtin: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    unit: str = "m"
    max_span: float = MAX_SPAN_M


@dataclass(frozen=True)
class OutputSpec:
    """Field output format and snapshot times (s) of the PNG renders."""

    fields: FieldFormat = "xdmf"
    snapshots: tuple[float, ...] = ()


@dataclass(frozen=True)
class Case:
    """A parsed and validated case file.

    Attributes:
        path: the case file (absolute).
        text: its TOML text, copied verbatim into the outputs.
        mesh: mesh source.
        problem: the forward heat problem (unknown boundaries left out).
        probes: probe name → (x, y, z) in metres, or ``None`` to use the mesh's sensors.
        output: output spec.
        unknown_boundary: (facet group, "temperature" | "flux") for the inverse problem, or None.
        tables: boundary key path → absolute path of every table the case reads.
    """

    path: Path
    text: str
    mesh: MeshSpec
    problem: HeatProblem
    probes: Mapping[str, tuple[float, float, float]] | None
    output: OutputSpec
    unknown_boundary: tuple[str, str] | None = None
    tables: Mapping[str, Path] = field(default_factory=dict)


def _finite(value: Any) -> bool:
    """True for a finite int/float (TOML booleans excluded)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class _Reader:
    """Typed access to the TOML document with errors that carry file and key path."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, problem: str, expected: str) -> CaseError:
        return CaseError(self.path, key, problem, expected)

    def table(self, doc: Mapping, key: str, allowed: tuple[str, ...] | None) -> dict:
        """The sub-table at ``key`` (``{}`` if absent); unknown keys fail when ``allowed``."""
        name = key.rsplit(".", 1)[-1]
        value = doc.get(name, {})
        if not isinstance(value, dict):
            raise self.fail(key, f"is a {type(value).__name__}", "a table [" + key + "]")
        extra = [sub for sub in value if allowed is not None and sub not in allowed]
        if extra:
            raise self.fail(f"{key}.{extra[0]}", "unknown key", f"one of: {', '.join(allowed)}")
        return value

    def number(
        self, doc: Mapping, key: str, *, default: float | None = None, positive: bool = False
    ) -> float:
        name = key.rsplit(".", 1)[-1]
        if name not in doc:
            if default is None:
                raise self.fail(key, "missing", "a number" + (" > 0" if positive else ""))
            return default
        value = doc[name]
        if not _finite(value) or (positive and value <= 0):
            form = "a finite number" + (" > 0" if positive else "")
            raise self.fail(key, f"got {value!r} ({type(value).__name__})", form)
        return float(value)

    def choice(
        self, doc: Mapping, key: str, options: tuple[str, ...], *, default: str | None = None
    ) -> str:
        name = key.rsplit(".", 1)[-1]
        value = doc.get(name, default)
        form = "one of " + ", ".join(f'"{o}"' for o in options)
        if value is None:
            raise self.fail(key, "missing", form)
        if value not in options:
            raise self.fail(key, f"got {value!r}", form)
        return value

    def file(self, doc: Mapping, key: str) -> Path:
        value = doc[key.rsplit(".", 1)[-1]]
        if not isinstance(value, str) or not value:
            raise self.fail(key, f"got {value!r}", "a file path string")
        path = (self.path.parent / value).resolve()
        if not path.is_file():
            raise self.fail(key, f"file {path} not found", "a path relative to the case folder")
        return path


def read_history_table(path: Path, *, key: str = "table", case_file: Path | str = "") -> History:
    """Read a ``time_s,value`` CSV into a :class:`History` (times s, strictly increasing).

    ``path`` holds a header ``time_s,value`` and one row per sample, shape (n, 2); errors name
    ``case_file`` (default: the table) and ``key``.
    """
    where = case_file or path

    def fail(problem: str) -> CaseError:
        expected = "a CSV with header time_s,value, finite numbers, strictly increasing time_s"
        return CaseError(where, key, f"table {path}: {problem}", expected)

    try:
        with open(path, newline="", encoding="utf-8") as fh:
            lines = [ln for ln in fh if ln.strip() and not ln.lstrip().startswith("#")]
        rows = list(csv.reader(lines))
    except OSError as err:
        raise fail(f"cannot be read ({err.strerror})") from err
    header = [c.strip() for c in rows[0]] if rows else []
    unit = _OTHER_TIME_UNIT.fullmatch(header[0].lower()) if header else None
    if unit:
        per_s = {"ms": "/ 1000", "us": "/ 1e6", "µs": "/ 1e6", "min": "* 60", "h": "* 3600"}
        raise fail(
            f"time column {header[0]!r} is in {unit.group(1)}; times must be in seconds "
            f"(time_s = {header[0]} {per_s[unit.group(1)]})"
        )
    if header != ["time_s", "value"]:
        raise fail(f"header is {rows[0] if rows else 'missing'}")
    if len(rows) < 2:
        raise fail("has no data rows")
    data = np.empty((len(rows) - 1, 2))
    for i, row in enumerate(rows[1:]):
        try:
            data[i] = [float(c) for c in row]
        except ValueError as err:
            raise fail(f"data row {i + 1} is not two numbers ({','.join(row)})") from err
    if not np.all(np.isfinite(data)):
        raise fail(f"data row {np.argmin(np.all(np.isfinite(data), axis=1)) + 1} has NaN/inf")
    if np.any(np.diff(data[:, 0]) <= 0):
        raise fail(
            f"time_s not strictly increasing at data row {np.argmax(np.diff(data[:, 0]) <= 0) + 2}"
        )
    return History(times=data[:, 0], values=data[:, 1])


def _history(r: _Reader, doc: dict, key: str, t_end: float, tables: dict) -> History:
    has_value, has_table = "value" in doc, "table" in doc
    if has_value == has_table:
        raise r.fail(key, "needs exactly one of value/table", 'value = NUMBER or table = "f.csv"')
    if has_value:
        return History.constant(r.number(doc, f"{key}.value"))
    path = r.file(doc, f"{key}.table")
    history = read_history_table(path, key=f"{key}.table", case_file=r.path)
    if history.times[0] > 0 or history.times[-1] < t_end:
        raise r.fail(
            f"{key}.table",
            f"table {path} covers {history.times[0]}..{history.times[-1]} s",
            f"time_s from <= 0 to >= t_end = {t_end} s",
        )
    if history.times[-1] > TABLE_SPAN_LIMIT * t_end:
        raise r.fail(
            f"{key}.table",
            f"table {path} runs to {history.times[-1]:g} s, over {TABLE_SPAN_LIMIT:g} × t_end "
            f"= {t_end:g} s: is time_s in ms?",
            f"time_s in seconds, ending within {TABLE_SPAN_LIMIT:g} × t_end "
            "(trim a longer table to the run)",
        )
    tables[key] = path
    return history


def _mesh(r: _Reader, doc: dict) -> MeshSpec:
    m = r.table(doc, "mesh", ("file", "builtin", "params", "unit", "max_span"))
    if ("file" in m) == ("builtin" in m):
        raise r.fail(
            "mesh",
            "needs exactly one of file/builtin",
            'file = "mesh.msh" or builtin = ' + " | ".join(f'"{b}"' for b in BUILTIN_MESHES),
        )
    params = r.table(m, "mesh.params", None)
    max_span = r.number(m, "mesh.max_span", default=MAX_SPAN_M, positive=True)
    if "file" in m:
        if params:
            raise r.fail("mesh.params", "given with mesh.file", "[mesh.params] only for builtin")
        unit = r.choice(m, "mesh.unit", tuple(MESH_UNITS), default="m")
        return MeshSpec(file=r.file(m, "mesh.file"), unit=unit, max_span=max_span)
    if "unit" in m:
        raise r.fail(
            "mesh.unit",
            "given with mesh.builtin",
            "mesh.unit only with mesh.file (builtins take [mesh.params] in metres)",
        )
    builtin = r.choice(m, "mesh.builtin", BUILTIN_MESHES)
    return MeshSpec(builtin=builtin, params=dict(params), max_span=max_span)


def _property_error(r: _Reader, key: str, err: PropertyError) -> CaseError:
    """A :class:`thermo.properties.PropertyError` as a :class:`CaseError` of this case file."""
    problem = str(err).removeprefix(f"{r.path}: {key}: ")
    problem, _, expected = problem.partition("; expected ")
    return r.fail(key, problem, expected or PROPERTY_FORM)


def _material(r: _Reader, key: str, parent: dict, T0: float) -> Material:
    doc = r.table(parent, key, ("k", "rho", "c", "name"))
    base: dict[str, Any] = {}
    if "name" in doc:
        lowered = {"name": doc["name"].lower() if isinstance(doc["name"], str) else doc["name"]}
        lib = r.choice(lowered, f"{key}.name", tuple(sorted(MATERIALS)))
        base = {"k": MATERIALS[lib].k, "rho": MATERIALS[lib].rho, "c": MATERIALS[lib].c}
    values: dict[str, Any] = {}
    for p in ("k", "rho", "c"):
        sub = f"{key}.{p}"
        try:
            if p in doc:
                values[p] = parse_property(doc[p], case_path=r.path, key=sub)
            elif p in base:
                values[p] = base[p]
            else:
                raise r.fail(sub, "missing", PROPERTY_FORM)
            check_covers(values[p], T0)
        except PropertyError as err:
            raise _property_error(r, sub, err) from err
    return Material(**values)


def _boundary(r: _Reader, key: str, doc: Any, t_end: float, tables: dict) -> Any:
    if not isinstance(doc, dict):
        raise r.fail(key, f"is a {type(doc).__name__}", f'a table [{key}] with type = "..."')
    kind = r.choice(doc, f"{key}.type", BOUNDARY_TYPES)
    allowed = _BOUNDARY_KEYS.get(kind, ())
    for sub in doc:
        if sub != "type" and sub not in allowed:
            expected = f"for type {kind!r} only: " + (", ".join(("type",) + allowed))
            raise r.fail(f"{key}.{sub}", "unknown key", expected)
    if kind == "temperature":
        return TemperatureBC(value=_history(r, doc, key, t_end, tables))
    if kind == "flux":
        return FluxBC(value=_history(r, doc, key, t_end, tables))
    if kind == "convection":
        h = r.number(doc, f"{key}.h", positive=True)
        return ConvectionBC(h=h, T_inf=r.number(doc, f"{key}.T_inf", default=20.0))
    if kind == "insulated":
        return InsulatedBC()
    return kind.removeprefix("unknown-")


def _time(r: _Reader, doc: dict) -> TimeStepping:
    t = r.table(doc, "time", ("dt", "t_end", "T0", "scheme"))
    if "time" not in doc:
        raise r.fail("time", "missing", "a table [time] with dt and t_end (s)")
    dt = r.number(t, "time.dt", positive=True)
    t_end = r.number(t, "time.t_end", positive=True)
    steps = t_end / dt
    if abs(steps - round(steps)) > 1e-9 * max(1.0, steps):
        raise r.fail("time.t_end", f"{t_end} is not a multiple of dt = {dt}", "t_end = n * dt")
    T0 = r.number(t, "time.T0", default=20.0)
    scheme = r.choice(
        t, "time.scheme", ("backward-euler", "crank-nicolson"), default="backward-euler"
    )
    return TimeStepping(dt=dt, t_end=t_end, T0=T0, scheme=scheme)  # type: ignore[arg-type]


def _probes(r: _Reader, doc: dict) -> dict[str, tuple[float, float, float]] | None:
    if "probes" not in doc:
        return None
    out = {}
    for name, xyz in r.table(doc, "probes", None).items():
        if not _PROBE_NAME.fullmatch(name) or name == "time_s":
            raise r.fail(
                f"probes.{name}",
                "is not a usable probe name (it heads a column of probes.csv)",
                "letters, digits, _ . - (not time_s), e.g. S1",
            )
        if not (isinstance(xyz, list) and len(xyz) == 3 and all(map(_finite, xyz))):
            raise r.fail(f"probes.{name}", f"got {xyz!r}", "[x, y, z] with 3 finite numbers (m)")
        out[name] = (float(xyz[0]), float(xyz[1]), float(xyz[2]))
    return out


def _output(r: _Reader, doc: dict, t_end: float) -> OutputSpec:
    o = r.table(doc, "output", ("fields", "snapshots"))
    fields = r.choice(o, "output.fields", ("xdmf", "vtx", "none"), default="xdmf")
    if "snapshots" not in o:
        return OutputSpec(fields, tuple(t for t in DEFAULT_SNAPSHOTS if t <= t_end))  # type: ignore[arg-type]
    snaps = o["snapshots"]
    form = f"a list of times in [0, t_end = {t_end}] s"
    if not isinstance(snaps, list):
        raise r.fail("output.snapshots", f"got {snaps!r}", form)
    for i, t in enumerate(snaps):
        if not (_finite(t) and 0 <= t <= t_end):
            raise r.fail(f"output.snapshots[{i}]", f"got {t!r}", form)
    return OutputSpec(fields, tuple(float(t) for t in snaps))  # type: ignore[arg-type]


_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\](?:\s*#.*)?$")
_KEY = re.compile(r"""^\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_.-]+))\s*=""")


def _duplicate_key(path: Path, text: str, err: tomllib.TOMLDecodeError) -> CaseError | None:
    """A :class:`CaseError` naming the key given twice (``probes.S1``), or None if it is another
    TOML error. tomllib says only "Cannot overwrite a value (at line N, column M)"."""
    found = re.search(r"Cannot overwrite a value \(at line (\d+)", str(err))
    lines = text.splitlines()
    if not found or not 0 < int(found.group(1)) <= len(lines):
        return None
    n = int(found.group(1))
    key = _KEY.match(lines[n - 1])
    if key is None:
        return None
    name = next(g for g in key.groups() if g is not None)
    table, first = "", None
    for i, line in enumerate(lines[: n - 1], start=1):
        header = _HEADER.match(line)
        if header:
            table, first = header.group(1).replace(" ", ""), None
        else:
            other = _KEY.match(line)
            if other and next(g for g in other.groups() if g is not None) == name:
                first = i
    where = f" (first at line {first})" if first else ""
    if table == "probes":
        return CaseError(
            path,
            f"probes.{name}",
            f"duplicate probe name at line {n}{where}",
            "each probe name once in [probes]",
        )
    full = f"{table}.{name}" if table else name
    return CaseError(path, full, f"given twice, at line {n}{where}", "each key once per table")


def parse_case(path: str | Path) -> Case:
    """Read and validate a TOML case file; raise :class:`CaseError` on the first problem."""
    path = Path(path).resolve()
    r = _Reader(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise CaseError(path, "<file>", f"cannot be read ({err.strerror})", "a TOML file") from err
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise _duplicate_key(path, text, err) or CaseError(
            path, "<syntax>", str(err), "valid TOML"
        ) from err
    for key in doc:
        if key not in _TOP_KEYS:
            raise r.fail(key, "unknown table", "one of: " + ", ".join(_TOP_KEYS))
    mesh = _mesh(r, doc)
    time = _time(r, doc)
    materials_doc = r.table(doc, "materials", None)
    if not materials_doc:
        raise r.fail("materials", "missing or empty", "one table [materials.GROUP] per volume")
    materials = {g: _material(r, f"materials.{g}", materials_doc, time.T0) for g in materials_doc}
    tables: dict[str, Path] = {}
    boundaries: dict[str, BoundaryCondition] = {}
    unknown: tuple[str, str] | None = None
    for group, bdoc in r.table(doc, "boundary", None).items():
        bc = _boundary(r, f"boundary.{group}", bdoc, time.t_end, tables)
        if isinstance(bc, str):
            if unknown is not None:
                raise r.fail(
                    f"boundary.{group}.type",
                    f"second unknown boundary (first: {unknown[0]})",
                    "at most one unknown-* boundary",
                )
            unknown = (group, bc)
        else:
            boundaries[group] = bc
    contact: dict[str, ContactConductance] = {}
    for group, cdoc in r.table(doc, "contact", None).items():
        key = f"contact.{group}"
        cdoc = r.table({group: cdoc}, key, ("h_c",))
        if group in boundaries or (unknown and unknown[0] == group):
            raise r.fail(key, "group is also a boundary", "contact groups disjoint from boundary")
        if "h_c" in cdoc:
            contact[group] = ContactConductance(h_c=r.number(cdoc, f"{key}.h_c", positive=True))
    s = r.table(doc, "solver", ("linear_solver", "rtol", "newton_rtol", "newton_max_it"))
    problem = HeatProblem(
        materials=materials,
        boundaries=boundaries,
        time=time,
        contact=contact,
        linear_solver=r.choice(s, "solver.linear_solver", ("gamg", "mumps"), default="gamg"),  # type: ignore[arg-type]
        rtol=r.number(s, "solver.rtol", default=1e-10, positive=True),
        newton_rtol=r.number(s, "solver.newton_rtol", default=1e-10, positive=True),
        newton_max_it=int(r.number(s, "solver.newton_max_it", default=30, positive=True)),
    )
    return Case(
        path=path,
        text=text,
        mesh=mesh,
        problem=problem,
        probes=_probes(r, doc),
        output=_output(r, doc, time.t_end),
        unknown_boundary=unknown,
        tables=tables,
    )

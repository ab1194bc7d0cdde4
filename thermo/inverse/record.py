r"""The one sensor-record type of millheat, and its CSV form.

A :class:`SensorRecord` is what every inverse method reads and every virtual experiment, data
set, CSV reader, network window and reconstruction passes around:

* ``times`` (n_t,) s, strictly increasing;
* ``values`` (n_t, n_s) °C: the measured (or, for clean records, noise-free) sensor temperatures;
* ``names`` (n_s,): sensor names, the column order of ``values``;
* ``params``: machining parameters (``n_rpm`` r/min, ``fz_mm`` mm/z, ``ae_mm`` mm) when known;
* ``truth`` (n_t,) or None: the unknown boundary history when it is known (virtual experiments,
  or a user's reference), °C for a temperature input, W/m² for a flux;
* ``clean`` (n_t, n_s) or None: the noise-free sensor histories (virtual experiments);
* ``meta``: free-form provenance (case number, σ, seeds, source file).

It is plain NumPy (no DOLFINx, no JAX), so ``surrogates`` and the case scripts use it too.

CSV layout (users' real measurements): a header ``time_s,<sensor names...>[,F1]`` and numeric
rows; ``#`` lines before the header carry ``key = value`` metadata (``n_rpm = 509`` etc. become
``params``). A user's own column names are accepted with :func:`read_record_csv`'s
``time_column``, ``sensor_columns`` and ``truth_column``; a time column in milliseconds with
``time_unit="ms"``.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from thermo.atomic import atomic_write_text

#: Keys of :attr:`SensorRecord.params` (paper 000's machining parameters, user units).
PARAM_KEYS: tuple[str, ...] = ("n_rpm", "fz_mm", "ae_mm")
#: Time units a CSV time column may be given in, with their factor to seconds.
TIME_UNITS: dict[str, float] = {"s": 1.0, "ms": 1e-3, "min": 60.0}


@dataclass(frozen=True)
class SensorRecord:
    """Sensor histories with what is known about them (module docstring for shapes/units)."""

    times: np.ndarray
    values: np.ndarray
    names: tuple[str, ...]
    params: Mapping[str, float] = field(default_factory=dict)
    truth: np.ndarray | None = None
    clean: np.ndarray | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = self.meta.get("source", "SensorRecord") if self.meta else "SensorRecord"
        t = np.asarray(self.times, dtype=float).reshape(-1)
        v = np.asarray(self.values, dtype=float)
        names = tuple(str(n) for n in self.names)
        if v.ndim != 2 or v.shape != (t.size, len(names)):
            raise ValueError(
                f"{where}: values need shape (n_t={t.size}, n_sensors={len(names)}) for "
                f"{list(names)}, got {v.shape}"
            )
        if len(set(names)) != len(names):
            raise ValueError(f"{where}: sensor names repeat: {list(names)}")
        if t.size < 2 or not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
            raise ValueError(f"{where}: times must be finite and strictly increasing (n_t >= 2)")
        if not np.all(np.isfinite(v)):
            raise ValueError(f"{where}: sensor values contain NaN/inf")
        object.__setattr__(self, "times", t)
        object.__setattr__(self, "values", v)
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "params", {k: float(x) for k, x in dict(self.params).items()})
        object.__setattr__(self, "meta", dict(self.meta))
        if self.truth is not None:
            truth = np.asarray(self.truth, dtype=float).reshape(-1)
            if truth.shape != t.shape or not np.all(np.isfinite(truth)):
                raise ValueError(f"{where}: truth needs {t.size} finite samples")
            object.__setattr__(self, "truth", truth)
        if self.clean is not None:
            clean = np.asarray(self.clean, dtype=float)
            if clean.shape != v.shape or not np.all(np.isfinite(clean)):
                raise ValueError(f"{where}: clean needs finite values of shape {v.shape}")
            object.__setattr__(self, "clean", clean)

    @property
    def n_sensors(self) -> int:
        return len(self.names)

    def columns(self, sensors: Sequence[str] | None) -> list[int]:
        """Column indices of ``sensors`` (all when None); KeyError names the missing ones."""
        if sensors is None:
            return list(range(self.n_sensors))
        missing = [s for s in sensors if s not in self.names]
        if missing:
            raise KeyError(f"sensors {missing} not in the record ({list(self.names)})")
        return [self.names.index(s) for s in sensors]

    def select(self, sensors: Sequence[str]) -> SensorRecord:
        """The same record with only ``sensors`` (in that order)."""
        cols = self.columns(sensors)
        return replace(
            self,
            values=self.values[:, cols],
            names=tuple(sensors),
            clean=None if self.clean is None else self.clean[:, cols],
        )

    def with_values(self, values: np.ndarray, **meta: Any) -> SensorRecord:
        """The same record with other sensor values (e.g. noisy ones); ``meta`` is merged."""
        return replace(self, values=values, meta={**self.meta, **meta})

    def param_vector(self) -> np.ndarray:
        """Machining parameters as (N r/min, fz mm/z, ae mm); KeyError names the missing ones."""
        missing = [k for k in PARAM_KEYS if k not in self.params]
        if missing:
            raise KeyError(
                f"record has no machining parameters {missing} (has {dict(self.params)})"
            )
        return np.array([self.params[k] for k in PARAM_KEYS], dtype=float)


def write_record_csv(path: str | os.PathLike, record: SensorRecord, *, truth: bool = True) -> Path:
    """Write ``time_s,<names...>[,F1]`` with ``# key = value`` lines (params, then meta)."""
    buf = io.StringIO()
    for key, value in {**record.params, **record.meta}.items():
        if key != "source":
            buf.write(f"# {key} = {value}\n")
    has_truth = truth and record.truth is not None
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["time_s", *record.names, *(["F1"] if has_truth else [])])
    cols = [record.times[:, None], record.values]
    if has_truth:
        cols.append(record.truth[:, None])
    for row in np.hstack(cols):
        writer.writerow([repr(float(v)) for v in row])
    return atomic_write_text(path, buf.getvalue())


def write_table_csv(
    path: str | os.PathLike, *, times: np.ndarray, values: np.ndarray, names: Sequence[str]
) -> Path:
    """Write a plain ``time_s,<names...>`` table (e.g. a boundary estimate) atomically."""
    values = np.asarray(values, dtype=float).reshape(len(times), -1)
    if values.shape[1] != len(names):
        raise ValueError(f"write_table_csv: {values.shape[1]} columns for names {list(names)}")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["time_s", *names])
    for t, row in zip(np.asarray(times, dtype=float), values, strict=True):
        writer.writerow([repr(float(t)), *(repr(float(v)) for v in row)])
    return atomic_write_text(path, buf.getvalue())


def read_record_csv(
    path: str | os.PathLike,
    *,
    time_column: str = "time_s",
    sensor_columns: Sequence[str] | None = None,
    truth_column: str | None = "F1",
    time_unit: str = "s",
) -> SensorRecord:
    """Read a sensor record from CSV; every error names the file, the row and the column.

    Args:
        path: CSV file (module docstring for the layout).
        time_column: name of the time column.
        sensor_columns: sensor columns to read, in this order (default: every column other
            than time and truth).
        truth_column: boundary-truth column, used when present (None: never).
        time_unit: unit of the time column: "s", "ms" or "min" (converted to s).
    """
    path = Path(path)
    if time_unit not in TIME_UNITS:
        raise ValueError(
            f"{path}: time unit must be one of {sorted(TIME_UNITS)}, got {time_unit!r}"
        )
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise ValueError(f"{path}: cannot be read ({err.strerror})") from err
    meta: dict[str, str] = {}
    body = []
    for line in lines:
        if line.startswith("#"):
            key, sep, value = line[1:].partition("=")
            if sep:
                meta[key.strip()] = value.strip()
        elif line.strip():
            body.append(line)
    rows = list(csv.reader(body))
    expected = f"a header '{time_column},<sensor names...>[,{truth_column}]' and numeric rows"
    if not rows:
        raise ValueError(f"{path}: no rows; expected {expected}")
    header = [h.strip() for h in rows[0]]
    if time_column not in header:
        hint = ""
        if "time_ms" in header:
            hint = " (a 'time_ms' column: use --time-column time_ms --time-unit ms)"
        raise ValueError(f"{path}: no time column {time_column!r} in {header}{hint}")
    has_truth = truth_column is not None and truth_column in header
    if sensor_columns is None:
        skip = {time_column, truth_column if has_truth else None}
        names = tuple(h for h in header if h not in skip)
    else:
        missing = [s for s in sensor_columns if s not in header]
        if missing:
            raise ValueError(f"{path}: sensor columns {missing} not in the header {header}")
        names = tuple(sensor_columns)
    if not names:
        raise ValueError(f"{path}: no sensor columns; expected {expected}")
    if len(set(header)) != len(header):
        raise ValueError(f"{path}: repeated column names in the header {header}")
    data = np.empty((len(rows) - 1, len(header)))
    for r, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise ValueError(f"{path}: row {r} has {len(row)} fields, header has {len(header)}")
        for col, text in enumerate(row):
            try:
                data[r - 2, col] = float(text)
            except ValueError:
                raise ValueError(
                    f"{path}: row {r}, column {header[col]!r}: {text!r} is not a number"
                ) from None
            if not math.isfinite(data[r - 2, col]):
                raise ValueError(f"{path}: row {r}, column {header[col]!r}: NaN/inf not allowed")
    times = data[:, header.index(time_column)] * TIME_UNITS[time_unit]
    if times.size < 2:
        raise ValueError(f"{path}: at least 2 rows needed, got {times.size}")
    back = np.flatnonzero(np.diff(times) <= 0)
    if back.size:
        r = int(back[0]) + 3
        raise ValueError(
            f"{path}: column {time_column!r} must be strictly increasing; row {r} "
            f"({times[r - 2]:g} s) does not come after row {r - 1} ({times[r - 3]:g} s)"
        )
    params: dict[str, float] = {}
    for key in PARAM_KEYS:
        if key in meta:
            try:
                params[key] = float(meta.pop(key))
            except ValueError:
                raise ValueError(f"{path}: '# {key} = ...' must be a number") from None
    return SensorRecord(
        times=times,
        values=data[:, [header.index(n) for n in names]],
        names=names,
        params=params,
        truth=data[:, header.index(truth_column)] if has_truth else None,
        meta={**meta, "source": str(path)},
    )


def on_case_grid(record: SensorRecord, *, dt: float, t_end: float, where: str) -> SensorRecord:
    """The record on the case's time grid (0, dt, …, t_end), or an error that says why not.

    * every sampling time on the grid (every step, or every k-th): returned as it is;
    * a uniform sampling finer than dt by an integer factor (e.g. 100 Hz against dt = 0.05 s):
      decimated to the samples at multiples of dt (exact values, no interpolation);
    * anything else — another rate, times past ``t_end`` (times in ms?), a gap — raises
      ``ValueError`` naming ``where``, the rate found and what to do.
    """
    t = record.times
    if t[-1] > t_end * (1.0 + 1e-9) + 1e-9:
        factor = t[-1] / t_end
        hint = " (times in ms? convert to s or pass the time unit)" if 500 < factor < 2000 else ""
        raise ValueError(
            f"{where}: record runs to {t[-1]:g} s, beyond the case's t_end = {t_end:g} s{hint}"
        )
    k = t / dt
    on = np.abs(k - np.round(k)) <= 1e-6
    if np.all(on):
        return record
    steps = np.diff(t)
    step = float(np.median(steps))
    ratio = dt / step
    uniform = np.all(np.abs(steps - step) <= 1e-6 * step)
    if uniform and abs(ratio - round(ratio)) <= 1e-6 and round(ratio) >= 2 and np.any(on):
        keep = np.flatnonzero(on)
        rec = replace(
            record,
            times=np.round(k[keep]) * dt,
            values=record.values[keep],
            truth=None if record.truth is None else record.truth[keep],
            clean=None if record.clean is None else record.clean[keep],
        )
        return rec.with_values(rec.values, decimated_from_s=step)
    i = int(np.flatnonzero(~on)[0])
    raise ValueError(
        f"{where}: sample at {t[i]:g} s is not on the case's time grid (dt = {dt:g} s); the "
        f"record is sampled every {step:g} s: resample it to multiples of dt, or set the case's "
        f"dt to its sampling interval"
    )


RECORDSET_FORMAT = "millheat.record_set/1"


@dataclass(frozen=True)
class RecordSet:
    """Many sensor records on one time grid with one sensor list, with their provenance.

    Saved as ``NAME.npz`` (``times`` (n_t,), ``values``/``clean`` (n, n_t, n_s) °C, ``truth``
    (n, n_t), ``params`` (n, 3)) plus ``NAME.json`` (sensor names, per-record ``meta``, the
    set's ``meta``: generating model, seeds, splits), both written atomically.
    """

    records: tuple[SensorRecord, ...]
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        recs = tuple(self.records)
        if not recs:
            raise ValueError("RecordSet: no records")
        t, names = recs[0].times, recs[0].names
        for r in recs[1:]:
            if r.names != names or r.times.shape != t.shape or not np.array_equal(r.times, t):
                raise ValueError("RecordSet: every record needs the same times and sensor names")
        object.__setattr__(self, "records", recs)
        object.__setattr__(self, "meta", dict(self.meta))

    def __len__(self) -> int:
        return len(self.records)

    def where(self, **match: Any) -> list[SensorRecord]:
        """Records whose ``meta`` has every ``key = value`` of ``match`` (a callable value is
        used as a predicate)."""

        def ok(r: SensorRecord) -> bool:
            for k, v in match.items():
                have = r.meta.get(k)
                if not (v(have) if callable(v) else have == v):
                    return False
            return True

        return [r for r in self.records if ok(r)]

    def save(self, path: str | os.PathLike) -> tuple[Path, Path]:
        import json

        from thermo.atomic import atomic_path

        path = Path(path)
        npz, js = path.with_suffix(".npz"), path.with_suffix(".json")
        recs = self.records
        arrays = {
            "times": recs[0].times,
            "values": np.stack([r.values for r in recs]),
            "params": np.stack([[r.params.get(k, np.nan) for k in PARAM_KEYS] for r in recs]),
        }
        if all(r.clean is not None for r in recs):
            arrays["clean"] = np.stack([r.clean for r in recs])
        if all(r.truth is not None for r in recs):
            arrays["truth"] = np.stack([r.truth for r in recs])
        with atomic_path(npz) as tmp:
            np.savez_compressed(tmp, **arrays)
        doc = {
            "format": RECORDSET_FORMAT,
            "units": {"times": "s", "values": "degC", "clean": "degC", "params": PARAM_KEYS},
            "sensor_names": list(recs[0].names),
            "record_meta": [dict(r.meta) for r in recs],
            "meta": self.meta,
        }
        atomic_write_text(js, json.dumps(doc, indent=1, default=float))
        return npz, js

    @classmethod
    def load(cls, path: str | os.PathLike) -> RecordSet:
        import json

        path = Path(path)
        npz, js = path.with_suffix(".npz"), path.with_suffix(".json")
        try:
            doc = json.loads(js.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise ValueError(f"{js}: cannot read record-set metadata ({err})") from err
        if doc.get("format") != RECORDSET_FORMAT:
            raise ValueError(
                f"{js}: format must be {RECORDSET_FORMAT!r}, got {doc.get('format')!r}"
            )
        with np.load(npz) as data:
            a = {k: data[k] for k in data.files}
        names = tuple(doc["sensor_names"])
        records = []
        for i, meta in enumerate(doc["record_meta"]):
            params = {
                k: float(v)
                for k, v in zip(PARAM_KEYS, a["params"][i], strict=True)
                if np.isfinite(v)
            }
            records.append(
                SensorRecord(
                    times=a["times"],
                    values=a["values"][i],
                    names=names,
                    params=params,
                    truth=a["truth"][i] if "truth" in a else None,
                    clean=a["clean"][i] if "clean" in a else None,
                    meta=meta,
                )
            )
        return cls(tuple(records), meta=doc.get("meta", {}))

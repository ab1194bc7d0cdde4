"""Measurement records of paper 001 as arrays: CSV path, temperature-sensitive features, stacking.

A *record* is one operating condition as a ``pandas.DataFrame`` with a ``time_s`` column, one
column per temperature point (°C) and the measured Z drift ``dz_um`` (µm). The CSV layout (real
machine data go through the same path) is one long table::

    condition,time_s,S25,S26,...,B6,...,dz_um
    H1,0,20.01,...,0.3

Features are *temperature rises* (§2.2: "temperature-rise data"): each candidate minus its
value at the start of the condition (mean of the first ``BASELINE_SAMPLES`` samples, so one noisy
sample does not offset a whole day). Candidates follow §2.2.1 of the paper: spindle points, column
front–rear differences, base points and their region means.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from thermo.atomic import atomic_path

BASELINE_SAMPLES = 5
TARGET = "dz_um"

_F = ("C16", "C14", "C18")
_R = ("C15", "C13", "C17")

#: region -> candidate name -> {point: weight}; the §2.2.1 candidates
CANDIDATES: dict[str, dict[str, dict[str, float]]] = {
    "spindle": {
        "S25": {"S25": 1.0},
        "S26": {"S26": 1.0},
        "S27": {"S27": 1.0},
        "mean(S25,S26,S27)": {p: 1 / 3 for p in ("S25", "S26", "S27")},
    },
    "column": {
        "C16-C15": {"C16": 1.0, "C15": -1.0},
        "C14-C13": {"C14": 1.0, "C13": -1.0},
        "C18-C17": {"C18": 1.0, "C17": -1.0},
        "mean(C16,C14,C18)-mean(C15,C13,C17)": {
            **{p: 1 / 3 for p in _F},
            **{p: -1 / 3 for p in _R},
        },
    },
    "base": {
        **{f"B{i}": {f"B{i}": 1.0} for i in range(1, 7)},
        "mean(B1..B4)": {f"B{i}": 0.25 for i in range(1, 5)},
        "mean(B5,B6)": {"B5": 0.5, "B6": 0.5},
        "mean(B1..B6)": {f"B{i}": 1 / 6 for i in range(1, 7)},
    },
}
REGIONS: tuple[str, ...] = ("spindle", "base", "column")  #: model input order


def _check_record(name: str, df: pd.DataFrame, columns: list[str], source: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{source}: condition {name!r} lacks columns {missing}")
    bad = [c for c in columns if not np.all(np.isfinite(df[c].to_numpy(dtype=float)))]
    if bad:
        raise ValueError(f"{source}: condition {name!r} has NaN/inf in columns {bad}")
    if len(df) <= BASELINE_SAMPLES:
        raise ValueError(f"{source}: condition {name!r} needs > {BASELINE_SAMPLES} rows")


def candidate_rise(df: pd.DataFrame, weights: Mapping[str, float]) -> np.ndarray:
    """Rise (°C, shape (n,)) of the weighted point combination ``weights`` in one record."""
    v = sum(w * df[p].to_numpy(dtype=float) for p, w in weights.items())
    return v - v[:BASELINE_SAMPLES].mean()


def windows(x: np.ndarray, window: int = 1, stride: int = 1) -> np.ndarray:
    """Past-sample windows of a feature series: ``x`` (n, k) -> (n, window, k).

    Row i holds samples ``i - stride·(window-1), ..., i - stride, i`` (oldest first); indices
    before the start repeat the first sample (the machine was at rest before its record).
    ``window = 1`` is the paper's input (the current sample only).
    """
    x = np.asarray(x)
    if window < 1 or stride < 1:
        raise ValueError(f"windows: window and stride must be >= 1, got {window}, {stride}")
    lags = stride * np.arange(window - 1, -1, -1)
    idx = np.clip(np.arange(len(x))[:, None] - lags[None, :], 0, None)
    return x[idx]


def features(
    records: Mapping[str, pd.DataFrame],
    selected: Mapping[str, str],
    *,
    source: str = "records",
    candidates: Mapping[str, Mapping[str, Mapping[str, float]]] | None = None,
    speed_column: str | None = None,
    window: int = 1,
    stride: int = 1,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Model arrays per condition: ``name -> (x (n, window, k) °C, y (n,) µm)``.

    ``selected`` maps each input label (the paper: the regions of :data:`REGIONS`) to one
    candidate name of ``candidates`` (default :data:`CANDIDATES`); inputs follow the order of
    ``selected``. ``speed_column`` (optional) adds the spindle speed in units of 1000 r/min as
    a last input. ``window``/``stride``: past samples per input (:func:`windows`).
    """
    candidates = CANDIDATES if candidates is None else candidates
    labels = list(selected)
    out = {}
    for name, df in records.items():
        points = sorted({p for r in labels for p in candidates[r][selected[r]]})
        extra = [] if speed_column is None else [speed_column]
        _check_record(name, df, [*points, *extra, TARGET], source)
        cols = [candidate_rise(df, candidates[r][selected[r]]) for r in labels]
        if speed_column is not None:
            cols.append(df[speed_column].to_numpy(dtype=float) / 1000.0)
        x = windows(np.stack(cols, axis=-1), window, stride)
        out[name] = (x.astype(np.float32), df[TARGET].to_numpy(dtype=np.float32))
    return out


def stack(
    data: Mapping[str, tuple[np.ndarray, np.ndarray]], names: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate the conditions ``names``: ``(x (N, window, k), y (N,))``."""
    missing = [n for n in names if n not in data]
    if missing:
        raise KeyError(f"conditions {missing} not in data (have {sorted(data)})")
    return (
        np.concatenate([data[n][0] for n in names]),
        np.concatenate([data[n][1] for n in names]),
    )


def write_records_csv(records: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """Write records as one long CSV (``condition`` column first), atomically."""
    path = Path(path)
    table = pd.concat(
        [df.assign(condition=name) for name, df in records.items()], ignore_index=True
    )
    table = table[["condition", *[c for c in table.columns if c != "condition"]]]
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False)
    return path


def check_columns(
    table: pd.DataFrame, columns: list[str], path: str | Path, *, time_column: str | None = None,
    group: str | None = None,
) -> None:  # fmt: skip
    """Raise a one-line ``ValueError`` naming ``path`` and the column unless every column of
    ``columns`` exists, is numeric and finite, and ``time_column`` (if given) increases strictly
    (within each value of the ``group`` column, when given). Rows are reported as CSV line
    numbers (the header is line 1)."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; the file has {list(table.columns)}")
    for col in columns:
        values = pd.to_numeric(table[col], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raw = table[col].iloc[bad[0]]
            raise ValueError(
                f"{path}: column {col!r} has a value that is not a finite number ({raw!r}) "
                f"on line {bad[0] + 2} ({bad.size} such rows); expected finite numbers"
            )
    if time_column is None:
        return
    t = table[time_column].to_numpy(dtype=float)
    keys = [None] if group is None else list(pd.unique(table[group]))
    for key in keys:
        rows = np.arange(len(t)) if key is None else np.flatnonzero(table[group] == key)
        step = np.diff(t[rows])
        bad = np.flatnonzero(~(step > 0))
        if bad.size:
            where = "" if key is None else f" (condition {key!r})"
            line = rows[bad[0] + 1] + 2
            raise ValueError(
                f"{path}: column {time_column!r} does not increase strictly on line {line}"
                f"{where}: {t[rows[bad[0]]]:g} then {t[rows[bad[0] + 1]]:g} s; expected "
                "strictly increasing times in seconds"
            )


def read_records_csv(
    path: str | Path,
    *,
    time_column: str = "time_s",
    drift_column: str = TARGET,
    condition_column: str = "condition",
    temperature_columns: list[str] | None = None,
    speed_column: str | None = None,
) -> dict[str, pd.DataFrame]:
    """Read a long CSV (one row per sample, a condition column) into records.

    The default layout is ours (``condition, time_s, <points...>, dz_um``); any machine's
    columns are mapped with the keyword arguments: the time column becomes ``time_s``, the drift
    column ``dz_um``; with ``temperature_columns`` only those (and the speed column) are kept.
    Raises a one-line ``ValueError`` naming the file and the column when a required column is
    missing, a value is not a finite number, or time does not increase strictly within a
    condition; the order of conditions is the order of first appearance.
    """
    path = Path(path)
    table = pd.read_csv(path)
    for col in (condition_column, time_column, drift_column):
        if col not in table.columns:
            raise ValueError(
                f"{path}: missing column {col!r} (expected {condition_column},{time_column},"
                f"...,{drift_column}; the file has {list(table.columns)})"
            )
    if temperature_columns is None:
        numeric = [c for c in table.columns if c != condition_column]
    else:
        extra = [] if speed_column is None else [speed_column]
        numeric = [time_column, *temperature_columns, *extra, drift_column]
    check_columns(table, numeric, path, time_column=time_column, group=condition_column)
    rename = {time_column: "time_s", drift_column: TARGET}
    records = {}
    for name in pd.unique(table[condition_column]):
        df = table.loc[table[condition_column] == name, numeric].reset_index(drop=True)
        df = df.astype(float).rename(columns=rename)
        _check_record(str(name), df, list(df.columns), str(path))
        records[str(name)] = df
    return records

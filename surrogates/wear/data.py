"""Loaders of users' force records with flank-wear labels (the real-data path of issue 7).

Two layouts are accepted; both give a list of
:class:`~surrogates.wear.forces.ForceRecord` (forces (n_samples, 3) in N, ``fs_hz``, ``vb_um``):

* **CSV index** — a labels file with columns ``file`` and ``vb_um`` (flank wear in µm; a column
  ``vb_mm`` in mm is accepted and converted), one row per record; ``file`` is a CSV path relative
  to the labels file, with force columns ``fx, fy, fz`` (case-insensitive, N) and either a
  ``time`` column in s (the sampling rate is taken from its median step) or ``fs_hz`` passed to
  the loader.
* **NumPy archive** (``.npz``) — arrays ``forces`` (n_records, n_samples, 3) in N, ``vb_um``
  (n_records,) and scalar ``fs_hz``.

Optional per-record labels: ``tool`` (a group label: records of one cutter) and ``usage`` (time in
use: cut number, minutes; strictly increasing within a tool in row order), a column of the labels
CSV or an array of the archive; they drive the leave-one-tool-out protocol and the usage-only
baseline (:mod:`~surrogates.wear.pipeline`).

**Feature tables** (:func:`load_feature_table`): one row per record with numeric feature columns of
any names, the wear target (µm), optionally a group and a time-in-use column; feature extraction
is skipped.

Bad input fails early with a ValueError naming the file and column and the expected form: NaN,
inf or text in a numeric column, a time or usage column that does not increase strictly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from surrogates.wear.forces import ForceRecord
from thermo.atomic import atomic_path

FORCE_COLUMNS = ("fx", "fy", "fz")


def _check_forces(forces: np.ndarray, *, where: str) -> np.ndarray:
    forces = np.asarray(forces, dtype=np.float64)
    if forces.ndim != 2 or forces.shape[1] != 3 or forces.shape[0] < 16:
        raise ValueError(f"{where}: forces must be (n_samples >= 16, 3) in N, got {forces.shape}")
    if not np.all(np.isfinite(forces)):
        raise ValueError(f"{where}: forces contain NaN or inf")
    return forces


def _finite_column(table: pd.DataFrame, column: str, *, where: Path | str) -> np.ndarray:
    """``table[column]`` as float; a ValueError naming file and column on text, NaN or inf."""
    values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.argmax(bad))
        raise ValueError(
            f"{where}: column {column!r} must hold finite numbers; row {row} is "
            f"{table[column].iloc[row]!r}"
        )
    return values


def load_force_csv(path: str | Path, *, fs_hz: float | None = None) -> tuple[np.ndarray, float]:
    """Read one force record CSV: returns ``(forces (n_samples, 3) N, fs_hz)``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: force record not found")
    table = pd.read_csv(path)
    columns = {c.strip().lower(): c for c in table.columns}
    missing = [c for c in FORCE_COLUMNS if c not in columns]
    if missing:
        raise ValueError(
            f"{path}: missing force column(s) {missing}; expected columns fx, fy, fz (N) "
            f"and optionally time (s), found {list(table.columns)}"
        )
    forces = np.stack(
        [_finite_column(table, columns[c], where=path) for c in FORCE_COLUMNS], axis=1
    )
    forces = _check_forces(forces, where=str(path))
    if "time" in columns:
        time = _finite_column(table, columns["time"], where=path)
        steps = np.diff(time)
        if steps.size == 0 or not np.all(steps > 0):
            bad = int(np.argmax(~(steps > 0))) + 1 if steps.size else 0
            raise ValueError(
                f"{path}: column {columns['time']!r} must increase strictly (time in s); "
                f"row {bad} does not"
            )
        fs_hz = 1.0 / float(np.median(steps))
    if fs_hz is None or not fs_hz > 0:
        raise ValueError(f"{path}: no 'time' column and no positive fs_hz given to the loader")
    return forces, float(fs_hz)


def check_usage(
    usage: np.ndarray, groups: np.ndarray | None, *, where: Path | str, column: str
) -> np.ndarray:
    """Time in use: finite and strictly increasing within each group, in row order.

    Raises ValueError naming ``where`` (the file) and ``column`` otherwise.
    """
    usage = np.asarray(usage, dtype=float)
    if not np.all(np.isfinite(usage)):
        row = int(np.argmax(~np.isfinite(usage)))
        raise ValueError(f"{where}: column {column!r} must hold finite numbers; row {row} does not")
    keys = np.zeros(len(usage)) if groups is None else np.asarray(groups)
    for g in pd.unique(keys):
        idx = np.flatnonzero(keys == g)
        steps = np.diff(usage[idx])
        if np.any(steps <= 0):
            row = int(idx[1:][np.argmax(steps <= 0)])
            label = "" if groups is None else f" within group {g!r}"
            raise ValueError(
                f"{where}: column {column!r} (time in use) must increase strictly{label} in "
                f"row order; row {row} does not"
            )
    return usage


def load_records_csv(labels_path: str | Path, *, fs_hz: float | None = None) -> list[ForceRecord]:
    """Records listed in a labels CSV (columns ``file``, ``vb_um`` or ``vb_mm``; optional
    ``tool`` (group label, e.g. the cutter) and ``usage`` (time in use: cut number, minutes),
    stored in each record's ``meta``)."""
    labels_path = Path(labels_path)
    if not labels_path.is_file():
        raise FileNotFoundError(f"{labels_path}: labels file not found")
    labels = pd.read_csv(labels_path)
    cols = {c.strip().lower(): c for c in labels.columns}
    if "file" not in cols or not ({"vb_um", "vb_mm"} & cols.keys()):
        raise ValueError(
            f"{labels_path}: expected columns 'file' and 'vb_um' (µm) or 'vb_mm' (mm), "
            f"found {list(labels.columns)}"
        )
    if labels.empty:
        raise ValueError(f"{labels_path}: no records listed")
    scale, vb_col = (1.0, cols["vb_um"]) if "vb_um" in cols else (1000.0, cols["vb_mm"])
    vb_all = _finite_column(labels, vb_col, where=labels_path) * scale
    if np.any(vb_all < 0):
        row = int(np.argmax(vb_all < 0))
        raise ValueError(f"{labels_path}: row {row}: column {vb_col!r} must be a VB >= 0")
    tools = labels[cols["tool"]].astype(str).to_numpy() if "tool" in cols else None
    usage = None
    if "usage" in cols:
        usage = check_usage(
            _finite_column(labels, cols["usage"], where=labels_path),
            tools,
            where=labels_path,
            column=cols["usage"],
        )
    records = []
    for row, (name, vb_um) in enumerate(zip(labels[cols["file"]], vb_all, strict=True)):
        forces, fs = load_force_csv(labels_path.parent / str(name), fs_hz=fs_hz)
        meta = {"file": name}
        if tools is not None:
            meta["tool"] = tools[row]
        if usage is not None:
            meta["usage"] = float(usage[row])
        records.append(ForceRecord(forces=forces, fs_hz=fs, vb_um=float(vb_um), meta=meta))
    return records


def load_records_npz(path: str | Path) -> list[ForceRecord]:
    """Records of a ``.npz`` archive with ``forces`` (R, N, 3), ``vb_um`` (R,), ``fs_hz``;
    optional ``tool`` (R,) group labels and ``usage`` (R,) time in use."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: archive not found")
    with np.load(path) as archive:
        for key in ("forces", "vb_um", "fs_hz"):
            if key not in archive:
                raise ValueError(
                    f"{path}: missing array '{key}'; expected forces (n_records, n_samples, 3) "
                    f"in N, vb_um (n_records,) in µm, fs_hz scalar; found {list(archive.keys())}"
                )
        forces, vb, fs = archive["forces"], archive["vb_um"], float(archive["fs_hz"])
        tools = archive["tool"].astype(str) if "tool" in archive else None
        usage = archive["usage"].astype(float) if "usage" in archive else None
    if forces.ndim != 3 or vb.shape != (forces.shape[0],):
        raise ValueError(
            f"{path}: 'forces' must be (n_records, n_samples, 3) and 'vb_um' (n_records,), got "
            f"{forces.shape} and {vb.shape}"
        )
    if not fs > 0 or not np.all(np.isfinite(vb)) or np.any(vb < 0):
        raise ValueError(f"{path}: 'fs_hz' must be > 0 and 'vb_um' finite and >= 0")
    for key, arr in (("tool", tools), ("usage", usage)):
        if arr is not None and arr.shape != vb.shape:
            raise ValueError(f"{path}: '{key}' must have shape {vb.shape}, got {arr.shape}")
    if usage is not None:
        usage = check_usage(usage, tools, where=path, column="usage")
    records = []
    for i, (f, v) in enumerate(zip(forces, vb, strict=True)):
        meta = {}
        if tools is not None:
            meta["tool"] = str(tools[i])
        if usage is not None:
            meta["usage"] = float(usage[i])
        records.append(
            ForceRecord(
                forces=_check_forces(f, where=f"{path}: record {i}"),
                fs_hz=fs,
                vb_um=float(v),
                meta=meta,
            )
        )
    return records


def load_records(path: str | Path, *, fs_hz: float | None = None) -> list[ForceRecord]:
    """Dispatch on the suffix: ``.npz`` archive or ``.csv`` labels index."""
    suffix = Path(path).suffix.lower()
    if suffix == ".npz":
        return load_records_npz(path)
    if suffix == ".csv":
        return load_records_csv(path, fs_hz=fs_hz)
    raise ValueError(f"{path}: expected a .csv labels index or a .npz archive")


def save_records_npz(path: str | Path, records: list[ForceRecord]) -> Path:
    """Write equal-length records in the ``.npz`` layout read by :func:`load_records_npz`."""
    lengths = {r.forces.shape for r in records}
    rates = {r.fs_hz for r in records}
    if len(lengths) != 1 or len(rates) != 1:
        raise ValueError("save_records_npz: records need one shape and one sampling rate")
    path = Path(path)
    with atomic_path(path) as tmp:
        np.savez(
            tmp,
            forces=np.stack([r.forces for r in records]),
            vb_um=np.array([r.vb_um for r in records]),
            fs_hz=np.array(rates.pop()),
        )
    return path


@dataclass(frozen=True)
class FeatureTable:
    """A user's feature table: features (N, F), target (N,), optional groups and usage (N,)."""

    x: np.ndarray
    y: np.ndarray
    names: list[str]
    groups: np.ndarray | None = None
    usage: np.ndarray | None = None
    source: str = ""


def load_feature_table(
    path: str | Path, *, target: str, group: str | None = None, usage: str | None = None
) -> FeatureTable:
    """Read one row per record: numeric feature columns (any names), the wear ``target`` (µm),
    optionally a ``group`` column (tool label, any type) and a ``usage`` column (time in use,
    strictly increasing within each group in row order). Every other column is a feature and
    must be numeric and finite; errors name the file and the column.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: feature table not found")
    table = pd.read_csv(path)
    named = {"--target": target, "--group": group, "--usage": usage}
    for option, col in named.items():
        if col is not None and col not in table.columns:
            raise ValueError(
                f"{path}: no column {col!r} (given as {option}); found {list(table.columns)}"
            )
    if len(table) < 4:
        raise ValueError(f"{path}: need at least 4 rows, found {len(table)}")
    special = {c for c in (target, group, usage) if c is not None}
    names = [c for c in table.columns if c not in special]
    if not names:
        raise ValueError(f"{path}: no feature columns besides {sorted(special)}")
    x = np.stack([_finite_column(table, c, where=path) for c in names], axis=1)
    y = _finite_column(table, target, where=path)
    groups = table[group].astype(str).to_numpy() if group is not None else None
    if groups is not None and np.any(table[group].isna()):
        row = int(np.argmax(table[group].isna().to_numpy()))
        raise ValueError(f"{path}: column {group!r} (group) is empty in row {row}")
    u = None
    if usage is not None:
        u = check_usage(_finite_column(table, usage, where=path), groups, where=path, column=usage)
    return FeatureTable(
        x=x, y=y, names=[str(n) for n in names], groups=groups, usage=u, source=str(path)
    )

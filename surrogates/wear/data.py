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

Bad input fails early with a message naming the file and field and the expected form.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from surrogates.wear.forces import ForceRecord

FORCE_COLUMNS = ("fx", "fy", "fz")


def _check_forces(forces: np.ndarray, *, where: str) -> np.ndarray:
    forces = np.asarray(forces, dtype=np.float64)
    if forces.ndim != 2 or forces.shape[1] != 3 or forces.shape[0] < 16:
        raise ValueError(f"{where}: forces must be (n_samples >= 16, 3) in N, got {forces.shape}")
    if not np.all(np.isfinite(forces)):
        raise ValueError(f"{where}: forces contain NaN or inf")
    return forces


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
    forces = _check_forces(table[[columns[c] for c in FORCE_COLUMNS]].to_numpy(), where=str(path))
    if "time" in columns:
        step = float(np.median(np.diff(table[columns["time"]].to_numpy(dtype=float))))
        if not step > 0:
            raise ValueError(f"{path}: column 'time' must increase (s), median step {step}")
        fs_hz = 1.0 / step
    if fs_hz is None or not fs_hz > 0:
        raise ValueError(f"{path}: no 'time' column and no positive fs_hz given to the loader")
    return forces, float(fs_hz)


def load_records_csv(labels_path: str | Path, *, fs_hz: float | None = None) -> list[ForceRecord]:
    """Records listed in a labels CSV (columns ``file``, ``vb_um`` or ``vb_mm``)."""
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
    scale, vb_col = (1.0, cols["vb_um"]) if "vb_um" in cols else (1000.0, cols["vb_mm"])
    records = []
    for row, (name, vb) in enumerate(zip(labels[cols["file"]], labels[vb_col], strict=True)):
        vb_um = float(vb) * scale
        if not np.isfinite(vb_um) or vb_um < 0:
            raise ValueError(f"{labels_path}: row {row}: '{vb_col}' must be a finite VB >= 0")
        forces, fs = load_force_csv(labels_path.parent / str(name), fs_hz=fs_hz)
        records.append(ForceRecord(forces=forces, fs_hz=fs, vb_um=vb_um, meta={"file": name}))
    if not records:
        raise ValueError(f"{labels_path}: no records listed")
    return records


def load_records_npz(path: str | Path) -> list[ForceRecord]:
    """Records of a ``.npz`` archive with ``forces`` (R, N, 3), ``vb_um`` (R,), ``fs_hz``."""
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
    if forces.ndim != 3 or vb.shape != (forces.shape[0],):
        raise ValueError(
            f"{path}: 'forces' must be (n_records, n_samples, 3) and 'vb_um' (n_records,), got "
            f"{forces.shape} and {vb.shape}"
        )
    if not fs > 0 or not np.all(np.isfinite(vb)) or np.any(vb < 0):
        raise ValueError(f"{path}: 'fs_hz' must be > 0 and 'vb_um' finite and >= 0")
    return [
        ForceRecord(forces=_check_forces(f, where=f"{path}: record {i}"), fs_hz=fs, vb_um=float(v))
        for i, (f, v) in enumerate(zip(forces, vb, strict=True))
    ]


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
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(
        tmp,
        forces=np.stack([r.forces for r in records]),
        vb_um=np.array([r.vb_um for r in records]),
        fs_hz=np.array(rates.pop()),
    )
    tmp.replace(path)
    return path

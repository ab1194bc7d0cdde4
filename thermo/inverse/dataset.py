r"""The 27-case virtual IHCP data set of paper 000 §3.1, and CSV exchange of sensor records.

Design (paper 000 §3.1): full factorial 3 × 3 × 3 of spindle speed N ∈ {382, 509, 636} r/min,
feed per tooth fz ∈ {0.05, 0.075, 0.1} mm/z and radial depth ae ∈ {0.1, 0.2, 0.3} mm.

Numbering (the paper does not give its own): lexicographic with N slowest and ae fastest,

.. math::  \text{case} = 1 + 9\,i_N + 3\,i_{f_z} + i_{a_e}, \qquad i \in \{0, 1, 2\},

the order a DOE table lists the runs in (and the one ``surrogates.ihcp.synthetic`` uses). The
paper's test case is "the 24th set": case 24 = (N 636, fz 0.075, ae 0.3). The three
reconstruction conditions of §4.2 (N = 382/509/636, fz = 0.075, ae = 0.2) are cases 5, 14, 23.

Per case the set holds the machining parameters, the time axis, the F1 boundary history (truth:
:func:`thermo.inverse.cutting_zone.f1_temperature` or
:func:`~thermo.inverse.cutting_zone.f1_heat_flux`), the
clean sensor histories from a linear forward model (normally the FEM step response of the tool
through :class:`thermo.inverse.linear_response.LinearResponse`, i.e. exact FEM values), and noisy
records from :func:`thermo.inverse.sensors.measure` for each requested σ.

Seeds: with the data-set seed s, case c uses ``SeedSequence([s, c, 0])`` for its F1 fluctuation
and ``SeedSequence([s, c, 1, i_sigma])`` for the noise at the i-th σ (entropy stored in the
metadata), so any single case can be rebuilt alone.

File: ``NAME.npz`` (arrays) + ``NAME.json`` (units, factor levels, numbering, seeds, sensor
names, forward-model provenance), written to temporary names and renamed. Arrays:
``cases`` (27,), ``params`` (27, 3) [N r/min, fz mm/z, ae mm], ``times`` (n_t,) s,
``f1`` (27, n_t) °C or W/m², ``clean`` (27, n_t, n_s) °C, ``sigmas`` (n_σ,) K,
``noisy`` (n_σ, 27, n_t, n_s) °C.

CSV records (users' real measurements in the same layout): ``time_s,<sensor names...>`` with an
optional last column ``F1`` (the boundary truth, when known); ``#`` lines before the header
carry ``key = value`` metadata (e.g. ``n_rpm = 509``).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from thermo.inverse.cutting_zone import f1_heat_flux, f1_temperature
from thermo.inverse.sensors import measure

LEVELS: dict[str, tuple[float, ...]] = {
    "n_rpm": (382.0, 509.0, 636.0),
    "fz_mm": (0.05, 0.075, 0.1),
    "ae_mm": (0.1, 0.2, 0.3),
}
TEST_CASE = 24
RECONSTRUCTION_CASES = (5, 14, 23)
FORMAT = "millheat.ihcp_dataset/1"


def case_params(case: int) -> dict[str, float]:
    """Machining parameters of full-factorial case ``case`` (1..27), numbering above."""
    if not (isinstance(case, int | np.integer) and 1 <= case <= 27):
        raise ValueError(f"case must be an integer in 1..27, got {case!r}")
    i = int(case) - 1
    return {
        "n_rpm": LEVELS["n_rpm"][i // 9],
        "fz_mm": LEVELS["fz_mm"][(i // 3) % 3],
        "ae_mm": LEVELS["ae_mm"][i % 3],
    }


def case_seed(seed: int, case: int, *parts: int) -> int:
    """Integer seed derived from (data-set seed, case, parts) with ``numpy.random.SeedSequence``."""
    return int(np.random.SeedSequence([seed, case, *parts]).generate_state(1)[0])


@dataclass
class IHCPDataset:
    """The virtual data set (module docstring for shapes and units)."""

    cases: np.ndarray
    params: np.ndarray
    times: np.ndarray
    f1: np.ndarray
    clean: np.ndarray
    sigmas: np.ndarray
    noisy: np.ndarray
    sensor_names: tuple[str, ...]
    kind: str
    meta: dict = field(default_factory=dict)

    def case(self, case: int, *, sigma: float | None = None) -> dict[str, np.ndarray]:
        """One case: ``params`` (3,), ``time`` (n_t,), ``f1`` (n_t,), ``clean`` (n_t, n_s) and,
        when ``sigma`` (K) is one of :attr:`sigmas`, ``noisy`` (n_t, n_s)."""
        hits = np.flatnonzero(self.cases == case)
        if hits.size != 1:
            raise KeyError(f"case {case} not in the data set (has {self.cases.tolist()})")
        i = int(hits[0])
        out = {
            "params": self.params[i],
            "time": self.times,
            "f1": self.f1[i],
            "clean": self.clean[i],
        }
        if sigma is not None:
            j = np.flatnonzero(np.isclose(self.sigmas, sigma))
            if j.size != 1:
                raise KeyError(f"sigma {sigma} K not stored (has {self.sigmas.tolist()})")
            out["noisy"] = self.noisy[int(j[0]), i]
        return out

    def save(self, path: str | os.PathLike) -> tuple[Path, Path]:
        """Write ``<path>.npz`` and ``<path>.json`` atomically."""
        path = Path(path)
        npz, js = path.with_suffix(".npz"), path.with_suffix(".json")
        npz.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "format": FORMAT,
            "kind": self.kind,
            "sensor_names": list(self.sensor_names),
            "units": {
                "times": "s",
                "params": ["r/min", "mm/z", "mm"],
                "clean": "degC",
                "noisy": "degC",
                "sigmas": "K",
                "f1": "degC" if self.kind == "temperature" else "W/m^2",
            },
            "levels": {k: list(v) for k, v in LEVELS.items()},
            "numbering": "case = 1 + 9 i_N + 3 i_fz + i_ae (N slowest, ae fastest)",
            "test_case": TEST_CASE,
            "reconstruction_cases": list(RECONSTRUCTION_CASES),
            **self.meta,
        }
        fd, tmp = tempfile.mkstemp(dir=npz.parent, suffix=".npz.tmp")
        with os.fdopen(fd, "wb") as fh:
            np.savez_compressed(
                fh,
                cases=self.cases,
                params=self.params,
                times=self.times,
                f1=self.f1,
                clean=self.clean,
                sigmas=self.sigmas,
                noisy=self.noisy,
            )
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; data files are meant to be shared
        os.replace(tmp, npz)
        fd, tmp = tempfile.mkstemp(dir=npz.parent, suffix=".json.tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(meta, fh, indent=2, default=float)
        os.chmod(tmp, 0o644)
        os.replace(tmp, js)
        return npz, js


def load_dataset(path: str | os.PathLike) -> IHCPDataset:
    """Read a data set written by :meth:`IHCPDataset.save` (path with or without suffix)."""
    path = Path(path)
    npz, js = path.with_suffix(".npz"), path.with_suffix(".json")
    try:
        meta = json.loads(js.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"{js}: cannot read data-set metadata ({err})") from err
    if meta.get("format") != FORMAT:
        raise ValueError(f"{js}: format must be {FORMAT!r}, got {meta.get('format')!r}")
    with np.load(npz) as data:
        arrays = {k: data[k] for k in data.files}
    return IHCPDataset(
        **arrays, sensor_names=tuple(meta.pop("sensor_names")), kind=meta.pop("kind"), meta=meta
    )


def build_dataset(
    forward: Callable[[np.ndarray], np.ndarray],
    *,
    times: np.ndarray,
    sensor_names: Sequence[str],
    kind: str = "temperature",
    sigmas: Sequence[float] = (0.0, 5.0, 10.0),
    seed: int = 0,
    cases: Sequence[int] = tuple(range(1, 28)),
    cutoff_hz: float | None = None,
    T0: float = 20.0,
    f1_options: dict | None = None,
    progress: bool = False,
    meta: dict | None = None,
) -> IHCPDataset:
    """Generate the virtual cases.

    Args:
        forward: boundary history (n_t,) on ``times`` → clean sensor values °C (n_t, n_s), e.g.
            ``LinearResponse.probes``.
        times: time axis s, shape (n_t,) (the forward model's step times).
        sensor_names: names of the n_s sensor columns.
        kind: "temperature" (F1 in °C) or "flux" (W/m²).
        sigmas: noise levels K (paper 000 §4.1: 0, 5, 10).
        seed: data-set seed (module docstring).
        cases: case numbers to build (default all 27; a subset for MPI splitting).
        cutoff_hz: optional zero-phase low-pass of the noisy records.
        T0: ambient °C.
        f1_options: extra keyword arguments of the cutting-zone model (e.g. ``area_m2``).
        progress: tqdm bar.
        meta: provenance merged into the metadata.
    """
    if kind not in ("temperature", "flux"):
        raise ValueError(f"build_dataset: kind must be 'temperature' or 'flux', got {kind!r}")
    times = np.asarray(times, dtype=float)
    names = tuple(sensor_names)
    cases_arr = np.asarray(list(cases), dtype=int)
    sig = np.asarray(sigmas, dtype=float)
    opts = dict(f1_options or {})
    iterator = cases_arr
    if progress:
        from tqdm import tqdm

        iterator = tqdm(cases_arr, desc="ihcp cases", unit="case")
    params, f1s, cleans, noisy = [], [], [], []
    for c in iterator:
        p = case_params(int(c))
        fseed = case_seed(seed, int(c), 0)
        if kind == "temperature":
            f1 = f1_temperature(times, **p, seed=fseed, T0=T0, **opts)
        else:
            f1 = f1_heat_flux(times, **p, seed=fseed, **opts)
        clean = np.asarray(forward(f1), dtype=float)
        if clean.shape != (times.size, len(names)):
            raise ValueError(
                f"build_dataset: forward model returned {clean.shape}, expected "
                f"({times.size}, {len(names)}) for sensors {list(names)}"
            )
        rows = []
        for i, s in enumerate(sig):
            _, y = measure(
                times,
                clean,
                sigma=float(s),
                seed=case_seed(seed, int(c), 1, i),
                cutoff_hz=cutoff_hz,
            )
            rows.append(y)
        params.append([p["n_rpm"], p["fz_mm"], p["ae_mm"]])
        f1s.append(f1)
        cleans.append(clean)
        noisy.append(rows)
    info = {
        "seed": seed,
        "seed_rule": "f1: SeedSequence([seed, case, 0]); noise at sigma i: "
        "SeedSequence([seed, case, 1, i])",
        "cutoff_hz": cutoff_hz,
        "T0_degC": T0,
        "f1_options": opts,
        **(meta or {}),
    }
    return IHCPDataset(
        cases=cases_arr,
        params=np.asarray(params, dtype=float),
        times=times,
        f1=np.asarray(f1s),
        clean=np.asarray(cleans),
        sigmas=sig,
        noisy=np.moveaxis(np.asarray(noisy), 1, 0),
        sensor_names=names,
        kind=kind,
        meta=info,
    )


def merge_datasets(parts: Sequence[IHCPDataset]) -> IHCPDataset:
    """Concatenate data sets built for disjoint case subsets (e.g. one per MPI rank), sorted."""
    if not parts:
        raise ValueError("merge_datasets: nothing to merge")
    cases = np.concatenate([p.cases for p in parts])
    order = np.argsort(cases)
    if np.unique(cases).size != cases.size:
        raise ValueError(f"merge_datasets: repeated cases {cases.tolist()}")
    first = parts[0]
    return IHCPDataset(
        cases=cases[order],
        params=np.concatenate([p.params for p in parts])[order],
        times=first.times,
        f1=np.concatenate([p.f1 for p in parts])[order],
        clean=np.concatenate([p.clean for p in parts])[order],
        sigmas=first.sigmas,
        noisy=np.concatenate([p.noisy for p in parts], axis=1)[:, order],
        sensor_names=first.sensor_names,
        kind=first.kind,
        meta=first.meta,
    )


def write_measurements_csv(
    path: str | os.PathLike,
    *,
    times: np.ndarray,
    values: np.ndarray,
    names: Sequence[str],
    f1: np.ndarray | None = None,
    meta: dict | None = None,
) -> Path:
    """Write ``time_s,<names...>[,F1]`` with ``# key = value`` header lines, atomically."""
    path = Path(path)
    values = np.asarray(values, dtype=float)
    times = np.asarray(times, dtype=float)
    if values.shape != (times.size, len(names)):
        raise ValueError(
            f"write_measurements_csv: values {values.shape} != ({times.size}, {len(names)})"
        )
    buf = io.StringIO()
    for key, value in (meta or {}).items():
        buf.write(f"# {key} = {value}\n")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["time_s", *names, *(["F1"] if f1 is not None else [])])
    cols = [times[:, None], values] + (
        [np.asarray(f1, dtype=float)[:, None]] if f1 is not None else []
    )
    for row in np.hstack(cols):
        writer.writerow([repr(float(v)) for v in row])
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".csv.tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(buf.getvalue())
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path


@dataclass(frozen=True)
class Measurements:
    """A sensor record read from CSV: times (n_t,) s, values (n_t, n_s) °C, names, optional F1
    truth (n_t,), and the ``# key = value`` metadata."""

    times: np.ndarray
    values: np.ndarray
    names: tuple[str, ...]
    f1: np.ndarray | None
    meta: dict


def read_measurements_csv(path: str | os.PathLike) -> Measurements:
    """Read a ``time_s,<sensors...>[,F1]`` CSV; errors name the file, row and column."""
    path = Path(path)
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
    expected = "a header 'time_s,<sensor names...>[,F1]' and numeric rows"
    if not rows or rows[0][0].strip() != "time_s" or len(rows[0]) < 2:
        raise ValueError(f"{path}: first column must be 'time_s'; expected {expected}")
    header = [h.strip() for h in rows[0]]
    has_f1 = header[-1] == "F1"
    names = tuple(header[1:-1] if has_f1 else header[1:])
    if not names:
        raise ValueError(f"{path}: no sensor columns; expected {expected}")
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
    if data.shape[0] < 2 or np.any(np.diff(data[:, 0]) <= 0):
        raise ValueError(f"{path}: time_s must be strictly increasing with at least 2 rows")
    n_s = len(names)
    return Measurements(
        times=data[:, 0],
        values=data[:, 1 : 1 + n_s],
        names=names,
        f1=data[:, -1] if has_f1 else None,
        meta=meta,
    )

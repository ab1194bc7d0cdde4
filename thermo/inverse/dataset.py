r"""The 27-case virtual IHCP data set of paper 000 §3.1.

Design, numbering, test case and reconstruction conditions: :mod:`thermo.inverse.design`.

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
names, forward-model provenance), written atomically (:mod:`thermo.atomic`). Arrays:
``cases`` (27,), ``params`` (27, 3) [N r/min, fz mm/z, ae mm], ``times`` (n_t,) s,
``f1`` (27, n_t) °C or W/m², ``clean`` (27, n_t, n_s) °C, ``sigmas`` (n_σ,) K,
``noisy`` (n_σ, 27, n_t, n_s) °C.

One case comes out as a :class:`thermo.inverse.record.SensorRecord` (:meth:`IHCPDataset.case`),
the type every inverse method reads; CSV exchange of records is :mod:`thermo.inverse.record`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from thermo.atomic import atomic_path, atomic_write_text
from thermo.inverse.cutting_zone import f1_heat_flux, f1_temperature
from thermo.inverse.design import LEVELS, RECONSTRUCTION_CASES, TEST_CASE, case_params, case_seed
from thermo.inverse.record import SensorRecord
from thermo.inverse.sensors import measure

FORMAT = "millheat.ihcp_dataset/1"


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

    def case(self, case: int, *, sigma: float | None = None) -> SensorRecord:
        """One case as a sensor record: ``values`` are the noisy records at ``sigma`` (K, one
        of :attr:`sigmas`) or, with ``sigma=None``, the clean histories; ``clean``, ``truth``
        (the F1 history), ``params`` and ``meta`` (``case``, ``sigma_K``) are always set."""
        hits = np.flatnonzero(self.cases == case)
        if hits.size != 1:
            raise KeyError(f"case {case} not in the data set (has {self.cases.tolist()})")
        i = int(hits[0])
        values = self.clean[i]
        if sigma is not None:
            j = np.flatnonzero(np.isclose(self.sigmas, sigma))
            if j.size != 1:
                raise KeyError(f"sigma {sigma} K not stored (has {self.sigmas.tolist()})")
            values = self.noisy[int(j[0]), i]
        return SensorRecord(
            times=self.times,
            values=values,
            names=self.sensor_names,
            params=dict(zip(("n_rpm", "fz_mm", "ae_mm"), self.params[i], strict=True)),
            truth=self.f1[i],
            clean=self.clean[i],
            meta={"case": int(case), "sigma_K": None if sigma is None else float(sigma)},
        )

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
        with atomic_path(npz) as tmp:
            np.savez_compressed(
                tmp,
                cases=self.cases,
                params=self.params,
                times=self.times,
                f1=self.f1,
                clean=self.clean,
                sigmas=self.sigmas,
                noisy=self.noisy,
            )
        atomic_write_text(js, json.dumps(meta, indent=2, default=float))
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

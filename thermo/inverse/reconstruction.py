r"""Tool temperature-field reconstruction (paper 000 §4.2, Fig. 10): truth → measured → inverse →
full field → metrics.

Pipeline for one working condition (N r/min, fz mm/z, ae mm):

1. **Truth**: the time-averaged cutting-zone temperature :math:`T_{F1}(t)` (°C, shape (n_t,)) of
   :func:`thermo.inverse.cutting_zone.f1_temperature`, seeded like the 27-case data set
   (``SeedSequence([seed, case, 0])``, :mod:`thermo.inverse.dataset`).
2. **Measured sensors**: clean S1..S4 histories from the exact discrete Duhamel model
   :math:`y_n = T_0 + \sum_{k=1}^{n} (u_k - u_{k-1}) S_{n-k+1}` (:mod:`thermo.inverse.duhamel`,
   :class:`thermo.inverse.linear_response.LinearResponse`), plus Gaussian noise σ (K) from
   :func:`thermo.inverse.sensors.measure` (``SeedSequence([seed, case, 1])``); shape (n_t, 4), °C.
3. **Inverse estimate** by any registered inverse method (:mod:`thermo.inverse.registry`,
   contract :class:`thermo.inverse.method.InverseMethod`): ``method.estimate(record)`` gives the
   F1 history (n_t,) and optionally a band (n_t, 2) — first-order Tikhonov with its posterior
   band, SFSM, Kalman, or the neural student/teacher, all through the same call.
4. **Reconstruction**: the field of the whole insert–shank–bolt system at any step time by the
   same Duhamel sum applied to the recorded step-response fields (by default on its low-rank
   factors, :class:`thermo.inverse.lowrank.CompressedStep`, with a proven error bound; exactly with
   one
   (k × n_t)·(n_t × n_dofs) product, :func:`thermo.inverse.duhamel.superpose_at`), and the
   reconstructed
   sensor curves.
5. **Metrics** (:mod:`thermo.inverse.evaluation`): per sensor R² and RMSE of reconstructed vs
   measured (paper Fig. 10 J–L, eq. 10) and vs the clean truth, boundary-history RMSE/R² against
   the truth, leave-one-sensor-out RMSE (estimate from three sensors, predict the fourth, compare
   with its clean history).

Bands: each method's own (Tikhonov's Gaussian posterior, :mod:`thermo.inverse.classical`; the
neural ensemble's spread). Sensor-curve bands are the forward model applied to the band edges
(min/max over the two), i.e. the band of a fully correlated error.

The F1 input may be a temperature (°C) or a heat flux (W/m²): the response's ``kind`` decides,
and the virtual truth is :func:`thermo.inverse.cutting_zone.f1_temperature` or
:func:`~thermo.inverse.cutting_zone.f1_heat_flux` accordingly.

Where paper 000 is vague: it does not say whether its R² of 0.92–0.97 is against the noisy or a
filtered measurement, nor give the 382 r/min RMSEs; we report both (vs measured and vs clean).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from thermo.inverse.cutting_zone import f1_heat_flux, f1_temperature
from thermo.inverse.design import FIELD_TIMES, case_number, case_seed
from thermo.inverse.evaluation import boundary_metrics, method_loso, sensor_fit_metrics
from thermo.inverse.record import SensorRecord
from thermo.inverse.sensors import measure

if TYPE_CHECKING:
    from thermo.inverse.linear_response import LinearResponse
    from thermo.inverse.method import InverseMethod


def virtual_measurement(
    response: LinearResponse,
    *,
    n_rpm: float,
    fz_mm: float,
    ae_mm: float,
    sigma: float,
    seed: int,
    f1_options: dict | None = None,
) -> SensorRecord:
    """Truth and measured sensors of one condition on the response's step grid.

    The F1 truth is seeded like the 27-case data set (``SeedSequence([seed, case, 0])``), the
    noise with ``SeedSequence([seed, case, 1])``. Returns a record with ``values`` the measured
    sensors (n_t, n_s) °C, ``clean`` the noise-free ones, ``truth`` the F1 history (°C, or W/m²
    for a flux response) and ``meta`` {case, sigma_K, seed}.
    """
    case = case_number(n_rpm, fz_mm, ae_mm)
    times = response.times
    params = {"n_rpm": n_rpm, "fz_mm": fz_mm, "ae_mm": ae_mm}
    opts = dict(f1_options or {})
    if response.kind == "temperature":
        f1 = f1_temperature(times, **params, seed=case_seed(seed, case, 0), T0=response.T0, **opts)
    else:
        f1 = f1_heat_flux(times, **params, seed=case_seed(seed, case, 0), **opts)
    clean = response.probes(f1)
    _, measured = measure(times, clean, sigma=sigma, seed=case_seed(seed, case, 1))
    return SensorRecord(
        times=times,
        values=measured,
        names=response.probe_names,
        params=params,
        truth=f1,
        clean=clean,
        meta={"case": case, "sigma_K": float(sigma), "seed": int(seed)},
    )


@dataclass(frozen=True)
class Reconstruction:
    """Result of :func:`reconstruct` for one condition (shapes in the module docstring).

    Attributes:
        record: the sensor record the estimate was made from (with truth/clean when known).
        method: the method's name.
        times: step times s (n_t,).
        f1: estimated F1 history (n_t,) °C or W/m²; ``f1_band`` (n_t, 2) or None.
        fitted: reconstructed sensor curves °C (n_t, n_s); ``sensor_band`` (n_t, n_s, 2) or None.
        field_times: times s of ``fields``.
        fields: field dof values °C at ``field_times`` (k, n_dofs), or None without field response.
        metrics: the metrics dict (see :func:`reconstruct`).
        info: the method's diagnostics.
    """

    record: SensorRecord
    method: str
    times: np.ndarray
    f1: np.ndarray
    f1_band: np.ndarray | None
    fitted: np.ndarray
    sensor_band: np.ndarray | None
    field_times: tuple[float, ...]
    fields: np.ndarray | None
    metrics: dict
    info: dict

    @property
    def params(self) -> dict[str, float]:
        return dict(self.record.params)


def reconstruct(
    response: LinearResponse,
    method: InverseMethod,
    record: SensorRecord,
    *,
    field_times: Sequence[float] = FIELD_TIMES,
    loso: bool = True,
    compressed_fields: bool = True,
) -> Reconstruction:
    """Inverse estimate, reconstructed sensors and fields, and metrics for one condition.

    Args:
        response: linear response whose probes include the record's sensors (fields recorded
            for the field reconstruction).
        method: any inverse method (:class:`thermo.inverse.method.InverseMethod`).
        record: sensor record on the response's step grid (n_t samples from t = 0), with
            ``truth`` (true F1) and ``clean`` (LOSO reference) when known.
        field_times: output times s (on the step grid).
        loso: run leave-one-sensor-out (n_s extra inversions) when the method supports subsets.
        compressed_fields: fields from the low-rank field response
            (:meth:`thermo.inverse.linear_response.LinearResponse.field_compression`, computed
            once per response; error ≤ TV(F1 − T0) · its ``max_error`` K) instead of the exact
            sum over the full response.

    Returns:
        :class:`Reconstruction`; ``metrics`` = ``{"method", "sensors": {name: {"rmse", "r2",
        "rmse_clean", "r2_clean"}, "all": ...}, "boundary": {"rmse", "r2", "max_abs"} | None,
        "loso": {name: {"rmse", "r2"}, "mean": ...} | None, "band_coverage": float | None}``.
    """
    times = response.times
    names = list(record.names)
    if record.times.shape != times.shape or not np.allclose(record.times, times, atol=1e-9):
        raise ValueError(
            f"reconstruct: the record must be sampled on the response's step grid "
            f"({times.size} steps of {times[1] - times[0]:g} s from 0), got {record.times.size} "
            f"samples from {record.times[0]:g} to {record.times[-1]:g} s"
        )
    missing = [n for n in names if n not in response.probe_names]
    if missing:
        raise ValueError(f"reconstruct: sensors {missing} are not probes of the response")
    cols = [response.probe_names.index(n) for n in names]

    def probes(history: np.ndarray) -> np.ndarray:
        return response.probes(history)[:, cols]

    est = method.estimate(record)
    f1, band = est.values, est.band
    if f1.shape != times.shape:
        raise ValueError(f"{method.name}: estimate must have shape {times.shape}, got {f1.shape}")
    fitted = probes(f1)
    sensor_band = None
    if band is not None:
        sensor_band = np.sort(np.stack([probes(band[:, 0]), probes(band[:, 1])], axis=-1), axis=-1)
    measured = record.values
    s = sensor_fit_metrics(fitted[1:], measured[1:], names=names)
    ref = measured if record.clean is None else record.clean
    sc = sensor_fit_metrics(fitted[1:], ref[1:], names=names)
    sensors = {n: {**s[n], "rmse_clean": sc[n]["rmse"], "r2_clean": sc[n]["r2"]} for n in s}
    metrics: dict = {
        "method": method.name,
        "sensors": sensors,
        "boundary": None,
        "loso": None,
        "band_coverage": None,
    }
    if record.truth is not None:
        truth = record.truth
        metrics["boundary"] = boundary_metrics(f1[1:], truth[1:])
        if band is not None:
            inside = (truth[1:] >= band[1:, 0]) & (truth[1:] <= band[1:, 1])
            metrics["band_coverage"] = float(np.mean(inside))
    if loso and method.subsets and len(names) >= 2:
        metrics["loso"] = method_loso(method, record, predict=probes)
    fields = None
    if response.has_fields:
        # A streamed response holds only its low-rank factors (no full field matrix).
        compressed = compressed_fields or response.field_step is None
        fields = response.fields(f1, at_times=field_times, compressed=compressed)
    return Reconstruction(
        record=record,
        method=method.name,
        times=times,
        f1=f1,
        f1_band=band,
        fitted=fitted,
        sensor_band=sensor_band,
        field_times=tuple(float(t) for t in field_times),
        fields=fields,
        metrics=metrics,
        info=dict(est.info),
    )

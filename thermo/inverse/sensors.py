r"""Sensor model: what an embedded thermocouple reports of a simulated temperature history.

Paper 000 (§3.1) records four thin-film thermocouples on the tool flank; "the collected
temperature data will have a certain noise level, and the data need to be filtered", and §4.1
tests noise levels σ = 0, 5, 10 K. The model here, applied per sensor column:

1. resample the clean history :math:`y(t)` (linear interpolation) at the sampling instants
   :math:`t_j = t_{start} + j\,\Delta t_s` inside the simulated interval;
2. add white Gaussian noise :math:`e_j \sim \mathcal N(0, \sigma^2)` (σ in K) from ``seed``;
3. optionally low-pass filter with a zero-phase Butterworth filter of the given order and cut-off
   frequency (``scipy.signal.butter`` as second-order sections, ``sosfiltfilt``: forward and
   backward, so no time lag, effective order doubled).

The paper does not name its filter; a zero-phase Butterworth is the usual choice for off-line
thermocouple records and is what we use.

The sensor positions themselves come with the mesh (:attr:`meshes.tagged.TaggedMesh.sensors`,
coordinates in m); :func:`ordered_sensors` returns them in a fixed (sorted-name) order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from scipy import signal


def ordered_sensors(sensors: Mapping[str, np.ndarray]) -> dict[str, tuple[float, float, float]]:
    """Sensor name → (x, y, z) in m, sorted by name; checks every entry is 3 finite numbers.

    ``sensors`` is e.g. ``tagged.sensors`` of a :class:`meshes.tagged.TaggedMesh`.
    """
    out: dict[str, tuple[float, float, float]] = {}
    for name in sorted(sensors):
        xyz = np.asarray(sensors[name], dtype=float).reshape(-1)
        if xyz.shape != (3,) or not np.all(np.isfinite(xyz)):
            raise ValueError(f"sensor {name!r}: expected 3 finite coordinates (m), got {xyz}")
        out[name] = (float(xyz[0]), float(xyz[1]), float(xyz[2]))
    if not out:
        raise ValueError("ordered_sensors: no sensors given (the mesh carries none)")
    return out


def lowpass(y: np.ndarray, *, dt: float, cutoff_hz: float, order: int = 4) -> np.ndarray:
    """Zero-phase Butterworth low-pass of ``y`` (n_t,) or (n_t, n_sensors) along axis 0.

    ``dt`` sampling interval s; ``cutoff_hz`` must be below the Nyquist frequency 1/(2 dt).
    """
    y = np.asarray(y, dtype=float)
    nyquist = 0.5 / dt
    if not 0.0 < cutoff_hz < nyquist:
        raise ValueError(
            f"lowpass: cutoff_hz must be in (0, {nyquist:g}) for dt={dt:g} s, got {cutoff_hz!r}"
        )
    sos = signal.butter(order, cutoff_hz, btype="low", fs=1.0 / dt, output="sos")
    padlen = min(y.shape[0] - 1, 3 * (2 * len(sos) + 1))
    return signal.sosfiltfilt(sos, y, axis=0, padlen=padlen)


def measure(
    times: np.ndarray,
    clean: np.ndarray,
    *,
    sigma: float,
    seed: int,
    sample_interval: float | None = None,
    cutoff_hz: float | None = None,
    filter_order: int = 4,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulated measurement of clean sensor histories.

    Args:
        times: simulation times, s, shape (n_t,), strictly increasing.
        clean: clean temperatures, °C, shape (n_t,) or (n_t, n_sensors).
        sigma: noise standard deviation, K (0 for none).
        seed: seed of the noise generator.
        sample_interval: sampling interval Δt_s, s; ``None`` keeps ``times``.
        cutoff_hz: low-pass cut-off, Hz; ``None`` for no filter.
        filter_order: Butterworth order (per pass).

    Returns:
        ``(t_s, y)``: sampling times (n_s,) and measured values, shape (n_s,) or (n_s, n_sensors).
    """
    times = np.asarray(times, dtype=float).reshape(-1)
    clean = np.asarray(clean, dtype=float)
    if clean.shape[0] != times.size:
        raise ValueError(
            f"measure: clean has {clean.shape[0]} rows but times has {times.size} entries"
        )
    if times.size < 2 or np.any(np.diff(times) <= 0):
        raise ValueError("measure: times must be strictly increasing with ≥ 2 entries")
    if not np.all(np.isfinite(clean)):
        raise ValueError("measure: clean histories contain NaN/inf")
    if not (math.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"measure: sigma must be ≥ 0 (K), got {sigma!r}")
    if sample_interval is None:
        t_s = times.copy()
        y = clean.copy()
    else:
        if not sample_interval > 0:
            raise ValueError(f"measure: sample_interval must be > 0 s, got {sample_interval!r}")
        n = int(math.floor((times[-1] - times[0]) / sample_interval + 1e-9)) + 1
        t_s = times[0] + sample_interval * np.arange(n)
        flat = clean.reshape(times.size, -1)
        y = np.stack([np.interp(t_s, times, col) for col in flat.T], axis=1)
        y = y.reshape((n,) + clean.shape[1:])
    rng = np.random.default_rng(seed)
    y = y + sigma * rng.standard_normal(y.shape)
    if cutoff_hz is not None:
        y = lowpass(y, dt=float(t_s[1] - t_s[0]), cutoff_hz=cutoff_hz, order=filter_order)
    return t_s, y

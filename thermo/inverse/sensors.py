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

A more realistic channel (issue 14), beside :func:`measure` whose behaviour is unchanged:
:class:`SensorModel` (first-order thermocouple lag, slow drift, white noise, quantisation; ranges
and sources in its docstring), applied by :func:`apply_sensor_model` to arrays and by
:func:`measure_record` to a :class:`~thermo.inverse.record.SensorRecord`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
from scipy import signal

from thermo.inverse.record import SensorRecord


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


# --------------------------------------------------------------------------------------------
# Realistic sensor model (issue 14): thermocouple lag, white noise, slow drift, quantisation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SensorModel:
    r"""What a real thermocouple channel adds to the true temperature at its junction.

    Applied per sensor column by :func:`apply_sensor_model`, in this order:

    1. **First-order lag** :math:`\tau\,\dot y = x - y`, :math:`y(t_0) = x(t_0)` (the junction
       is in equilibrium before the cut), ``tau_s`` in s (:func:`first_order_lag`). An embedded
       thermocouple's time constant is set by its junction size and sheath and, in a drilled hole,
       by the contact resistance to the tool: manufacturers' response-time tables for sheathed
       mineral-insulated probes (e.g. Omega Engineering's "time constant" tables; the test method
       of ASTM E839) give about 0.05–0.3 s for exposed or grounded junctions of 0.25–1 mm
       sheath, longer for ungrounded ones; issue 14 draws τ in 0.05–0.3 s. Thin-film
       thermocouples such as paper 000's sputtered TFTCs respond in microseconds to a millisecond
       (their junction is ≲ 1 µm thick), i.e. τ ≈ 0 on the data grid. Default 0.1 s.
    2. **Slow drift** d(t): a random walk (Wiener process) from zero at the first sample (the
       record is tared at ambient before the cut, common practice), scaled so that its mean
       square over ``drift_ref_s`` is ``drift_K``²: :math:`E[d(t)^2] = D t` with
       :math:`D = 2\,\text{drift\_K}^2/\text{drift\_ref\_s}`. Sources of such drift:
       cold-junction-compensation error as the connector warms, amplifier offset drift, and
       inhomogeneity EMF of lead wires in a changing temperature gradient (thermocouple
       metrology texts, e.g. Nicholas & White, *Traceable Temperatures*, Wiley, chapter on
       thermocouples; DAQ thermocouple modules' data sheets quote CJC errors of order
       0.5–1 °C). Default 0.5 K rms over 12 s: our assumption for a tared
       channel, below a module's absolute CJC error.
    3. **White noise** :math:`\mathcal N(0, \sigma^2)` per sample, ``sigma_K`` in K (paper 000
       §4.1: 0, 5, 10 K). Default 0 (the study sets σ).
    4. **Quantisation** to the nearest multiple of ``quantum_K`` (the DAQ's ADC and the stored
       resolution): a 16-bit ADC on a ±80 mV range resolves 2.4 µV ≈ 0.06 K of a type K
       couple (≈ 41 µV/K); integrated thermocouple amplifiers resolve 0.25 K (14-bit, e.g.
       MAX31855) down to ≈ 0.008 K (19-bit, MAX31856). Default 0.1 K; 0 for none.

    A zero setting switches its step off; ``SensorModel(0, 0, 0, 0)`` returns the clean values
    unchanged.
    """

    tau_s: float = 0.1
    sigma_K: float = 0.0
    drift_K: float = 0.5
    quantum_K: float = 0.1
    drift_ref_s: float = 12.0

    def __post_init__(self) -> None:
        for name in ("tau_s", "sigma_K", "drift_K", "quantum_K"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v) and v >= 0):
                raise ValueError(f"SensorModel: {name} must be a finite number >= 0, got {v!r}")
        if not (isinstance(self.drift_ref_s, int | float) and self.drift_ref_s > 0):
            raise ValueError(f"SensorModel: drift_ref_s must be > 0 s, got {self.drift_ref_s!r}")
        if self.tau_s > 60.0:
            raise ValueError(
                f"SensorModel: tau_s = {self.tau_s!r} s is implausible for a thermocouple "
                "(expected 0–60 s; is it in ms?)"
            )

    def as_meta(self) -> dict:
        """Plain-JSON description for a record's or data set's metadata."""
        return {
            "tau_s": float(self.tau_s),
            "sigma_K": float(self.sigma_K),
            "drift_K": float(self.drift_K),
            "drift_ref_s": float(self.drift_ref_s),
            "quantum_K": float(self.quantum_K),
            "drift": "random walk from 0 at the first sample; rms drift_K over drift_ref_s",
        }


def _uniform_step(times: np.ndarray, where: str) -> float:
    times = np.asarray(times, dtype=float).reshape(-1)
    if times.size < 2 or not np.all(np.isfinite(times)) or np.any(np.diff(times) <= 0):
        raise ValueError(f"{where}: times must be finite and strictly increasing (>= 2 samples)")
    steps = np.diff(times)
    h = float(steps.mean())
    if np.any(np.abs(steps - h) > 1e-6 * h):
        raise ValueError(
            f"{where}: times must be uniformly spaced (steps {steps.min():g}..{steps.max():g} s); "
            "resample the record to a uniform grid first"
        )
    return h


def first_order_lag(times: np.ndarray, x: np.ndarray, tau_s: float | np.ndarray) -> np.ndarray:
    r"""Response y of a first-order sensor :math:`\tau\dot y = x - y`, :math:`y(t_0) = x(t_0)`.

    Exact for an input that is linear between the samples (first-order hold) on a uniform grid
    of step h: with :math:`a = e^{-h/\tau}`,

    .. math::

        y_{k+1} = a\,y_k + (1 - a)\,x_k + \Big(1 - \frac{\tau (1 - a)}{h}\Big)(x_{k+1} - x_k),

    so a ramp is reproduced to round-off and a step between two samples is seen as a ramp over
    one step (error ≤ h/τ of the step near it, decaying as e^{-t/τ}).

    Args:
        times: sample times, s, shape (n_t,), uniform.
        x: true temperatures, shape (n_t,) or (n_t, n_s).
        tau_s: time constant, s, ≥ 0 (0: y = x); a scalar or one per column (n_s,).

    Returns:
        y, the shape of ``x``.
    """
    h = _uniform_step(times, "first_order_lag")
    x = np.asarray(x, dtype=float)
    if x.shape[0] != np.asarray(times).size:
        raise ValueError(f"first_order_lag: x has {x.shape[0]} rows for {np.size(times)} times")
    flat = x.reshape(x.shape[0], -1)
    taus = np.broadcast_to(np.asarray(tau_s, dtype=float), (flat.shape[1],))
    if not np.all(np.isfinite(taus)) or np.any(taus < 0):
        raise ValueError(f"first_order_lag: tau_s must be >= 0 s, got {tau_s!r}")
    out = flat.copy()
    for j, tau in enumerate(taus):
        if tau == 0.0:
            continue
        a = math.exp(-h / tau)
        b0 = 1.0 - tau * (1.0 - a) / h
        b1 = (1.0 - a) - b0
        col = flat[:, j]
        out[:, j] = col[0] + signal.lfilter([b0, b1], [1.0, -a], col - col[0])
    return out.reshape(x.shape)


def random_walk_drift(
    times: np.ndarray,
    n_sensors: int,
    *,
    drift_K: float,
    ref_s: float = 12.0,
    rng: np.random.Generator,
) -> np.ndarray:
    """Random-walk drift (n_t, n_sensors), K: zero at ``times[0]``, E[d(t)²] = D (t − t0),
    D = 2 drift_K² / ref_s, so the mean square over a ``ref_s`` record is drift_K² (uniform grid).
    """
    times = np.asarray(times, dtype=float).reshape(-1)
    diff = 2.0 * drift_K**2 / ref_s
    steps = np.sqrt(diff * np.diff(times))[:, None] * rng.standard_normal(
        (times.size - 1, n_sensors)
    )
    return np.vstack([np.zeros((1, n_sensors)), np.cumsum(steps, axis=0)])


def apply_sensor_model(
    times: np.ndarray, clean: np.ndarray, model: SensorModel, *, seed: int
) -> np.ndarray:
    """Measured values of the true (clean) sensor temperatures under ``model``.

    Args:
        times: sample times, s, shape (n_t,), uniform when ``model.tau_s`` > 0.
        clean: true temperatures at the junctions, °C, shape (n_t,) or (n_t, n_s).
        model: the sensor model.
        seed: seed; the drift and the white noise come from two independent children of
            ``SeedSequence(seed)``, so changing σ does not change the drift.

    Returns:
        Measured values, the shape of ``clean``: Q(lag(clean) + drift + noise).
    """
    times = np.asarray(times, dtype=float).reshape(-1)
    clean = np.asarray(clean, dtype=float)
    if clean.shape[0] != times.size:
        raise ValueError(
            f"apply_sensor_model: clean has {clean.shape[0]} rows but times has {times.size}"
        )
    if times.size < 2 or not np.all(np.isfinite(times)) or np.any(np.diff(times) <= 0):
        raise ValueError("apply_sensor_model: times must be strictly increasing (>= 2 samples)")
    if not np.all(np.isfinite(clean)):
        raise ValueError("apply_sensor_model: clean histories contain NaN/inf")
    y = clean.reshape(times.size, -1).copy()
    if model.tau_s > 0:
        y = first_order_lag(times, y, model.tau_s)
    drift_ss, noise_ss = np.random.SeedSequence(seed).spawn(2)
    if model.drift_K > 0:
        y = y + random_walk_drift(
            times,
            y.shape[1],
            drift_K=model.drift_K,
            ref_s=model.drift_ref_s,
            rng=np.random.default_rng(drift_ss),
        )
    if model.sigma_K > 0:
        y = y + model.sigma_K * np.random.default_rng(noise_ss).standard_normal(y.shape)
    if model.quantum_K > 0:
        y = model.quantum_K * np.round(y / model.quantum_K)
    return y.reshape(clean.shape)


def measure_record(record: SensorRecord, model: SensorModel, *, seed: int) -> SensorRecord:
    """A new record whose ``values`` are ``model`` applied to the record's true sensor values.

    The true values are ``record.clean`` when present, else ``record.values``; they are kept as
    ``clean``. ``meta`` gains ``sensor_model`` (:meth:`SensorModel.as_meta`) and
    ``sensor_seed``; ``truth``, ``params`` and ``names`` are kept.
    """
    true = record.values if record.clean is None else record.clean
    measured = apply_sensor_model(record.times, true, model, seed=seed)
    return replace(
        record,
        values=measured,
        clean=true,
        meta={**record.meta, "sensor_model": model.as_meta(), "sensor_seed": int(seed)},
    )

r"""A synthetic stand-in for the 27-case virtual data set with a known inverse (for tests and
benchmarks until ``thermo.inverse.dataset`` lands).

Cases follow the paper's full-factorial design (§3.1, §4.2 levels): N ∈ {382, 509, 636} r/min,
fz ∈ {0.05, 0.075, 0.1} mm/z, ae ∈ {0.1, 0.2, 0.3} mm, case id = 1 + 9 i_N + 3 i_fz + i_ae.
The F1 temperature (°C) rises to a level set by the parameters, with a seeded smooth wobble:

.. math::  T_{F1}(t) = T_\infty + \Delta T\,(1-e^{-t/\tau_0})\,(1 + a\sin(2\pi t/P + \varphi)),
           \quad \Delta T = 300\,(N/509)^{0.4}(f_z/0.075)^{0.3}(a_e/0.2)^{0.5}\ \mathrm K.

Sensor j is a first-order lag of the boundary (gain :math:`g_j`, time constant :math:`\tau_j`),
stepped with implicit Euler so the map is causal:

.. math::  s_j[t] = s_j[t-1] + \frac{\Delta t}{\tau_j}\big(T_\infty + g_j(T_{F1}[t]-T_\infty)
           - s_j[t-1]\big),

hence the exact inverse from the last two sensor samples


.. math::  T_{F1}[t] = T_\infty + \big(s_j[t-1]-T_\infty
           + \tfrac{\tau_j}{\Delta t}(s_j[t]-s_j[t-1])\big)/g_j

(:func:`exact_inverse`). Any window of >= 2 steps therefore determines the label exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from thermo.inverse.design import case_params
from thermo.inverse.record import SensorRecord

T_AMBIENT = 20.0
SENSOR_GAINS = (0.6, 0.45, 0.35, 0.25)
SENSOR_TAUS = (0.5, 0.8, 1.2, 1.6)  # s


def synthetic_case(case_id: int, *, n_steps: int = 120, dt: float = 0.1, seed: int) -> SensorRecord:
    """One synthetic case (time axis ``n_steps · dt`` s); the wobble is drawn from ``seed``."""
    if n_steps < 2 or not dt > 0:
        raise ValueError(f"synthetic_case: need n_steps >= 2 and dt > 0, got {n_steps}, {dt}")
    p = case_params(case_id)  # the 27-case design of thermo.inverse.design
    n, fz, ae = p["n_rpm"], p["fz_mm"], p["ae_mm"]
    rng = np.random.default_rng([seed, case_id])
    t = np.arange(n_steps) * dt
    rise = 300.0 * (n / 509.0) ** 0.4 * (fz / 0.075) ** 0.3 * (ae / 0.2) ** 0.5
    amp, period, phase = rng.uniform(0.05, 0.15), rng.uniform(2.0, 5.0), rng.uniform(0, 2 * np.pi)
    label = T_AMBIENT + rise * (1 - np.exp(-t / 1.5)) * (
        1 + amp * np.sin(2 * np.pi * t / period + phase)
    )
    sensors = np.empty((n_steps, len(SENSOR_GAINS)))
    s = np.full(len(SENSOR_GAINS), T_AMBIENT)
    gains, taus = np.array(SENSOR_GAINS), np.array(SENSOR_TAUS)
    for k in range(n_steps):
        s = s + dt / taus * (T_AMBIENT + gains * (label[k] - T_AMBIENT) - s)
        sensors[k] = s
    return SensorRecord(
        times=t,
        values=sensors,
        names=tuple(f"S{j + 1}" for j in range(len(SENSOR_GAINS))),
        params={"n_rpm": n, "fz_mm": fz, "ae_mm": ae},
        truth=label,
        meta={"case": int(case_id), "source": "synthetic"},
    )


def synthetic_cases(
    *,
    seed: int,
    case_ids: Sequence[int] = tuple(range(1, 28)),
    n_steps: int = 120,
    dt: float = 0.1,
) -> dict[int, SensorRecord]:
    """``{case_id: SensorRecord}`` for ``case_ids`` (default all 27)."""
    return {int(c): synthetic_case(int(c), n_steps=n_steps, dt=dt, seed=seed) for c in case_ids}


def exact_inverse(case: SensorRecord, *, sensor: int = 0) -> np.ndarray:
    """F1 temperature recovered exactly from sensor ``sensor``, shape (n_steps - 1,) for t >= 1
    (Δt taken from ``case.times``)."""
    s = case.values[:, sensor]
    dt = float(case.times[1] - case.times[0])
    g, tau = SENSOR_GAINS[sensor], SENSOR_TAUS[sensor]
    return T_AMBIENT + (s[:-1] - T_AMBIENT + tau / dt * (s[1:] - s[:-1])) / g

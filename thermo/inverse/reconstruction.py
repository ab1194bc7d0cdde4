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
3. **Inverse estimate** by a pluggable :class:`InverseMethod`: ``estimate(times (n_t,),
   measured (n_t, n_s), params) -> (f1 (n_t,) °C, band (n_t, 2) °C or None)``. The classical
   default is first-order Tikhonov (:func:`tikhonov_method`); the neural student of
   ``surrogates.ihcp`` plugs in through the same signature.
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

Uncertainty band of Tikhonov (Bayesian reading of the regularised least squares: Gaussian noise
σ² I and a Gaussian smoothness prior with precision :math:`(\lambda/\sigma)^2 L^T L`):

.. math::

    \operatorname{Cov}\hat\theta = \sigma^2 (X^T X + \lambda^2 L^T L)^{-1},

λ as in :mod:`thermo.inverse.tikhonov` (it multiplies ‖Lθ‖ squared). With GCV σ is replaced by
the residual estimate :math:`\hat\sigma^2 = \|r\|^2 / (n - \operatorname{tr} H)`. The band is
:math:`\hat\theta \pm z\,\mathrm{sd}` (z = 1.96, 95 %). It ignores the bias of regularisation
(smoothing of fast changes), which is the dominant error at the cut-in ramp: read it as the noise
part of the uncertainty only. Sensor-curve bands are the forward model applied to the band edges
(min/max over the two), i.e. the band of a fully correlated error; this works for any method that
returns a band, the neural ensemble included.

Where paper 000 is vague: it does not say whether its R² of 0.92–0.97 is against the noisy or a
filtered measurement, nor give the 382 r/min RMSEs; we report both (vs measured and vs clean).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from thermo.inverse.cutting_zone import f1_temperature
from thermo.inverse.dataset import LEVELS, case_seed
from thermo.inverse.evaluation import boundary_metrics, leave_one_sensor_out, sensor_fit_metrics
from thermo.inverse.sensors import measure

if TYPE_CHECKING:
    from thermo.inverse.linear_response import LinearResponse
    from thermo.inverse.tikhonov import TikhonovSolver

#: estimate(times (n_t,) s, measured (n_t, n_s) °C, params) → (f1 (n_t,) °C, band (n_t, 2) | None)
Estimate = Callable[
    [np.ndarray, np.ndarray, Mapping[str, float]], tuple[np.ndarray, np.ndarray | None]
]

#: Paper 000 §4.2 reconstruction conditions: (N r/min, fz mm/z, ae mm).
CONDITIONS: tuple[tuple[float, float, float], ...] = (
    (382.0, 0.075, 0.2),
    (509.0, 0.075, 0.2),
    (636.0, 0.075, 0.2),
)
#: Paper 000 Fig. 10 A–I snapshot times, s.
FIELD_TIMES: tuple[float, ...] = (4.0, 8.0, 12.0)
#: Paper 000 §4.2 sensor RMSEs (°C) quoted in the text (S1..S4); 382 r/min is not given.
PAPER_RMSE: dict[float, tuple[float, ...]] = {
    509.0: (1.85, 1.98, 1.62, 1.43),
    636.0: (4.51, 2.89, 3.68, 3.56),
}
#: Paper 000 §4.2 range of the sensor-curve fit R² over all conditions and sensors.
PAPER_R2_RANGE: tuple[float, float] = (0.92, 0.97)


@dataclass(frozen=True)
class InverseMethod:
    """A named inverse estimator.

    Attributes:
        name: label in reports.
        estimate: the :data:`Estimate` callable on all sensors.
        for_sensors: ``for_sensors(kept column indices)`` → an estimate on that subset (for
            leave-one-sensor-out), or ``None`` when the method only works on all sensors.
    """

    name: str
    estimate: Estimate
    for_sensors: Callable[[list[int]], Estimate] | None = None


def case_number(n_rpm: float, fz_mm: float, ae_mm: float) -> int:
    """Full-factorial case number 1 + 9 i_N + 3 i_fz + i_ae (:mod:`thermo.inverse.dataset`)."""
    idx = []
    for key, value in (("n_rpm", n_rpm), ("fz_mm", fz_mm), ("ae_mm", ae_mm)):
        hits = [i for i, v in enumerate(LEVELS[key]) if np.isclose(v, value)]
        if not hits:
            raise ValueError(f"{key} = {value} is not a level of the design {LEVELS[key]}")
        idx.append(hits[0])
    return 1 + 9 * idx[0] + 3 * idx[1] + idx[2]


def virtual_measurement(
    response: LinearResponse, *, n_rpm: float, fz_mm: float, ae_mm: float, sigma: float, seed: int
) -> dict[str, np.ndarray]:
    """Truth and measured sensors of one condition on the response's step grid.

    Returns ``{"times" (n_t,) s, "f1" (n_t,) °C, "clean" (n_t, n_s) °C, "measured" (n_t, n_s) °C}``.
    """
    if response.kind != "temperature":
        raise ValueError(
            f"virtual_measurement: needs an F1 temperature response, got {response.kind}"
        )
    case = case_number(n_rpm, fz_mm, ae_mm)
    times = response.times
    f1 = f1_temperature(
        times, n_rpm=n_rpm, fz_mm=fz_mm, ae_mm=ae_mm, seed=case_seed(seed, case, 0), T0=response.T0
    )
    clean = response.probes(f1)
    _, measured = measure(times, clean, sigma=sigma, seed=case_seed(seed, case, 1))
    return {"times": times, "f1": f1, "clean": clean, "measured": measured}


def _posterior_sd(
    sens,
    theta: np.ndarray,
    measured: np.ndarray,
    lam: float,
    sigma: float | None,
    *,
    solver: TikhonovSolver | None = None,
    spectral_sq: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    r"""Posterior sd of the F1 input on the FEM grid, shape (n_t,), and the σ used (K).

    :math:`\operatorname{sd}_n^2 = \sigma^2 [P (X^TX + \lambda^2 L^TL)^{-1} P^T]_{nn}` with P the
    parameter basis (``sens.basis``), evaluated from the solver's cached standard-form SVD as
    :math:`\sigma^2 \sum_i Q_{ni}^2 / (\tilde s_i^2 + \lambda^2)`, :math:`Q = P L^{-1} \tilde V`
    (:meth:`thermo.inverse.tikhonov.TikhonovSolver.inverse_diag`): no matrix inverse per call.
    With ``sigma=None`` (GCV) σ² is the residual estimate :math:`\|r\|^2 / (n - \sum_i f_i)`.

    Args:
        sens: sensitivity of the inversion (order-1 Tikhonov).
        theta: estimate, shape (n_par,).
        measured: data at ``sens.obs_times``, shape (n_obs, n_probes), °C.
        lam: λ of the estimate.
        sigma: noise sd K, or None for the residual estimate.
        solver: cached :class:`TikhonovSolver` of ``sens`` (order 1); built when None.
        spectral_sq: cached Q∘Q (n_t, n_par) of that solver; computed when None.
    """
    from thermo.inverse.tikhonov import TikhonovSolver

    if solver is None:
        solver = TikhonovSolver(sens, order=1)
    if solver.order != 1:
        raise ValueError("_posterior_sd: the band assumes first-order Tikhonov (order=1)")
    if spectral_sq is None:
        spectral_sq = solver.spectral_rows(sens.basis) ** 2
    if sigma is None:  # GCV: residual estimate of σ² with the effective degrees of freedom
        r = sens.residual_data(measured) - sens.flat() @ theta
        dof = max(sens.flat().shape[0] - solver.effective_dof(lam), 1.0)
        sigma = float(np.sqrt(r @ r / dof))
    var = sigma**2 * solver.inverse_diag(lam, spectral_sq)
    return np.sqrt(np.clip(var, 0.0, None)), sigma


def tikhonov_method(
    response: LinearResponse,
    *,
    sigma: float | None,
    rule: str = "discrepancy",
    z: float = 1.96,
    probes: Sequence[str] | None = None,
) -> InverseMethod:
    """First-order Tikhonov (:func:`thermo.inverse.tikhonov.tikhonov`) with a posterior band.

    The standard-form SVD and the band's spectral rows are computed once per sensor subset
    (:class:`thermo.inverse.tikhonov.TikhonovSolver`, cached by the tuple of kept columns), so
    repeated estimates cost a data projection, the λ search and a few small products.

    Args:
        response: linear response of the sensors to F1.
        sigma: sensor noise K (needed by ``rule="discrepancy"``; ``None`` → GCV).
        rule: "discrepancy" or "gcv" (λ choice).
        z: half-width of the band in standard deviations (1.96: 95 %).
        probes: sensor names in the column order of ``measured`` (default the response's).
    """
    from thermo.inverse.duhamel import single_blas_thread
    from thermo.inverse.tikhonov import TikhonovSolver

    names = list(probes or response.probe_names)
    if rule == "discrepancy" and not (sigma and sigma > 0):
        rule = "gcv"
    full = response.sensitivity(probes=names)
    noise = sigma if rule == "discrepancy" else None
    cache: dict[tuple[int, ...], tuple] = {}

    def solver_for(kept: tuple[int, ...]):
        if kept not in cache:
            sens = full.select_probes(list(kept))
            solver = TikhonovSolver(sens, order=1)
            cache[kept] = (sens, solver, solver.spectral_rows(sens.basis) ** 2)
        return cache[kept]

    def subset(kept: list[int]) -> Estimate:
        key = tuple(int(k) for k in kept)

        def estimate(times, measured, params):
            sens, solver, spectral_sq = solver_for(key)
            data = np.asarray(measured, dtype=float)[1:]
            res = solver.solve(data, rule=rule, sigma=noise)
            u = np.concatenate([[0.0], res.theta])
            with single_blas_thread():
                sd, _ = _posterior_sd(
                    sens, res.theta, data, res.lam, noise, solver=solver, spectral_sq=spectral_sq
                )
            sd = np.concatenate([[0.0], sd[1:]])
            f1 = response.T0 + u
            return f1, np.stack([f1 - z * sd, f1 + z * sd], axis=1)

        return estimate

    return InverseMethod(f"tikhonov1-{rule}", subset(list(range(len(names)))), subset)


def classical_method(
    name: str, response: LinearResponse, *, sigma: float, probes: Sequence[str] | None = None
) -> InverseMethod:
    """``tikhonov`` (order 1, discrepancy), ``sfsm`` (Beck, r by discrepancy; no band) or
    ``kalman`` (RTS smoother; band ± 1.96 smoothed sd) on the response's sensitivity."""
    if name == "tikhonov":
        return tikhonov_method(response, sigma=sigma, probes=probes)
    names = list(probes or response.probe_names)
    cols = [response.probe_names.index(n) for n in names]
    full = response.sensitivity(probes=names)
    step = response.step[:, cols]

    def subset(kept: list[int]) -> Estimate:
        sens = full.select_probes(kept)

        def estimate(times, measured, params):
            data = np.asarray(measured, dtype=float)[1:]
            if name == "sfsm":
                from thermo.inverse.sfsm import choose_future_steps, sfsm

                res = (
                    choose_future_steps(sens, data, sigma=sigma)
                    if sigma > 0
                    else sfsm(sens, data, future_steps=1)
                )
                return response.T0 + np.concatenate([[0.0], res.theta]), None
            from thermo.inverse.kalman import kalman_smoother

            res = kalman_smoother(step[:, kept], data, sigma=max(sigma, 0.01), y0=sens.y0)
            f1 = response.T0 + res.smoothed
            sd = res.smoothed_std
            return f1, np.stack([f1 - 1.96 * sd, f1 + 1.96 * sd], axis=1)

        return estimate

    if name not in ("sfsm", "kalman"):
        raise ValueError(f"method must be tikhonov, sfsm or kalman, got {name!r}")
    return InverseMethod(name, subset(list(range(len(names)))), subset)


@dataclass
class Reconstruction:
    """Result of :func:`reconstruct` for one condition (shapes in the module docstring).

    Attributes:
        params: n_rpm, fz_mm, ae_mm.
        times: step times s (n_t,).
        f1: estimated F1 history °C (n_t,); ``f1_band`` (n_t, 2) or None.
        fitted: reconstructed sensor curves °C (n_t, n_s); ``sensor_band`` (n_t, n_s, 2) or None.
        fields: field dof values °C at ``field_times`` (k, n_dofs), or None without field response.
        metrics: the metrics dict (see :func:`reconstruct`).
        inputs: the virtual-measurement dict (truth, clean, measured).
    """

    params: dict[str, float]
    times: np.ndarray
    f1: np.ndarray
    f1_band: np.ndarray | None
    fitted: np.ndarray
    sensor_band: np.ndarray | None
    field_times: tuple[float, ...]
    fields: np.ndarray | None
    metrics: dict
    inputs: dict[str, np.ndarray] = field(default_factory=dict)


def _check_measured(measured: np.ndarray, n_t: int, names: Sequence[str]) -> np.ndarray:
    measured = np.asarray(measured, dtype=float)
    if measured.shape != (n_t, len(names)):
        raise ValueError(
            f"measured sensors need shape (n_t={n_t}, {len(names)}) for {list(names)}, "
            f"got {measured.shape}"
        )
    if not np.all(np.isfinite(measured)):
        raise ValueError("measured sensors contain NaN/inf")
    return measured


def reconstruct(
    response: LinearResponse,
    method: InverseMethod,
    *,
    measured: np.ndarray,
    params: Mapping[str, float],
    truth_f1: np.ndarray | None = None,
    clean: np.ndarray | None = None,
    field_times: Sequence[float] = FIELD_TIMES,
    loso: bool = True,
    compressed_fields: bool = True,
) -> Reconstruction:
    """Inverse estimate, reconstructed sensors and fields, and metrics for one condition.

    Args:
        response: linear response with sensors in the column order of ``measured`` (fields
            recorded for the field reconstruction).
        method: the inverse method.
        measured: sensor records °C on the response's step grid, shape (n_t, n_s).
        params: machining parameters passed to the estimator (n_rpm, fz_mm, ae_mm).
        truth_f1: true F1 history °C (n_t,) when known (virtual experiment).
        clean: clean sensor histories °C (n_t, n_s) when known (LOSO reference; else measured).
        field_times: output times s (on the step grid).
        loso: run leave-one-sensor-out (n_s extra inversions) when the method supports it.
        compressed_fields: fields from the low-rank field response
            (:meth:`thermo.inverse.linear_response.LinearResponse.field_compression`, computed once
            per
            response; error ≤ TV(F1 − T0) · its ``max_error`` K) instead of the exact sum over
            the full response.

    Returns:
        :class:`Reconstruction`; ``metrics`` = ``{"sensors": {name: {"rmse", "r2",
        "rmse_clean", "r2_clean"}, "all": ...}, "boundary": {"rmse", "r2", "max_abs"} | None,
        "loso": {name: {"rmse", "r2"}, "mean": ...} | None, "band_coverage": float | None}``.
    """
    names = list(response.probe_names)
    times = response.times
    measured = _check_measured(measured, times.size, names)
    f1, band = method.estimate(times, measured, dict(params))
    f1 = np.asarray(f1, dtype=float)
    if f1.shape != times.shape or not np.all(np.isfinite(f1)):
        raise ValueError(f"{method.name}: estimate must be finite with shape {times.shape}")
    fitted = response.probes(f1)
    sensor_band = None
    if band is not None:
        band = np.asarray(band, dtype=float)
        if band.shape != (times.size, 2):
            raise ValueError(f"{method.name}: band must have shape ({times.size}, 2)")
        edges = np.stack([response.probes(band[:, 0]), response.probes(band[:, 1])], axis=-1)
        sensor_band = np.sort(edges, axis=-1)
    s = sensor_fit_metrics(fitted[1:], measured[1:], names=names)
    ref = measured if clean is None else np.asarray(clean, dtype=float)
    sc = sensor_fit_metrics(fitted[1:], ref[1:], names=names)
    sensors = {n: {**s[n], "rmse_clean": sc[n]["rmse"], "r2_clean": sc[n]["r2"]} for n in s}
    metrics: dict = {
        "method": method.name,
        "sensors": sensors,
        "boundary": None,
        "loso": None,
        "band_coverage": None,
    }
    if truth_f1 is not None:
        truth = np.asarray(truth_f1, dtype=float)
        metrics["boundary"] = boundary_metrics(f1[1:], truth[1:])
        if band is not None:
            inside = (truth[1:] >= band[1:, 0]) & (truth[1:] <= band[1:, 1])
            metrics["band_coverage"] = float(np.mean(inside))
    if loso and method.for_sensors is not None:
        metrics["loso"] = leave_one_sensor_out(
            estimate=lambda m, kept: method.for_sensors(kept)(
                times, np.vstack([measured[:1, kept], m]), dict(params)
            )[0],
            predict=lambda b: response.probes(b)[1:],
            measured=measured[1:],
            reference=ref[1:],
            names=names,
        )
    fields = None
    if response.field_step is not None:
        fields = response.fields(f1, at_times=field_times, compressed=compressed_fields)
    return Reconstruction(
        params=dict(params),
        times=times,
        f1=f1,
        f1_band=band,
        fitted=fitted,
        sensor_band=sensor_band,
        field_times=tuple(float(t) for t in field_times),
        fields=fields,
        metrics=metrics,
    )

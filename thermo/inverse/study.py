r"""Classical inverse methods compared on one virtual case at several noise levels.

For a case of an :class:`thermo.inverse.dataset.IHCPDataset` whose sensor histories came from the
linear response ``response`` (so the inverse uses the exact forward model: an "inverse crime"
for the forward operator, but not for the noise), each method estimates the F1 history from the
noisy records at every stored σ and is scored with :mod:`thermo.inverse.evaluation`: boundary
RMSE/R² against the truth, sensor-fit RMSE, and leave-one-sensor-out RMSE against the clean
held-out sensor. Methods:

* ``tikhonov0``/``tikhonov1``: order 0/1, λ by the discrepancy principle (σ known; GCV at σ = 0);
* ``tikhonov1-gcv``, ``tikhonov1-lcurve``: order 1 with σ treated as unknown;
* ``sfsm``: Beck's SFSM, r by the discrepancy principle (r = 1 at σ = 0);
* ``kalman-rts``: Kalman filter + RTS smoother on an ERA realisation, q by maximum likelihood
  (σ floored at :data:`SIGMA_FLOOR_K` for noise-free data).

Paper 000 §4.1 uses σ = 0, 5, 10 K; the paper's own numbers are for its neural models and are
not comparable one-to-one (different F1 histories and sensors), so none are hard-coded here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from thermo.inverse.evaluation import boundary_metrics, leave_one_sensor_out, sensor_fit_metrics
from thermo.inverse.sensitivity import Sensitivity
from thermo.inverse.sfsm import choose_future_steps, sfsm
from thermo.inverse.tikhonov import tikhonov

if TYPE_CHECKING:
    from thermo.inverse.dataset import IHCPDataset
    from thermo.inverse.linear_response import LinearResponse

#: (sensitivity, data (n_obs, n_p), step response (n_t, n_p) of the same probes, σ K)
#: → (boundary parameters θ (n_par,), diagnostics)
Estimator = Callable[[Sensitivity, np.ndarray, np.ndarray, float], tuple[np.ndarray, dict]]

#: σ used by the Kalman smoother on noise-free data (it needs a positive measurement variance).
SIGMA_FLOOR_K = 0.01


def _tik(order: int, rule: str | None) -> Estimator:
    def run(
        sens: Sensitivity, data: np.ndarray, step: np.ndarray, sigma: float
    ) -> tuple[np.ndarray, dict]:
        chosen = rule or ("discrepancy" if sigma > 0 else "gcv")
        res = tikhonov(sens, data, order=order, rule=chosen, sigma=sigma if sigma > 0 else None)
        return res.theta, {"lam": res.lam, "rule": chosen}

    return run


def _sfsm(
    sens: Sensitivity, data: np.ndarray, step: np.ndarray, sigma: float
) -> tuple[np.ndarray, dict]:
    res = (
        choose_future_steps(sens, data, sigma=sigma)
        if sigma > 0
        else sfsm(sens, data, future_steps=1)
    )
    return res.theta, {"future_steps": res.future_steps}


def _kalman(
    sens: Sensitivity, data: np.ndarray, step: np.ndarray, sigma: float
) -> tuple[np.ndarray, dict]:
    from thermo.inverse.kalman import kalman_smoother

    res = kalman_smoother(step, data, sigma=max(sigma, SIGMA_FLOOR_K), y0=sens.y0)
    return res.smoothed[1:], {"q": res.q}


METHODS: dict[str, Estimator] = {
    "tikhonov0": _tik(0, None),
    "tikhonov1": _tik(1, None),
    "tikhonov1-gcv": _tik(1, "gcv"),
    "tikhonov1-lcurve": _tik(1, "lcurve"),
    "sfsm": _sfsm,
    "kalman-rts": _kalman,
}


def classical_study(
    response: LinearResponse, dataset: IHCPDataset, *, case: int = 24, loso: bool = True
) -> dict:
    """Scores of every method in :data:`METHODS` on ``case`` for each σ of ``dataset``.

    Args:
        response: :class:`thermo.inverse.linear_response.LinearResponse` the data set was built
        with.
        dataset: :class:`thermo.inverse.dataset.IHCPDataset`; its times must equal the response's.
        case: case number (paper 000's test case is 24).
        loso: also run leave-one-sensor-out (4 extra inversions per method and σ).

    Returns:
        ``{method: {sigma: {"boundary": {...}, "fit_rmse": K, "loso_rmse": K, ...}}}`` plus
        ``"estimates"`` → ``{method: {sigma: list}}`` (boundary estimate at t > 0).
    """
    if dataset.times.shape != response.times.shape or not np.allclose(
        dataset.times, response.times
    ):
        raise ValueError("classical_study: data set and response have different time grids")
    names = list(dataset.sensor_names)
    sens = response.sensitivity(probes=names)
    step = response.step[:, [response.probe_names.index(n) for n in names]]
    base = response.T0 if response.kind == "temperature" else 0.0
    out: dict = {"estimates": {}}
    for name, method in METHODS.items():
        out[name], out["estimates"][name] = {}, {}
        for sigma in dataset.sigmas:
            one = dataset.case(case, sigma=float(sigma))
            data, truth = one["noisy"][1:], one["f1"][1:]
            theta, info = method(sens, data, step, float(sigma))
            row = {"boundary": boundary_metrics(base + theta, truth),
                   "fit_rmse": sensor_fit_metrics(sens.predict(theta), data)["all"]["rmse"],
                   **info}  # fmt: skip
            if loso:
                lo = leave_one_sensor_out(
                    estimate=lambda m, kept, f=method, s=float(sigma): f(
                        sens.select_probes(kept), m, step[:, kept], s
                    )[0],
                    predict=sens.predict,
                    measured=data,
                    reference=one["clean"][1:],
                    names=names,
                )
                row["loso_rmse"] = lo["mean"]["rmse"]
            out[name][f"{float(sigma):g}"] = row
            out["estimates"][name][f"{float(sigma):g}"] = (base + theta).tolist()
    return out

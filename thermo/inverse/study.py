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
  (σ floored at :data:`thermo.inverse.classical.SIGMA_FLOOR_K` for noise-free data).

Each label is a method of the one registry (:mod:`thermo.inverse.registry`) with its options.

Paper 000 §4.1 uses σ = 0, 5, 10 K; the paper's own numbers are for its neural models and are
not comparable one-to-one (different F1 histories and sensors), so none are hard-coded here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from thermo.inverse.evaluation import boundary_metrics, method_loso, sensor_fit_metrics
from thermo.inverse.registry import make_method

if TYPE_CHECKING:
    from thermo.inverse.dataset import IHCPDataset
    from thermo.inverse.linear_response import LinearResponse

#: Study label → (registered method, options). Every entry is a method of the one registry.
METHODS: dict[str, tuple[str, dict]] = {
    "tikhonov0": ("tikhonov", {"order": 0}),
    "tikhonov1": ("tikhonov", {"order": 1}),
    "tikhonov1-gcv": ("tikhonov", {"order": 1, "rule": "gcv"}),
    "tikhonov1-lcurve": ("tikhonov", {"order": 1, "rule": "lcurve"}),
    "sfsm": ("sfsm", {}),
    "kalman-rts": ("kalman", {}),
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
    cols = [response.probe_names.index(n) for n in names]

    def predict(history: np.ndarray) -> np.ndarray:
        return response.probes(history)[:, cols]

    out: dict = {"estimates": {}}
    for label, (name, options) in METHODS.items():
        out[label], out["estimates"][label] = {}, {}
        for sigma in dataset.sigmas:
            record = dataset.case(case, sigma=float(sigma))
            method = make_method(name, response=response, sigma=float(sigma), **options)
            est = method.estimate(record)
            row = {
                "boundary": boundary_metrics(est.values[1:], record.truth[1:]),
                "fit_rmse": sensor_fit_metrics(predict(est.values)[1:], record.values[1:])["all"][
                    "rmse"
                ],
                **{k: v for k, v in est.info.items() if k in ("lam", "rule", "future_steps", "q")},
            }
            if loso:
                row["loso_rmse"] = method_loso(method, record, predict=predict)["mean"]["rmse"]
            out[label][f"{float(sigma):g}"] = row
            out["estimates"][label][f"{float(sigma):g}"] = est.values[1:].tolist()
    return out

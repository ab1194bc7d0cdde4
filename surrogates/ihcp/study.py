"""Study-level helpers on arrays for paper 000 §3.2–§4.1: train-and-score one model, the student
size sweep with and without distillation (Fig. 7 A/B), and scoring on noisy sensor data (§4.1).

Every function returns plain dicts of numbers (JSON-ready) so a case script can tabulate them next
to the paper's values. Scores are on the test split of an :class:`~.windows.IHCPData`
(case 24 by default): ``r2``, ``mse_scaled``, ``mse_c2`` (°C²), ``rmse_c`` (°C), plus ``params``
and ``seconds_per_epoch``.

Noise (§4.1): the paper adds noise of σ = 0, 5, 10 K "to the data set" without saying whether
training data are noisy too. :func:`score_on_noisy_case` perturbs only the test case's sensors,
with the scalers fitted on the clean training split, which isolates the models' sensitivity to
measurement noise; retraining on noisy data is a matter of passing noisy cases to
:func:`~.windows.prepare_dataset`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from flax import nnx

from surrogates.training import TrainConfig, TrainResult, count_parameters, fit, predict
from thermo.inverse.record import SensorRecord

from .distill import PAPER_LAMBDA, PAPER_TEMPERATURE, distill
from .metrics import regression_report
from .models import make_model, make_student, student_sizes
from .windows import IHCPData, add_sensor_noise, features, label, sliding_windows


def score(model: nnx.Module, data: IHCPData, result: TrainResult | None = None) -> dict[str, Any]:
    """Test-split metrics of ``model`` (plus ``seconds_per_epoch`` and ``best_epoch`` if given)."""
    pred = np.asarray(predict(model, data.test.x))
    out: dict[str, Any] = regression_report(data.test.y, pred, y_scaler=data.y_scaler)
    out["params"] = count_parameters(model)
    if result is not None:
        out["seconds_per_epoch"] = float(result.seconds_per_epoch)
        out["best_epoch"] = int(result.best_epoch)
    return out


def train_model(
    name: str, data: IHCPData, *, config: TrainConfig, seed: int
) -> tuple[nnx.Module, TrainResult, dict[str, Any]]:
    """Build ``name`` (see :func:`~.models.make_model`), fit with MSE on the training windows,
    keep the best validation epoch, and score on the test split."""
    model = make_model(name, seed=seed, window=data.window, n_features=data.train.x.shape[-1])
    result = fit(model, (data.train.x, data.train.y), config=config, val=(data.val.x, data.val.y))
    return model, result, score(model, data, result)


def student_sweep(
    data: IHCPData,
    teacher: nnx.Module,
    *,
    fractions: Sequence[float] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
    config: TrainConfig,
    seed: int,
    kind: str = "regression",
    temperature: float = PAPER_TEMPERATURE,
    lam: float = PAPER_LAMBDA,
) -> list[dict[str, Any]]:
    """Fig. 7 A/B: per fraction of the teacher's parameters, a student trained on labels only
    and one distilled from ``teacher`` (same seed, so both start from the same weights).

    Returns rows ``{"fraction", "filters", "units", "kd": bool, **score}``.
    """
    n_feat = data.train.x.shape[-1]
    teacher_params = count_parameters(teacher)
    rows = []
    for frac in fractions:
        f, u = student_sizes(frac, n_features=n_feat, teacher_params=teacher_params)
        for kd in (False, True):
            student = make_student(
                frac, seed=seed, n_features=n_feat, teacher_params=teacher_params
            )
            train, val = (data.train.x, data.train.y), (data.val.x, data.val.y)
            if kd:
                res = distill(
                    student,
                    teacher,
                    train,
                    config=config,
                    val=val,
                    kind=kind,
                    temperature=temperature,
                    lam=lam,
                )
            else:
                res = fit(student, train, config=config, val=val)
            rows.append(
                {"fraction": float(frac), "filters": f, "units": u, "kd": kd}
                | score(student, data, res)
            )
    return rows


def score_on_noisy_case(
    model: nnx.Module, case: SensorRecord, data: IHCPData, *, sigma: float, seed: int
) -> dict[str, Any]:
    """Metrics of ``model`` on ``case`` with N(0, σ²) noise (σ in K) added to its sensors,
    scaled with ``data``'s training-split scalers (§4.1, Table 5)."""
    noisy = add_sensor_noise(case, sigma=sigma, seed=seed)
    x, y = sliding_windows(
        data.x_scaler.transform(features(noisy)),
        data.y_scaler.transform(label(noisy)),
        window=data.window,
    )
    pred = np.asarray(predict(model, x))
    return {"sigma_k": float(sigma)} | regression_report(y, pred, y_scaler=data.y_scaler)

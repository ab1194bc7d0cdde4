r"""Static versus dynamic compensators on one machine: does the drift need a model with memory?

Trains, on the aged machine's training conditions H1–H18 (early stopping on H19), and scores on
the test condition H20 and the fresh conditions F1.. (never used for a choice):

* ``none`` — no compensation;
* ``ridge`` — static ridge regression on the selected inputs at the current sample (α by
  leave-conditions-out CV inside H1–H18);
* ``ridge_window`` — ridge on the whole past-sample window (an FIR filter: a *linear dynamic*
  model, the fair linear competitor of a recurrent network);
* ``lstm_static`` — the paper's 415-parameter network on its (batch, 1, 3) input: a static map;
* ``lstm_window`` — the same network reading the window (batch, W, 3) oldest-first, so its
  LSTMs see the recent history of the inputs.

Networks are trained from scratch (all layers free), ``repeats`` seeds; the seed with the
lowest H19 loss is kept. ``noise_floor_um`` is the RMS of the drift-sensor noise on the scored
conditions (the best any compensator can reach), when the records carry ``dz_true_um``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from surrogates.compensation.baselines import errors, fit_ridge
from surrogates.compensation.data import features, stack
from surrogates.compensation.model import PRETRAINED_LAYERS
from surrogates.compensation.transfer import (
    FineTuneConfig,
    init_members,
    layer_masks,
    predict_members,
    train_members,
)

TRAIN: list[str] = [f"H{i}" for i in range(1, 19)]


def _network(data, test_names, *, repeats, config, seed):
    x, y = stack(data, TRAIN)
    seeds = [seed * 7919 + k for k in range(repeats)]
    graphdef, params = init_members(("none",) * 4, seeds, n_inputs=x.shape[-1])
    masks = layer_masks(params, [PRETRAINED_LAYERS] * repeats)
    res = train_members(graphdef, params, masks, x=x, y=y,
                        sample_ids=[np.arange(len(y))] * repeats, val=data["H19"], seeds=seeds,
                        config=config)  # fmt: skip
    best = int(np.argmin(res.val_loss.min(axis=1)))
    preds = {n: predict_members(graphdef, res.params, data[n][0])[best] for n in test_names}
    return preds, res.seconds


def linear_vs_lstm(
    records: Mapping[str, pd.DataFrame],
    selected: Mapping[str, str],
    *,
    window: int = 16,
    stride: int = 3,
    repeats: int = 3,
    config: FineTuneConfig | None = None,
    seed: int = 0,
    label: str = "",
) -> pd.DataFrame:
    """One row per model: RMSE on H20, mean RMSE over the fresh conditions, MAE on H20."""
    config = config or FineTuneConfig()
    test_names = ["H20", *[n for n in records if n.startswith("F")]]
    static = features(records, selected, source="aged data")
    dynamic = features(records, selected, source="aged data", window=window, stride=stride)
    groups = np.concatenate([np.full(len(static[n][1]), n) for n in TRAIN])
    preds: dict[str, dict[str, np.ndarray]] = {}
    seconds: dict[str, float] = {}
    preds["none"] = {n: np.zeros_like(static[n][1]) for n in test_names}
    ridge = fit_ridge(*stack(static, TRAIN), groups=groups)
    preds["ridge"] = {n: ridge.predict(static[n][0]) for n in test_names}
    fir = fit_ridge(*stack(dynamic, TRAIN), groups=groups, use_window=True)
    preds["ridge_window"] = {n: fir.predict(dynamic[n][0]) for n in test_names}
    preds["lstm_static"], seconds["lstm_static"] = _network(
        static, test_names, repeats=repeats, config=config, seed=seed
    )
    preds["lstm_window"], seconds["lstm_window"] = _network(
        dynamic, test_names, repeats=repeats, config=config, seed=seed
    )
    floor = None
    if all("dz_true_um" in records[n] for n in test_names):
        floor = float(np.sqrt(np.mean(np.concatenate(
            [(records[n].dz_um - records[n].dz_true_um).to_numpy() ** 2 for n in test_names]
        ))))  # fmt: skip
    rows = []
    for name, p in preds.items():
        y20 = static["H20"][1]
        fresh = [errors(static[n][1], p[n])["rmse_um"] for n in test_names[1:]]
        rows.append({
            "machine": label, "model": name,
            "window": window if name.endswith("window") else 1,
            "rmse_H20_um": errors(y20, p["H20"])["rmse_um"],
            "mae_H20_um": errors(y20, p["H20"])["mae_um"],
            "rmse_fresh_um": float(np.mean(fresh)) if fresh else float("nan"),
            "noise_floor_um": floor, "training_seconds": seconds.get(name, 0.0),
        })  # fmt: skip
    return pd.DataFrame(rows)

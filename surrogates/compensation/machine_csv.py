"""Any machine's data: one CSV time series with the user's own column names.

    python -m cases.thermal_compensation --machine-csv run.csv --time-column t \\
        --temperature-columns spindle_front,col_left,col_right,bed --drift-column z_drift \\
        [--speed-column rpm] --test-from 28800

Steps (all choices inside the training part, records before ``--test-from``):

1. validate the columns (present, finite numbers, strictly increasing time: a one-line
   ``ValueError`` naming the file and the column otherwise);
2. rank the temperature columns by mutual information with the drift on the training records
   (:func:`surrogates.compensation.selection.select_columns`: top ``n_inputs``, or the best of
   each region when regions are given);
3. inputs: rises of the selected columns from the mean of the first training samples, plus the
   speed in 1000 r/min when a speed column is given; past-sample windows when ``window > 1``;
   each input divided by its training standard deviation, the output scaled by the largest
   training drift (so the tanh layers need not saturate);
4. the compensator: the paper's 415-parameter architecture (Table 1, width adapted to the
   number of inputs) trained from scratch (learning rate 3e-3 by default: a from-scratch fit,
   not the paper's fine-tuning at 1e-3), ``repeats`` seeds, early stopping and the choice
   among seeds on the last ``val_fraction`` of the training period (in time);
5. baselines: no compensation, and ridge regression on the same inputs (α by forward-chaining
   CV inside the training part);
6. scores on the records from ``--test-from`` on, which no step above has seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from surrogates.compensation.baselines import errors, fit_ridge
from surrogates.compensation.data import BASELINE_SAMPLES, TARGET, check_columns, features
from surrogates.compensation.model import PRETRAINED_LAYERS
from surrogates.compensation.selection import select_columns
from surrogates.compensation.transfer import (
    FineTuneConfig,
    init_members,
    layer_masks,
    predict_members,
    train_members,
)


@dataclass(frozen=True)
class MachineColumns:
    """Which columns of a machine's CSV are time (s), temperatures (°C), drift (µm), speed."""

    time: str
    temperatures: tuple[str, ...]
    drift: str
    speed: str | None = None

    def __post_init__(self) -> None:
        if not self.temperatures:
            raise ValueError("--temperature-columns: give at least one column name")
        names = [self.time, *self.temperatures, self.drift, *([self.speed] if self.speed else [])]
        dup = sorted({c for c in names if names.count(c) > 1})
        if dup:
            raise ValueError(f"column options name {dup} more than once")

    @property
    def numeric(self) -> list[str]:
        return [self.time, *self.temperatures, *([self.speed] if self.speed else []), self.drift]


def parse_list(text: str, option: str) -> tuple[str, ...]:
    """``"a, b,c"`` -> ("a", "b", "c"); a one-line error for an empty entry."""
    items = tuple(s.strip() for s in text.split(","))
    if not items or any(not s for s in items):
        raise ValueError(f"{option} {text!r}: expected comma-separated column names")
    return items


def parse_regions(text: str | None) -> dict[str, list[str]] | None:
    """``"spindle=S1,S2;base=B1,B2"`` -> {"spindle": ["S1", "S2"], "base": ["B1", "B2"]}."""
    if text is None:
        return None
    out = {}
    for part in text.split(";"):
        name, sep, cols = part.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"--regions {text!r}: expected NAME=COL,COL;NAME=COL,...")
        out[name.strip()] = list(parse_list(cols, "--regions"))
    return out


def read_machine_csv(path: str | Path, cols: MachineColumns) -> pd.DataFrame:
    """The validated series: columns ``time_s``, the temperature columns, the speed column (if
    any) and ``dz_um``, as floats, in file order."""
    path = Path(path)
    table = pd.read_csv(path)
    check_columns(table, cols.numeric, path, time_column=cols.time)
    if len(table) <= 2 * BASELINE_SAMPLES:
        raise ValueError(f"{path}: {len(table)} rows; need more than {2 * BASELINE_SAMPLES}")
    out = table[cols.numeric].astype(float)
    return out.rename(columns={cols.time: "time_s", cols.drift: TARGET})


@dataclass
class SeriesResult:
    """Outcome of :func:`compensate_series` (metrics are on the test records only)."""

    metrics: dict
    time_s: np.ndarray
    drift_um: np.ndarray
    predictions: dict[str, np.ndarray]
    test: np.ndarray
    ranking: pd.DataFrame
    selected: list[str] = field(default_factory=list)


def compensate_series(
    table: pd.DataFrame,
    cols: MachineColumns,
    *,
    test_from: float,
    regions: dict[str, list[str]] | None = None,
    n_inputs: int = 3,
    window: int = 1,
    stride: int = 1,
    repeats: int = 3,
    config: FineTuneConfig | None = None,
    seed: int = 0,
    val_fraction: float = 0.2,
    source: str = "machine CSV",
) -> SeriesResult:
    """Select inputs, train the compensator and ridge before ``test_from`` (s), score after."""
    config = config or FineTuneConfig()
    t = table["time_s"].to_numpy(dtype=float)
    train = t < test_from
    n_train, n_test = int(train.sum()), int((~train).sum())
    if n_train < 4 * BASELINE_SAMPLES or n_test < 1:
        raise ValueError(
            f"{source}: --test-from {test_from:g} s leaves {n_train} training and {n_test} test "
            f"records; need at least {4 * BASELINE_SAMPLES} and 1 (time runs {t[0]:g}..{t[-1]:g} s)"
        )
    if not 0.0 < val_fraction < 0.5:
        raise ValueError(f"val_fraction must be in (0, 0.5), got {val_fraction}")
    train_rec = {"train": table.iloc[:n_train].reset_index(drop=True)}
    ranking, selected, cands = select_columns(
        train_rec, list(cols.temperatures), regions=regions, n_inputs=n_inputs, seed=seed
    )
    # rises from the start of the record (= start of the training period), whole series at once
    x, y = features({"all": table}, selected, candidates=cands, speed_column=cols.speed,
                    window=window, stride=stride, source=source)["all"]  # fmt: skip
    n_fit = int(round(n_train * (1.0 - val_fraction)))
    sx = x[:n_train].reshape(-1, x.shape[-1]).std(axis=0)
    sx = np.where(sx > 1e-6, sx, 1.0).astype(np.float32)
    xs = (x / sx).astype(np.float32)
    sy = float(max(np.max(np.abs(y[:n_train])), 1e-3))  # outputs within ±1 before scaling

    seeds = [seed * 7919 + k for k in range(repeats)]
    graphdef, params = init_members(
        ("none",) * 4, seeds, n_inputs=x.shape[-1], input_scale=1.0, output_scale=sy
    )
    masks = layer_masks(params, [PRETRAINED_LAYERS] * repeats)
    res = train_members(
        graphdef, params, masks, x=xs, y=y, sample_ids=[np.arange(n_fit)] * repeats,
        val=(xs[n_fit:n_train], y[n_fit:n_train]), seeds=seeds, config=config,
    )  # fmt: skip
    best = int(np.argmin(res.val_loss.min(axis=1)))
    pred_net = predict_members(graphdef, res.params, xs)[best]

    ridge = fit_ridge(x[:n_train], y[:n_train])
    preds = {"compensator": pred_net, "ridge": ridge.predict(x), "none": np.zeros_like(y)}
    if window > 1:
        preds["ridge_window"] = fit_ridge(x[:n_train], y[:n_train], use_window=True).predict(x)
    test = ~train
    models = {k: errors(y[test], p[test]) for k, p in preds.items()}
    metrics = {
        "models": models,
        "selected_inputs": list(selected) + ([cols.speed] if cols.speed else []),
        "n_train_records": n_train,
        "n_validation_records": n_train - n_fit,
        "n_test_records": n_test,
        "test_from_s": float(test_from),
        "ridge_alpha": ridge.alpha,
        "window": window,
        "stride": stride,
        "epochs": config.epochs,
        "repeats": repeats,
        "chosen_seed": seeds[best],
        "training_seconds": res.seconds,
    }
    return SeriesResult(metrics, t, y, preds, test, ranking, list(selected))

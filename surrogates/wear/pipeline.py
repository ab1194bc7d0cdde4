"""The tool-wear study of paper 003 end to end on arrays (used by ``cases.tool_wear``).

Steps (paper §3.2–3.3, Fig. 6): records -> cleaned features (:mod:`~surrogates.wear.features`)
-> 80/20 random split by seed -> z-score fitted on the training split -> mutual-information
selection of ``k`` features on the training split -> every regressor tuned by k-fold CV on the
training split -> voting ensembles -> scores on the test split
(:mod:`~surrogates.wear.metrics`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split
from tqdm.auto import tqdm

from surrogates.wear import regressors as reg
from surrogates.wear.features import feature_names, record_features
from surrogates.wear.forces import ForceRecord
from surrogates.wear.metrics import regression_scores
from surrogates.wear.selection import Selection, ZScore, select_by_mutual_information
from surrogates.wear.voting import Tuned, Voting, grid, tune


def feature_matrix(
    records: Iterable[ForceRecord],
    *,
    spindle_hz: float,
    flutes: int,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Features (R, F) and VB labels (R,) of ``records`` (cleaned: low-pass + trimmed)."""
    rows, labels = [], []
    for rec in tqdm(records, desc="features", disable=not progress, leave=False):
        rows.append(
            record_features(rec.forces, fs_hz=rec.fs_hz, spindle_hz=spindle_hz, flutes=flutes)
        )
        labels.append(rec.vb_um)
    if not rows:
        raise ValueError("feature_matrix: no records")
    return np.stack(rows), np.asarray(labels, dtype=float)


def model_grids(*, quick: bool, seed: int) -> dict[str, tuple[Callable[..., reg.Regressor], list]]:
    """Regressor factories and their CV grids (smaller for gradient-trained models when quick)."""
    epochs = 150 if quick else 300
    return {
        "ridge": (reg.Ridge, grid(alpha=[0.1, 1.0, 10.0, 100.0])),
        "sgd": (reg.SGDLinear, grid(alpha=[1e-2] if quick else [1e-3, 1e-2, 1e-1], seed=[seed])),
        "linear_svr": (
            reg.LinearSVR,
            grid(alpha=[1e-2] if quick else [1e-3, 1e-2, 1e-1], epsilon=[0.05], seed=[seed]),
        ),
        "kernel_svr": (reg.KernelSVR, grid(gamma=[1.0] if quick else [0.3, 1.0, 3.0], seed=[seed])),
        "kernel_ridge": (reg.KernelRidge, grid(gamma=[0.1, 0.3, 1.0, 3.0], alpha=[1e-2, 1e-1])),
        "gaussian_process": (reg.GaussianProcess, grid(gamma=[1.0])),
        "knn": (reg.KNN, grid(k=[3, 5, 9], weights=["distance"])),
        "mlp": (
            reg.MLP,
            grid(
                hidden=[(64, 32)],
                weight_decay=[1e-3] if quick else [1e-4, 1e-2],
                epochs=[epochs],
                seed=[seed],
            ),
        ),
    }


@dataclass
class StudyResult:
    """Everything the case reports: split, preprocessing, tuned models, ensembles, scores."""

    names: list[str]
    selection: Selection
    scaler: ZScore
    tuned: list[Tuned]
    ensembles: dict[str, Voting]
    y_test: np.ndarray
    predictions: dict[str, np.ndarray]
    scores: dict[str, dict[str, float]]
    n_train: int
    n_test: int


def run_study(
    x: np.ndarray,
    y: np.ndarray,
    *,
    k_features: int = 30,
    folds: int = 5,
    quick: bool = False,
    seed: int = 0,
    models: list[str] | None = None,
    progress: bool = False,
) -> StudyResult:
    """Split, standardise, select, tune each model, build the ensembles, score on the test split."""
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, random_state=seed)
    scaler = ZScore.fit(x_tr)
    z_tr, z_te = scaler.transform(x_tr), scaler.transform(x_te)
    sel = select_by_mutual_information(z_tr, y_tr, k=min(k_features, x.shape[1]), seed=seed)
    z_tr, z_te = sel.apply(z_tr), sel.apply(z_te)
    grids = model_grids(quick=quick, seed=seed)
    chosen = models or list(grids)
    unknown = set(chosen) - set(grids)
    if unknown:
        raise ValueError(f"run_study: unknown model(s) {sorted(unknown)}; known: {list(grids)}")
    tuned = []
    for name in tqdm(chosen, desc="tuning", disable=not progress, leave=False):
        factory, param_grid = grids[name]
        tuned.append(tune(name, factory, param_grid, z_tr, y_tr, folds=folds, seed=seed))
    ensembles = {
        "voting": Voting(tuned, weights="mean"),
        "voting_weighted": Voting(tuned, weights="inverse_cv"),
    }
    predictions = {t.name: t.model.predict(z_te) for t in tuned}
    predictions.update({name: ens.predict(z_te) for name, ens in ensembles.items()})
    scores = {name: regression_scores(y_te, p) for name, p in predictions.items()}
    names = feature_names()
    return StudyResult(
        names=names if len(names) == x.shape[1] else [f"x{i}" for i in range(x.shape[1])],
        selection=sel,
        scaler=scaler,
        tuned=tuned,
        ensembles=ensembles,
        y_test=y_te,
        predictions=predictions,
        scores=scores,
        n_train=len(y_tr),
        n_test=len(y_te),
    )

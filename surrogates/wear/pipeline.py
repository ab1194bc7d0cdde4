r"""The tool-wear study of paper 003 on arrays, under two protocols (used by ``cases.tool_wear``).

One fit (:func:`fit_models`, paper §3.2–3.3, Fig. 6), always on training records only:
z-score -> mutual-information selection of ``k`` features -> every regressor tuned by grid
search (:mod:`~surrogates.wear.voting`) -> voting ensembles -> baselines. Scores:
:mod:`~surrogates.wear.metrics`.

Protocols (:func:`run_protocol`):

* ``"leave-one-group-out"`` (the default whenever records carry a group label, e.g. the tool):
  each group is held out in turn; everything above is fitted on the other groups, and the
  tuning folds are groups too (``GroupKFold`` over the training groups, at most ``folds``
  splits), so no tool is ever on both sides of a split. Consecutive passes of one tool share
  its coefficients, run-out and nearly equal VB: a random split puts near-copies of a test
  record in training and measures interpolation between passes, not prediction for a new
  cutter. Scores per fold (group) and their mean.
* ``"random-80-20"``: the paper's protocol, records drawn at random (seeded) into an 80/20
  split, tuning by shuffled ``KFold``. Kept so the paper comparison stays; with several passes
  per tool it leaks (see above).

Baselines beside every model: ``baseline_mean`` (the training mean) and, when a time-in-use
column is given, ``baseline_usage``: wear as a smooth function of time in use alone (cubic
B-spline basis of the usage, ``SplineTransformer``, linear extrapolation, ridge-tuned on the
same folds), no sensor features.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import Ridge
from sklearn.model_selection import GroupKFold, KFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import SplineTransformer
from tqdm.auto import tqdm

from surrogates.wear.features import record_features
from surrogates.wear.forces import ForceRecord
from surrogates.wear.metrics import regression_scores
from surrogates.wear.regressors import model_grids
from surrogates.wear.selection import Selection, ZScore, select_by_mutual_information
from surrogates.wear.voting import Tuned, fit_voting, tune

GROUPED, RANDOM = "leave-one-group-out", "random-80-20"
PROTOCOLS = (GROUPED, RANDOM)
ENSEMBLES = ("voting", "voting_weighted")
BASELINES = ("baseline_mean", "baseline_usage")


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


def record_labels(records: list[ForceRecord]) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Group labels and time in use from the records' ``meta`` (``tool``; ``usage``, else the
    virtual campaign's ``length_m``); None where not every record carries one."""
    metas = [r.meta for r in records]
    groups = np.array([str(m["tool"]) for m in metas]) if all("tool" in m for m in metas) else None
    key = next((k for k in ("usage", "length_m") if all(k in m for m in metas)), None)
    usage = None if key is None else np.array([float(m[key]) for m in metas])
    return groups, usage


def tool_reference_features(
    x: np.ndarray, groups: np.ndarray, usage: np.ndarray | None = None, *, n_ref: int = 3
) -> np.ndarray:
    """Append to ``x`` (N, F) each record's features minus its tool's reference: the mean of
    the tool's first ``n_ref`` records (by time in use, else row order) -> (N, 2F).

    A tool's first cuts are recorded when it enters service, before any wear label is needed,
    so the reference is available for a tool never seen in training; it removes the tool's own
    offsets (force coefficients, run-out) that a leave-one-tool-out test otherwise has to
    extrapolate. Uses features only, never the wear labels.
    """
    x = np.asarray(x, dtype=float)
    groups = np.asarray(groups).astype(str)
    rel = np.empty_like(x)
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        order = idx if usage is None else idx[np.argsort(np.asarray(usage)[idx], kind="stable")]
        rel[idx] = x[idx] - x[order[:n_ref]].mean(axis=0)
    return np.concatenate([x, rel], axis=1)


def usage_baseline():
    """Wear as a smooth function of time in use alone (see module docstring), unfitted."""
    return make_pipeline(
        SplineTransformer(n_knots=4, degree=3, extrapolation="linear"), Ridge(alpha=1e-3)
    )


@dataclass
class FittedModels:
    """One training fit: preprocessing, tuned members, ensembles and baselines."""

    scaler: ZScore
    selection: Selection
    tuned: list[Tuned]
    ensembles: dict
    mean: DummyRegressor
    usage: object | None

    def predict(self, x: np.ndarray, usage: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Predictions of every model, ensemble and baseline for features ``x`` (N, F)."""
        z = self.selection.apply(self.scaler.transform(x))
        ens = self.ensembles["voting"]
        out = {t.name: ens.named_estimators_[t.name].predict(z) for t in self.tuned}
        out.update({name: e.predict(z) for name, e in self.ensembles.items()})
        out["baseline_mean"] = self.mean.predict(z)
        if self.usage is not None and usage is not None:
            out["baseline_usage"] = self.usage.predict(np.asarray(usage, float).reshape(-1, 1))
        return out


def fit_models(
    x: np.ndarray,
    y: np.ndarray,
    *,
    groups: np.ndarray | None = None,
    usage: np.ndarray | None = None,
    k_features: int = 30,
    folds: int = 5,
    quick: bool = False,
    seed: int = 0,
    models: list[str] | None = None,
    progress: bool = False,
) -> FittedModels:
    """Fit preprocessing, tune every model and the usage baseline, fit the ensembles.

    With ``groups`` the tuning folds are groups (``GroupKFold``, at most ``folds`` splits,
    at least 2 groups needed); otherwise shuffled ``KFold(folds)``.
    """
    if groups is not None:
        n_groups = len(np.unique(groups))
        if n_groups < 2:
            raise ValueError(
                "grouped tuning needs at least 2 training groups; the leave-one-group-out "
                "protocol needs at least 3 groups in the data"
            )
        cv = GroupKFold(n_splits=min(folds, n_groups))
    else:
        cv = KFold(n_splits=folds, shuffle=True, random_state=seed)
    scaler = ZScore.fit(x)
    z = scaler.transform(x)
    sel = select_by_mutual_information(z, y, k=min(k_features, x.shape[1]), seed=seed)
    z = sel.apply(z)
    grids = model_grids(quick=quick, seed=seed)
    chosen = models or list(grids)
    unknown = set(chosen) - set(grids)
    if unknown:
        raise ValueError(f"unknown model(s) {sorted(unknown)}; known: {list(grids)}")
    tuned = []
    for name in tqdm(chosen, desc="tuning", disable=not progress, leave=False):
        est, param_grid = grids[name]
        tuned.append(tune(name, est, param_grid, z, y, cv=cv, groups=groups))
    ensembles = fit_voting(tuned, z, y)
    mean = DummyRegressor(strategy="mean").fit(z, y)
    usage_model = None
    if usage is not None:
        u = np.asarray(usage, float).reshape(-1, 1)
        usage_model = tune(
            "baseline_usage",
            usage_baseline(),
            {"ridge__alpha": [1e-3, 1e-1, 10.0]},
            u,
            y,
            cv=cv,
            groups=groups,
        ).estimator.fit(u, y)
    return FittedModels(scaler, sel, tuned, ensembles, mean, usage_model)


@dataclass
class ProtocolResult:
    """Scores of every model under one protocol, with the pooled test predictions.

    ``scores[name]`` holds ``rmse``, ``mae``, ``r2``, ``mse``, ``nrmse``; for the grouped
    protocol these are means over the folds, and ``folds`` maps each held-out group to its
    RMSE (``fold_scores`` to all its scores).
    """

    protocol: str
    scores: dict[str, dict]
    y_test: np.ndarray
    predictions: dict[str, np.ndarray]
    fitted: FittedModels  # the random split's fit, or the last fold's
    n_train: int
    n_test: int
    groups: list[str] = field(default_factory=list)

    @property
    def singles(self) -> list[str]:
        """Names of the single (tuned) models."""
        return [t.name for t in self.fitted.tuned]

    def voting_beats_every_single_model(self) -> bool:
        """True when the voting ensemble's RMSE is below every single model's."""
        return all(self.scores["voting"]["rmse"] < self.scores[m]["rmse"] for m in self.singles)


def run_protocol(
    x: np.ndarray,
    y: np.ndarray,
    *,
    protocol: str,
    groups: np.ndarray | None = None,
    usage: np.ndarray | None = None,
    k_features: int = 30,
    folds: int = 5,
    quick: bool = False,
    seed: int = 0,
    models: list[str] | None = None,
    progress: bool = False,
) -> ProtocolResult:
    """Evaluate every model, the ensembles and the baselines under ``protocol``."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float).reshape(-1)
    opts = {"k_features": k_features, "folds": folds, "quick": quick, "seed": seed}
    opts |= {"models": models, "progress": progress}
    if protocol == RANDOM:
        idx = np.arange(len(y))
        tr, te = train_test_split(idx, test_size=0.2, random_state=seed)
        u_tr = None if usage is None else usage[tr]
        fitted = fit_models(x[tr], y[tr], usage=u_tr, **opts)
        preds = fitted.predict(x[te], None if usage is None else usage[te])
        scores = {name: regression_scores(y[te], p) for name, p in preds.items()}
        return ProtocolResult(protocol, scores, y[te], preds, fitted, len(tr), len(te))
    if protocol != GROUPED:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, not {protocol!r}")
    if groups is None:
        raise ValueError("the leave-one-group-out protocol needs group labels (e.g. --group)")
    groups = np.asarray(groups).astype(str)
    labels = [str(g) for g in dict.fromkeys(groups)]
    if len(labels) < 3:
        raise ValueError(
            f"the leave-one-group-out protocol needs at least 3 groups, found {len(labels)} "
            f"({labels}); use the random protocol or bring more tools"
        )
    fold_scores: dict[str, dict[str, dict]] = {}
    pooled_y: list[np.ndarray] = []
    pooled: dict[str, list[np.ndarray]] = {}
    fitted = None
    for g in tqdm(labels, desc="folds", disable=not progress, leave=False):
        te, tr = groups == g, groups != g
        u_tr = None if usage is None else usage[tr]
        fitted = fit_models(x[tr], y[tr], groups=groups[tr], usage=u_tr, **opts)
        preds = fitted.predict(x[te], None if usage is None else usage[te])
        for name, p in preds.items():
            fold_scores.setdefault(name, {})[g] = regression_scores(y[te], p)
            pooled.setdefault(name, []).append(p)
        pooled_y.append(y[te])
    scores = {}
    for name, per_fold in fold_scores.items():
        keys = next(iter(per_fold.values())).keys()
        scores[name] = {k: float(np.mean([s[k] for s in per_fold.values()])) for k in keys}
        scores[name]["folds"] = {g: s["rmse"] for g, s in per_fold.items()}
        scores[name]["fold_scores"] = per_fold
    assert fitted is not None
    y_test = np.concatenate(pooled_y)
    preds = {name: np.concatenate(p) for name, p in pooled.items()}
    n_test = int(np.mean([np.sum(groups == g) for g in labels]))
    return ProtocolResult(
        protocol, scores, y_test, preds, fitted, len(y) - n_test, n_test, groups=labels
    )

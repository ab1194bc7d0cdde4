r"""Structure screening (Table 6), the A × B × C factorial with repeats, Type II ANOVA (Table 7)
and recommended combinations (Table 11) of paper 001, §2.4 and §3.

Response (``rmse``): the mean RMSE (µm) over the aged conditions that *no member trains or
early-stops on*: :data:`SCORE_NAMES` = H9, H11, H14, H16 (the duty cycles no C level of Table 10
contains). The paper's response, :math:`\mathrm{RMSE}_{avg}` of Eq. (5) = (mean RMSE over
H1–H18 + RMSE H19 + RMSE H20) / 3, is kept as the labelled column ``rmse_eq5`` for comparison
with the paper only: two thirds of it are training (H1–H18 hold each member's own conditions) or
early-stopping (H19) data, which favours the larger condition sets of factor C. The test
condition H20 and the *fresh* conditions (names starting with ``F``: the test programme redrawn
with other seeds) are never used for a choice; they score the final table (Table 11).
Members trained on a set that contains a score condition (the paper's "retrain on H1–H18"
baseline) get ``rmse`` = NaN. The ANOVA model is Eq. (7),

.. math::  y_{ijkl}=\mu+\alpha_i+\beta_j+\gamma_k+(\alpha\beta)_{ij}+(\alpha\gamma)_{ik}
           +(\beta\gamma)_{jk}+(\alpha\beta\gamma)_{ijk}+\varepsilon_{ijkl},

fitted by OLS (statsmodels ``ols``) and decomposed with ``anova_lm(typ=2)``. Every training of one
structure (all B levels × C levels × repeats) is one vectorised call of
:func:`surrogates.compensation.transfer.train_members`; the structures (screening, factor A)
can be split over MPI ranks (``comm``, see :mod:`surrogates.compensation.parallel`) with results
identical to the serial run, since seeds depend on the structure's index only.

Recommended combinations follow §3.3–3.4: (1) the best level of each factor's main effect;
(2) for each pair of factors the best cell of their interaction table, completed by the best
level of the third factor given that cell; (3) the best cell of the three-way table.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from flax import nnx
from statsmodels.formula.api import ols
from statsmodels.stats.anova import anova_lm

from surrogates.compensation.baselines import fit_ridge
from surrogates.compensation.model import PRETRAINED_LAYERS, CompensationNet, Structure
from surrogates.compensation.parallel import map_over_ranks
from surrogates.compensation.transfer import (
    CONDITION_SETS,
    FREEZING,
    FineTuneConfig,
    init_members,
    layer_masks,
    predict_members,
    rmse_avg,
    rmse_per_condition,
    train_members,
)

EVAL_NAMES: list[str] = [f"H{i}" for i in range(1, 21)]  #: H1–H18, then H19 (val), H20 (test)
VAL_NAME = "H19"  #: early stopping of every member
TEST_NAME = "H20"  #: never used for a choice
#: aged conditions no C level trains on: the held-out factorial response
SCORE_NAMES: list[str] = [
    n for n in EVAL_NAMES[:18] if not any(n in c for c in CONDITION_SETS.values())
]
ANOVA_ROWS: dict[str, str] = {
    "C(fA)": "A", "C(fB)": "B", "C(fC)": "C", "C(fA):C(fB)": "A:B", "C(fA):C(fC)": "A:C",
    "C(fB):C(fC)": "B:C", "C(fA):C(fB):C(fC)": "A:B:C", "Residual": "Residual",
}  # fmt: skip


@dataclass(frozen=True)
class Timing:
    """Wall seconds of vectorised training calls and the part spent compiling."""

    seconds: float = 0.0
    compile_seconds: float = 0.0

    def __add__(self, other: Timing) -> Timing:
        return Timing(self.seconds + other.seconds, self.compile_seconds + other.compile_seconds)


@dataclass
class AgedData:
    """Aged-state arrays: per-condition ``(x, y)`` and the pooled evaluation stack.

    The stack holds H1–H20 and then any fresh conditions (names starting with ``F``)."""

    data: dict[str, tuple[np.ndarray, np.ndarray]]

    def __post_init__(self) -> None:
        missing = [n for n in EVAL_NAMES if n not in self.data]
        if missing:
            raise ValueError(f"AgedData: conditions {missing} missing (need H1–H20)")
        self.fresh = [n for n in self.data if n.startswith("F")]
        self.names = [*EVAL_NAMES, *self.fresh]
        self.x = np.concatenate([self.data[n][0] for n in self.names])
        self.y = np.concatenate([self.data[n][1] for n in self.names])
        sizes = [len(self.data[n][1]) for n in self.names]
        self.offsets = dict(zip(self.names, np.cumsum([0, *sizes[:-1]]), strict=True))

    def ids(self, names: list[str]) -> np.ndarray:
        """Indices into the pooled stack of the samples of ``names``."""
        return np.concatenate(
            [self.offsets[n] + np.arange(len(self.data[n][1])) for n in names]
        ).astype(np.int32)

    def groups(self, names: list[str]) -> np.ndarray:
        """Condition label of every sample of ``names`` (for leave-conditions-out folds)."""
        return np.concatenate([np.full(len(self.data[n][1]), n) for n in names])

    def score_predictions(
        self, predictions: np.ndarray, trained_on: list[list[str]] | None = None
    ) -> dict[str, np.ndarray]:
        """Scores of predictions (members, N) on the pooled stack.

        Returns ``rmse`` (held-out: mean over :data:`SCORE_NAMES`; NaN for members whose
        training conditions ``trained_on[m]`` include one of them), ``rmse_eq5`` (Eq. 5),
        ``rmse_test`` (H20), ``rmse_fresh`` (mean over the fresh conditions; NaN if none) and
        ``per`` (members, len(names)) per condition."""
        per = rmse_per_condition(predictions, self.data, self.names)
        col = {n: j for j, n in enumerate(self.names)}
        held = per[:, [col[n] for n in SCORE_NAMES]].mean(axis=1)
        if trained_on is not None:
            touched = np.array([bool(set(t) & set(SCORE_NAMES)) for t in trained_on])
            held = np.where(touched, np.nan, held)
        fresh = (
            per[:, [col[n] for n in self.fresh]].mean(axis=1)
            if self.fresh
            else np.full(len(per), np.nan)
        )
        return {
            "rmse": held,
            "rmse_eq5": rmse_avg(per[:, :20], 18),
            "rmse_test": per[:, col[TEST_NAME]],
            "rmse_fresh": fresh,
            "per": per,
        }

    def score(
        self, graphdef: nnx.GraphDef, params: nnx.State, predictions: np.ndarray | None = None,
        trained_on: list[list[str]] | None = None,
    ) -> dict[str, np.ndarray]:  # fmt: skip
        """:meth:`score_predictions` of stacked params (predicting now unless given)."""
        if predictions is None:
            predictions = predict_members(graphdef, params, self.x)
        return self.score_predictions(predictions, trained_on)


SCORE_COLUMNS = ("rmse", "rmse_eq5", "rmse_test", "rmse_fresh")


def _score_row(scores: dict[str, np.ndarray], k: int = 0) -> dict[str, float]:
    return {c: float(scores[c][k]) for c in SCORE_COLUMNS}


def direct_test(pretrained: CompensationNet, aged: AgedData) -> dict[str, float]:
    """Pretrained model applied to the aged machine without transfer: the score columns."""
    graphdef, params = init_members(pretrained.structure, [0], pretrained=pretrained)
    return _score_row(aged.score(graphdef, params))


def no_compensation(aged: AgedData) -> dict[str, float]:
    """The machine without compensation (prediction 0): the score columns."""
    return _score_row(aged.score_predictions(np.zeros((1, len(aged.y)))))


def ridge_baseline(aged: AgedData, names: list[str]) -> dict[str, float]:
    """Static ridge on the selected inputs (current sample), trained on ``names`` with α by
    leave-conditions-out CV inside them: the score columns plus ``alpha``."""
    ids = aged.ids(names)
    model = fit_ridge(aged.x[ids], aged.y[ids], groups=aged.groups(names))
    row = _score_row(aged.score_predictions(model.predict(aged.x)[None], [names]))
    return {**row, "alpha": model.alpha}


def _check_training_sets(sets: dict[str, list[str]], c_levels: list[str]) -> None:
    for c in c_levels:
        bad = [n for n in sets[c] if n in (VAL_NAME, TEST_NAME) or n.startswith("F")]
        if bad:
            raise ValueError(f"condition set {c}: {bad} are validation/test conditions")


def train_grid(
    structure: Structure,
    pretrained: CompensationNet | None,
    aged: AgedData,
    *,
    b_levels: list[str],
    c_levels: list[str],
    repeats: int,
    seed: int,
    config: FineTuneConfig,
    condition_sets: dict[str, list[str]] | None = None,
) -> tuple[pd.DataFrame, Timing]:
    """Train ``structure`` for every (B, C, repeat) in one vectorised call.

    ``pretrained=None`` trains from scratch (all layers free, random init). Returns a DataFrame
    (columns B, C, repeat, the score columns of :meth:`AgedData.score_predictions`, and
    rmse_<condition> for every condition) and the :class:`Timing` of the call.
    """
    sets = condition_sets or CONDITION_SETS
    _check_training_sets(sets, c_levels)
    grid = [(b, c, r) for b in b_levels for c in c_levels for r in range(repeats)]
    seeds = [seed * 100_003 + k for k in range(len(grid))]
    graphdef, params = init_members(structure, seeds, pretrained=pretrained)
    unfrozen = [PRETRAINED_LAYERS if pretrained is None else FREEZING[b] for b, _, _ in grid]
    masks = layer_masks(params, unfrozen)
    result = train_members(
        graphdef, params, masks, x=aged.x, y=aged.y,
        sample_ids=[aged.ids(sets[c]) for _, c, _ in grid],
        val=aged.data[VAL_NAME], seeds=seeds, config=config, evaluate=True,
    )  # fmt: skip
    scores = aged.score(graphdef, result.params, result.predictions,
                        trained_on=[sets[c] for _, c, _ in grid])  # fmt: skip
    table = pd.DataFrame(grid, columns=["B", "C", "repeat"])
    for col in SCORE_COLUMNS:
        table[col] = scores[col]
    for j, name in enumerate(aged.names):
        table[f"rmse_{name}"] = scores["per"][:, j]
    return table, Timing(result.seconds, result.compile_seconds)


def screen_structures(
    structures: list[Structure],
    pretrained: CompensationNet,
    aged: AgedData,
    *,
    repeats: int,
    seed: int,
    config: FineTuneConfig,
    freezing: str = "B1",
    comm=None,
    progress: bool = False,
) -> pd.DataFrame:
    """Table 6: mean held-out RMSE (and Eq. 5) of each structure over C1–C9 × repeats (frozen
    as ``freezing``; the paper does not state the scheme of its screening, we use B1).

    ``comm``: optional MPI communicator; the structures are split over its ranks and every rank
    returns the full table. ``progress`` prints one line per structure."""
    from surrogates.compensation.model import structure_label

    def one(k: int, s: Structure) -> dict:
        table, timing = train_grid(
            s, pretrained, aged, b_levels=[freezing], c_levels=list(CONDITION_SETS),
            repeats=repeats, seed=seed + k, config=config,
        )  # fmt: skip
        _log(progress, comm, f"screening {k + 1}/{len(structures)} {structure_label(s)}: "
             f"{table.rmse.mean():.3f} µm, {timing.seconds:.1f} s "
             f"({timing.compile_seconds:.1f} s compile)")  # fmt: skip
        return {
            "structure": structure_label(s), "kinds": ",".join(s), "mean_rmse": table.rmse.mean(),
            "std_rmse": table.rmse.std(ddof=1) if len(table) > 1 else 0.0,
            "mean_rmse_eq5": table.rmse_eq5.mean(),
            "seconds": timing.seconds, "compile_seconds": timing.compile_seconds,
        }  # fmt: skip

    rows = map_over_ranks(one, list(structures), comm)
    return pd.DataFrame(rows).sort_values("mean_rmse", kind="stable").reset_index(drop=True)


def choose_levels(screen: pd.DataFrame, baseline: float, *, n: int = 4) -> list[Structure]:
    """Factor A levels: the ``n`` best structures, those beating ``baseline`` first (§2.4.1)."""
    ordered = screen.sort_values("mean_rmse")
    return [tuple(k.split(",")) for k in ordered.kinds.iloc[:n]]


def run_factorial(
    levels: list[Structure],
    pretrained: CompensationNet,
    aged: AgedData,
    *,
    repeats: int,
    seed: int,
    config: FineTuneConfig,
    b_levels: list[str] | None = None,
    c_levels: list[str] | None = None,
    labels: list[str] | None = None,
    comm=None,
    progress: bool = False,
) -> tuple[pd.DataFrame, Timing]:
    """All A × B × C × repeats trainings, one vectorised call per A level.

    ``labels``: names of the A levels in the table (default A1, A2, ...: the paper's Table 2
    order when ``levels`` are the paper's structures).

    Returns rows (A, B, C, repeat, rmse, rmse_H1…H20) and the summed :class:`Timing` of the
    calls (over all ranks). ``b_levels``/``c_levels`` default to all of Tables 3 and 4;
    ``comm``: optional MPI communicator splitting the A levels over its ranks (every rank
    returns the full table). ``progress`` prints one line per A level.
    """
    b_levels = list(FREEZING) if b_levels is None else b_levels
    c_levels = list(CONDITION_SETS) if c_levels is None else c_levels
    labels = [f"A{i + 1}" for i in range(len(levels))] if labels is None else labels

    def one(i: int, s: Structure) -> tuple[pd.DataFrame, Timing]:
        table, timing = train_grid(
            s, pretrained, aged, b_levels=b_levels, c_levels=c_levels,
            repeats=repeats, seed=seed + 1000 * (i + 1), config=config,
        )  # fmt: skip
        table.insert(0, "A", labels[i])
        _log(progress, comm, f"factorial {labels[i]} ({len(table)} trainings): "
             f"{timing.seconds:.1f} s ({timing.compile_seconds:.1f} s compile)")  # fmt: skip
        return table, timing

    parts = map_over_ranks(one, list(levels), comm)
    total = sum((t for _, t in parts), Timing())
    return pd.concat([tab for tab, _ in parts], ignore_index=True), total


def _log(on: bool, comm, text: str) -> None:
    if on:
        prefix = "" if comm is None else f"[rank {comm.Get_rank()}] "
        print(f"{prefix}{text}", flush=True)


def anova(table: pd.DataFrame, *, response: str = "rmse") -> pd.DataFrame:
    """Type II three-way ANOVA of ``response`` on factors A, B, C (columns of ``table``).

    Returns rows A, B, C, A:B, A:C, B:C, A:B:C, Residual with columns sum_sq, df, mean_sq, F, p.
    """
    for col in ("A", "B", "C", response):
        if col not in table.columns:
            raise ValueError(f"anova: table lacks column {col!r}")
    cells = table.groupby(["A", "B", "C"]).size()
    if cells.min() < 2:
        raise ValueError("anova: every (A, B, C) cell needs >= 2 repeats for a residual term")
    frame = pd.DataFrame(
        {"fA": table["A"], "fB": table["B"], "fC": table["C"], "y": table[response]}
    )
    fit = ols("y ~ C(fA) * C(fB) * C(fC)", data=frame).fit()
    res = anova_lm(fit, typ=2).rename(index=ANOVA_ROWS)
    res = res.rename(columns={"PR(>F)": "p"})
    res["mean_sq"] = res["sum_sq"] / res["df"]
    return res.loc[list(ANOVA_ROWS.values()), ["sum_sq", "df", "mean_sq", "F", "p"]]


def recommend(table: pd.DataFrame, response: str = "rmse") -> list[dict[str, str]]:
    """Recommended (A, B, C) combinations from main effects, two- and three-way tables of
    ``response`` (default: the held-out one)."""
    best = {f: table.groupby(f)[response].mean().idxmin() for f in ("A", "B", "C")}
    recs = [{"source": "main effects", **best}]
    for pair in (("A", "B"), ("A", "C"), ("B", "C")):
        cell = table.groupby(list(pair))[response].mean().idxmin()
        fixed = dict(zip(pair, cell, strict=True))
        third = next(f for f in ("A", "B", "C") if f not in pair)
        sub = table[(table[pair[0]] == cell[0]) & (table[pair[1]] == cell[1])]
        fixed[third] = sub.groupby(third)[response].mean().idxmin()
        recs.append({"source": f"interaction {pair[0]}×{pair[1]}", **fixed})
    cell = table.groupby(["A", "B", "C"])[response].mean().idxmin()
    recs.append({"source": "interaction A×B×C", **dict(zip(("A", "B", "C"), cell, strict=True))})
    return recs


def timed(fn, *args, **kwargs):
    """``(result, seconds)`` of ``fn(*args, **kwargs)``."""
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0

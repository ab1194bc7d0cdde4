"""Architecture search of paper 002 (§3, Table 2).

The paper compares networks with 2 and 3 hidden layers of 5 to 15 neurons each, trained with
backpropagation with momentum, and ranks them by the validation generalisation factor GF and
the MAD. Table 2 lists 20 tested configurations for network 2 (Vf); :data:`PAPER_TABLE2`
holds them with the paper's figures for a "paper | ours" table. :func:`candidate_architectures`
adds seeded random draws from the same space. Ranking (:func:`rank_results`): GF descending, then
MAD ascending, as Table 2 is ordered by GF. For network 2 the score uses the chained Vc of a
fixed network 1, i.e. what a user gets; the paper does not say which Vc it fed during the search.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from surrogates.cutting.networks import append_vc, vc_network, vf_network
from surrogates.cutting.training import (
    DEFAULT_SETTINGS,
    CuttingTrainSettings,
    TrainedPair,
    evaluate_pair,
    train_network,
)
from surrogates.training import count_parameters

#: Table 2 of paper 002: (ID, hidden sizes, MAD mm/min, GF %), network 2 (Vf).
PAPER_TABLE2: tuple[tuple[int, tuple[int, ...], float, float], ...] = (
    (1, (10, 10, 10), 31.0, 100.00),
    (5, (7, 7), 18.5, 90.91),
    (2, (11, 11, 11), 11.3, 85.46),
    (4, (6, 7, 8), 13.0, 83.64),
    (3, (8, 8), 1.3, 83.64),
    (16, (10, 10), 23.5, 80.00),
    (6, (9, 10), 30.1, 78.18),
    (13, (6, 6), 47.4, 74.55),
    (7, (7, 8), 31.8, 74.55),
    (9, (6, 6, 6), 95.4, 72.73),
    (19, (11, 11), 15.3, 72.73),
    (14, (7, 7, 7), 14.2, 72.73),
    (10, (9, 10, 11), 25.3, 69.09),
    (11, (8, 9, 10), 10.8, 69.09),
    (12, (9, 9, 9), 8.1, 69.09),
    (17, (6, 7), 46.1, 67.27),
    (20, (9, 9), 47.2, 65.46),
    (15, (8, 9), 3.2, 63.64),
    (8, (7, 8, 9), 5.0, 60.00),
    (18, (8, 8, 8), 34.5, 58.18),
)


def candidate_architectures(
    *,
    n_random: int = 0,
    seed: int = 0,
    min_layers: int = 2,
    max_layers: int = 3,
    min_neurons: int = 5,
    max_neurons: int = 15,
    include_paper: bool = True,
) -> list[tuple[int, ...]]:
    """Hidden-layer size tuples: Table 2's 20 (if ``include_paper``) plus ``n_random`` distinct
    seeded draws with ``min_layers..max_layers`` layers of ``min_neurons..max_neurons``."""
    if not (1 <= min_layers <= max_layers and 1 <= min_neurons <= max_neurons):
        raise ValueError("need 1 <= min_layers <= max_layers and 1 <= min_neurons <= max_neurons")
    configs = [hidden for _, hidden, _, _ in PAPER_TABLE2] if include_paper else []
    space = (max_layers - min_layers + 1) * (max_neurons - min_neurons + 1) ** max_layers
    rng = np.random.default_rng(seed)
    target = len(configs) + min(n_random, space)
    while len(configs) < target:
        layers = int(rng.integers(min_layers, max_layers + 1))
        hidden = tuple(int(v) for v in rng.integers(min_neurons, max_neurons + 1, size=layers))
        if hidden not in configs:
            configs.append(hidden)
    return configs


def search_architectures(
    base: TrainedPair,
    train: pd.DataFrame,
    val: pd.DataFrame,
    *,
    target: str,
    configs: Sequence[tuple[int, ...]],
    settings: CuttingTrainSettings = DEFAULT_SETTINGS,
    progress: bool = False,
) -> pd.DataFrame:
    """Train network ``target`` ("vc" or "vf") once per configuration and score it on ``val``.

    ``base`` supplies the encoder and the other network (Table 3 architecture): a Vf candidate
    is trained on the handbook Vc and scored chained behind ``base.net_vc``. Returns a ranked
    DataFrame with columns rank, hidden, n_layers, mad (m/min or mm/min), gf (%), mad_train,
    best_epoch, n_params.
    """
    if target not in ("vc", "vf"):
        raise ValueError(f"target must be 'vc' or 'vf', got {target!r}")
    enc = base.encoder
    x_tr, x_va = enc.encode_table(train), enc.encode_table(val)
    fit_opts = {"optimizer": settings.optimizer_tx(), "loss_fn": settings.loss_fn()}
    rows = []
    for i, hidden in enumerate(tqdm(configs, desc=f"search {target}", disable=not progress)):
        config = settings.train_config(offset=10 + i)
        if target == "vc":
            net = vc_network(
                enc.n_features, seed=settings.seed + i, hidden=hidden, skip=settings.skip
            )
            y_tr, y_va = enc.encode_vc(train["vc"]), enc.encode_vc(val["vc"])
            result = train_network(net, x_tr, y_tr, x_va, y_va, config=config, **fit_opts)
            pair = replace(base, net_vc=net, result_vc=result)
        else:
            net = vf_network(
                enc.n_features + 1, seed=settings.seed + i, hidden=hidden, skip=settings.skip
            )
            vc_tr, vc_va = enc.encode_vc(train["vc"]), enc.encode_vc(val["vc"])
            y_tr, y_va = enc.encode_vf(train["vf"]), enc.encode_vf(val["vf"])
            result = train_network(
                net,
                append_vc(x_tr, vc_tr),
                y_tr,
                append_vc(x_va, vc_va),
                y_va,
                config=config,
                **fit_opts,
            )
            pair = replace(base, net_vf=net, result_vf=result)
        scores_val, scores_train = evaluate_pair(pair, val), evaluate_pair(pair, train)
        rows.append(
            {
                "hidden": "-".join(map(str, hidden)),
                "n_layers": len(hidden),
                "mad": scores_val[f"mad_{target}"],
                "gf": scores_val[f"gf_{target}"],
                "mad_train": scores_train[f"mad_{target}"],
                "best_epoch": result.best_epoch,
                "n_params": count_parameters(net),
            }
        )
    return rank_results(pd.DataFrame(rows))


def rank_results(results: pd.DataFrame) -> pd.DataFrame:
    """Sort by GF descending, then MAD ascending (Table 2 order); adds a 1-based ``rank``."""
    ranked = results.sort_values(["gf", "mad"], ascending=[False, True]).reset_index(drop=True)
    ranked.insert(0, "rank", np.arange(1, len(ranked) + 1))
    return ranked

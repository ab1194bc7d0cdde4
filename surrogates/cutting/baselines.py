r"""Baselines and ceilings beside the chained networks of paper 002 (issue 16).

* :func:`log_linear` — least squares of :math:`\ln v_c` and :math:`\ln v_f` on the networks'
  own encoding (:class:`~surrogates.cutting.encoding.Encoder`, one-hot categories and
  standardised ln HB), fitted on the training rows. The handbook generator is multiplicative in
  its factors (material, operation, cutter, a power of hardness), so this model has the right
  form up to the generator's rounding and the spindle cap.
* :func:`nearest_row` — the Vc/Vf of the closest *training* row, in the recommender's order:
  same material first, then same operation, same cutter, then the nearest :math:`|\ln HB|`.
* :func:`exact_formula` — the generating formula of :func:`~surrogates.cutting.handbook.
  handbook_row` without its rounding (Vc nominal, capped at the spindle limit; fz nominal;
  :math:`v_f = f_z z n`): the *ceiling* of any model trained on the rounded table, i.e. how
  well the truth itself scores against the rounded midpoints. Generated rows only.

:func:`scores` gives MAD and GF of predictions against the rounded table and, for generated
rows, against the unrounded values (``*_unrounded``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression

from surrogates.cutting.catalogue import CUTTERS, MATERIALS, OPERATIONS
from surrogates.cutting.encoding import Encoder
from surrogates.cutting.handbook import MACHINE_MAX_RPM, chip_thinning_factor, spindle_speed
from surrogates.cutting.metrics import generalization_factor, mad


def log_linear(train: pd.DataFrame, encoder: Encoder):
    """Fit ln Vc and ln Vf on the encoded inputs; returns ``predict(table) -> (vc, vf)``."""
    x = encoder.encode_table(train)
    models = {t: LinearRegression().fit(x, np.log(train[t].to_numpy(float))) for t in ("vc", "vf")}

    def predict(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        z = encoder.encode_table(table)
        return tuple(np.exp(models[t].predict(z)) for t in ("vc", "vf"))

    return predict


def nearest_row(train: pd.DataFrame):
    """Returns ``predict(table) -> (vc, vf)``: each row gets its nearest training row's values."""
    tr = train.reset_index(drop=True)
    log_hb = np.log(tr["hardness_hb"].to_numpy(float))

    def predict(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        idx = []
        for row in table.itertuples(index=False):
            key = np.lexsort(
                (
                    np.abs(log_hb - math.log(row.hardness_hb)),
                    (tr["cutter"] != row.cutter).to_numpy(),
                    (tr["operation"] != row.operation).to_numpy(),
                    (tr["material"] != row.material).to_numpy(),
                )
            )
            idx.append(key[0])
        return tr["vc"].to_numpy(float)[idx], tr["vf"].to_numpy(float)[idx]

    return predict


def exact_formula(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Unrounded (Vc m/min, Vf mm/min) of the generator for each row (module docstring)."""
    vc, vf = [], []
    for row in table.itertuples(index=False):
        mat, cut, op = MATERIALS[row.material], CUTTERS[row.cutter], OPERATIONS[row.operation]
        ratio = mat.hb_ref / row.hardness_hb
        v = mat.vc_ref * cut.vc_factor * op.vc_factor * ratio
        v = min(v, MACHINE_MAX_RPM * math.pi * cut.diameter_mm / 1000.0)
        fz = mat.hex_ref * cut.fz_factor * chip_thinning_factor(op.ae_over_d) * math.sqrt(ratio)
        vc.append(v)
        vf.append(fz * cut.teeth * float(spindle_speed(v, cut.diameter_mm)))
    return np.asarray(vc), np.asarray(vf)


def scores(table: pd.DataFrame, vc_hat: np.ndarray, vf_hat: np.ndarray) -> dict[str, float]:
    """MAD and GF against the table's (rounded) values, and against the unrounded values of its
    generated rows (``*_unrounded``; NaN when it has none)."""
    vc, vf = table["vc"].to_numpy(float), table["vf"].to_numpy(float)
    out = {
        "mad_vc": mad(vc, vc_hat),
        "gf_vc": generalization_factor(vc, vc_hat),
        "mad_vf": mad(vf, vf_hat),
        "gf_vf": generalization_factor(vf, vf_hat),
    }
    gen = (table["origin"] == "generated").to_numpy()
    if gen.any():
        vc0, vf0 = exact_formula(table[gen])
        out["gf_vc_unrounded"] = generalization_factor(vc0, np.asarray(vc_hat)[gen])
        out["gf_vf_unrounded"] = generalization_factor(vf0, np.asarray(vf_hat)[gen])
    else:
        out["gf_vc_unrounded"] = out["gf_vf_unrounded"] = float("nan")
    return out

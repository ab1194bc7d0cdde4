"""The shipped weights (surrogates/ihcp/weights) reproduce the test metrics of their own record.

The weights are trained by ``python -m cases.milling_reconstruction --retrain`` on the records of
the generating model (thermo.inverse.virtual_lab: finer mesh and step than the inverse's, every
model uncertainty, realistic sensors, random F1 histories; scenario ``all``). ``training.json``
and each estimator's ``.json`` record the data model, the seeds, the split and, for the check
records ``check_records.npz/.json`` shipped beside the weights (the held-out case 24,
realisation 0, scenario ``all``, at σ = 0, 5, 10 K: what the FEM made, so the check runs in
seconds), every member's ``mse_scaled``, ``mse_c2``, ``rmse_c`` and ``r2``
(surrogates.ihcp.recon_training.member_metrics). The slow test rebuilds the records through the
case's own data path (FEM responses from the cache, or computed) and checks the committed check
records and the pooled test-set metrics against them.

Tolerance: what can move the metrics on another machine is float32 rounding in XLA (about 1e-7
relative per output, so about 1e-6 in a metric) and FEM round-off in the records (about 1e-12),
orders of magnitude below the 1e-4 relative used; other weights, scalers or windows change the
RMSE by percents (the shipped students differ from each other by more than 1 %, checked below).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from surrogates.ihcp.estimator import SHIPPED_DIR, shipped
from surrogates.ihcp.metrics import regression_report
from surrogates.ihcp.recon_training import member_metrics
from thermo.inverse.record import RecordSet

REL = 1e-4  # module docstring
HOLDOUT = (5, 14, 23, 24)  # reconstruction conditions and the test case (virtual_lab)


def _training() -> dict:
    return json.loads((SHIPPED_DIR / "training.json").read_text(encoding="utf-8"))


def _check_records() -> RecordSet:
    return RecordSet.load(SHIPPED_DIR / "check_records")


def _close(got: dict, want: dict) -> None:
    for key in ("mse_scaled", "mse_c2", "rmse_c"):
        assert got[key] == pytest.approx(want[key], rel=REL), key
    # the unexplained fraction 1 − r2, relatively (r2 itself may be near 1)
    assert 1.0 - got["r2"] == pytest.approx(1.0 - want["r2"], rel=REL)


def test_weights_record_the_generating_model_and_their_split():
    rec = _training()
    dm = rec["data_model"]
    gen = dm["generating"]
    # data from another model than the inverse's: finer mesh and step, realistic sensors
    assert gen["size_factor"] < dm["nominal"]["size_factor"] and gen["dt"] < dm["nominal"]["dt"]
    assert gen["sensor_layout"] == "flank" and gen["drift_K"] > 0 and gen["quantum_K"] > 0
    assert dm["scenarios"][0] == "all" and dm["seed"] == rec["seeds"]["records"]
    split = rec["split"]
    # networks never see a held-out case; validation and training cases are disjoint
    assert not set(HOLDOUT) & (set(split["train_cases"]) | set(split["val_cases"]))
    assert not set(split["train_cases"]) & set(split["val_cases"])
    assert set(HOLDOUT) <= set(split["test_cases"])
    assert rec["seeds"]["students"] == [rec["seeds"]["teacher"] + 1 + k for k in range(5)]
    for kind in ("teacher", "student"):
        est = shipped(kind)
        assert est.dt == dm["nominal"]["dt"] and est.window == rec["training"]["window"]
        # each estimator's own .json carries the same record as training.json (stored numbers)
        key = "teacher" if kind == "teacher" else "students"
        assert est.meta["test_case"] == rec["test_case"][key]
        assert est.meta["split"] == split and est.meta["data_model"] == dm
        assert est.meta["check_records"]["metrics"] == rec["check_records"][key]
        assert est.meta["held_out"] == rec["held_out"]
    assert len(shipped("student").members) == rec["training"]["n_students"] == 5


def test_check_records_are_held_out_generating_model_records():
    rs = _check_records()
    rec = _training()
    assert [{k: r.meta[k] for k in ("case", "realisation", "sigma_K")} for r in rs.records] == (
        rec["check_records"]["records"]
    )
    for r in rs.records:
        assert r.meta["split"] == "test" and r.meta["scenario"] == "all" and r.meta["case"] == 24
        assert r.truth is not None and r.values.shape == (r.times.size, 4)
    np.testing.assert_allclose(np.diff(rs.records[0].times), shipped("student").dt, rtol=1e-9)


def test_shipped_weights_reproduce_their_recorded_check_metrics():
    records = list(_check_records().records)
    rec = _training()["check_records"]
    for kind, key in (("teacher", "teacher"), ("student", "students")):
        est = shipped(kind)
        want = rec[key]
        got = member_metrics(est, records)
        assert len(got) == len(want) == len(est.members)
        for got_k, want_k in zip(got, want, strict=True):
            assert len(got_k) == len(want_k) == len(records)
            for g, w in zip(got_k, want_k, strict=True):
                _close(g, w)
    # the tolerance tells weights apart: the five students differ by far more than REL
    rmse = [row[1]["rmse_c"] for row in rec["students"]]  # σ = 5 K record
    assert (max(rmse) - min(rmse)) / max(rmse) > 100 * REL


@pytest.mark.slow
def test_check_records_and_test_metrics_are_what_the_case_builds():
    """The committed check records and the pooled test-set metrics against the records the
    case's own data path generates (FEM responses from the study's cache, else ~17 fine runs)."""
    from cases.milling_reconstruction import build_parser
    from cases.recon_records import training_data

    args = build_parser().parse_args([])
    data = training_data(args, progress=False, every_scenario=True)
    test = [r for r in data["test"] if r.meta["scenario"] == "all"]
    committed = list(_check_records().records)
    fresh = [r for r in test if r.meta["case"] == 24 and r.meta["realisation"] == 0]
    assert len(fresh) == len(committed)
    for a, b in zip(fresh, committed, strict=True):
        scale = np.abs(b.values).max()
        np.testing.assert_allclose(a.values, b.values, rtol=0, atol=1e-8 * scale)
        np.testing.assert_allclose(a.truth, b.truth, rtol=0, atol=1e-8 * scale)
    rec = _training()
    for kind, key in (("teacher", "teacher"), ("student", "students")):
        est = shipped(kind)
        ys = est.y_scaler
        truth = np.concatenate([r.truth for r in test])
        preds = [[] for _ in est.members]
        for r in test:
            for k, row in enumerate(est.predict_members(r.times, r.values, r.params)):
                preds[k].append(row)
        want = rec["test_case"][key]
        want = want if isinstance(want, list) else [want]
        for k, w in enumerate(want):
            got = regression_report(
                ys.transform(truth), ys.transform(np.concatenate(preds[k])), y_scaler=ys
            )
            _close(got, w)

r"""Training of the estimators the reconstruction ships: CNN-GRU teacher + K distilled students.

Same networks and losses as the neural study (paper 000 §3.2–§3.3, :mod:`.study`), with three
choices made for use on measured records rather than for reproducing Tables 2–5:

* **Held-out conditions.** The three reconstruction conditions (cases 5, 14, 23: N = 382, 509,
  636 r/min, fz = 0.075 mm/z, ae = 0.2 mm) and the test case 24 are *not* trained on, so the
  reconstruction of Fig. 10 is an out-of-sample test (the paper does not say whether its Fig. 10
  conditions were in its training set). The other 23 cases split 80/20 by case into training and
  validation (:func:`.windows.split_cases`).
* **Noisy inputs.** Every training and validation case enters once with clean sensors and once
  per stored noise level σ > 0 (the data set's seeded records, :mod:`thermo.inverse.dataset`), so
  the
  networks learn to read noisy thermocouples; the labels are always the true F1 history.
* **Every step.** Windows are start-padded (:func:`.windows.pad_start`): one estimate per step,
  including the first w − 1 steps of the cut.

Then: the teacher is fitted with MSE (Adam, batch 50, best validation epoch kept), and K students
(Table 4: 1 conv of 148 filters + 1 GRU of 90 units) are distilled from it with the
regression-sound KD loss λ·MSE(labels) + (1 − λ)·MSE(teacher) (:mod:`.distill`), student k from
seed ``seed + 1 + k`` (initial weights and batch order). Everything is seeded, so rerunning with
the same data set and :class:`EstimatorTraining` on the same machine and library build reproduces
the weights bit for bit; on another CPU or XLA build the float32 rounding, and so the weights,
may differ slightly. :func:`weight_differences` measures how far retrained weights are from a
saved set (``milling_reconstruction --retrain`` records it in ``training.json``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from surrogates.training import TrainConfig, count_parameters, fit, predict
from thermo.inverse.design import RECONSTRUCTION_CASES, TEST_CASE
from thermo.inverse.record import SensorRecord

from .distill import PAPER_LAMBDA, distill
from .estimator import NeuralInverse, build_member, max_weight_difference, shipped
from .metrics import regression_report
from .models import KERNEL_SIZE, STUDENT_FILTERS, STUDENT_UNITS, TEACHER_FILTERS, TEACHER_UNITS
from .windows import (
    N_FEATURES,
    MinMaxScaler,
    WindowedSplit,
    features,
    label,
    split_cases,
    window_cases,
)


@dataclass(frozen=True)
class EstimatorTraining:
    """Budget and choices of :func:`train_estimators` (defaults: the shipped weights)."""

    window: int = 20
    teacher_epochs: int = 40
    student_epochs: int = 40
    batch_size: int = 50
    learning_rate: float = 1e-3
    n_students: int = 5
    lam: float = PAPER_LAMBDA
    holdout: tuple[int, ...] = RECONSTRUCTION_CASES
    test_case: int = TEST_CASE
    noisy_inputs: bool = True
    val_fraction: float = 0.2
    seed: int = 0
    progress: bool = False

    def __post_init__(self) -> None:
        min_window = len(TEACHER_FILTERS) * (KERNEL_SIZE - 1) + 1  # the teacher's two convs
        if self.window < min_window or self.n_students < 1:
            raise ValueError(
                f"EstimatorTraining: window >= {min_window} and n_students >= 1, got {self}"
            )
        if self.teacher_epochs < 1 or self.student_epochs < 1:
            raise ValueError(f"EstimatorTraining: epochs must be >= 1, got {self}")


def _versions(ds: Any, ids: list[int], *, noisy: bool) -> dict[int, SensorRecord]:
    """Case ``c`` with clean sensors under key c, and its record at the j-th stored noise level
    σ > 0 under key c + 100 j (so ``key % 100`` is the case id)."""
    sigmas = [float(s) for s in ds.sigmas if s > 0] if noisy else []
    out: dict[int, SensorRecord] = {}
    for c in ids:
        for j, sigma in enumerate([None, *sigmas]):
            out[c + 100 * j] = ds.case(c, sigma=sigma)
    return out


def train_estimators(
    ds: Any, config: EstimatorTraining = EstimatorTraining()
) -> tuple[NeuralInverse, NeuralInverse, dict[str, Any]]:
    """Train the teacher and the student ensemble on the data set ``ds``
    (:class:`thermo.inverse.dataset.IHCPDataset`, temperature kind).

    Returns:
        ``(teacher, students, report)``; ``report`` holds the split, window counts, seconds per
        stage, and test-case (σ = 0) metrics of the teacher and of each student.
    """
    if getattr(ds, "kind", "temperature") != "temperature":
        raise ValueError("train_estimators: needs an F1 *temperature* data set")
    ids = [int(c) for c in ds.cases]
    missing = [c for c in (*config.holdout, config.test_case) if c not in ids]
    if missing:
        raise ValueError(f"train_estimators: cases {missing} not in the data set {ids}")
    pool = [c for c in ids if c not in config.holdout]
    split = split_cases(
        pool, seed=config.seed, test_case=config.test_case, val_fraction=config.val_fraction
    )
    cases = _versions(ds, ids, noisy=config.noisy_inputs)
    train_keys = [k for k in cases if k % 100 in split["train"]]
    val_keys = [k for k in cases if k % 100 in split["val"]]
    provenance = {
        "training": asdict(config) | {"holdout": list(config.holdout)},
        "dataset": {
            k: ds.meta.get(k)
            for k in ("format", "seed", "mesh_size_factor", "dt_s", "forward", "seed_rule")
        },
        "split": split,
    }
    return _fit_networks(
        cases,
        train_keys=train_keys,
        val_keys=val_keys,
        test_keys=[config.test_case],
        scaler_keys=split["train"],
        config=config,
        dt=float(ds.times[1] - ds.times[0]),
        names=tuple(ds.sensor_names),
        provenance=provenance,
    )


def train_on_records(
    train: Sequence[SensorRecord],
    val: Sequence[SensorRecord],
    config: EstimatorTraining = EstimatorTraining(),
    *,
    test: Sequence[SensorRecord] = (),
    provenance: Mapping[str, Any] | None = None,
) -> tuple[NeuralInverse, NeuralInverse, dict[str, Any]]:
    """Train the teacher and the student ensemble on sensor records (with truth and machining
    parameters, one time grid), e.g. the randomised records of the generating model
    (:mod:`thermo.inverse.virtual_lab`). Scalers are fitted on the training records; the best
    epoch is chosen on ``val``; ``test`` (default ``val``) gives the report's metrics.
    ``provenance`` (e.g. the data model and seeds of the records) is merged into the report and
    into both estimators' ``meta``."""
    records = [*train, *val, *test]
    if not train or not val:
        raise ValueError("train_on_records: needs training and validation records")
    cases = dict(enumerate(records))
    n_tr, n_va = len(train), len(val)
    test_keys = list(range(n_tr + n_va, len(records))) or list(range(n_tr, n_tr + n_va))
    provenance = {
        "training": asdict(config),
        "records": {"train": n_tr, "val": n_va, "test": len(test)},
    } | dict(provenance or {})
    return _fit_networks(
        cases,
        train_keys=list(range(n_tr)),
        val_keys=list(range(n_tr, n_tr + n_va)),
        test_keys=test_keys,
        scaler_keys=list(range(n_tr)),
        config=config,
        dt=float(records[0].times[1] - records[0].times[0]),
        names=tuple(records[0].names),
        provenance=provenance,
    )


def _fit_networks(
    cases: dict,
    *,
    train_keys: list,
    val_keys: list,
    test_keys: list,
    scaler_keys: list,
    config: EstimatorTraining,
    dt: float,
    names: tuple[str, ...],
    provenance: dict,
) -> tuple[NeuralInverse, NeuralInverse, dict[str, Any]]:
    """Teacher, then K distilled students, on the windows of ``cases`` (module docstring)."""
    xs = MinMaxScaler.fit(np.concatenate([features(cases[c]) for c in scaler_keys]))
    ys = MinMaxScaler.fit(np.concatenate([label(cases[c]) for c in scaler_keys]))
    kw = {"x_scaler": xs, "y_scaler": ys, "window": config.window, "padded": True}
    train = window_cases(cases, train_keys, **kw)
    val = window_cases(cases, val_keys, **kw)
    test = window_cases(cases, test_keys, **kw)

    def tc(epochs: int, seed: int) -> TrainConfig:
        return TrainConfig(
            epochs=epochs,
            batch_size=config.batch_size,
            seed=seed,
            learning_rate=config.learning_rate,
            progress=config.progress,
        )

    def score(models: list, data: WindowedSplit) -> list[dict[str, float]]:
        return [
            regression_report(data.y, np.asarray(predict(m, data.x)), y_scaler=ys) for m in models
        ]

    t0 = time.perf_counter()
    t_spec = {
        "filters": list(TEACHER_FILTERS),
        "units": list(TEACHER_UNITS),
        "n_features": N_FEATURES,
    }
    teacher = build_member(t_spec, seed=config.seed)
    t_res = fit(
        teacher,
        (train.x, train.y),
        config=tc(config.teacher_epochs, config.seed),
        val=(val.x, val.y),
    )
    t_teacher = time.perf_counter() - t0
    s_spec = {
        "filters": list(STUDENT_FILTERS),
        "units": list(STUDENT_UNITS),
        "n_features": N_FEATURES,
    }
    students, s_results = [], []
    for k in range(config.n_students):
        seed = config.seed + 1 + k
        student = build_member(s_spec, seed=seed)
        s_results.append(
            distill(
                student,
                teacher,
                (train.x, train.y),
                val=(val.x, val.y),
                config=tc(config.student_epochs, seed),
                kind="regression",
                lam=config.lam,
            )
        )
        students.append(student)
    t_students = time.perf_counter() - t0 - t_teacher
    provenance = provenance | {
        "n_windows": {"train": int(train.y.size), "val": int(val.y.size)},
    }
    report = provenance | {
        "seconds": {"teacher": t_teacher, "students": t_students},
        "seconds_per_epoch": {
            "teacher": float(t_res.seconds_per_epoch),
            "student": float(np.mean([r.seconds_per_epoch for r in s_results])),
        },
        "best_epoch": {"teacher": t_res.best_epoch, "students": [r.best_epoch for r in s_results]},
        "params": {"teacher": count_parameters(teacher), "student": count_parameters(students[0])},
        "test_case": {"teacher": score([teacher], test)[0], "students": score(students, test)},
    }
    t_est = NeuralInverse(
        "teacher",
        [teacher],
        t_spec,
        xs,
        ys,
        config.window,
        dt,
        names,
        meta=provenance | {"test_case": report["test_case"]["teacher"]},
    )
    s_est = NeuralInverse(
        "student",
        students,
        s_spec,
        xs,
        ys,
        config.window,
        dt,
        names,
        meta=provenance | {"test_case": report["test_case"]["students"]},
    )
    return t_est, s_est, report


def weight_differences(
    teacher: NeuralInverse, students: NeuralInverse, directory: Any = None
) -> dict[str, Any]:
    """Largest absolute parameter difference of retrained estimators to saved ones.

    Args:
        teacher, students: the retrained estimators (:func:`train_estimators`).
        directory: folder with ``teacher.npz/.json`` and ``student.npz/.json``; default the
            shipped weights (:data:`.estimator.SHIPPED_DIR`).

    Returns:
        JSON-ready ``{"compared_with": str, "teacher": float | None, "student": float | None,
        "max": float | None, "note": str | None}``: 0.0 means bit-identical weights; None (with
        the reason in ``note``) where there is nothing comparable: files missing or unreadable,
        or weights of another layout (e.g. a ``--quick`` budget with fewer students).
    """
    from .estimator import SHIPPED_DIR

    folder = SHIPPED_DIR if directory is None else directory
    out: dict[str, Any] = {"compared_with": str(folder), "note": None}
    notes = []
    for kind, new in (("teacher", teacher), ("student", students)):
        try:
            diff = max_weight_difference(new, shipped(kind, directory=folder))
        except (OSError, ValueError) as err:
            out[kind] = None
            notes.append(f"{kind}: {err}")
            continue
        if math.isinf(diff):
            out[kind] = None
            notes.append(f"{kind}: another layout (architecture or number of members)")
        else:
            out[kind] = diff
    known = [out[k] for k in ("teacher", "student")]
    out["max"] = None if None in known else max(known)
    out["note"] = "; ".join(notes) or None
    return out


def member_metrics(
    estimator: NeuralInverse, records: Sequence[SensorRecord]
) -> list[list[dict[str, float]]]:
    """Per member, per record: :func:`.metrics.regression_report` of the member's F1 history
    against the record's truth (scaled with the estimator's label scaler, all samples), i.e.
    ``out[k][i]`` for member k on record i. What ``tests/ihcp/test_ihcp_shipped.py`` recomputes
    on the committed check records of the shipped weights."""
    ys = estimator.y_scaler
    out: list[list[dict[str, float]]] = [[] for _ in estimator.members]
    for rec in records:
        if rec.truth is None:
            raise ValueError(f"member_metrics: record {rec.meta} has no truth")
        measured = rec.values[:, rec.columns(list(estimator.sensor_names))]
        rows = estimator.predict_members(rec.times, measured, rec.params)
        for k, row in enumerate(rows):
            got = regression_report(ys.transform(rec.truth), ys.transform(row), y_scaler=ys)
            out[k].append(got)
    return out

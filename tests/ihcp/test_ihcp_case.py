"""End-to-end check of ``cases.ihcp_surrogates`` on a tiny synthetic data set (no FEM needed).

The data set is :mod:`surrogates.ihcp.synthetic` (27 cases with a known causal sensor model)
saved in the :mod:`thermo.inverse.dataset` layout, so the case script runs its full pipeline (all
models, both KD losses, a one-size sweep, the noise study) in 1 epoch on a few windows.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from cases.ihcp_surrogates import main
from surrogates.ihcp.synthetic import synthetic_cases
from thermo.inverse.dataset import IHCPDataset


def _save_synthetic(folder, *, seed: int = 0, n_steps: int = 30) -> None:
    cases = synthetic_cases(seed=seed, n_steps=n_steps)
    ids = np.array(sorted(cases))
    clean = np.stack([cases[c].values for c in ids])
    sigmas = np.array([0.0, 5.0])
    rng = np.random.default_rng(seed)
    noisy = np.stack([clean + rng.normal(0.0, s, clean.shape) for s in sigmas])
    IHCPDataset(
        cases=ids,
        params=np.stack([cases[c].param_vector() for c in ids]),
        times=cases[1].times,
        f1=np.stack([cases[c].truth for c in ids]),
        clean=clean,
        sigmas=sigmas,
        noisy=noisy,
        sensor_names=("S1", "S2", "S3", "S4"),
        kind="temperature",
    ).save(folder / "ihcp_dataset")


def test_missing_dataset_fails_cleanly(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(FileNotFoundError, match="ihcp_dataset.npz"):
        main(["--dataset", str(tmp_path / "nowhere"), "--out", str(out), "--epochs", "1"])
    assert list(tmp_path.iterdir()) == []  # no half-written output folder left behind


def test_bad_options_exit_code(tmp_path, capsys):
    from cases.exits import run_main

    assert (
        run_main(main, "cases.ihcp_surrogates", ["--window", "1", "--out", str(tmp_path / "o")])
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert err.startswith("cases.ihcp_surrogates: error: ") and "\n" not in err
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_tiny_run_writes_everything(tmp_path):
    ds_dir, out = tmp_path / "ds", tmp_path / "out"
    _save_synthetic(ds_dir)
    argv = ["--dataset", str(ds_dir), "--out", str(out), "--epochs", "1", "--seed", "3"]
    assert main(argv + ["--window", "8", "--stride", "8", "--fractions", "0.2"]) == 0
    expected = [
        "metrics.json", "report.md", "sweep.csv", "fit.png", "loss_curves.png",
        "fig7ab_sweep.png", "fig7c_comparison.png", "noise_fit_sigma0.png", "noise_fit_sigma5.png",
        "table2_models.csv", "table3_metrics.csv", "table4_student.csv", "table5_noise.csv",
        "checkpoints/teacher/meta.json", "checkpoints/student_kd/meta.json",
    ]  # fmt: skip
    for name in expected:
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    for model in ("cnn", "gru", "lstm", "teacher", "student", "student_kd"):
        m = metrics["models"][model]
        for key in ("r2", "mse_c2", "seconds_per_epoch", "latency_s"):
            assert math.isfinite(m[key]), (model, key)
        assert m["params"] > 0 and m["mse_c2"] >= 0
    assert metrics["models"]["teacher"]["params"] > metrics["models"]["student"]["params"]
    assert {r["kd"] for r in metrics["sweep"]} == {False, True}
    assert {(r["sigma_k"], r["method"]) for r in metrics["noise"]} == {
        (s, m) for s in (0.0, 5.0) for m in ("student", "teacher", "student_kd")
    }
    assert metrics["split"]["test"] == [24] and metrics["config"]["classical"] is False
    report = (out / "report.md").read_text()
    assert "Table 5" in report and "table3_metrics.csv" in report
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]

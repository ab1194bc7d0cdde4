"""The case script: --help is fast, user errors exit 2 with one line, --features runs on a
three-tool table, the quick virtual run (slow) writes every promised file."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cases.exits import run_main
from cases.tool_wear import main

ROOT = Path(__file__).resolve().parents[2]


def _run(*argv):
    return subprocess.run(
        [sys.executable, "-m", "cases.tool_wear", *argv], cwd=ROOT, capture_output=True, text=True
    )


def test_help_lists_options():
    proc = _run("--help")
    assert proc.returncode == 0
    for option in ("--out", "--seed", "--quick", "--data", "--features", "--target", "--group"):
        assert option in proc.stdout


def test_missing_data_exits_2_with_one_line(tmp_path):
    proc = _run("--data", str(tmp_path / "MISSING.csv"), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cases.tool_wear: error:")
    assert "MISSING.csv" in lines[0] and "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()


def _fixture(path: Path, seed: int = 0) -> Path:
    """Three tools, 24 cuts each: VB from a three-stage-like curve with a per-tool rate; two
    informative features (noisy functions of VB with a per-tool offset) and two noise columns."""
    rng = np.random.default_rng(seed)
    rows = []
    for tool in ("T1", "T2", "T3"):
        rate, offset = np.exp(0.1 * rng.normal()), rng.normal(0.0, 2.0)
        for cut in range(1, 25):
            vb = 60 * (1 - np.exp(-cut / 4)) + 3.0 * cut * rate + rng.normal(0, 2)
            rows.append(
                {
                    "tool": tool,
                    "cut": cut,
                    "VB (um)": vb,
                    "force rms": 0.5 * vb + offset + rng.normal(0, 2),
                    "spec_peak": np.sqrt(vb) + rng.normal(0, 0.2),
                    "noise_a": rng.normal(),
                    "noise_b": rng.normal(),
                }
            )
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_features_table_with_three_groups(tmp_path):
    csv = _fixture(tmp_path / "features.csv")
    out = tmp_path / "tw"
    argv = ["--features", str(csv), "--target", "VB (um)", "--group", "tool", "--usage", "cut"]
    assert run_main(main, "cases.tool_wear", [*argv, "--quick", "--out", str(out)]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["protocol"] == "leave-one-group-out" and m["unit"].startswith("µm")
    models = m["models"]
    expected = {"ridge", "sgd", "kernel_svr", "kernel_ridge", "gaussian_process", "knn", "mlp"}
    assert expected | {"voting", "baseline_mean", "baseline_usage"} <= set(models)
    for s in models.values():
        assert {"rmse", "mae", "r2"} <= set(s) and set(s["folds"]) == {"T1", "T2", "T3"}
        assert s["rmse"] == pytest.approx(np.mean(list(s["folds"].values())))
    random = m["protocols"]["random-80-20"]["models"]
    assert "folds" not in random["voting"] and {"rmse", "mae", "r2"} <= set(random["voting"])
    # the informative features carry the wear: voting is far better than the training mean
    assert models["voting"]["rmse"] < 0.5 * models["baseline_mean"]["rmse"]
    assert isinstance(m["voting_beats_every_single_model"], bool)
    for f in ("report.md", "table_leave-one-group-out.csv", "table_random-80-20.csv"):
        assert (out / f).is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tw.")]  # nothing staged left


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"cut": (5, np.nan)}, "column 'cut' must hold finite numbers; row 5"),
        ({"cut": (5, 1)}, "column 'cut' (time in use) must increase strictly"),
        ({"force rms": (2, np.inf)}, "column 'force rms' must hold finite numbers; row 2"),
    ],
)
def test_bad_feature_table_exits_2_with_one_line(tmp_path, capsys, change, message):
    csv = _fixture(tmp_path / "f.csv")
    table = pd.read_csv(csv)
    for col, (row, value) in change.items():
        table.loc[row, col] = value
    table.to_csv(csv, index=False)
    argv = ["--features", str(csv), "--target", "VB (um)", "--group", "tool", "--usage", "cut"]
    assert run_main(main, "cases.tool_wear", [*argv, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "f.csv" in err[0] and message in err[0]
    assert not (tmp_path / "o").exists()


def test_output_path_that_is_a_file_exits_2(tmp_path, capsys):
    target = tmp_path / "results.txt"
    target.write_text("keep me")
    csv = _fixture(tmp_path / "f.csv")
    argv = ["--features", str(csv), "--target", "VB (um)", "--out", str(target)]
    assert run_main(main, "cases.tool_wear", argv) == 2
    assert "is a file" in capsys.readouterr().err and target.read_text() == "keep me"


@pytest.mark.slow
def test_quick_run_writes_outputs(tmp_path):
    out = tmp_path / "tw"
    subprocess.run(
        [sys.executable, "-m", "cases.tool_wear", "--quick", "--out", str(out)],
        cwd=ROOT,
        check=True,
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["protocol"] == "leave-one-group-out"
    for proto in ("leave-one-group-out", "random-80-20"):
        models = metrics["protocols"][proto]["models"]
        for name in ("ridge", "mlp", "voting", "baseline_mean", "baseline_usage"):
            assert set(models[name]) >= {"r2", "rmse", "mse", "mae"}
    random = metrics["protocols"]["random-80-20"]["models"]
    assert random["voting"]["r2"] > 0.8
    assert random["voting"]["rmse"] < 0.5 * random["baseline_mean"]["rmse"]
    for f in (
        "report.md",
        "table7_models.csv",
        "table8_voting.csv",
        "taguchi_anova.csv",
        "wear_curve.png",
        "pred_vs_true.png",
        "residuals.png",
        "feature_importance.png",
    ):
        assert (out / f).is_file()

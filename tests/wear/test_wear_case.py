"""The case script: --help is fast; the quick run (slow) writes every promised file."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_help_lists_options():
    out = subprocess.run(
        [sys.executable, "-m", "cases.tool_wear", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for option in ("--out", "--seed", "--quick", "--data"):
        assert option in out


@pytest.mark.slow
def test_quick_run_writes_outputs(tmp_path):
    out = tmp_path / "tw"
    subprocess.run(
        [sys.executable, "-m", "cases.tool_wear", "--quick", "--out", str(out)],
        cwd=ROOT,
        check=True,
    )
    metrics = json.loads((out / "metrics.json").read_text())
    for name in ("ridge", "mlp", "voting"):
        assert set(metrics["models"][name]) >= {"r2", "rmse", "mse", "mae"}
    assert metrics["voting"]["r2"] > 0.8
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

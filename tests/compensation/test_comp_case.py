"""The case script: a tiny end-to-end run writes its files and metrics; bad input is refused."""

import json

import pytest


@pytest.mark.slow
def test_case_script_tiny_run(tmp_path):
    from cases.thermal_compensation import main

    out = tmp_path / "tc"
    argv = ["--out", str(out), "--quick", "--screen", "paper", "--repeats", "2", "--epochs", "1",
            "--sampling", "600"]  # fmt: skip
    assert main(argv) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["pretrained_params"] == 415
    assert set(m["pretrained_rmse_um"]) == {f"H{i}'" for i in range(1, 17)}
    assert set(m["anova"]) == {"A", "B", "C", "A:B", "A:C", "B:C", "A:B:C", "Residual"}
    for row in m["anova"].values():
        assert {"sum_sq", "df", "F", "p"} <= set(row)
    assert m["anova"]["Residual"]["df"] == m["factorial_trainings"] - 4 * 8 * 9
    transfer = [r for r in m["recommended"] if r["A"] != "-"]
    assert transfer and all(r["B"].startswith("B") and r["C"].startswith("C") for r in transfer)
    assert all(r["mean_rmse_um"] > 0 and r["training_seconds"] > 0 for r in transfer)
    for name in ("report.md", "fig10_main_effects.png", "table7_anova.csv", "data_aged.csv"):
        assert (out / name).is_file()

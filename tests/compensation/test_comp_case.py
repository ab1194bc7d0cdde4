"""A tiny end-to-end run of the case script writes its files (slow: several compilations)."""

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
    assert set(m["anova"]) == {"A", "B", "C", "A:B", "A:C", "B:C", "A:B:C", "Residual"}
    for name in ("report.md", "fig10_main_effects.png", "table7_anova.csv", "data_aged.csv"):
        assert (out / name).is_file()

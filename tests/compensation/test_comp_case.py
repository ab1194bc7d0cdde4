"""The case script: a tiny end-to-end run writes its files and metrics; bad input is refused."""

import json

import pytest


@pytest.mark.slow
def test_case_script_tiny_run(tmp_path):
    from cases.thermal_compensation import main

    out = tmp_path / "tc"
    argv = ["--out", str(out), "--quick", "--screen", "paper", "--repeats", "2", "--epochs", "1",
            "--sampling", "1800", "--fresh", "1"]  # fmt: skip
    assert main(argv) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["pretrained_params"] == 415
    assert set(m["pretrained_rmse_um"]) == {f"H{i}'" for i in range(1, 17)}
    assert set(m["anova"]) == {"A", "B", "C", "A:B", "A:C", "B:C", "A:B:C", "Residual"}
    for row in m["anova"].values():
        assert {"sum_sq", "df", "F", "p"} <= set(row)
    assert m["anova"]["Residual"]["df"] == m["factorial_trainings"] - 4 * 8 * 9
    assert m["score_conditions"] == ["H9", "H11", "H14", "H16"] and m["fresh_conditions"] == ["F1"]
    assert m["factor_A_levels"]["A2"] == "II:lstm"  # the paper's Table 2 order
    transfer = [r for r in m["recommended"] if r["A"] != "-"]
    assert transfer and all(r["B"].startswith("B") and r["C"].startswith("C") for r in transfer)
    assert all(r["rmse_test_um"] > 0 and r["rmse_fresh_um"] > 0 for r in transfer)
    sources = {r["source"] for r in m["recommended"]}
    assert {"no compensation", "direct test of pretrained model", "ridge regression on C9",
            "retrain from scratch on C9"} <= sources  # fmt: skip
    assert m["paper_table5_eq5_um"] == pytest.approx(2.30, abs=0.005)
    assert m["paper_table5_plain_mean_um"] == pytest.approx(1.82, abs=0.005)
    for name in ("report.md", "fig10_main_effects.png", "table7_anova_steps.csv", "data_aged.csv",
                 "table10_baselines.csv", "selected_inputs.csv"):  # fmt: skip
        assert (out / name).is_file()


def test_linear_vs_lstm_tiny_run(tmp_path):
    """The --linear-vs-lstm mode writes one row per machine and model (tiny budget: the
    numbers are not the point here; the measured ones are in the README)."""
    from cases.thermal_compensation import main

    out = tmp_path / "lvl"
    argv = ["--out", str(out), "--linear-vs-lstm", "--sampling", "1800", "--epochs", "1",
            "--repeats", "1", "--fresh", "1", "--window", "4", "--stride", "1"]  # fmt: skip
    assert main(argv) == 0
    m = json.loads((out / "metrics.json").read_text())
    rows = {(r["machine"], r["model"]): r for r in m["rows"]}
    models = {"none", "ridge", "ridge_window", "lstm_static", "lstm_window"}
    assert set(rows) == {(a, b) for a in ("lumped", "dynamic") for b in models}
    for r in rows.values():
        assert r["rmse_H20_um"] > 0 and r["rmse_fresh_um"] > 0 and r["noise_floor_um"] > 1.0
    for machine in ("lumped", "dynamic"):  # ridge on the sensors beats no compensation
        assert (
            rows[(machine, "ridge")]["rmse_H20_um"] < 0.5 * rows[(machine, "none")]["rmse_H20_um"]
        )

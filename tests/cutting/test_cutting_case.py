"""Smoke test of ``python -m cases.cutting_conditions``: outputs, metrics keys, user errors."""

import json

import pytest

from cases.cutting_conditions import main
from cases.exits import run_main


@pytest.mark.slow
def test_case_writes_tables_figures_metrics(tmp_path):
    out = tmp_path / "cut"
    argv = ["--quick", "--epochs", "5", "--search-epochs", "3", "--max-configs", "1"]
    assert main([*argv, "--out", str(out), "--seed", "1"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["headline_split"] == "test"
    for key in ("mad_vc", "gf_vc", "mad_vf", "gf_vf", "gf_vc_unrounded", "gf_vf_unrounded"):
        assert key in metrics and key in metrics["test"]
        for variant in ("paper_momentum", "shortcut_adam_l1"):
            assert key in metrics["networks"][variant]["validation"]
        for baseline in ("log_linear", "nearest_row", "exact_formula_ceiling"):
            assert key in metrics["baselines"][baseline]["test"]
    assert isinstance(metrics["goal_networks_test_gf_at_least_log_linear"]["met"], bool)
    names = {p.name for p in out.iterdir()}
    expected = {"report.md", "fig3_vc.png", "fig4_convergence.png", "fig5_vf.png"}
    expected |= {"table2_search_vf.csv", "table4_operation.csv", "table6_hardness.csv"}
    expected |= {"comparison_test.csv"}
    assert expected <= names
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".cut.")]  # no temp left


def test_bad_options_and_output_file_exit_2(tmp_path, capsys):
    target = tmp_path / "file.txt"
    target.write_text("keep")
    assert run_main(main, "cases.cutting_conditions", ["--out", str(target)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("cases.cutting_conditions: error:")
    assert "is a file" in err[0] and target.read_text() == "keep"
    with pytest.raises(SystemExit) as exc:
        main(["--epochs", "0", "--out", str(tmp_path / "o")])
    assert exc.value.code == 2

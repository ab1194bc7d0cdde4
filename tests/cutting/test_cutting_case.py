"""Smoke test of ``python -m cases.cutting_conditions``: outputs and metrics keys."""

import json

import pytest

from cases.cutting_conditions import main


@pytest.mark.slow
def test_case_writes_tables_figures_metrics(tmp_path):
    out = tmp_path / "cut"
    argv = ["--quick", "--epochs", "5", "--search-epochs", "3", "--max-configs", "1"]
    assert main([*argv, "--out", str(out), "--seed", "1"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("mad_vc", "gf_vc", "mad_vf", "gf_vf"):
        assert key in metrics and key in metrics["test"]
        assert key in metrics["optimizers"]["adam"]["validation"]
    names = {p.name for p in out.iterdir()}
    expected = {"report.md", "fig3_vc.png", "fig4_convergence.png", "fig5_vf.png"}
    expected |= {"table2_search_vf.csv", "table4_operation.csv", "table6_hardness.csv"}
    assert expected <= names
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".cut.")]  # no temp left

"""benchmarks/training.py (issue 4) and its standalone PyTorch-eager reference.

CI has no torch: the main test runs the benchmark with the PyTorch side unavailable and checks
that the side-by-side table is printed with the PyTorch row skipped and a hint on how to get it.
The architecture test of ``torch_reference.py`` runs only where torch is importable.
"""

import ast
import os
from pathlib import Path

import pytest

from benchmarks import training

TORCH_SCRIPT = Path(training.__file__).with_name("torch_reference.py")


def test_torch_reference_imports_nothing_from_millheat() -> None:
    tree = ast.parse(TORCH_SCRIPT.read_text())
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots.add((node.module or "").split(".")[0])
    assert roots <= {"__future__", "argparse", "json", "os", "statistics", "sys", "time", "torch"}


def test_side_by_side_table_speedup_and_parameter_check() -> None:
    jax_rows = [{"model": "teacher", "params": 138_335, "step_ms": 10.0}]
    torch_res = {"rows": [{"model": "teacher", "params": 138_335, "step_ms": 25.0}]}
    (row,) = training.comparison_table(jax_rows, torch_res)
    assert row["speedup"] == pytest.approx(2.5)
    text = training.format_table([row], threads=2, torch_note="x")
    assert "| teacher | 138335 / 138335 | 10.00 | 25.00 | 2.50x |" in text
    (skipped,) = training.comparison_table(jax_rows, None)
    assert skipped["torch_step_ms"] is None and skipped["speedup"] is None
    bad = {"rows": [{"model": "teacher", "params": 1, "step_ms": 25.0}]}
    with pytest.raises(AssertionError, match="parameters"):
        training.comparison_table(jax_rows, bad)


def test_student_reduction_is_relative_epoch_time() -> None:
    rows = [
        {"device": "cpu", "model": "teacher", "seconds_per_epoch": 2.0},
        {"device": "cpu", "model": "student", "seconds_per_epoch": 0.5},
    ]
    assert training.student_reduction(rows) == {"cpu": pytest.approx(0.75)}


def test_missing_torch_python_is_refused() -> None:
    with pytest.raises(FileNotFoundError, match="torch-python"):
        training.resolve_torch_python("/nonexistent/python")


def test_quick_run_prints_table_with_pytorch_row_skipped(monkeypatch, capsys) -> None:
    monkeypatch.setattr(training, "_torch_in_this_interpreter", lambda: False)
    argv = ["--quick", "--models", "student", "--n-train", "100", "--epochs", "2"]
    result = training.main([*argv, "--steps", "3", "--warmup", "1", "--run-windows", "1"])
    out = capsys.readouterr().out
    assert "PyTorch row skipped" in out and "--torch-python" in out
    assert "| model | params JAX / PyTorch | JAX step ms | PyTorch eager step ms |" in out
    assert "| student | 69183 / skipped |" in out
    (step,) = result["jax_steps"]
    assert step["step_ms"] > 0 and result["torch"] is None
    cpu = next(r for r in result["rows"] if r["device"] == "cpu")
    assert cpu["params"] == 69_183 and cpu["seconds_per_epoch"] > 0


def test_torch_reference_matches_jax_parameter_counts() -> None:
    pytest.importorskip("torch")
    from benchmarks import torch_reference as ref
    from surrogates.ihcp.models import make_model
    from surrogates.training import count_parameters

    for name in ("teacher", "student"):
        model = ref.build_model(name)
        assert ref.count_parameters(model) == count_parameters(make_model(name, seed=0))
    out = ref.main(["--threads", "1", "--steps", "2", "--warmup", "1", "--run-windows", "4"])
    assert [r["model"] for r in out["rows"]] == ["teacher", "student"]
    assert all(r["step_ms"] > 0 for r in out["rows"])


def test_pytorch_threads_follow_jax_cpu_threads(monkeypatch) -> None:
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")
    assert training.jax_cpu_threads() == 1
    monkeypatch.delenv("XLA_FLAGS")
    assert training.jax_cpu_threads() == len(os.sched_getaffinity(0))

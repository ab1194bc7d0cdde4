"""benchmarks/training.py (issues 4, 18) and its standalone PyTorch reference (eager and
``torch.compile``).

CI has no torch: the main test runs the benchmark with the PyTorch side unavailable and checks
that the side-by-side table is printed with the PyTorch rows skipped and a hint on how to get it.
The JAX -> PyTorch weight mapping is checked without torch against a NumPy forward written from
PyTorch's documented Conv1d/GRU formulas. The tests that run torch itself run only where torch is
importable, or, through a subprocess, where ``MILLHEAT_TORCH_PYTHON`` names a Python with torch
(e.g. ``MILLHEAT_TORCH_PYTHON=/tmp/torchvenv/bin/python``).
"""

import ast
import os
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from benchmarks import training
from surrogates.ihcp.models import make_model

TORCH_SCRIPT = Path(training.__file__).with_name("torch_reference.py")


def test_torch_reference_imports_nothing_from_millheat() -> None:
    tree = ast.parse(TORCH_SCRIPT.read_text())
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots.add((node.module or "").split(".")[0])
    stdlib = {"__future__", "argparse", "json", "os", "shutil", "statistics", "sys", "tempfile"}
    assert roots <= stdlib | {"time", "torch"}


def test_side_by_side_table_speedup_and_parameter_check() -> None:
    jax_rows = [{"model": "teacher", "params": 138_335, "step_ms": 10.0, "first_step_s": 2.0}]
    torch_res = {
        "torch": "2.x",
        "modes": ["eager", "compile"],
        "rows": [
            {"model": "teacher", "mode": "eager", "params": 138_335, "step_ms": 25.0,
             "first_step_s": 0.05, "y_init": [0.5, -0.25]},
            {"model": "teacher", "mode": "compile", "params": 138_335, "step_ms": 12.0,
             "first_step_s": 30.0, "y_init": [0.5, -0.25]},
        ],
    }  # fmt: skip
    outputs = {"teacher": np.array([0.5, -0.25 + 1e-6])}
    jax_row, eager, compiled = training.comparison_table(jax_rows, torch_res, outputs)
    assert jax_row["mode"] == "jit" and jax_row["speedup"] == 1.0
    assert eager["speedup"] == pytest.approx(2.5) and compiled["speedup"] == pytest.approx(1.2)
    assert eager["forward_max_abs"] == pytest.approx(1e-6, rel=1e-3)
    assert training.best_compile_speedup([jax_row, eager, compiled]) == pytest.approx(1.2)
    text = training.format_table([jax_row, eager, compiled], title="x")
    assert "| teacher | torch 2.x | eager | 138335 | 0.05 | 25.00 | 2.50x |" in text
    assert "| teacher | torch 2.x | compile | 138335 | 30.00 | 12.00 | 1.20x |" in text
    _, skipped = training.comparison_table(jax_rows, None)
    assert skipped["step_ms"] is None and skipped["speedup"] is None
    assert training.best_compile_speedup([jax_row, skipped]) is None
    bad = {"torch": "2.x", "modes": ["eager"], "rows": [{**torch_res["rows"][0], "params": 1}]}
    with pytest.raises(AssertionError, match="parameters"):
        training.comparison_table(jax_rows, bad)
    off = {"teacher": np.array([0.5, -0.2])}  # a forward 0.05 away: another function
    with pytest.raises(AssertionError, match="forward differs"):
        training.comparison_table(jax_rows, torch_res, off)


def _torch_forward_numpy(state: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """PyTorch's documented Conv1d (cross-correlation, weight (out, in, k)) + ReLU, GRU
    (gates r, z, n; n = tanh(W_in x + b_in + r (W_hn h + b_hn)); h' = (1 - z) n + z h) and
    Linear, in float64: the function ``torch_reference.ConvGRU`` computes."""
    h = x.astype(np.float64).transpose(0, 2, 1)  # (B, C, L)
    i = 0
    while f"convs.{i}.weight" in state:
        w, b = state[f"convs.{i}.weight"], state[f"convs.{i}.bias"]
        n = h.shape[2] - w.shape[2] + 1
        cols = [np.einsum("bcj,ocj->bo", h[:, :, t : t + w.shape[2]], w) for t in range(n)]
        h = np.maximum(0.0, np.stack(cols, -1) + b[None, :, None])
        i += 1
    seq, layer = h.transpose(0, 2, 1), 0
    while f"gru.weight_ih_l{layer}" in state:
        w_i, w_h = state[f"gru.weight_ih_l{layer}"], state[f"gru.weight_hh_l{layer}"]
        b_i, b_h = state[f"gru.bias_ih_l{layer}"], state[f"gru.bias_hh_l{layer}"]
        u = w_h.shape[1]
        hid, out = np.zeros((seq.shape[0], u)), []
        for t in range(seq.shape[1]):
            gi, gh = seq[:, t] @ w_i.T + b_i, hid @ w_h.T + b_h
            r = 1.0 / (1.0 + np.exp(-(gi[:, :u] + gh[:, :u])))
            z = 1.0 / (1.0 + np.exp(-(gi[:, u : 2 * u] + gh[:, u : 2 * u])))
            hid = (1 - z) * np.tanh(gi[:, 2 * u :] + r * gh[:, 2 * u :]) + z * hid
            out.append(hid)
        seq, layer = np.stack(out, 1), layer + 1
    return (seq[:, -1] @ state["head.weight"].T + state["head.bias"])[:, 0]


@pytest.mark.parametrize("name", ["teacher", "student"])
def test_jax_weights_map_to_pytorch_layout_and_give_the_same_forward(name: str) -> None:
    model = make_model(name, seed=0)
    # every weight random, biases too (zero biases would hide a swapped gate order)
    state = nnx.state(model, nnx.Param)
    leaves, treedef = jax.tree_util.tree_flatten(state)
    keys = jax.random.split(jax.random.key(3), len(leaves))
    leaves = [
        0.3 * jax.random.normal(k, v.shape, v.dtype) for k, v in zip(keys, leaves, strict=True)
    ]
    nnx.update(model, jax.tree_util.tree_unflatten(treedef, leaves))
    torch_state = training.torch_state_from_jax(model)
    assert sum(v.size for v in torch_state.values()) == training.count_parameters(model)
    if name == "teacher":
        assert torch_state["convs.1.weight"].shape == (164, 132, 4)
        assert torch_state["gru.weight_ih_l1"].shape == (150, 50)
    x, _ = training.step_batch(batch=6, window=20, seed=1)
    ref = _torch_forward_numpy(torch_state, x)
    got = np.asarray(model(jnp.asarray(x)), np.float64)
    assert np.std(ref) > 0.05  # a forward with signal, so a wrong layout would show
    np.testing.assert_allclose(got, ref, atol=1e-4)
    payload, outputs = training.torch_inputs([name], batch=6, window=20, seed=1)
    assert payload["x_shape"] == [6, 20, 7] and len(payload["x"]) == 6 * 20 * 7
    assert set(payload["models"][name]) == set(torch_state) and outputs[name].shape == (6,)


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
    assert "| model | framework | mode | params | first step s (compile) | step ms |" in out
    assert "| student | torch | eager | skipped |" in out
    assert "| student | torch | compile | skipped |" in out  # --quick: eager and compile
    (step,) = result["jax_steps"]
    assert step["step_ms"] > 0 and step["first_step_s"] > 0 and result["torch"] is None
    cpu = next(r for r in result["rows"] if r["device"] == "cpu")
    assert cpu["params"] == 69_183 and cpu["seconds_per_epoch"] > 0


def _torch_python() -> str:
    python = os.environ.get("MILLHEAT_TORCH_PYTHON")
    if not python:
        pytest.skip("MILLHEAT_TORCH_PYTHON (a Python with torch) not set")
    return python


def test_pytorch_eager_and_compile_beside_jax_on_the_same_weights(capsys) -> None:
    python = _torch_python()
    argv = ["--steps-only", "--models", "student", "--torch-python", python, "--threads", "1"]
    argv += ["--torch-modes", "eager", "compile", "--steps", "2", "--warmup", "1"]
    result = training.main([*argv, "--run-windows", "2"])
    jax_row, eager, compiled = result["side_by_side"]
    assert [r["mode"] for r in (jax_row, eager, compiled)] == ["jit", "eager", "compile"]
    for row in (eager, compiled):  # same parameters, same function on JAX's weights and batch
        assert row["params"] == 69_183 and row["step_ms"] > 0
        assert row["forward_max_abs"] < training.FORWARD_ATOL
    rows = {r["mode"]: r for r in result["torch"]["rows"]}
    assert rows["compile"]["graphs"] >= 1 and result["torch"]["threads"] == 1
    assert rows["compile"]["compiled_vs_eager_max_abs"] < training.FORWARD_ATOL
    assert "| student | torch " in capsys.readouterr().out


def test_torch_reference_matches_jax_parameter_counts() -> None:
    pytest.importorskip("torch")
    from benchmarks import torch_reference as ref
    from surrogates.ihcp.models import make_model
    from surrogates.training import count_parameters

    for name in ("teacher", "student"):
        model = ref.build_model(name)
        assert ref.count_parameters(model) == count_parameters(make_model(name, seed=0))
    out = ref.main(["--threads", "1", "--steps", "2", "--warmup", "1", "--run-windows", "4"])
    assert [(r["model"], r["mode"]) for r in out["rows"]] == [
        ("teacher", "eager"),
        ("student", "eager"),
    ]
    assert all(r["step_ms"] > 0 for r in out["rows"])


def test_pytorch_threads_follow_jax_cpu_threads(monkeypatch) -> None:
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")
    assert training.jax_cpu_threads() == 1
    monkeypatch.delenv("XLA_FLAGS")
    assert training.jax_cpu_threads() == len(os.sched_getaffinity(0))

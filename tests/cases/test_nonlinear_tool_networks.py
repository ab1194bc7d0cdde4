"""``cases.nonlinear_tool``: networks trained on records of the nonlinear model, beside the
constant-property Tikhonov, Gauss–Newton and the shipped networks (issue 15)."""

import json

import numpy as np
import pytest


@pytest.fixture(scope="module")
def coarse_forward():
    import dolfinx_solver  # noqa: F401
    from mpi4py import MPI

    from cases.recon_nonlinear import NonlinearForward
    from meshes.tool import ToolGeometry, tool_mesh

    geometry = ToolGeometry(size_factor=2.0)
    return geometry, NonlinearForward(tool_mesh(geometry, MPI.COMM_SELF), 0.2)


def test_training_records_are_cached_and_held_out(tmp_path, coarse_forward):
    """The training runs avoid the held-out conditions, carry the sensor model's noise and are
    read back from the cache on a rerun (no FEM run)."""
    from cases.nonlinear_tool import training_records
    from thermo.inverse.virtual_lab import HOLDOUT_CASES

    geometry, fwd = coarse_forward
    kw = {"n_runs": 3, "sigma": 5.0, "seed": 0, "geometry": geometry, "cache": tmp_path}
    first, info = training_records(fwd, progress=False, **kw)
    runs = fwd.runs
    again, info2 = training_records(fwd, progress=False, **kw)
    assert fwd.runs == runs and info2["runs_from_cache"] == 3 and info["runs_from_cache"] == 0
    assert len(first) == 6 and info["records"] == 6  # a σ = 0 and a σ = 5 K record per run
    assert not set(info["cases"]) & set(HOLDOUT_CASES) and len(set(info["cases"])) == 3
    for a, b in zip(first, again, strict=True):
        assert np.allclose(a.values, b.values, atol=1e-9) and a.meta == b.meta
    noisy = [r for r in first if r.meta["sigma_K"] > 0]
    clean = [r for r in first if r.meta["sigma_K"] == 0]
    for r in clean:
        assert np.allclose(r.values, r.clean, atol=1e-9)
    for r in noisy:  # white noise 5 K + 0.5 K drift + 0.1 K quantisation
        assert 4.0 < np.std(r.values - r.clean) < 6.5
        assert r.truth.max() > r.truth[0] + 100.0  # a cut that heats F1


@pytest.mark.slow
def test_tool_comparison_with_trained_networks(tmp_path):
    """``--quick`` with networks: the trained teacher and KD students are scored in the same
    table and their weights are written (2 epochs: a smoke test of the pipeline, not of skill)."""
    from cases.nonlinear_tool import main
    from surrogates.ihcp.estimator import NeuralInverse

    out = tmp_path / "tool"
    argv = ["--quick", "--out", str(out), "--cache", str(tmp_path / "cache")]
    assert main([*argv, "--train-records", "4", "--train-dt", "0.4", "--epochs", "1"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    labels = list(m["methods"])
    assert labels[:2] == ["tikhonov (constant properties at T0)", "gauss-newton (nonlinear)"]
    trained = [k for k in labels if "trained on nonlinear records" in k]
    shipped = [k for k in labels if "shipped" in k]
    assert len(trained) == 2 and len(shipped) == 2
    for k in trained + shipped:
        row = m["methods"][k]
        assert np.isfinite(row["boundary_rmse_K"]) and len(row["field_max_error_K"]) == 3
    net = m["networks"]
    assert net["training_data"]["runs"] == 4 and net["training_data"]["records"] == 8
    assert net["training"]["records"]["train"] + net["training"]["records"]["val"] == 8
    assert net["model"]["size_factor"] != m["data_model"]["size_factor"]  # no inverse crime
    assert net["model"]["dt"] == pytest.approx(0.4)  # the coarser training step
    students = NeuralInverse.load(out / "weights" / "student")
    assert len(students.members) == 2
    assert "trained on nonlinear records" in (out / "report.md").read_text()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--train-records", "1"], "--train-records"),
        (["--train-dt", "0.05"], "--train-dt"),
        (["--epochs", "0"], "--epochs"),
    ],
)
def test_bad_network_options(tmp_path, extra, message):
    from cases.nonlinear_tool import main

    with pytest.raises(ValueError, match=message):
        main(["--quick", "--out", str(tmp_path / "o"), *extra])

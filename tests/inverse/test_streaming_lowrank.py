"""Streamed low-rank field response (thermo.inverse.streaming_lowrank) against the full matrix.

* The stored ``max_error`` bounds the true max |S − AB| (computed here from the full S) and
  stays within ``tol``; Duhamel sums stay within ``CompressedStep.error_bound``.
* The rank stays close to the exact path's (:func:`thermo.inverse.lowrank.compress_step`).
* FEM agreement on a small box: ``field_compression="streaming"`` vs ``"exact"`` at 4/8/12 s,
  with and without a non-homogeneous baseline, and a save/load round trip.
* Under ``mpirun -n 2`` the factorisation and the FEM fields equal the serial ones to 1e-8
  relative with B in float64 (script ``mpi_streaming_lowrank.py``); with float32 B the product
  runs in float32 and the agreement is to float32 rounding (checked at 1e-6).
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from thermo.inverse.duhamel import index_of_times, superpose_at
from thermo.inverse.lowrank import compress_step
from thermo.inverse.streaming_lowrank import StreamingCompressor, compress_streaming

SCRIPT = Path(__file__).with_name("mpi_streaming_lowrank.py")
ROOT = Path(__file__).resolve().parents[2]


def diffusive_step(n_t: int = 241, n: int = 4000, *, flux: bool = False) -> np.ndarray:
    """Step response of 1D diffusion on [0, 1] from a series of modes: values up to 1 at the
    heated end (temperature input) or growing linearly plus modes (flux input)."""
    t = 0.05 * np.arange(n_t)
    x = np.linspace(0.0, 1.0, n)
    S = np.zeros((n_t, n))
    for m in range(1, 80):
        lam = (m * np.pi) ** 2 * 0.02
        shape = 2.0 / (m * np.pi) * np.sin(m * np.pi * x) * (-1) ** (m + 1)
        S += np.outer(1.0 - np.exp(-lam * t), shape)
    if flux:
        S = S + np.outer(t, 1.0 - x) * 0.3
    S[0] = 0.0
    return S


def _history(t: np.ndarray) -> np.ndarray:
    return 500.0 * np.clip(t / 1.0, 0.0, 1.0) + 40.0 * np.sin(1.3 * t)


@pytest.mark.parametrize(
    ("flux", "dtype"), [(False, np.float32), (True, np.float32), (False, np.float64)]
)
def test_stream_bound_holds_and_rank_near_exact(flux, dtype):
    S = diffusive_step(flux=flux)
    stream = compress_streaming(S, rel_tol=1e-6, dtype=dtype)
    exact = compress_step(S, rel_tol=1e-6, dtype=dtype)
    true = float(np.max(np.abs(S - stream.time_factor @ stream.dof_factor.astype(float))))
    print(
        f"rank stream {stream.rank} exact {exact.rank}; true {true:.2e} <= {stream.max_error:.2e}"
    )
    assert true <= stream.max_error <= stream.tol
    assert stream.tol == pytest.approx(1e-6 * np.max(np.abs(S)), rel=1e-12)
    assert stream.rank <= exact.rank + 4
    np.testing.assert_allclose(
        stream.time_factor.T @ stream.time_factor, np.eye(stream.rank), atol=1e-10
    )
    t = 0.05 * np.arange(S.shape[0])
    u = _history(t)
    idx = index_of_times(t, (4.0, 8.0, 12.0))
    ref = superpose_at(S, u, idx)
    err = np.max(np.abs(stream.superpose_at(u, idx) - ref), axis=1)
    bound = stream.error_bound(u, idx)
    assert np.all(err <= bound)
    tv = np.abs(np.diff(u, prepend=0.0)).sum()
    assert np.all(bound <= 1e-5 * tv * np.max(np.abs(S)))  # the bound is informative


def test_stream_cap_reports_honest_error():
    rng = np.random.default_rng(5)
    S = rng.standard_normal((30, 500))  # full rank: no low-rank structure
    comp = StreamingCompressor(500, rel_tol=1e-6, max_rank=3)
    for row in S:
        comp.push(row)
    with pytest.warns(UserWarning, match="basis cap"):
        out = comp.finish()
    true = float(np.max(np.abs(S - out.time_factor @ out.dof_factor.astype(float))))
    assert comp.capped > 0
    assert true <= out.max_error
    assert out.max_error > out.tol


def test_stream_zero_rows_and_validation():
    S = np.zeros((5, 10))
    S[3:, 2] = 1.0
    out = compress_streaming(S)
    assert np.max(np.abs(S - out.time_factor @ out.dof_factor.astype(float))) <= out.max_error
    with pytest.raises(ValueError, match="dtype"):
        StreamingCompressor(3, dtype=np.int32)
    with pytest.raises(ValueError, match="stream_fraction"):
        StreamingCompressor(3, stream_fraction=1.5)
    comp = StreamingCompressor(3)
    with pytest.raises(ValueError, match="3 local values"):
        comp.push(np.ones(4))
    comp.push(np.zeros(3))
    comp.push(np.zeros(3))
    with pytest.raises(ValueError, match="response is zero"):
        comp.finish()


# -- FEM -------------------------------------------------------------------------------------

boxes = pytest.importorskip("meshes.boxes")
pytest.importorskip("thermo.solver")
from thermo.inverse.linear_response import LinearResponse, compute_linear_response  # noqa: E402
from thermo.problem import (  # noqa: E402
    ConvectionBC,
    HeatProblem,
    History,
    Material,
    TemperatureBC,
    TimeStepping,
)

WC = Material(k=85.0, rho=14900.0, c=220.0)
PROBES = {"A": (0.005, 0.002, 0.002), "B": (0.02, 0.001, 0.003)}
AT = (4.0, 8.0, 12.0)


def box_problem(T_inf: float = 20.0) -> HeatProblem:
    hist = History(
        times=np.array([0.0, 1.0, 6.0, 12.0]), values=np.array([20.0, 600.0, 450.0, 520.0])
    )
    return HeatProblem(
        materials={"bar": WC},
        boundaries={
            "x0": TemperatureBC(hist),
            "x1": ConvectionBC(h=500.0, T_inf=T_inf),
            "y0": ConvectionBC(h=200.0, T_inf=T_inf),
        },
        time=TimeStepping(dt=0.05, t_end=12.0, T0=20.0),
        linear_solver="mumps",
    )


@pytest.mark.parametrize("T_inf", [20.0, 60.0])
def test_streaming_agrees_with_exact_on_box(T_inf, tmp_path):
    tagged = boxes.bar(lengths=(0.03, 0.004, 0.004), cells=(30, 2, 2))
    problem = box_problem(T_inf)
    kw = dict(boundary="x0", kind="temperature", probes=PROBES, record_fields=True)
    exact = compute_linear_response(tagged, problem, field_compression="exact", **kw)
    stream = compute_linear_response(tagged, problem, field_compression="streaming", **kw)
    assert exact.field_step is not None and stream.field_step is None
    assert stream.has_fields and stream.n_field_dofs == exact.n_field_dofs
    assert (stream.field_base_factors is None) == (T_inf == 20.0)
    hist = problem.boundaries["x0"].value
    ref = exact.fields(hist, at_times=AT)  # the exact Duhamel sum over the full response
    got = stream.fields(hist, at_times=AT, compressed=True)
    idx = index_of_times(exact.times, AT)
    comp = stream.field_compression()
    bound = comp.error_bound(stream.input_samples(hist), idx)
    if stream.field_base_factors is not None:
        bound = bound + stream.field_base_factors.max_error
    err = np.max(np.abs(got - ref), axis=1)
    print(f"T_inf {T_inf}: rank {comp.rank}, err {err.max():.2e} K <= bound {bound.max():.2e} K")
    assert np.all(err <= bound)
    assert np.max(np.abs(ref - T_inf)) > 50.0  # the fields are not trivial
    np.testing.assert_allclose(stream.probes(hist), exact.probes(hist), rtol=1e-12)
    with pytest.raises(ValueError, match="compressed=True"):
        stream.fields(hist, at_times=AT)
    with pytest.raises(ValueError, match="streamed"):
        stream.field_compression(rel_tol=1e-3)
    stream.save(tmp_path / "resp")
    back = LinearResponse.load(tmp_path / "resp")
    assert back.field_step is None and back.has_field_compression
    np.testing.assert_allclose(back.fields(hist, at_times=AT, compressed=True), got, rtol=1e-12)
    meta = json.loads((tmp_path / "resp.json").read_text())
    assert meta["format"] == "millheat.linear_response/2"


def test_version_one_cache_still_reads(tmp_path):
    tagged = boxes.bar(lengths=(0.03, 0.004, 0.004), cells=(10, 1, 1))
    problem = box_problem()
    resp = compute_linear_response(
        tagged, problem, boundary="x0", kind="temperature", probes=PROBES, record_fields=True
    )
    assert resp.meta["field_compression"] == "exact"  # auto on a small serial mesh
    resp.save(tmp_path / "old")
    meta = json.loads((tmp_path / "old.json").read_text())
    meta["format"] = "millheat.linear_response/1"
    (tmp_path / "old.json").write_text(json.dumps(meta))
    back = LinearResponse.load(tmp_path / "old")
    np.testing.assert_array_equal(back.field_step, resp.field_step)
    meta["format"] = "millheat.linear_response/9"
    (tmp_path / "old.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="format"):
        LinearResponse.load(tmp_path / "old")


def _run(tmp_path: Path, mpirun: Path, ranks: int) -> dict:
    out = tmp_path / f"stream_{ranks}.npz"
    cmd = [sys.executable, str(SCRIPT), str(out)]
    if ranks > 1:
        cmd = [str(mpirun), "-n", str(ranks), *cmd]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    with np.load(out) as data:
        return {k: data[k] for k in data.files}


@pytest.mark.mpi
def test_two_ranks_reproduce_serial_factorisation(tmp_path, mpirun):
    serial, parallel = _run(tmp_path, mpirun, 1), _run(tmp_path, mpirun, 2)
    assert int(parallel["n_ranks"]) == 2 and int(serial["n_ranks"]) == 1
    for key in ("synthetic_fields", "fem_fields"):
        a, b = serial[key], parallel[key]
        scale = np.max(np.abs(a - 20.0)) if key == "fem_fields" else np.max(np.abs(a))
        rel = float(np.max(np.abs(a - b)) / scale)
        print(f"{key}: max relative difference serial vs 2 ranks {rel:.2e}")
        assert rel <= 1e-8
        assert scale > 1.0
    # float32 B: the product (W A) B runs in float32, so a round-off difference of the
    # reductions can move a result by one float32 ulp (6e-8 relative), within error_bound
    a, b = serial["fem_fields32"], parallel["fem_fields32"]
    rel32 = float(np.max(np.abs(a - b)) / np.max(np.abs(a - 20.0)))
    print(f"fem_fields32: max relative difference serial vs 2 ranks {rel32:.2e}")
    assert rel32 <= 1e-6
    for key in ("synthetic_sigma", "fem_sigma"):  # singular values of the factorisation
        # relative to the largest: small ones come from a Gram matrix (absolute accuracy)
        a, b = serial[key], parallel[key]
        assert a.shape == b.shape
        np.testing.assert_allclose(b, a, rtol=0.0, atol=1e-8 * a.max())
    for run in (serial, parallel):  # the bound holds on both (its value is round-off sensitive)
        assert float(run["fem_max_error"]) <= float(run["fem_tol"])
    assert float(parallel["fem_tol"]) == pytest.approx(float(serial["fem_tol"]), rel=1e-8)


def test_reconstruction_fields_from_a_streamed_response():
    """reconstruct() renders fields from a response that holds only streamed factors, and they
    agree with the exact response's to the streamed bound."""
    from thermo.inverse.reconstruction import reconstruct, virtual_measurement
    from thermo.inverse.registry import make_method

    tagged = boxes.bar(lengths=(0.03, 0.004, 0.004), cells=(30, 2, 2))
    problem = box_problem()
    kw = dict(boundary="x0", kind="temperature", probes=PROBES, record_fields=True)
    exact = compute_linear_response(tagged, problem, field_compression="exact", **kw)
    stream = compute_linear_response(tagged, problem, field_compression="streaming", **kw)
    record = virtual_measurement(exact, n_rpm=509.0, fz_mm=0.075, ae_mm=0.2, sigma=0.0, seed=1)
    got = {}
    for name, resp in (("exact", exact), ("stream", stream)):
        method = make_method("tikhonov", response=resp, sigma=0.0)
        got[name] = reconstruct(resp, method, record, field_times=AT, loso=False)
    assert got["stream"].fields is not None and got["exact"].fields is not None
    np.testing.assert_allclose(got["stream"].f1, got["exact"].f1, rtol=1e-9, atol=1e-9)
    comp = stream.field_compression()
    bound = comp.error_bound(
        stream.input_samples(got["stream"].f1), index_of_times(stream.times, AT)
    )
    # exact uses its own compression (compressed_fields=True): both within their bounds of
    # the exact Duhamel sum; compare with the sum directly.
    ref = exact.fields(got["exact"].f1, at_times=AT)
    assert np.all(np.max(np.abs(got["stream"].fields - ref), axis=1) <= bound)

"""The student ensemble as one vmapped call (issue 18) gives the per-member loop's numbers.

Tolerances: both paths run the same float32 equations (XLA programs that differ in batching
and fusion), so outputs agree to float32 round-off, ~1e-7 relative per operation; on scaled
outputs of order 1 and temperatures of 20 … 750 °C, rtol 1e-4 with atol 1e-5 (scaled) or
1e-2 K is hundreds of ulp of margin, while a swapped member, a shifted window or a wrong
recurrence step moves outputs by percents (checked below: the members differ by far more).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from surrogates.ihcp.estimator import NeuralInverse, build_member, shipped
from surrogates.ihcp.models import GRU, ConvRecurrent
from surrogates.ihcp.windows import MinMaxScaler, pad_start

PARAMS = {"n_rpm": 509.0, "fz_mm": 0.075, "ae_mm": 0.2}
RTOL, ATOL_SCALED, ATOL_K = 1e-4, 1e-5, 1e-2


def _toy(n_members: int, spec: dict, *, window: int = 8) -> NeuralInverse:
    xs = MinMaxScaler(
        data_min=np.array([382.0, 0.05, 0.1, 20, 20, 20, 20]),
        data_max=np.array([636.0, 0.1, 0.3, 400, 300, 200, 100]),
    )
    ys = MinMaxScaler(data_min=np.array(20.0), data_max=np.array(700.0))
    members = [build_member(spec, seed=10 + k) for k in range(n_members)]
    return NeuralInverse("student", members, spec, xs, ys, window, 0.05)


def _cut(n_t: int = 241, dt: float = 0.05, seed: int = 0):
    """A 12 s record (241 samples at 0.05 s): rising sensor temperatures plus seeded noise."""
    t = dt * np.arange(n_t)
    rise = 1.0 - np.exp(-t / 2.0)
    noise = np.random.default_rng(seed).normal(0.0, 5.0, (n_t, 4))
    return t, 20.0 + np.outer(rise, [300.0, 200.0, 120.0, 60.0]) + noise


def _sequence(est: NeuralInverse, seed: int = 1) -> jnp.ndarray:
    rng = np.random.default_rng(seed)
    return jnp.asarray(rng.uniform(-1.0, 1.0, (60 + est.window - 1, 7)), jnp.float32)


@pytest.mark.parametrize(
    "spec",
    [
        {"filters": [6], "units": [5], "n_features": 7},  # one conv, one GRU (student shape)
        {"filters": [6, 4], "units": [5, 3], "n_features": 7},  # two of each (teacher shape)
    ],
)
def test_vmapped_ensemble_equals_member_loop(spec):
    est = _toy(4, spec)
    seq = _sequence(est)
    batched, loop = np.asarray(est._apply(seq)), np.asarray(est.apply_members(seq))
    assert batched.shape == loop.shape == (4, seq.shape[0] - est.window + 1)
    np.testing.assert_allclose(batched, loop, rtol=RTOL, atol=ATOL_SCALED)
    # the check can fail: members are distinct networks, so a member mix-up would show
    spread = np.abs(loop[1:] - loop[:1]).max()
    assert spread > 100 * (RTOL * np.abs(loop).max() + ATOL_SCALED)


@pytest.mark.parametrize("units", [[5], [5, 3]])
def test_window_chunks_give_the_same_numbers(units):
    est = _toy(3, {"filters": [6], "units": units, "n_features": 7})
    seq = _sequence(est)
    one = np.asarray(est.batched_apply(1)(seq))
    for chunks in (2, 3, 1000):  # 1000 > windows: clipped to one window per chunk
        np.testing.assert_allclose(
            np.asarray(est.batched_apply(chunks)(seq)), one, rtol=RTOL, atol=ATOL_SCALED
        )


def test_sliding_equals_the_network_on_each_window():
    spec = {"filters": [6, 4], "units": [5, 3], "n_features": 7}
    model = build_member(spec, seed=3)
    view = nnx.view(model, deterministic=True, raise_if_not_found=False)
    window = 9
    seq = _sequence(_toy(1, spec, window=window), seed=2)
    windows = jnp.stack([seq[i : i + window] for i in range(seq.shape[0] - window + 1)])
    np.testing.assert_allclose(
        np.asarray(view.sliding(seq, window=window)),
        np.asarray(view(windows)),
        rtol=RTOL,
        atol=ATOL_SCALED,
    )


def test_lstm_baseline_keeps_the_gathered_path():
    model = ConvRecurrent(n_features=7, filters=(4,), units=(3,), cell="lstm", rngs=nnx.Rngs(0))
    seq = _sequence(_toy(1, {"filters": [4], "units": [3], "n_features": 7}), seed=4)
    windows = jnp.stack([seq[i : i + 8] for i in range(seq.shape[0] - 7)])
    np.testing.assert_allclose(
        np.asarray(model.sliding(seq, window=8)), np.asarray(model(windows)), rtol=RTOL, atol=1e-6
    )


def test_restarted_gru_equals_scan_from_zero():
    gru = GRU(5, 4, rngs=nnx.Rngs(1))
    xw = gru.project(jnp.asarray(np.random.default_rng(5).normal(size=(7, 6, 5)), jnp.float32))
    scanned = np.asarray(gru.recur(xw))  # (B, T, u)
    states = gru.restarted([xw[:, j] for j in range(xw.shape[1])])
    assert len(states) == xw.shape[1]
    np.testing.assert_allclose(
        np.stack([np.asarray(h) for h in states], axis=1), scanned, rtol=RTOL, atol=1e-6
    )


def test_members_are_read_at_call_time():
    """Parameters changed in place after the first call are seen (as with the old loop)."""
    est = _toy(2, {"filters": [4], "units": [3], "n_features": 7})
    seq = _sequence(est)
    before = np.asarray(est._apply(seq))
    est.members[1].head.bias[...] = est.members[1].head.bias[...] + 0.5
    after = np.asarray(est._apply(seq))
    np.testing.assert_allclose(after[0], before[0], rtol=RTOL, atol=ATOL_SCALED)
    np.testing.assert_allclose(after[1] - before[1], 0.5, rtol=RTOL, atol=ATOL_SCALED)
    np.testing.assert_allclose(after, np.asarray(est.apply_members(seq)), rtol=RTOL, atol=1e-5)


def test_shipped_student_ensemble_batched_equals_loop_on_a_cut():
    est = shipped("student")
    t, measured = _cut()
    batched = est.predict_members(t, measured, PARAMS)
    loop = est.predict_members(t, measured, PARAMS, batched=False)
    assert batched.shape == (len(est.members), t.size)
    np.testing.assert_allclose(batched, loop, rtol=RTOL, atol=ATOL_K)
    mean_b, band_b = est.estimate(t, measured, PARAMS)
    mean_l, band_l = est.estimate(t, measured, PARAMS, batched=False)
    np.testing.assert_allclose(mean_b, mean_l, rtol=RTOL, atol=ATOL_K)
    np.testing.assert_allclose(band_b, band_l, rtol=RTOL, atol=ATOL_K)
    # one member alone through the batched path equals that member in the ensemble
    from dataclasses import replace

    single = replace(est, members=est.members[:1])
    np.testing.assert_allclose(
        single.predict_members(t, measured, PARAMS)[0], loop[0], rtol=RTOL, atol=ATOL_K
    )


def test_padding_gives_the_ensemble_one_output_per_step():
    est = _toy(3, {"filters": [4], "units": [3], "n_features": 7})
    t, measured = _cut(41)
    scaled = pad_start(np.zeros((t.size, 7)), window=est.window)
    out = np.asarray(est._apply(jnp.asarray(scaled, jnp.float32)))
    assert out.shape == (3, t.size)
    assert est.predict_members(t, measured, PARAMS).shape == (3, t.size)

"""415 parameters (Table 1), insertion counts, freezing, and learning a known map."""

import jax.numpy as jnp
import numpy as np
from flax import nnx

from surrogates.compensation.model import (
    CompensationNet,
    all_structures,
    keras_lstm_params,
    layer_parameter_counts,
)
from surrogates.compensation.transfer import (
    FineTuneConfig,
    init_members,
    layer_masks,
    member,
    predict_members,
    train_members,
)
from surrogates.training import count_parameters


def test_pretrained_has_keras_parameter_count():
    model = CompensationNet(rngs=nnx.Rngs(0))
    counts = layer_parameter_counts(model)
    assert counts["bidirectional"] == 2 * keras_lstm_params(3, 3) == 168
    assert counts["bidirectional_1"] == 2 * keras_lstm_params(3, 6) == 240
    assert counts["regression_head_1"] == 7
    assert count_parameters(model) == 415


def test_insertion_shapes_and_counts():
    assert len(all_structures()) == 80
    extra = {"I": (12, 84), "II": (42, 312), "III": (42, 312), "IV": (2, 12)}
    for pos, i in zip(("I", "II", "III", "IV"), range(4), strict=True):
        for kind, n in zip(("dense", "lstm"), extra[pos], strict=True):
            s = tuple(kind if j == i else "none" for j in range(4))
            model = CompensationNet(s, rngs=nnx.Rngs(1))
            assert count_parameters(model) == 415 + n
    full = CompensationNet(("lstm", "lstm", "dense", "lstm"), rngs=nnx.Rngs(2))
    assert full(jnp.ones((5, 1, 3))).shape == (5,)


def test_freezing_keeps_pretrained_and_trains_insert():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 1, 3)).astype(np.float32)
    y = (3.0 * x[:, 0, 0]).astype(np.float32)
    pre = CompensationNet(rngs=nnx.Rngs(3))
    s = ("none", "lstm", "none", "dense")
    g, p = init_members(s, [0, 1], pretrained=pre)
    masks = layer_masks(p, [(), ("regression_head_1",)])
    res = train_members(g, p, masks, x=x, y=y, sample_ids=[np.arange(64)] * 2, val=(x, y),
                        seeds=[0, 1], config=FineTuneConfig(epochs=2))  # fmt: skip
    before = nnx.state(pre, nnx.Param).to_pure_dict()
    after0 = member(res.params, 0).to_pure_dict()
    after1 = member(res.params, 1).to_pure_dict()
    for layer in ("bidirectional", "bidirectional_1", "regression_head_1"):
        for a, b in zip(_leaves(before[layer]), _leaves(after0[layer]), strict=True):
            # B1: bit-identical, by construction (the update is p + 0·Δ, exact in any IEEE
            # arithmetic), not by round-off luck: holds on every machine
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert not np.allclose(after0["insert_IV"]["kernel"], p["insert_IV"]["kernel"][...][0])
    assert not np.allclose(
        after1["regression_head_1"]["kernel"], before["regression_head_1"]["kernel"]
    )
    assert np.allclose(after1["bidirectional"]["forward_layer"]["kernel"],
                       before["bidirectional"]["forward_layer"]["kernel"])  # fmt: skip


def _leaves(tree):
    import jax

    return jax.tree_util.tree_leaves(tree)


def test_network_learns_a_known_linear_map():
    rng = np.random.default_rng(1)
    x = rng.uniform(-2.0, 2.0, size=(512, 1, 3)).astype(np.float32)
    y = (4.0 * x[:, 0, 0] - 2.0 * x[:, 0, 2] + 1.0).astype(np.float32)
    g, p = init_members(("none",) * 4, [0], dropout=0.0)
    masks = layer_masks(p, [("bidirectional", "bidirectional_1", "regression_head_1")])
    cfg = FineTuneConfig(epochs=30, learning_rate=1e-2)
    res = train_members(g, p, masks, x=x, y=y, sample_ids=[np.arange(512)], val=(x, y),
                        seeds=[0], config=cfg)  # fmt: skip
    rmse = np.sqrt(np.mean((predict_members(g, res.params, x)[0] - y) ** 2))
    assert rmse < 0.1 * np.std(y)

"""Encoding, the Table 3 networks, chaining, and a tiny training run on a known function."""

import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from surrogates.cutting.encoding import Encoder
from surrogates.cutting.handbook import load_handbook
from surrogates.cutting.metrics import mad
from surrogates.cutting.networks import MLP, append_vc, chained_predict, vc_network, vf_network
from surrogates.training import TrainConfig, count_parameters, fit, predict


@pytest.fixture(scope="module")
def table():
    return load_handbook()


def test_onehot_encoding_shape_and_roundtrip(table):
    enc = Encoder.fit(table)
    x = enc.encode_table(table)
    assert x.shape == (len(table), 4 + len(enc.materials) + 1 + 4) == (len(table), enc.n_features)
    # exactly one hot per categorical block
    assert np.all(x[:, :4].sum(axis=1) == 1)
    np.testing.assert_allclose(enc.decode_vc(enc.encode_vc(table["vc"])), table["vc"], rtol=1e-5)
    np.testing.assert_allclose(enc.decode_vf(enc.encode_vf(table["vf"])), table["vf"], rtol=1e-5)
    assert Encoder.from_dict(enc.to_dict()) == enc


def test_paper_encoding_has_four_scaled_inputs(table):
    enc = Encoder.fit(table, mode="paper")
    x = enc.encode_table(table)
    assert x.shape == (len(table), 4)
    assert x.min() >= 0.0 and x.max() <= 1.0


def test_encoder_refuses_unknown_material(table):
    enc = Encoder.fit(table)
    with pytest.raises(ValueError, match="unknown material"):
        enc.encode_inputs(operation=[1], material=["Z1.0"], hardness_hb=[100], cutter=[1])
    with pytest.raises(ValueError, match="1..4"):
        enc.encode_inputs(operation=[5], material=["P1.1"], hardness_hb=[100], cutter=[1])


def test_table3_architectures():
    net1, net2 = vc_network(10, seed=0), vf_network(11, seed=0)
    assert [layer.out_features for layer in net1.layers] == [7, 7, 7]
    assert net1.activations == ("sigmoid", "sigmoid", "linear")
    assert [layer.out_features for layer in net2.layers] == [8, 8]
    # 10*7+7 + 7*7+7 + 7*7+7 + 7+1
    assert count_parameters(net1) == 77 + 56 + 56 + 8
    assert net1(jnp.zeros((5, 10))).shape == (5,)


def test_chaining_feeds_network1_prediction_not_truth():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 3)).astype(np.float32)
    net_vc, net_vf = vc_network(3, seed=1), vf_network(4, seed=2)
    # make network 1 output the constant 0.7 whatever the input
    net_vc.out.kernel[...] = jnp.zeros_like(net_vc.out.kernel[...])
    net_vc.out.bias[...] = jnp.full_like(net_vc.out.bias[...], 0.7)
    z_vc, z_vf = chained_predict(net_vc, net_vf, x)
    np.testing.assert_allclose(z_vc, 0.7, rtol=1e-6)
    expected = np.asarray(predict(net_vf, jnp.asarray(append_vc(x, np.full(6, 0.7)))))
    np.testing.assert_allclose(z_vf, expected, rtol=1e-6)
    true_vc = rng.normal(size=6)
    with_truth = np.asarray(predict(net_vf, jnp.asarray(append_vc(x, true_vc))))
    assert not np.allclose(z_vf, with_truth)


def test_bad_mlp_spec():
    with pytest.raises(ValueError, match="activation"):
        MLP(3, (4, 4), ("sigmoid",), rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="activations must be"):
        MLP(3, (4,), ("relu6",), rngs=nnx.Rngs(0))


@pytest.mark.parametrize(("optimizer", "lr"), [("sgd", 0.3), ("adam", 0.03)])
def test_tiny_training_reaches_stated_mad(optimizer, lr):
    """y = sin(x1) + 0.5 x2 on [-1.5, 1.5]^2 (range ~2.5): MAD below 0.05 on held-out points."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1.5, 1.5, size=(240, 2)).astype(np.float32)
    y = (np.sin(x[:, 0]) + 0.5 * x[:, 1]).astype(np.float32)
    net = MLP(2, (8, 8), ("sigmoid", "sigmoid"), rngs=nnx.Rngs(0))
    config = TrainConfig(epochs=300, batch_size=200, learning_rate=lr, optimizer=optimizer, seed=0)
    fit(net, (x[:200], y[:200]), config=config, val=(x[200:], y[200:]))
    assert mad(y[200:], np.asarray(predict(net, x[200:]))) < 0.05

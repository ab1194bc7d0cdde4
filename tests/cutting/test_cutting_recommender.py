"""The recommender: input validation, chained prediction, weights round trip, CLI."""

import jax.numpy as jnp
import numpy as np
import pytest

from cases.cli import main
from surrogates.cutting.encoding import Encoder
from surrogates.cutting.handbook import CUTTERS, load_handbook
from surrogates.cutting.inference import DenseStack
from surrogates.cutting.networks import vc_network, vf_network
from surrogates.cutting.recommender import (
    WEIGHTS_PATH,
    CuttingRecommender,
    RecommendationInputError,
    validate_request,
)

GOOD = {"operation": 2, "material": "P1.2", "hardness_hb": 150.0, "cutter": 1}


@pytest.fixture(scope="module")
def untrained():
    table = load_handbook()
    enc = Encoder.fit(table)
    vc = DenseStack.from_module(vc_network(enc.n_features, seed=0))
    vf = DenseStack.from_module(vf_network(enc.n_features + 1, seed=1))
    return CuttingRecommender(enc, vc, vf, table)


def test_numpy_forward_matches_flax_network():
    net = vc_network(5, seed=3)
    x = np.random.default_rng(0).normal(size=(7, 5))
    np.testing.assert_allclose(
        DenseStack.from_module(net)(x),
        np.asarray(net(jnp.asarray(x, jnp.float32))),
        rtol=2e-5,
        atol=2e-6,
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"material": "P9.9"}, "unknown"),
        ({"hardness_hb": 900.0}, "outside the range"),
        ({"hardness_hb": float("nan")}, "outside the range"),
        ({"operation": 5}, "--operation"),
        ({"cutter": 0}, "--cutter"),
        ({"material": "H1.2", "hardness_hb": 515.0, "cutter": 2}, "not recommended"),
        ({"diameter_mm": -3.0}, "--diameter"),
        ({"teeth": 0}, "--teeth"),
    ],
)
def test_validation_refuses_bad_input(change, message):
    with pytest.raises(RecommendationInputError, match=message):
        validate_request(**{**GOOD, **change})


def test_recommendation_kinematics_and_chaining(untrained):
    r = untrained.recommend(**GOOD, diameter_mm=10.0, teeth=4)
    assert r.n_rpm == pytest.approx(1000 * r.vc / (np.pi * 10.0))
    assert r.vf == pytest.approx(r.fz * 4 * r.n_rpm)
    nominal = untrained.recommend(**GOOD)
    assert nominal.diameter_mm == CUTTERS[1].diameter_mm
    assert nominal.fz == pytest.approx(r.fz)  # fz transfers across diameters
    # shifting network 1's output changes Vf: network 2 sees the predicted Vc
    bias = untrained.net_vc.biases[-1]
    bias += 1.0
    shifted = untrained.recommend(**GOOD)
    bias -= 1.0
    assert shifted.vc > nominal.vc and shifted.vf != pytest.approx(nominal.vf)


def test_nearest_rows_prefer_same_material(untrained):
    rows = untrained.nearest_rows(**GOOD, k=3)
    assert len(rows) == 3 and (rows["material"] == "P1.2").all()
    assert rows.iloc[0]["operation"] == 2


def test_save_load_roundtrip(untrained, tmp_path):
    path = untrained.save(tmp_path / "w.json")
    loaded = CuttingRecommender.load(path)
    a, b = untrained.recommend(**GOOD), loaded.recommend(**GOOD)
    assert (a.vc, a.vf) == (b.vc, b.vf)  # same weights, same process: same bits
    x = np.ones((2, untrained.encoder.n_features))
    # JSON keeps every float exactly, so the same machine gives the same bits
    np.testing.assert_array_equal(untrained.net_vc(x), loaded.net_vc(x))
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ValueError, match="bad.json"):
        CuttingRecommender.load(tmp_path / "bad.json")


@pytest.mark.parametrize(
    "argv",
    [
        ["--operation", "2", "--material", "Q1.0", "--hardness", "150", "--cutter", "1"],
        ["--operation", "2", "--material", "P1.2", "--hardness", "999", "--cutter", "1"],
        ["--operation", "7", "--material", "P1.2", "--hardness", "150", "--cutter", "1"],
    ],
)
def test_cli_bad_input_exit_2_without_traceback(argv, capsys):
    assert main(["recommend", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("millheat recommend: error:") and "Traceback" not in err


@pytest.mark.skipif(not WEIGHTS_PATH.is_file(), reason="shipped weights not built")
def test_cli_prints_recommendation(capsys):
    argv = ["recommend", "--operation", "2", "--material", "P1.2", "--hardness", "150"]
    assert main([*argv, "--cutter", "1", "--diameter", "10", "--teeth", "4"]) == 0
    out = capsys.readouterr().out
    for key in ("Vc =", "n  =", "fz =", "Vf =", "nearest handbook rows"):
        assert key in out


@pytest.mark.slow
def test_cli_without_weights_trains_and_says_so(tmp_path, capsys):
    argv = ["recommend", "--operation", "3", "--material", "N1.2", "--hardness", "100"]
    assert main([*argv, "--cutter", "1", "--weights", str(tmp_path / "missing.json")]) == 0
    out = capsys.readouterr().out
    assert "trained a quick model" in out and "Vf =" in out


def test_numpy_forward_with_linear_shortcut_matches_flax_and_round_trips():
    net = vc_network(5, seed=3, skip=True)
    net.skip.kernel[...] = jnp.linspace(-1.0, 1.0, 5).reshape(5, 1)
    x = np.random.default_rng(0).normal(size=(7, 5))
    stack = DenseStack.from_module(net)
    np.testing.assert_allclose(
        stack(x), np.asarray(net(jnp.asarray(x, jnp.float32))), rtol=2e-5, atol=2e-6
    )
    again = DenseStack.from_dict(stack.to_dict())
    # a dict round trip of the same arrays, evaluated in the same process: same numbers
    np.testing.assert_allclose(again(x), stack(x), rtol=1e-12)
    assert (
        DenseStack.from_dict(DenseStack.from_module(vc_network(5, seed=0)).to_dict()).skip is None
    )

"""Baselines of the cutting-condition study on known answers."""

import numpy as np
import pytest

from surrogates.cutting import baselines
from surrogates.cutting.encoding import Encoder
from surrogates.cutting.handbook import load_handbook, split_handbook


@pytest.fixture(scope="module")
def table():
    return load_handbook()


def test_exact_formula_is_the_table_up_to_its_rounding(table):
    gen = table[table["origin"] == "generated"]
    vc, vf = baselines.exact_formula(gen)
    # midpoint of a range rounded to 5 m/min steps (1 m/min below 40): within half a step;
    # rows capped by the spindle limit are floored to whole m/min
    step = np.where(vc >= 40, 5.0, 1.0)
    assert np.all(np.abs(gen["vc"].to_numpy() - vc) <= 0.5 * step + 1e-9)
    # fz midpoints rounded to 0.005 mm: Vf within ±12 % of the exact value everywhere
    assert np.all(np.abs(gen["vf"].to_numpy() / vf - 1.0) < 0.12)
    ceiling = baselines.scores(gen, vc, vf)
    assert ceiling["gf_vc_unrounded"] == pytest.approx(100.0)
    assert 50.0 < ceiling["gf_vf"] < 100.0  # the rounding alone costs GF


def test_log_linear_is_exact_on_unrounded_uncapped_rows(table):
    """The generator is multiplicative in its factors: on its exact values (rows without the
    spindle cap) the log-linear fit reproduces them to float precision."""
    gen = table[(table["origin"] == "generated") & (table["note"] == "")].copy()
    gen["vc"], gen["vf"] = baselines.exact_formula(gen)
    train, test = gen.iloc[::2], gen.iloc[1::2]
    test = test[test["material"].isin(set(train["material"]))]
    enc = Encoder.fit(train, vocabulary=table)
    vc_hat, vf_hat = baselines.log_linear(train, enc)(test)
    np.testing.assert_allclose(vc_hat, test["vc"], rtol=1e-4)
    np.testing.assert_allclose(vf_hat, test["vf"], rtol=1e-4)


def test_nearest_row_returns_a_training_row(table):
    train, _, test = split_handbook(table)
    vc, vf = baselines.nearest_row(train)(train.iloc[:10])
    np.testing.assert_array_equal(vc, train["vc"].iloc[:10])
    np.testing.assert_array_equal(vf, train["vf"].iloc[:10])
    vc, _ = baselines.nearest_row(train)(test)
    assert set(vc) <= set(train["vc"])

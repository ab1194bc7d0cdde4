"""MAD, GF and grouped percent errors of paper 002 on hand-computed examples."""

import numpy as np
import pytest

from surrogates.cutting.metrics import (
    generalization_factor,
    grouped_percent_error,
    mad,
    percent_errors,
)


def test_mad_hand_example():
    # |100-101| + |200-190| + |300-300| = 11 over 3 patterns
    assert mad([100.0, 200.0, 300.0], [101.0, 190.0, 300.0]) == pytest.approx(11.0 / 3.0)


def test_gf_counts_patterns_strictly_below_two_percent():
    y = np.array([100.0, 200.0, 300.0, 400.0])
    # errors: 1 %, 5 %, 0 %, 2 % exactly (not "less than 2 %")
    y_hat = np.array([101.0, 210.0, 300.0, 408.0])
    np.testing.assert_allclose(percent_errors(y, y_hat), [1.0, 5.0, 0.0, 2.0])
    assert generalization_factor(y, y_hat) == pytest.approx(50.0)
    assert generalization_factor(y, y_hat, threshold=0.06) == pytest.approx(100.0)


def test_grouped_percent_error_is_group_mean():
    keys = np.array([1, 2, 1, 2])
    out = grouped_percent_error(keys, [100.0, 100.0, 50.0, 10.0], [110.0, 97.0, 50.0, 11.0])
    assert out.loc[1] == pytest.approx((10.0 + 0.0) / 2)
    assert out.loc[2] == pytest.approx((3.0 + 10.0) / 2)


@pytest.mark.parametrize(
    ("y", "y_hat"), [([1.0, 2.0], [1.0]), ([], []), ([1.0, np.nan], [1.0, 1.0])]
)
def test_metrics_refuse_bad_arrays(y, y_hat):
    with pytest.raises(ValueError):
        mad(y, y_hat)


def test_percent_error_refuses_zero_target():
    with pytest.raises(ValueError, match="zero target"):
        generalization_factor([0.0, 1.0], [0.0, 1.0])

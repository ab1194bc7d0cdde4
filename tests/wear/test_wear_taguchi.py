"""Taguchi L9, S/N ratios and ANOVA contributions, incl. the arithmetic of paper Tables 5–6."""

import itertools

import numpy as np
import pytest

from surrogates.wear import taguchi


def test_l9_is_table3_and_orthogonal():
    table3 = ["111", "122", "133", "212", "223", "231", "313", "321", "332"]
    design = taguchi.l9_array()
    assert ["".join(map(str, r[:3])) for r in design] == table3
    for i, j in itertools.combinations(range(4), 2):
        pairs = {(a, b) for a, b in design[:, [i, j]]}
        assert len(pairs) == 9  # every level pair exactly once


def test_sn_smaller_the_better_by_hand():
    y = np.array([[1.0, 1.0, 1.0], [0.1, 0.1, 0.1], [1.0, 2.0, 3.0]])
    np.testing.assert_allclose(
        taguchi.sn_smaller_the_better(y), [0.0, 20.0, -10 * np.log10(14 / 3)]
    )
    with pytest.raises(ValueError, match="> 0"):
        taguchi.sn_smaller_the_better(np.array([[1.0, -1.0]]))


def test_statsmodels_anova_equals_level_mean_sums_of_squares():
    design = taguchi.l9_array()[:, :3]
    sn = np.random.default_rng(0).normal(size=9)
    table = taguchi.anova_contributions(sn, design)
    ss = taguchi.ss_from_level_means(taguchi.level_means(sn, design))
    np.testing.assert_allclose(table["ss"][:3], ss, rtol=1e-10)
    total = np.sum((sn - sn.mean()) ** 2)
    assert table["ss"].iloc[-1] == pytest.approx(total)
    assert table["contribution_pct"][:4].sum() == pytest.approx(100.0)
    assert list(table["df"]) == [2, 2, 2, 2, 8]


def test_paper_table5_arithmetic():
    t = taguchi.PAPER_TABLE5
    means = np.array([t["levels"][k] for k in ("n", "ae", "F")])
    ss = taguchi.ss_from_level_means(means)
    np.testing.assert_allclose(ss, [t["ss"][k] for k in ("n", "ae", "F")], rtol=0.01, atol=0.01)
    total = sum(t["ss"][k] for k in ("n", "ae", "F", "Error"))
    assert total == pytest.approx(t["ss"]["Total"], abs=0.1)
    for k in ("n", "ae", "F", "Error"):
        assert 100 * t["ss"][k] / t["ss"]["Total"] == pytest.approx(t["rho"][k], abs=0.05)


def test_paper_table6_total_is_a_misprint():
    """SS rows of Table 6 add up to 85.49, not the printed 82.49; its ρ use 85.49."""
    t = taguchi.PAPER_TABLE6
    means = np.array([t["levels"][k] for k in ("n", "ae", "F")])
    ss = taguchi.ss_from_level_means(means)
    np.testing.assert_allclose(ss, [t["ss"][k] for k in ("n", "ae", "F")], rtol=0.03)
    total = sum(t["ss"][k] for k in ("n", "ae", "F", "Error"))
    assert total == pytest.approx(85.49, abs=1e-9)
    assert abs(total - t["ss"]["Total"]) == pytest.approx(3.0, abs=1e-9)
    for k in ("n", "ae", "F", "Error"):
        assert 100 * t["ss"][k] / total == pytest.approx(t["rho"][k], abs=0.05)


def test_virtual_roughness_ranks_factors_like_the_paper():
    design = taguchi.l9_array()[:, :3]
    lv = taguchi.PAPER_LEVELS
    n, ae, f = (np.asarray(lv[k])[design[:, i] - 1] for i, k in enumerate(("n", "ae", "F")))
    ra = taguchi.virtual_roughness(spindle_rpm=n, ae_mm=ae, feed_mm_min=f, seed=0)
    assert 0.05 < ra.mean() < 2.0  # a few tenths of a µm
    rho = taguchi.anova_contributions(taguchi.sn_smaller_the_better(ra), design)
    rho = dict(zip(rho["factor"], rho["contribution_pct"], strict=True))
    assert rho["F"] > rho["ae"] > rho["n"]

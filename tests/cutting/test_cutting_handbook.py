"""The shipped handbook table: deterministic build, Table 1 rows, kinematics, split."""

import math

import numpy as np
import pandas as pd
import pytest

from surrogates.cutting.handbook import (
    CUTTERS,
    HANDBOOK_CSV,
    MATERIALS,
    PAPER_TABLE1,
    build_handbook,
    chip_thinning_factor,
    load_handbook,
    split_handbook,
    write_handbook,
)


def test_shipped_csv_is_the_deterministic_build():
    shipped = load_handbook()
    built = build_handbook()
    assert 190 <= len(shipped) <= 240
    pd.testing.assert_frame_equal(
        shipped[["operation", "material", "hardness_hb", "cutter", "vc", "fz", "vf"]],
        built[["operation", "material", "hardness_hb", "cutter", "vc", "fz", "vf"]],
        check_dtype=False,
    )


def test_table1_rows_as_given():
    table = load_handbook(HANDBOOK_CSV)
    paper = table[table["origin"] == "paper_table1"]
    assert len(paper) == 12
    got = list(
        zip(
            paper["operation"],
            paper["hardness_hb"],
            paper["cutter"],
            paper["vc"],
            paper["vf"],
            strict=True,
        )
    )
    want = [(op, hb, c, vc, vf) for op, _, hb, c, vc, vf in PAPER_TABLE1]
    assert got == want
    assert paper["note"].str.startswith("suspect").sum() == 1


def test_generated_rows_obey_kinematics():
    table = build_handbook()
    gen = table[table["origin"] == "generated"]
    n = 1000.0 * gen["vc"] / (np.pi * gen["diameter_mm"])
    np.testing.assert_allclose(gen["n_rpm"], n, atol=0.06)
    # Vf = fz z n, rounded to 0.1 mm/min
    np.testing.assert_allclose(gen["vf"], gen["fz"] * gen["teeth"] * n, atol=0.0501)
    # every material in the catalogue, hardness inside its class range
    assert set(gen["material"]) == set(MATERIALS)
    for code, mat in MATERIALS.items():
        hb = gen.loc[gen["material"] == code, "hardness_hb"]
        assert hb.between(mat.hb_min, mat.hb_max).all()
    # HSS is never recommended for S or H materials
    hss = gen[gen["cutter"] == 2]
    assert not hss["iso_group"].isin(CUTTERS[2].excluded_groups).any()


def test_chip_thinning_known_values():
    assert chip_thinning_factor(0.5) == 1.0
    assert chip_thinning_factor(0.1) == pytest.approx(1.0 / 0.6)
    assert chip_thinning_factor(0.05) == pytest.approx(1.0 / math.sqrt(1 - 0.81))
    with pytest.raises(ValueError):
        chip_thinning_factor(0.0)


def test_build_is_seeded():
    a, b = build_handbook(seed=3), build_handbook(seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(build_handbook(seed=4))


def test_split_sizes_and_table1_option():
    table = load_handbook()
    train, val, test = split_handbook(table)
    assert (len(train), len(val), len(test)) == (126, 55, 35)
    assert (train["origin"] == "generated").all()
    train1, val1, test1 = split_handbook(table, include_table1=True)
    assert (train1["origin"] == "paper_table1").sum() == 11  # suspect row left out
    assert (val1["origin"] == "generated").all() and val1.equals(val) and test1.equals(test)
    assert len(split_handbook(table, include_table1=True, include_suspect=True)[0]) == 138


def test_write_and_load_roundtrip(tmp_path):
    path = write_handbook(tmp_path / "hb.csv", seed=1)
    assert len(load_handbook(path)) == len(build_handbook(seed=1))
    assert [p.name for p in tmp_path.iterdir()] == ["hb.csv"]  # no temporary file left


def test_load_names_file_and_column(tmp_path):
    bad = tmp_path / "bad.csv"
    build_handbook().drop(columns=["vf"]).to_csv(bad, index=False)
    with pytest.raises(ValueError, match=r"bad\.csv.*vf"):
        load_handbook(bad)
    table = build_handbook()
    table.loc[0, "material"] = "X9.9"
    table.to_csv(bad, index=False)
    with pytest.raises(ValueError, match="X9.9"):
        load_handbook(bad)

"""Property tables: parsing, validation messages, evaluation, exact enthalpy, coverage check."""

import numpy as np
import pytest
from scipy.integrate import quad

from thermo.problem import MATERIALS, Material, material
from thermo.properties import Property, PropertyError, check_covers, parse_property


def test_points_interpolate_linearly_and_are_constant_outside():
    p = Property.from_points([[20.0, 85.0], [800.0, 68.0]], source="case.toml", key="k")
    assert p(20.0) == pytest.approx(85.0)
    assert p(410.0) == pytest.approx(76.5)
    assert p(-50.0) == pytest.approx(85.0) and p(2000.0) == pytest.approx(68.0)
    assert p.covers(20.0) and not p.covers(10.0)


def test_parse_number_points_and_csv(tmp_path):
    case = tmp_path / "case.toml"
    case.write_text("")
    assert parse_property(42.6, case_path=case, key="materials.shank.k") == 42.6
    (tmp_path / "k.csv").write_text("# insert k(T)\nT_C,value\n20, 85  # room\n\n800,68\n")
    from_csv = parse_property({"table": "k.csv"}, case_path=case, key="materials.insert.k")
    assert isinstance(from_csv, Property) and from_csv.source == str(tmp_path / "k.csv")
    np.testing.assert_allclose(from_csv.values, [85.0, 68.0])
    inline = parse_property({"points": [[20, 85], [800, 68]]}, case_path=case, key="k")
    np.testing.assert_allclose(inline(np.array([20.0, 800.0])), [85.0, 68.0])
    # a one-point table is a constant: stays on the linear path
    assert parse_property({"points": [[20, 85]]}, case_path=case, key="k") == 85.0


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ({"points": [[20, 85], [20, 80]]}, "strictly increasing"),
        ({"points": [[20, 85], [800, -1]]}, "positive finite"),
        ({"points": []}, "[T_C, value] pairs"),
        ({"points": [[20, 85, 1]]}, "[T_C, value] pairs"),
        ({"table": "k.csv", "points": [[0, 1]]}, "exactly one of the keys"),
        ({"file": "k.csv"}, "exactly one of the keys"),
        ("85", "expected a positive number"),
        (-3.0, "positive finite"),
        ({"table": "missing.csv"}, "cannot read the property table"),
    ],
)
def test_bad_values_name_file_key_and_form(tmp_path, value, fragment):
    case = tmp_path / "case.toml"
    with pytest.raises(PropertyError) as err:
        parse_property(value, case_path=case, key="materials.insert.k")
    msg = str(err.value)
    assert fragment in msg and "materials.insert.k" in msg and str(tmp_path) in msg


def test_bad_csv_line_names_line(tmp_path):
    (tmp_path / "c.csv").write_text("20,220\n200;236\n")
    with pytest.raises(PropertyError, match=r"c\.csv: materials\.insert\.c: line 2"):
        Property.from_csv(tmp_path / "c.csv", key="materials.insert.c")


def test_table_not_covering_the_initial_temperature_is_an_error():
    kelvin = Property.from_points([[293.15, 85.0], [1073.15, 68.0]], source="k.csv", key="k")
    with pytest.raises(PropertyError, match="kelvin"):
        check_covers(kelvin, 20.0)
    check_covers(kelvin, 300.0)
    check_covers(85.0, -100.0)  # numbers cover everything


def test_enthalpy_is_the_exact_integral_of_rho_c():
    rho = Property.from_points([[0.0, 7000.0], [500.0, 7800.0]], source="t", key="rho")
    c = MATERIALS["42crmo4-t"].c
    for T in (-40.0, 20.0, 333.0, 736.0, 1200.0):
        exact, _ = quad(lambda s: rho(s) * c(s), 20.0, T, points=list(c.T), limit=200)
        assert rho.enthalpy_with(c, T, 20.0) == pytest.approx(exact, rel=1e-10, abs=1e-6)


def test_library_materials_and_material_api():
    wc = material("WC-Co-T")
    assert not wc.is_constant and MATERIALS["wc-co"].is_constant
    assert wc.k(20.0) == pytest.approx(85.0) and wc.k(600.0) < 0.85 * 85.0
    steel = material("42CrMo4-T")
    assert steel.k(20.0) == pytest.approx(42.6) and steel.k(600.0) == pytest.approx(30.5)
    at = wc.at(300.0)
    assert at.is_constant and at.k == pytest.approx(77.0)
    assert wc.as_json()["rho"] == 14900.0 and "points" in wc.as_json()["k"]
    with pytest.raises(ValueError, match="at\\(T\\)"):
        _ = wc.diffusivity
    assert Material(k=Property.constant(5.0), rho=1.0, c=1.0).k == 5.0

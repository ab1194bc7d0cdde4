"""meshes.boxes: named groups, sizes and the conforming interface of the built-in meshes."""

import numpy as np
import pytest
import ufl
from dolfinx import fem

from meshes.boxes import bar, two_blocks


def _measure(tagged, kind, tag):
    m = ufl.Measure(
        kind,
        domain=tagged.mesh,
        subdomain_data=tagged.cell_tags if kind == "dx" else tagged.facet_tags,
    )
    one = fem.Constant(tagged.mesh, 1.0)
    form = one * m(tag)
    return tagged.mesh.comm.allreduce(fem.assemble_scalar(fem.form(form)))


def test_bar_groups_and_areas():
    t = bar(lengths=(0.03, 0.002, 0.001), cells=(6, 2, 1), volume_name="insert")
    assert t.volume_groups == {"insert": 1}
    assert set(t.facet_groups) == {"x0", "x1", "y0", "y1", "z0", "z1"}
    assert _measure(t, "dx", 1) == pytest.approx(0.03 * 0.002 * 0.001)
    assert _measure(t, "ds", t.facet_groups["x1"]) == pytest.approx(0.002 * 0.001)
    assert _measure(t, "ds", t.facet_groups["y0"]) == pytest.approx(0.03 * 0.001)


def test_two_blocks_interface_and_volumes():
    t = two_blocks(
        length_left=0.004,
        length_right=0.01,
        cells_left=3,
        cells_right=5,
        cross_section=(0.002,),
        cross_cells=(2,),
    )
    assert t.volume_groups == {"left": 1, "right": 2}
    assert _measure(t, "dx", 1) == pytest.approx(0.004 * 0.002)
    assert _measure(t, "dx", 2) == pytest.approx(0.01 * 0.002)
    # interface length 0.002 (interior facets: dS counts each once)
    assert _measure(t, "dS", t.facet_groups["interface"]) == pytest.approx(0.002)
    x = t.mesh.geometry.x[:, 0]
    assert np.any(np.isclose(x, 0.004)) and x.max() == pytest.approx(0.014)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="lengths and cells"):
        bar(lengths=(1.0, 1.0), cells=(2,))
    with pytest.raises(ValueError, match="positive"):
        bar(lengths=(-1.0,), cells=(2,))

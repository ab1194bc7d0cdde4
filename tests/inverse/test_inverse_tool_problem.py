"""One definition of the tool's forward problem: thermo.tool_problem agrees with the commented
example case file, and the response cache key follows the problem and the geometry."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshes.tool import ToolGeometry
from thermo.case import parse_case
from thermo.inverse.linear_response import cache_key
from thermo.tool_problem import tool_problem

EXAMPLE = Path(__file__).resolve().parents[2] / "cases" / "examples" / "tool_forward.toml"


def test_example_case_is_the_tool_problem_with_a_prescribed_f1():
    case = parse_case(EXAMPLE)
    ours = tool_problem()
    assert case.problem.materials == ours.materials
    assert case.problem.time == ours.time
    assert case.problem.contact == ours.contact
    assert {k: v for k, v in case.problem.boundaries.items() if k != "F1"} == ours.boundaries
    assert "F1" in case.problem.boundaries
    assert case.mesh.builtin == "insert-shank-bolt"


def test_cache_key_follows_problem_and_geometry():
    geometry = ToolGeometry(size_factor=0.5)
    base = cache_key(problem=tool_problem(), geometry=geometry, boundary="F1")
    assert base == cache_key(
        problem=tool_problem(), geometry=ToolGeometry(size_factor=0.5), boundary="F1"
    )
    changed = [
        cache_key(problem=tool_problem(h_F3=30.0), geometry=geometry, boundary="F1"),
        cache_key(problem=tool_problem(dt=0.025), geometry=geometry, boundary="F1"),
        cache_key(problem=tool_problem(), geometry=ToolGeometry(size_factor=0.4), boundary="F1"),
        cache_key(problem=tool_problem(), geometry=geometry, boundary="F2"),
    ]
    assert len({base, *changed}) == 5
    with pytest.raises(TypeError, match="cannot describe"):
        cache_key(problem=object())

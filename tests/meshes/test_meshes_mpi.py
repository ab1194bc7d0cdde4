"""Two MPI ranks build, save and load the same tool mesh as one rank (global counts, measures)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("mpi_meshes_tool.py")
MPIRUN = Path(sys.executable).with_name("mpirun")
ROOT = Path(__file__).resolve().parents[2]


def _run(tmp_path: Path, ranks: int) -> dict:
    out = tmp_path / f"mesh_{ranks}.json"
    cmd = [sys.executable, str(SCRIPT), str(out), str(tmp_path)]
    if ranks > 1:
        cmd = [str(MPIRUN), "-n", str(ranks), *cmd]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


@pytest.mark.mpi
def test_two_ranks_build_and_load_same_mesh(tmp_path, mpirun):
    serial, parallel = _run(tmp_path, 1), _run(tmp_path, 2)
    for key in ("built", "loaded"):
        assert parallel[key]["cells"] == serial[key]["cells"]
        assert parallel[key]["nodes"] == serial[key]["nodes"]
        for name in ("insert", "shank", "bolt", "F1"):
            assert parallel[key][name] == pytest.approx(serial[key][name], rel=1e-10)
    assert parallel["built"] == pytest.approx(parallel["loaded"], rel=1e-10)
    assert len(parallel["errors"]) == 2
    assert all("missing physical facet groups ['F7']" in e for e in parallel["errors"])

"""Serial and 2-rank runs give the same probe histories (relative difference <= 1e-8)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).with_name("mpi_thermo_probes.py")
MPIRUN = Path(sys.executable).with_name("mpirun")
ROOT = Path(__file__).resolve().parents[2]


def _run(tmp_path: Path, ranks: int) -> dict:
    out = tmp_path / f"probes_{ranks}.json"
    cmd = [str(SCRIPT), str(out)]
    cmd = (
        [sys.executable, *cmd]
        if ranks == 1
        else [str(MPIRUN), "-n", str(ranks), sys.executable, *cmd]
    )
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


@pytest.mark.mpi
def test_two_ranks_reproduce_serial_probes(tmp_path):
    if not MPIRUN.exists():
        pytest.skip(f"no mpirun beside {sys.executable}")
    serial, parallel = _run(tmp_path, 1), _run(tmp_path, 2)
    for name in ("S1", "S2", "S3", "CS1", "CS2", "CS3", "Cjump"):
        a, b = np.asarray(serial[name]), np.asarray(parallel[name])
        rel = np.max(np.abs(a - b)) / np.max(np.abs(a))
        print(f"{name}: max relative difference serial vs 2 ranks {rel:.2e}")
        assert rel <= 1e-8
        assert a[-1] > a[0] + 0.01  # heated: the comparison is not between constants
    for key in ("energy", "energy_contact"):
        assert abs(serial[key]["heat_in_J"] / parallel[key]["heat_in_J"] - 1) < 1e-8

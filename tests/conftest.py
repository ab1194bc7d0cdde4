"""Shared pytest set-up.

DOLFINx's wheel must be initialised (``import dolfinx_solver``, which also starts MPI) before
``dolfinx`` or ``petsc4py`` is imported anywhere; doing it here keeps test modules free of that
ordering rule. Array-only tests (``surrogates``) do not need it, so a missing FEM stack is
tolerated.
"""

import os

os.environ.setdefault("PYVISTA_OFF_SCREEN", "true")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

try:  # noqa: SIM105
    import dolfinx_solver  # noqa: F401
except ImportError:  # pragma: no cover - only without the FEM stack
    pass


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def toy_ihcp_dataset():
    """The 27-case design on 0 … 3 s (dt 0.1 s) with sensors that are first-order lags of F1
    (gains 0.8…0.2, time constants 0.3…1.2 s): a small data set with a learnable inverse, in
    the :class:`thermo.inverse.dataset.IHCPDataset` layout (σ = 0 and 5 K records)."""
    import numpy as np
    from scipy.signal import lfilter

    from thermo.inverse.dataset import build_dataset

    def forward(f1):
        out = []
        for gain, tau in ((0.8, 0.3), (0.6, 0.5), (0.4, 0.8), (0.2, 1.2)):
            a = np.exp(-0.1 / tau)
            out.append(20.0 + gain * lfilter([1 - a], [1, -a], f1 - 20.0))
        return np.stack(out, axis=1)

    times = 0.1 * np.arange(31)
    names = ("S1", "S2", "S3", "S4")
    return build_dataset(forward, times=times, sensor_names=names, sigmas=(0.0, 5.0))


@pytest.fixture
def mpirun():
    """``mpirun`` beside the Python executable (the ``mpich`` wheel brings it), for the 2-rank
    tests (marker ``mpi``). Without it the test skips, except when the environment variable
    ``CI`` is set: there the wheel stack must have it, so a silent skip would hide a broken
    install and the test fails instead."""
    import sys
    from pathlib import Path

    path = Path(sys.executable).with_name("mpirun")
    if not path.exists():
        message = f"no mpirun beside {sys.executable}"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI is set, so the 2-rank tests must run")
        pytest.skip(message)
    return path

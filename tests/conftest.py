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

"""Gmsh to DOLFINx under MPI: a Gmsh session, its model as a :class:`~meshes.tagged.TaggedMesh`,
and rank 0's errors raised on every rank.

Gmsh runs on rank 0 only (DESIGN.md); the other ranks wait in ``model_to_mesh``. When rank 0
fails before that, it must tell them, or they wait forever: :func:`bcast_error` sends rank 0's
verdict (``None`` = fine) and every rank raises the same exception type and message.
Used by the ``.msh`` loader (:mod:`meshes.io`) and the tool builder (:mod:`meshes.tool`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from meshes.tagged import TaggedMesh
from meshes.units import MeshUnitError
from thermo.atomic import OutputPathError

#: Exception types that keep their type when rank 0's error is raised on every rank.
_ERRORS = {
    e.__name__: e
    for e in (
        FileNotFoundError,
        PermissionError,
        OSError,
        OutputPathError,
        MeshUnitError,
        ValueError,
        KeyError,
        RuntimeError,
    )
}


def world(comm: Any = None) -> Any:
    """``comm``, or ``MPI.COMM_WORLD`` when it is None."""
    from mpi4py import MPI

    return comm or MPI.COMM_WORLD


def bcast_error(comm: Any, error: Exception | None) -> None:
    """Broadcast rank 0's error (None = fine); every rank then raises the same type and message.

    Collective: every rank of ``comm`` calls it (the value passed on ranks > 0 is ignored).
    """
    text = str(error.args[0]) if error is not None and error.args else str(error)
    sent = None if error is None else (type(error).__name__, text)
    got = comm.bcast(sent, root=0)
    if got is not None:
        raise _ERRORS.get(got[0], RuntimeError)(got[1])


@contextlib.contextmanager
def gmsh_session(*, verbose: bool = False) -> Iterator[Any]:
    """Initialise Gmsh (terminal output off unless ``verbose``), yield the module, finalise.

    Finalises even when the body raises, so a failed build leaves no Gmsh state behind.
    """
    import gmsh

    started = not gmsh.isInitialized()
    if started:
        gmsh.initialize(interruptible=False)
    gmsh.option.setNumber("General.Terminal", 1 if verbose else 0)
    gmsh.option.setNumber("General.Verbosity", 5 if verbose else 0)
    try:
        yield gmsh
    finally:
        if started:
            gmsh.finalize()


def tagged_from_model(
    model: Any, comm: Any, *, source: str, sensors: Mapping | None = None
) -> TaggedMesh:
    """Wrap ``dolfinx.io.gmsh.model_to_mesh(model, comm, 0, gdim=3)`` as a :class:`TaggedMesh`.

    ``model`` only needs to hold the meshed model on rank 0 of ``comm``. A mesh without facet
    groups gets empty facet tags (never ``None``). ``sensors``: name → (x, y, z) in metres.
    """
    import dolfinx
    from dolfinx.io import gmsh as dgmsh

    data = dgmsh.model_to_mesh(model, comm, 0, gdim=3)
    tdim = data.mesh.topology.dim
    facet_tags = data.facet_tags
    if facet_tags is None:  # a mesh without facet groups: empty tags keep the contract uniform
        empty = np.empty(0, dtype=np.int32)
        facet_tags = dolfinx.mesh.meshtags(data.mesh, tdim - 1, empty, empty)
    volumes = {n: int(t) for n, (d, t) in data.physical_groups.items() if d == tdim}
    facets = {n: int(t) for n, (d, t) in data.physical_groups.items() if d == tdim - 1}
    return TaggedMesh(
        mesh=data.mesh,
        cell_tags=data.cell_tags,
        facet_tags=facet_tags,
        volume_groups=volumes,
        facet_groups=facets,
        sensors={k: np.asarray(v, dtype=float) for k, v in (sensors or {}).items()},
        source=source,
    )

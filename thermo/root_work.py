"""Work that only rank 0 does, with its result (or its error) sent to every rank.

The inverse part of a reconstruction needs only the sensor probes, which every rank holds
(they are reduced over the ranks during the FEM run), so one rank does it and the others wait.
A plain ``comm.bcast`` makes them wait *busily*: MPICH polls, each waiting rank keeps a core
at 100 % (mostly system time) and, on a 2-core machine, halves what rank 0 can use (measured:
the 28 000-dof main job took 91 s on 2 ranks with a busy wait against 49 s serially). Here the
waiting ranks poll a non-blocking barrier and sleep between polls (``poll_s``), so rank 0 has
the machine; then rank 0's error, if any, is raised on every rank with the same type and
message (:func:`meshes.gmsh_bridge.bcast_error`), else its result is broadcast.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def idle_barrier(comm: Any, *, poll_s: float = 0.02) -> None:
    """A barrier whose waiting ranks sleep between polls instead of spinning (collective):
    put it after work that one rank does alone, so that the others do not take its cores."""
    if comm.size == 1:
        return
    request = comm.Ibarrier()
    while not request.Test():
        time.sleep(poll_s)


def on_root[R](comm: Any, work: Callable[[], R], *, poll_s: float = 0.02) -> R:
    """``work()`` on rank 0 of ``comm``, its result on every rank (collective; pickled).

    Raises:
        Exception: rank 0's exception, on every rank (same type for the common ones).
    """
    from meshes.gmsh_bridge import bcast_error

    if comm.size == 1:
        return work()
    result, failed = None, None
    if comm.rank == 0:
        try:
            result = work()
        except Exception as err:  # every rank raises it
            failed = err
    idle_barrier(comm, poll_s=poll_s)
    bcast_error(comm, failed)
    return comm.bcast(result, root=0)

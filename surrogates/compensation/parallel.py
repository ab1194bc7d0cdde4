r"""Splitting the structure loops of paper 001's study (screening, factorial) over MPI ranks.

Work items are whole structures (one vectorised :func:`~surrogates.compensation.transfer.
train_members` call each). Rank :math:`r` of :math:`R` takes items :math:`k \equiv r \\pmod R`
(round robin: neighbouring items have similar cost), and the results are all-gathered, so every
rank ends with the same list in item order. Seeds are functions of the item index only, never
of the rank, hence a run on any number of ranks gives the same numbers as the serial run.

mpi4py is imported only when the process was started by an MPI launcher (``mpirun``/
``mpiexec``), so serial runs need no MPI at all.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

_LAUNCHER_VARS = ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS")


def world() -> Any | None:
    """``MPI.COMM_WORLD`` when started under an MPI launcher with more than one rank, else None."""
    if not any(v in os.environ for v in _LAUNCHER_VARS):
        return None
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    return comm if comm.Get_size() > 1 else None


def rank(comm: Any | None) -> int:
    """Rank of this process (0 when serial)."""
    return 0 if comm is None else comm.Get_rank()


def share(n_items: int, comm: Any | None) -> list[int]:
    """Indices of the items this rank works on (all of them when serial)."""
    if n_items < 0:
        raise ValueError(f"share: n_items must be >= 0, got {n_items}")
    if comm is None:
        return list(range(n_items))
    return list(range(comm.Get_rank(), n_items, comm.Get_size()))


def map_over_ranks[T, R](
    fn: Callable[[int, T], R], items: Sequence[T], comm: Any | None
) -> list[R]:
    """``[fn(k, items[k]) for k in range(len(items))]`` with the calls split over the ranks of
    ``comm`` (serial when None); every rank returns the full list, in item order."""
    mine = {k: fn(k, items[k]) for k in share(len(items), comm)}
    if comm is None:
        return [mine[k] for k in range(len(items))]
    merged: dict[int, R] = {}
    for part in comm.allgather(mine):
        merged.update(part)
    return [merged[k] for k in range(len(items))]


def bcast[T](value: T, comm: Any | None, *, root: int = 0) -> T:
    """``value`` of rank ``root`` on every rank (identity when serial)."""
    return value if comm is None else comm.bcast(value, root=root)

"""Peak resident memory of a run over its MPI ranks (the main job's ``metrics.json`` and the
benchmarks' memory columns).

``resource.getrusage(RUSAGE_SELF).ru_maxrss`` is the process's high-water mark of resident
memory, in KiB on Linux; over the ranks of a communicator the worst rank and the sum (what the
machine had to hold at worst, an upper bound since the peaks need not coincide) are reported
in MB (1 MB = 1024 KiB).
"""

from __future__ import annotations

import resource
from typing import Any


def peak_rss_mb(comm: Any) -> dict[str, float]:
    """``{"max_rank", "sum_ranks"}``: the peak resident memory so far, MB (collective)."""
    kib = comm.allgather(int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
    return {"max_rank": max(kib) / 1024.0, "sum_ranks": sum(kib) / 1024.0}

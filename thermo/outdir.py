"""Atomic output folders: a run writes into a hidden sibling folder and publishes it at the end.

A case writes everything into ``partial_dir(out)`` (``.<name>.partial-<id>`` beside ``out``)
and, once all files are complete, calls :func:`publish_dir`, which swaps it in for ``out``. An
earlier result under ``out`` is replaced only at that moment, so a crashed or interrupted run never
leaves a half-written folder under the final name. Plain standard library: usable from every
package and case script.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path


def partial_dir(out: Path) -> Path:
    """Create and return a fresh hidden sibling folder of ``out`` to write a run into."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.partial-{uuid.uuid4().hex[:8]}")
    tmp.mkdir()
    return tmp


def publish_dir(tmp: Path, out: Path) -> None:
    """Move the finished folder ``tmp`` to ``out``, replacing an older ``out`` only now."""
    out = Path(out)
    old = out.with_name(f".{out.name}.old-{uuid.uuid4().hex[:8]}")
    if out.exists():
        os.replace(out, old)
    os.replace(tmp, out)
    shutil.rmtree(old, ignore_errors=True)

"""The one way millheat writes outputs: atomic files and staged output folders.

Nothing is ever half-written under its final name:

* :func:`atomic_path` yields a hidden temporary sibling of the target file (same suffix, so
  libraries that pick the format from the name — matplotlib, NumPy's ``.npz``, meshio, Gmsh —
  write the right thing); the temporary file is renamed onto the target only when the block
  ends without an exception, and removed otherwise. :func:`atomic_write_text`,
  :func:`atomic_write_bytes` and :func:`atomic_write_json` are the common cases.
* :func:`staged_dir` yields a hidden sibling folder ``.<name>.partial-<pid>-<id>`` of an
  output folder; the run writes everything into it, and only when the block succeeds is it
  published under the final name (the previous result is moved aside and deleted in that
  moment). On any failure, including ``KeyboardInterrupt``, the staged folder is removed and the
  previous result stays in place. A process killed with SIGKILL leaves the previous result intact
  and its staged folder behind; the next run with the same target removes staged folders of
  processes that are no longer alive.

A rename within one folder is atomic on POSIX file systems (``os.replace``), which is what both
helpers rely on. This module uses the standard library only, so ``meshes``, ``thermo``,
``surrogates`` and the case scripts all import it without pulling in DOLFINx or JAX. Under MPI pass
the communicator (any object with ``rank``, ``bcast`` and ``barrier``, e.g. ``mpi4py``'s): rank 0
creates and publishes the folder, every rank writes into the same path.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol


class OutputPathError(ValueError):
    """An output path that cannot be used as asked (e.g. a folder target that is a file)."""


class _Comm(Protocol):  # the part of mpi4py's Comm that staged_dir uses
    rank: int

    def bcast(self, obj: Any, root: int = 0) -> Any: ...

    def barrier(self) -> None: ...


def _tag() -> str:
    return f"{os.getpid()}-{uuid.uuid4().hex[:8]}"


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling of ``path`` to write; rename it onto ``path`` on success.

    The temporary name is ``.<stem>.partial-<pid>-<id><suffix>`` in the same folder (created if
    missing). On an exception the temporary file is removed and ``path`` is left as it was.
    ``path`` must not be an existing folder.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputPathError(f"{path}: is a folder; expected a file path")
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(path.suffixes[-1:])
    stem = path.name[: len(path.name) - len(suffix)] if suffix else path.name
    tmp = path.with_name(f".{stem}.partial-{_tag()}{suffix}")
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"{path}: nothing was written to its temporary file {tmp}")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns ``path``."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns ``path``."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, obj: Any, *, indent: int = 2) -> Path:
    """Write ``obj`` as JSON (with a final newline) to ``path`` atomically; returns ``path``."""
    return atomic_write_text(path, json.dumps(obj, indent=indent) + "\n")


def check_output_dir(out: str | Path) -> Path:
    """Return ``out`` as a path, or raise :class:`OutputPathError` if it is an existing file.

    Call it before any long work so that a wrong ``--out`` fails at once.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputPathError(
            f"{out}: exists and is a file, not an output folder; choose another --out "
            "(millheat never replaces a file with a folder)"
        )
    return out


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _clean_stale(out: Path) -> None:
    """Remove staged folders of dead processes; restore a result moved aside by a killed publish."""
    prefix = f".{out.name}."
    for sibling in out.parent.glob(f".{out.name}.*"):
        kind, _, tag = sibling.name[len(prefix) :].partition("-")
        pid = tag.split("-", 1)[0]
        if kind not in ("partial", "old") or not pid.isdigit() or _pid_alive(int(pid)):
            continue
        if kind == "old" and not out.exists():
            _publish(sibling, out)  # killed between the two renames of a publish: restore
        else:
            shutil.rmtree(sibling, ignore_errors=True)


def _publish(staged: Path, out: Path) -> None:
    old = out.with_name(f".{out.name}.old-{_tag()}")
    if out.exists():
        os.replace(out, old)
    os.replace(staged, out)
    shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def staged_dir(out: str | Path, *, comm: _Comm | None = None) -> Iterator[Path]:
    """Yield a hidden sibling folder of ``out`` to write a run into; publish it as ``out``.

    Args:
        out: final output folder; an existing folder there is replaced only when the block
            succeeds. An existing regular file there is refused (:class:`OutputPathError`).
        comm: optional MPI communicator; rank 0 creates and publishes, every rank gets the
            same staged path, with barriers around the publish.

    Raises:
        OutputPathError: ``out`` is an existing file.
    """
    out = check_output_dir(Path(out).absolute())
    rank = 0 if comm is None else comm.rank
    staged: Path | None = None
    if rank == 0:
        out.parent.mkdir(parents=True, exist_ok=True)
        _clean_stale(out)
        staged = out.with_name(f".{out.name}.partial-{_tag()}")
        staged.mkdir()
    if comm is not None:
        staged = Path(comm.bcast(str(staged), root=0))
    assert staged is not None
    try:
        yield staged
        if comm is not None:
            comm.barrier()
        if rank == 0:
            _publish(staged, out)
        if comm is not None:
            comm.barrier()
    except BaseException:
        if rank == 0:
            shutil.rmtree(staged, ignore_errors=True)
        raise

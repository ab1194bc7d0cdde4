"""The one atomic writer (thermo.atomic): files and staged output folders, also under SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from thermo.atomic import (
    OutputPathError,
    atomic_path,
    atomic_write_json,
    atomic_write_text,
    staged_dir,
)


def test_atomic_file_keeps_suffix_and_replaces_only_on_success(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "table.csv"
    atomic_write_text(target, "a,b\n1,2\n")
    with atomic_path(target) as tmp:
        assert tmp.suffix == ".csv" and tmp.parent == target.parent and tmp.name.startswith(".")
        tmp.write_text("new")
    assert target.read_text() == "new"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash while writing")
    assert target.read_text() == "new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["table.csv"]
    atomic_write_json(tmp_path / "m.json", {"x": 1})
    assert json.loads((tmp_path / "m.json").read_text()) == {"x": 1}


def test_staged_dir_publishes_and_keeps_previous_on_failure(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with staged_dir(out) as stage:
        (stage / "a.txt").write_text("first")
        assert not out.exists()
    assert (out / "a.txt").read_text() == "first"
    with pytest.raises(KeyboardInterrupt), staged_dir(out) as stage:
        (stage / "a.txt").write_text("second, never finished")
        raise KeyboardInterrupt
    assert (out / "a.txt").read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_output_folder_that_is_a_file_is_refused(tmp_path: Path) -> None:
    user_file = tmp_path / "notes.txt"
    user_file.write_text("mine")
    with pytest.raises(OutputPathError, match="is a file"), staged_dir(user_file):
        pass
    assert user_file.read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


_KILLED_RUN = """
import sys, time
from pathlib import Path
from thermo.atomic import atomic_path, staged_dir
out = Path(sys.argv[1])
with staged_dir(out) as stage:
    (stage / "result.txt").write_text("new, incomplete")
    with atomic_path(out.parent / "single.txt") as tmp:
        tmp.write_text("partial single file")
        print("writing", flush=True)
        time.sleep(60)
"""


def test_sigkill_mid_run_leaves_previous_result_and_no_partial_file(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with staged_dir(out) as stage:
        (stage / "result.txt").write_text("previous, complete")
    (tmp_path / "single.txt").write_text("previous single")
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_RUN, str(out)],
        stdout=subprocess.PIPE,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert (out / "result.txt").read_text() == "previous, complete"
    assert (tmp_path / "single.txt").read_text() == "previous single"
    # the killed process's staged folder is left behind under a hidden name ...
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers and all(".partial-" in n for n in leftovers)
    # ... and the next run on the same target removes it
    time.sleep(0.05)
    with staged_dir(out) as stage:
        (stage / "result.txt").write_text("next")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(f".{out.name}.")]
    assert (out / "result.txt").read_text() == "next"


def test_a_result_moved_aside_by_a_killed_publish_is_restored(tmp_path: Path) -> None:
    """Killed between the two renames of a publish: the old result sits under ``.run.old-*``
    and no ``run`` exists; the next staged run puts it back before it starts (and replaces it
    only when it succeeds)."""
    dead_pid = 2**22 + 12345  # above Linux's default pid_max, never a live process
    aside = tmp_path / f".run.old-{dead_pid}-deadbeef"
    aside.mkdir()
    (aside / "result.txt").write_text("previous")
    with pytest.raises(RuntimeError), staged_dir(tmp_path / "run"):
        assert (tmp_path / "run" / "result.txt").read_text() == "previous"
        raise RuntimeError("this run fails")
    assert (tmp_path / "run" / "result.txt").read_text() == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]

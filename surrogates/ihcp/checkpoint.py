"""Orbax checkpoints of Flax NNX models, with the best-validation epoch's metadata.

A checkpoint is a folder holding ``state/`` (the model's full NNX state as a pure dict of arrays,
written by :class:`orbax.checkpoint.StandardCheckpointer`) and ``meta.json`` (free-form metadata:
model name, best epoch, validation loss, ...). The folder is assembled under a temporary sibling
name and renamed into place, so a reader never sees half a checkpoint.

:func:`surrogates.training.fit` already leaves the best-validation parameters in the model, so
saving the model after ``fit`` (:func:`save_best`) stores the best-validation checkpoint.
Restoring needs a template model of the same architecture (any seed); its state is replaced.
RNG streams (dropout keys) are not stored: the restored model keeps the template's streams, which
does not affect evaluation-mode predictions.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import orbax.checkpoint as ocp
from flax import nnx

from surrogates.training import TrainResult

#: Stored variables: everything but RNG streams (dropout keys are not model knowledge).
_STORED = nnx.Not(nnx.RngState)
META_NAME = "meta.json"
STATE_NAME = "state"


def save_checkpoint(
    model: nnx.Module, directory: str | Path, *, metadata: dict[str, Any] | None = None
) -> Path:
    """Write ``model``'s state and ``metadata`` (JSON-serialisable) to ``directory`` (replaced)."""
    directory = Path(directory).absolute()
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        state = nnx.to_pure_dict(nnx.state(model, _STORED))
        checkpointer = ocp.StandardCheckpointer()
        checkpointer.save(tmp / STATE_NAME, state)
        checkpointer.wait_until_finished()
        checkpointer.close()
        (tmp / META_NAME).write_text(json.dumps(metadata or {}, indent=2, sort_keys=True))
        old = None
        if directory.exists():
            old = directory.with_name(f".{directory.name}.old-{tmp.name}")
            directory.rename(old)
        tmp.rename(directory)
        if old is not None:
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return directory


def save_best(
    result: TrainResult, directory: str | Path, *, metadata: dict[str, Any] | None = None
) -> Path:
    """Save the best-validation model of a :func:`~surrogates.training.fit` result.

    ``meta.json`` gets ``best_epoch``, ``best_val_loss`` (NaN-free; None without validation),
    ``seconds_per_epoch`` and ``epochs_run`` besides ``metadata``.
    """
    meta = dict(metadata or {})
    meta.update(
        best_epoch=int(result.best_epoch),
        best_val_loss=(float(result.val_loss[result.best_epoch]) if result.val_loss.size else None),
        seconds_per_epoch=float(result.seconds_per_epoch),
        epochs_run=int(result.train_loss.size),
    )
    return save_checkpoint(result.model, directory, metadata=meta)


def restore_checkpoint(directory: str | Path, *, model: nnx.Module) -> nnx.Module:
    """Load the state saved in ``directory`` into ``model`` (same architecture) and return it."""
    directory = Path(directory).absolute()
    if not (directory / STATE_NAME).is_dir():
        raise FileNotFoundError(f"restore_checkpoint: no '{STATE_NAME}/' in {directory}")
    template = nnx.state(model, _STORED)
    checkpointer = ocp.StandardCheckpointer()
    try:
        restored = checkpointer.restore(directory / STATE_NAME, nnx.to_pure_dict(template))
    except (ValueError, KeyError) as err:
        raise ValueError(
            f"restore_checkpoint: state in {directory} does not match the model's structure"
        ) from err
    finally:
        checkpointer.close()
    nnx.replace_by_pure_dict(template, _as_numpy(restored))
    nnx.update(model, template)
    return model


def _as_numpy(tree: Any) -> Any:
    if isinstance(tree, dict):
        return {k: _as_numpy(v) for k, v in tree.items()}
    return np.asarray(tree)


def load_metadata(directory: str | Path) -> dict[str, Any]:
    """The ``meta.json`` of a checkpoint folder."""
    path = Path(directory) / META_NAME
    if not path.is_file():
        raise FileNotFoundError(f"load_metadata: {path} not found")
    return json.loads(path.read_text())

"""Orbax checkpoints of Flax NNX models, with the best-validation epoch's metadata.

A checkpoint is a folder holding ``state/`` (the model's full NNX state as a pure dict of arrays,
written by :class:`orbax.checkpoint.StandardCheckpointer`) and ``meta.json`` (free-form metadata:
model name, best epoch, validation loss, ...). The folder is assembled in a staged sibling and
published by :func:`thermo.atomic.staged_dir`, so a reader never sees half a checkpoint.
Restoring compares the stored parameter names and shapes with the template model first and
raises a one-line :class:`ValueError` naming the folder (expected vs found layout, e.g. a CNN
made for another window), as it does for a corrupt or truncated ``state/`` or ``meta.json``.

:func:`surrogates.training.fit` already leaves the best-validation parameters in the model, so
saving the model after ``fit`` (:func:`save_best`) stores the best-validation checkpoint.
Restoring needs a template model of the same architecture (any seed); its state is replaced.
RNG streams (dropout keys) are not stored: the restored model keeps the template's streams, which
does not affect evaluation-mode predictions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import orbax.checkpoint as ocp
from flax import nnx

from surrogates.training import TrainResult
from thermo.atomic import staged_dir

#: Stored variables: everything but RNG streams (dropout keys are not model knowledge).
_STORED = nnx.Not(nnx.RngState)
META_NAME = "meta.json"
STATE_NAME = "state"


def save_checkpoint(
    model: nnx.Module, directory: str | Path, *, metadata: dict[str, Any] | None = None
) -> Path:
    """Write ``model``'s state and ``metadata`` (JSON-serialisable) to ``directory`` (replaced)."""
    directory = Path(directory).absolute()
    with staged_dir(directory) as tmp:
        state = nnx.to_pure_dict(nnx.state(model, _STORED))
        checkpointer = ocp.StandardCheckpointer()
        try:
            checkpointer.save(tmp / STATE_NAME, state)
            checkpointer.wait_until_finished()
        finally:
            checkpointer.close()
        (tmp / META_NAME).write_text(json.dumps(metadata or {}, indent=2, sort_keys=True))
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
    state_dir = directory / STATE_NAME
    if not state_dir.is_dir():
        raise FileNotFoundError(f"restore_checkpoint: no '{STATE_NAME}/' in {directory}")
    template = nnx.state(model, _STORED)
    pure = nnx.to_pure_dict(template)
    expected = _shapes(pure, lambda a: tuple(np.shape(a)))
    checkpointer = ocp.StandardCheckpointer()
    try:
        try:
            stored = checkpointer.metadata(state_dir)
            stored = getattr(stored, "item_metadata", stored)
            found = _shapes(getattr(stored, "tree", stored), lambda m: getattr(m, "shape", None))
        except Exception as err:  # orbax/tensorstore raise many kinds on damaged files
            raise ValueError(
                f"{state_dir}: corrupt or truncated checkpoint ({_first_line(err)})"
            ) from None
        unreadable = sorted(k for k, v in found.items() if v is None)
        if unreadable or not found:
            named = [k for k in unreadable if k] or "any parameter"
            raise ValueError(
                f"{state_dir}: corrupt or truncated checkpoint (no array metadata for {named})"
            )
        found = {k: tuple(v) for k, v in found.items()}
        if found != expected:
            raise ValueError(f"{state_dir}: checkpoint of another layout: {_diff(expected, found)}")
        try:
            restored = checkpointer.restore(state_dir, pure)
        except Exception as err:
            raise ValueError(
                f"{state_dir}: corrupt or truncated checkpoint ({_first_line(err)})"
            ) from None
    finally:
        checkpointer.close()
    arrays = _as_numpy(restored)
    bad = [k for k, a in _flat(arrays).items() if not np.all(np.isfinite(a))]
    if bad:
        raise ValueError(f"{state_dir}: non-finite values in {bad}")
    nnx.replace_by_pure_dict(template, arrays)
    nnx.update(model, template)
    return model


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0][:200]}" if text else type(err).__name__


def _flat(tree: Any, prefix: str = "") -> dict[str, Any]:
    """{"a.b.c": leaf} of a nested dict (keys joined by dots)."""
    if isinstance(tree, dict):
        out: dict[str, Any] = {}
        for k, v in tree.items():
            out |= _flat(v, f"{prefix}{k}.")
        return out
    return {prefix[:-1]: tree}


def _shapes(tree: Any, shape) -> dict[str, tuple[int, ...]]:
    return {k: shape(v) for k, v in _flat(tree).items()}


def _diff(expected: dict[str, tuple], found: dict[str, tuple]) -> str:
    """What differs between two {name: shape} layouts, expected vs found (one line)."""
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    shapes = [
        f"{k} {found[k]} (expected {expected[k]})"
        for k in sorted(set(expected) & set(found))
        if expected[k] != found[k]
    ]
    parts = [f"missing {missing}"] * bool(missing) + [f"unexpected {extra}"] * bool(extra)
    parts += [f"shapes {', '.join(shapes)}"] * bool(shapes)
    return "; ".join(parts)


def _as_numpy(tree: Any) -> Any:
    if isinstance(tree, dict):
        return {k: _as_numpy(v) for k, v in tree.items()}
    return np.asarray(tree)


def load_metadata(directory: str | Path) -> dict[str, Any]:
    """The ``meta.json`` of a checkpoint folder."""
    path = Path(directory) / META_NAME
    if not path.is_file():
        raise FileNotFoundError(f"load_metadata: {path} not found")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: corrupt or truncated JSON ({_first_line(err)})") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{path}: expected a JSON object, found {type(meta).__name__}")
    return meta

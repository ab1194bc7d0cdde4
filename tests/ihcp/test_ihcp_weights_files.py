"""Bad weights files are refused with one line naming the file and what is wrong; writing them is
atomic; retrained weights are compared with a saved set.

Covers :meth:`surrogates.ihcp.estimator.NeuralInverse.load` (the reconstruction's ``.npz`` +
``.json``), :func:`surrogates.ihcp.checkpoint.restore_checkpoint` (the study's Orbax folders) and
:func:`surrogates.ihcp.recon_training.weight_differences`.
"""

from __future__ import annotations

import json
import re
import zipfile

import numpy as np
import pytest
from flax import nnx

from surrogates.ihcp.checkpoint import load_metadata, restore_checkpoint, save_checkpoint
from surrogates.ihcp.estimator import NeuralInverse, build_member
from surrogates.ihcp.models import make_model
from surrogates.ihcp.recon_training import weight_differences
from surrogates.ihcp.windows import MinMaxScaler

SPEC = {"filters": [4], "units": [3], "n_features": 7}
NAMES = ("S1", "S2", "S3", "S4")


def _estimator(n_members=2, *, spec=SPEC, names=NAMES, seed=0, kind="student"):
    n_f = spec["n_features"]
    xs = MinMaxScaler(data_min=np.zeros(n_f), data_max=np.ones(n_f))
    ys = MinMaxScaler(data_min=np.array(20.0), data_max=np.array(700.0))
    members = [build_member(spec, seed=seed + k) for k in range(n_members)]
    return NeuralInverse(kind, members, spec, xs, ys, 6, 0.1, names)


def _one_line_value_error(call, *parts):
    with pytest.raises(ValueError) as info:
        call()
    msg = str(info.value)
    assert "\n" not in msg and info.value.__cause__ is None, msg
    for part in parts:
        assert re.search(part, msg), (part, msg)
    return msg


def _drop_digest(js):
    meta = json.loads(js.read_text())
    meta.pop("npz_sha256")
    js.write_text(json.dumps(meta))


def test_save_is_atomic_and_records_the_digest(tmp_path):
    npz, js = _estimator().save(tmp_path / "student")
    _estimator(seed=5).save(tmp_path / "student")  # replaced in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["student.json", "student.npz"]
    assert len(json.loads(js.read_text())["npz_sha256"]) == 64
    NeuralInverse.load(tmp_path / "student")


def test_truncated_or_corrupt_npz(tmp_path):
    npz, js = _estimator().save(tmp_path / "student")
    data = npz.read_bytes()
    npz.write_bytes(data[: len(data) // 2])
    msg = _one_line_value_error(
        lambda: NeuralInverse.load(tmp_path / "student"), re.escape(str(npz)), "SHA-256 differs"
    )
    print(msg)
    _drop_digest(js)  # as in files written before the digest (the shipped ones)
    msg = _one_line_value_error(
        lambda: NeuralInverse.load(tmp_path / "student"),
        re.escape(str(npz)),
        "corrupt or truncated weights file",
    )
    print(msg)
    npz.write_bytes(b"not a zip file at all")
    _one_line_value_error(lambda: NeuralInverse.load(tmp_path / "student"), "corrupt or truncated")


def test_corrupt_or_incomplete_description(tmp_path):
    npz, js = _estimator().save(tmp_path / "student")
    good = js.read_text()
    js.write_text(good[: len(good) // 2])
    msg = _one_line_value_error(
        lambda: NeuralInverse.load(tmp_path / "student"),
        re.escape(str(js)),
        "not a weights description",
    )
    print(msg)
    meta = json.loads(good)
    for field, value, expected in (
        ("window", 2, r"field 'window' must be an int >= 4"),
        ("n_members", 0, r"field 'n_members' must be an int >= 1"),
        ("x_scaler", {"min": [0.0] * 6, "max": [1.0] * 6}, r"'x_scaler.min' must be 7 finite"),
        ("dt_s", -0.1, r"field 'dt_s' must be a time > 0 s"),
        ("format", "something/2", r"format 'something/2', expected 'millheat.neural_inverse/1'"),
    ):
        js.write_text(json.dumps(meta | {field: value}))
        msg = _one_line_value_error(
            lambda: NeuralInverse.load(tmp_path / "student"), re.escape(str(js)), expected
        )
        print(msg)
    js.write_text(json.dumps(meta | {"spec": SPEC | {"n_features": 6}}))
    msg = _one_line_value_error(
        lambda: NeuralInverse.load(tmp_path / "student"),
        r"'spec.n_features' must be 7 \(3 machining parameters \+ 4 sensors\), found 6",
    )
    print(msg)


def test_weights_of_another_layout(tmp_path):
    """.npz files of another feature layout (3 sensors), architecture or member count under the
    description of a 4-sensor, 2-member ensemble."""
    _, js = _estimator().save(tmp_path / "student")
    _drop_digest(js)
    others = {
        "three_sensors": _estimator(spec=SPEC | {"n_features": 6}, names=NAMES[:3]),
        "wider": _estimator(spec=SPEC | {"units": [5]}),
        "one_member": _estimator(1),
    }
    expected = {
        "three_sensors": r"member 0: weights of another layout: .*kernel.* has shape \(4, 6, 4\), "
        r"expected \(4, 7, 4\) for student\.json \(filters \[4\], units \[3\], n_features 7",
        "wider": r"member 0: weights of another layout: .* has shape .*expected .*units \[3\]",
        "one_member": r"weights of another layout: holds members \['m0'\], expected "
        r"\['m0', 'm1'\]",
    }
    for name, other in others.items():
        npz, _ = other.save(tmp_path / name)
        (tmp_path / "student.npz").write_bytes(npz.read_bytes())
        msg = _one_line_value_error(
            lambda: NeuralInverse.load(tmp_path / "student"),
            re.escape(str(tmp_path / "student.npz")),
            expected[name],
        )
        print(msg)


def test_non_finite_weights(tmp_path):
    est = _estimator()
    npz, js = est.save(tmp_path / "student")
    _drop_digest(js)
    with np.load(npz) as data:
        arrays = {k: data[k] for k in data.files}
    key = sorted(arrays)[0]
    arrays[key] = np.full_like(arrays[key], np.nan)
    np.savez(npz, **arrays)
    _one_line_value_error(lambda: NeuralInverse.load(tmp_path / "student"), "non-finite")


def test_checkpoint_of_another_window_or_corrupt(tmp_path):
    """Orbax checkpoints: a CNN (its dense layer depends on the window) made for window 12,
    restored into one for window 10; a truncated state; a truncated meta.json."""
    path = save_checkpoint(make_model("cnn", seed=0, window=12), tmp_path / "cnn", metadata={})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cnn"]  # staged folder published
    restore_checkpoint(path, model=make_model("cnn", seed=1, window=12))
    msg = _one_line_value_error(
        lambda: restore_checkpoint(path, model=make_model("cnn", seed=1, window=10)),
        re.escape(str(path / "state")),
        r"checkpoint of another layout: shapes head\.kernel \(756, 1\) \(expected \(504, 1\)\)",
    )
    print(msg)
    (path / "meta.json").write_text('{"best_epoch": ')
    msg = _one_line_value_error(
        lambda: load_metadata(path), re.escape(str(path / "meta.json")), "corrupt or truncated"
    )
    print(msg)
    for f in (path / "state").rglob("*"):
        if f.is_file() and f.stat().st_size > 0:
            f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    msg = _one_line_value_error(
        lambda: restore_checkpoint(path, model=make_model("cnn", seed=1, window=12)),
        re.escape(str(path / "state")),
        "corrupt or truncated checkpoint",
    )
    print(msg)


def test_weight_differences_to_a_saved_set(tmp_path):
    teacher = _estimator(1, kind="teacher", spec=SPEC | {"units": [5]})
    students = _estimator(2)
    teacher.save(tmp_path / "teacher")
    students.save(tmp_path / "student")
    same = weight_differences(teacher, students, tmp_path)
    assert same == {
        "compared_with": str(tmp_path),
        "teacher": 0.0,  # a file round trip gives the stored bits back
        "student": 0.0,
        "max": 0.0,
        "note": None,
    }
    moved = _estimator(2, seed=7)
    diff = weight_differences(teacher, moved, tmp_path)
    assert diff["teacher"] == 0.0 and diff["student"] > 0.0 and diff["max"] == diff["student"]
    fewer = weight_differences(teacher, _estimator(1), tmp_path)
    assert fewer["student"] is None and fewer["max"] is None and "another layout" in fewer["note"]
    missing = weight_differences(teacher, students, tmp_path / "nowhere")
    assert missing["max"] is None and "teacher.npz" in missing["note"]
    zipfile.ZipFile(tmp_path / "student.npz", "w").close()  # an empty archive
    broken = weight_differences(teacher, students, tmp_path)
    assert broken["student"] is None and "SHA-256" in broken["note"]


def test_nnx_template_is_needed_for_restore(tmp_path):
    path = save_checkpoint(make_model("student", seed=0), tmp_path / "s")
    with pytest.raises(FileNotFoundError, match="no 'state/'"):
        restore_checkpoint(tmp_path / "missing", model=make_model("student", seed=0))
    restored = restore_checkpoint(path, model=make_model("student", seed=3))
    assert isinstance(restored, nnx.Module)

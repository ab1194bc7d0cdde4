r"""Trained neural inverse models as F1 estimators for the reconstruction (paper 000 §4.2).

A :class:`NeuralInverse` holds one network (the CNN-GRU teacher) or an ensemble of K students of
one architecture, the min–max scalers of their training split and the window length w and step
dt they were trained on. For a record of sensor temperatures it returns the F1 (cutting-zone)
temperature history:

1. resample the record onto the model's grid :math:`t_n = n\,dt` (linear interpolation);
2. per step the features :math:`u_n = (N, f_z, a_e, T_{s1..s4}(t_n))`, scaled to [-1, 1]
   (:mod:`.windows`, eq. 1), with the first row repeated w − 1 times before t = 0
   (:func:`.windows.pad_start`: the tool rests at T0 before the cut), so every step has a window;
3. each member k maps the window ending at :math:`t_n` to :math:`\hat T^{(k)}_{F1}(t_n)` (inverse
   scaling, eq. 2); all windows of all members in ONE jitted call: the members' parameters
   stacked on a leading axis and the pure sliding-window apply, which shares the convolutions
   across overlapping windows (:meth:`.models.ConvRecurrent.sliding`), ``jax.vmap``-ped over it;
4. the estimate is the ensemble mean :math:`\bar T = \frac1K\sum_k \hat T^{(k)}` and the band
   :math:`\bar T \pm z\,s` with s the ensemble standard deviation (ddof = 1), interpolated back to
   the record's times.

The ensemble band measures the spread between students trained from different initialisations
and batch orders, i.e. model (epistemic) uncertainty only; the input noise is handled by training
on noisy records. It is not a calibrated posterior: its coverage of the truth is measured and
reported, not assumed.

Weights are stored as a flat ``.npz`` (one array per parameter, keyed ``m<k>/<path>``) plus a
``.json`` of the architecture, scalers, window, dt and the training provenance: a few hundred kB,
portable, and loadable without Orbax (the training study's checkpoints use Orbax). Both files are
written atomically (:mod:`thermo.atomic`), the ``.npz`` first; the ``.json`` records the SHA-256
of the ``.npz`` it describes, so a pair from two different saves, or an ``.npz`` corrupted after
writing, is refused on loading. :meth:`NeuralInverse.load` checks everything before building a
network and raises a one-line :class:`ValueError` naming the file and what is wrong (a truncated
or corrupt file, a description that is not the expected JSON, or weights whose layout, i.e.
members, parameters and shapes, differs from the architecture the ``.json`` declares).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from thermo.atomic import atomic_write_bytes, atomic_write_text

from .models import KERNEL_SIZE, ConvRecurrent
from .windows import N_PARAMS, MinMaxScaler, pad_start

FORMAT = "millheat.neural_inverse/1"
#: Folder of the weights shipped with millheat (made by ``milling_reconstruction --retrain``).
SHIPPED_DIR = Path(__file__).parent / "weights"
PARAM_KEYS = ("n_rpm", "fz_mm", "ae_mm")
#: Independent window groups of the batched ensemble call (:meth:`NeuralInverse.batched_apply`).
#: 2: on the quiet 2-core machine the shipped 5-student network took 6.5 ms median with two
#: groups against 7.5 ms with one (50 interleaved calls; 6.3 vs 7.1 and 5.4 vs 5.9 ms in two
#: more runs with other XLA flags), the two chains keeping both cores busy; on a loaded machine
#: (an earlier session) they were no faster. Same numbers up to float32 round-off
#: (tests/ihcp/test_ensemble_batched.py); ``python -m benchmarks.ensemble`` times both.
WINDOW_CHUNKS = 2


def build_member(spec: Mapping[str, Any], *, seed: int = 0) -> ConvRecurrent:
    """A conv-GRU network of ``spec = {"filters": [...], "units": [...], "n_features": F}``."""
    return ConvRecurrent(
        n_features=int(spec["n_features"]),
        filters=tuple(int(f) for f in spec["filters"]),
        units=tuple(int(u) for u in spec["units"]),
        kernel_size=int(spec.get("kernel_size", KERNEL_SIZE)),
        rngs=nnx.Rngs(seed),
    )


def _flat_params(model: nnx.Module) -> dict[str, np.ndarray]:
    flat, _ = jax.tree_util.tree_flatten_with_path(nnx.state(model, nnx.Param))
    return {jax.tree_util.keystr(k): np.asarray(v) for k, v in flat}


def _set_params(
    model: nnx.Module, arrays: Mapping[str, np.ndarray], *, where: str, layout: str
) -> None:
    """Copy ``arrays`` into ``model``'s parameters; ValueError (naming ``where`` and the
    expected ``layout``) on a missing, extra, mis-shaped or non-finite parameter."""
    state = nnx.state(model, nnx.Param)
    flat, treedef = jax.tree_util.tree_flatten_with_path(state)
    expected = {jax.tree_util.keystr(k): v.shape for k, v in flat}
    missing = [k for k in expected if k not in arrays]
    extra = sorted(set(arrays) - set(expected))
    if missing or extra:
        raise ValueError(
            f"{where}: weights of another layout: expected parameters {sorted(expected)} of "
            f"{layout}; missing {missing}, unexpected {extra}"
        )
    leaves = []
    for k, v in flat:
        key = jax.tree_util.keystr(k)
        a = np.asarray(arrays[key])
        if a.shape != v.shape:
            raise ValueError(
                f"{where}: weights of another layout: {key} has shape {a.shape}, expected "
                f"{tuple(v.shape)} for {layout}"
            )
        if not np.issubdtype(a.dtype, np.floating) or not np.all(np.isfinite(a)):
            raise ValueError(f"{where}: {key} holds non-finite or non-float values ({a.dtype})")
        leaves.append(jnp.asarray(a, dtype=v.dtype))
    nnx.update(model, jax.tree_util.tree_unflatten(treedef, leaves))


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__


def _read_description(js: Path) -> dict[str, Any]:
    """The ``.json`` of a saved estimator, checked field by field (ValueError naming ``js``)."""
    try:
        meta = json.loads(js.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(
            f"{js}: not a weights description (corrupt or truncated JSON: {_first_line(err)})"
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise ValueError(f"{js}: format {found!r}, expected {FORMAT!r}")

    def need(cond: bool, field_: str, expected: str) -> None:
        if not cond:
            found = meta
            for part in field_.split("."):
                found = found.get(part) if isinstance(found, dict) else None
            shown = repr(found)
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            raise ValueError(f"{js}: field '{field_}' must be {expected}, found {shown}")

    def is_int(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    def numbers(v: Any) -> bool:
        return isinstance(v, list) and all(
            isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in v
        )

    need(is_int(meta.get("n_members")) and meta["n_members"] >= 1, "n_members", "an int >= 1")
    spec = meta.get("spec")
    need(isinstance(spec, dict), "spec", "an object {filters, units, n_features}")
    for key in ("filters", "units"):
        v = spec.get(key)
        need(isinstance(v, list) and v and all(is_int(x) and x >= 1 for x in v),
             f"spec.{key}", "a non-empty list of ints >= 1")  # fmt: skip
    need(is_int(spec.get("n_features")), "spec.n_features", "an int")
    names = meta.get("sensor_names")
    need(isinstance(names, list) and names and all(isinstance(n, str) for n in names),
         "sensor_names", "a non-empty list of names")  # fmt: skip
    n_features = N_PARAMS + len(names)
    need(spec["n_features"] == n_features, "spec.n_features",
         f"{n_features} ({N_PARAMS} machining parameters + {len(names)} sensors)")  # fmt: skip
    kernel = spec.get("kernel_size", KERNEL_SIZE)
    need(is_int(kernel) and kernel >= 1, "spec.kernel_size", "an int >= 1")
    min_window = len(spec["filters"]) * (kernel - 1) + 1
    need(is_int(meta.get("window")) and meta["window"] >= min_window, "window",
         f"an int >= {min_window} (the receptive field of the convolutions)")  # fmt: skip
    dt = meta.get("dt_s")
    need(isinstance(dt, (int, float)) and math.isfinite(dt) and dt > 0, "dt_s", "a time > 0 s")
    xs, ys = meta.get("x_scaler"), meta.get("y_scaler")
    need(isinstance(xs, dict), "x_scaler", "an object {min, max}")
    for key in ("min", "max"):
        v = xs.get(key)
        need(numbers(v) and len(v) == n_features, f"x_scaler.{key}",
             f"{n_features} finite numbers (one per feature)")  # fmt: skip
    need(isinstance(ys, dict), "y_scaler", "an object {min, max}")
    for key in ("min", "max"):
        v = ys.get(key)
        need(numbers([v]), f"y_scaler.{key}", "a finite number")
    need(isinstance(meta.get("kind"), str), "kind", "a name")
    return meta


def _read_arrays(npz: Path, digest: str | None, js: Path) -> dict[str, np.ndarray]:
    """The parameter arrays of a saved estimator (ValueError naming ``npz`` when it is not
    a complete ``.npz``, or not the one ``js`` describes)."""
    data = npz.read_bytes()
    if digest is not None and hashlib.sha256(data).hexdigest() != digest:
        raise ValueError(
            f"{npz}: not the weights file {js.name} describes (SHA-256 differs): a corrupt, "
            "truncated or replaced file, or the two files come from different saves"
        )
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            return {k: arrays[k] for k in arrays.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as err:
        raise ValueError(f"{npz}: corrupt or truncated weights file ({_first_line(err)})") from None


def _is_variable(x: Any) -> bool:
    return isinstance(x, nnx.Variable)


#: Compiled ensemble programs, one per (architecture, state layout, window, chunks): estimators
#: of one architecture share them (the key is hashed once per estimator, not per call).
_PROGRAMS: dict[tuple, Any] = {}


def _ensemble_program(graphdef: nnx.GraphDef, treedef, rest_def, window: int, chunks: int):
    """The jitted ``(members' parameter values, other state values, seq) -> (K, L - w + 1)``:
    the parameters stacked on a leading member axis and the pure sliding apply vmapped over
    it, all members on all windows in one program."""
    key = (graphdef, treedef, rest_def, window, chunks)
    if key not in _PROGRAMS:

        @jax.jit
        def run(values: list[list[jax.Array]], rest_values: list[jax.Array], seq: jax.Array):
            stacked = jax.tree.unflatten(treedef, [jnp.stack(v) for v in zip(*values, strict=True)])
            rest = jax.tree.unflatten(rest_def, rest_values)

            def one(p: nnx.State) -> jax.Array:
                return nnx.merge(graphdef, p, rest).sliding(seq, window=window, chunks=chunks)

            return jax.vmap(one)(stacked)

        _PROGRAMS[key] = run
    return _PROGRAMS[key]


@dataclass
class NeuralInverse:
    """One network or an ensemble mapping sensor histories to the F1 temperature history.

    Attributes:
        kind: "teacher" or "student" (label in reports).
        members: networks of one architecture (K >= 1).
        spec: architecture ``{"filters", "units", "n_features", "kernel_size"}``.
        x_scaler: feature scaler (7 features: N r/min, fz mm/z, ae mm, S1..S4 °C).
        y_scaler: label scaler (F1 °C).
        window: time steps per window.
        dt: model time step, s.
        sensor_names: sensor order of the feature columns.
        meta: provenance (training configuration, data set, scores).
    """

    kind: str
    members: list[nnx.Module]
    spec: dict[str, Any]
    x_scaler: MinMaxScaler
    y_scaler: MinMaxScaler
    window: int
    dt: float
    sensor_names: tuple[str, ...] = ("S1", "S2", "S3", "S4")
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.members:
            raise ValueError("NeuralInverse: needs at least one member network")
        kernel = int(self.spec.get("kernel_size", KERNEL_SIZE))
        min_window = len(self.spec["filters"]) * (kernel - 1) + 1  # receptive field
        if self.window < min_window or not self.dt > 0:
            raise ValueError(
                f"NeuralInverse: window >= {min_window} (receptive field of the convolutions) "
                f"and dt > 0 s needed, got window {self.window}, dt {self.dt}"
            )

    # ---- inference -------------------------------------------------------------------------

    @cached_property
    def _split(self) -> tuple[nnx.GraphDef, list[nnx.State], nnx.State]:
        """(graphdef, each member's parameters, the non-parameter state of member 0), in
        inference mode (``deterministic``: dropout off)."""
        views = [nnx.view(m, deterministic=True, raise_if_not_found=False) for m in self.members]
        graphdef, _, rest = nnx.split(views[0], nnx.Param, ...)
        return graphdef, [nnx.state(v, nnx.Param) for v in views], rest

    @cached_property
    def _apply(self):
        """Padded sequence (L, F) -> (K, L - w + 1): every member on every window, the whole
        ensemble as ONE jitted call (:meth:`batched_apply` with :data:`WINDOW_CHUNKS`)."""
        return self.batched_apply(WINDOW_CHUNKS)

    def batched_apply(self, chunks: int = 1):
        """The jitted ensemble call ``seq (L, F) -> (K, L - w + 1)``: the members' parameters
        stacked on a leading axis (``jnp.stack`` leaf by leaf, inside the program; the values
        are read from the members' Variables at every call, so in-place changes are seen as
        before, without a pytree walk per call) and :meth:`.models.ConvRecurrent.sliding`, a
        pure function of them, ``jax.vmap``-ped over it: each recurrence step is one batched
        matmul and one fused gate update for all members. ``chunks`` splits the windows into
        independent groups (same numbers). :meth:`apply_members` is the per-member loop it
        replaces (kept as the reference); ``python -m benchmarks.ensemble`` times both.

        Why vmap was slower before (old code, 5 students, lightly loaded 2-core CPU: 14.4 ms
        vmapped vs 11.9 ms as a loop): the old sliding apply materialised every window
        (``xw[idx]``, transposed for ``lax.scan``): 17 × 241 × 270 floats per member, 22 MB for
        the ensemble, far beyond a core's 2 MB L2, written once and read back step by step;
        a member alone (4.4 MB) stayed nearer the cache. Probably that, not the gather itself
        (batched it is cheaper than five: 1.2 vs 3.1 ms CPU, loaded machine). The step inputs
        are now row slices of the projected sequence (1.4 MB for five members), nothing is
        materialised, and the first step's h·U = 0 is skipped (:meth:`.models.GRU.restarted`)."""
        cache = self.__dict__.setdefault("_programs", {})
        if chunks not in cache:
            graphdef, params, rest = self._split
            treedef = jax.tree.structure(params[0], is_leaf=_is_variable)
            rest_def = jax.tree.structure(rest, is_leaf=_is_variable)
            variables = [jax.tree.leaves(p, is_leaf=_is_variable) for p in params]
            rest_vars = jax.tree.leaves(rest, is_leaf=_is_variable)
            run = _ensemble_program(graphdef, treedef, rest_def, self.window, chunks)

            def call(seq: jax.Array) -> jax.Array:
                # the members' current values (flat lists: no pytree walk per call)
                values = [[v.get_value() for v in member] for member in variables]
                return run(values, [v.get_value() for v in rest_vars], seq)

            cache[chunks] = call
        return cache[chunks]

    @cached_property
    def _member_fn(self):
        graphdef, _, rest = self._split
        window = self.window
        return jax.jit(lambda p, seq: nnx.merge(graphdef, p, rest).sliding(seq, window=window))

    def apply_members(self, seq: jax.Array) -> jax.Array:
        """Reference path: what :attr:`_apply` computes, one jitted call per member after
        another (the implementation before the vmapped ensemble); for tests and benchmarks."""
        _, params, _ = self._split
        return jnp.stack([self._member_fn(p, seq) for p in params])

    def model_grid(self, times: np.ndarray) -> np.ndarray:
        """The model's step times t_n = t_0 + n dt covering ``times`` (s)."""
        times = np.asarray(times, float)
        n = int(np.floor((times[-1] - times[0]) / self.dt + 1e-9)) + 1
        return times[0] + self.dt * np.arange(n)

    def predict_members(
        self,
        times: np.ndarray,
        measured: np.ndarray,
        params: Mapping[str, float],
        *,
        batched: bool = True,
    ) -> np.ndarray:
        """Per-member F1 histories °C on ``times``, shape (K, n_t).

        Args:
            times: record times s, increasing, shape (n_t,).
            measured: sensor temperatures °C, shape (n_t, 4) in :attr:`sensor_names` order.
            params: ``n_rpm`` (r/min), ``fz_mm`` (mm/z), ``ae_mm`` (mm).
            batched: the whole ensemble in one vmapped call (default); False runs the members
                one after another (:meth:`apply_members`, the reference path; same numbers to
                float32 round-off).
        """
        times = np.asarray(times, float)
        measured = np.asarray(measured, float)
        n_s = len(self.sensor_names)
        if times.ndim != 1 or times.size < 2 or np.any(np.diff(times) <= 0):
            raise ValueError("NeuralInverse: times must be increasing, shape (n_t >= 2,)")
        if measured.shape != (times.size, n_s):
            raise ValueError(
                f"NeuralInverse: measured needs shape ({times.size}, {n_s}) for "
                f"{list(self.sensor_names)}, got {measured.shape}"
            )
        missing = [k for k in PARAM_KEYS if k not in params]
        if missing:
            raise ValueError(f"NeuralInverse: machining parameters {missing} missing")
        grid = self.model_grid(times)
        sensors = np.stack([np.interp(grid, times, measured[:, i]) for i in range(n_s)], axis=1)
        p = np.array([float(params[k]) for k in PARAM_KEYS])
        feats = np.concatenate([np.broadcast_to(p, (grid.size, N_PARAMS)), sensors], axis=1)
        scaled = pad_start(self.x_scaler.transform(feats), window=self.window)
        apply = self._apply if batched else self.apply_members
        pred = np.asarray(apply(jnp.asarray(scaled, dtype=jnp.float32)), dtype=float)
        pred = self.y_scaler.inverse_transform(pred)  # (K, n_grid) °C
        return np.stack([np.interp(times, grid, row) for row in pred])

    def estimate(
        self,
        times: np.ndarray,
        measured: np.ndarray,
        params: Mapping[str, float],
        *,
        z: float = 1.96,
        batched: bool = True,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Ensemble mean F1 °C (n_t,) and band mean ± z·sd (n_t, 2) (None for one member);
        ``batched`` as in :meth:`predict_members`."""
        members = self.predict_members(times, measured, params, batched=batched)
        mean = members.mean(axis=0)
        if members.shape[0] < 2:
            return mean, None
        sd = members.std(axis=0, ddof=1)
        return mean, np.stack([mean - z * sd, mean + z * sd], axis=1)

    # ---- storage ---------------------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> tuple[Path, Path]:
        """Write ``<path>.npz`` (parameters) and ``<path>.json`` (everything else)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {}
        for k, m in enumerate(self.members):
            arrays |= {f"m{k}/{key}": a for key, a in _flat_params(m).items()}
        meta = {
            "format": FORMAT,
            "kind": self.kind,
            "n_members": len(self.members),
            "spec": self.spec,
            "window": self.window,
            "dt_s": self.dt,
            "sensor_names": list(self.sensor_names),
            "x_scaler": {
                "min": self.x_scaler.data_min.tolist(),
                "max": self.x_scaler.data_max.tolist(),
            },
            "y_scaler": {
                "min": float(self.y_scaler.data_min),
                "max": float(self.y_scaler.data_max),
            },
            "meta": self.meta,
        }
        npz, js = path.with_suffix(".npz"), path.with_suffix(".json")
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        data = buffer.getvalue()
        meta["npz_sha256"] = hashlib.sha256(data).hexdigest()
        atomic_write_bytes(npz, data)
        atomic_write_text(js, json.dumps(meta, indent=2, default=float) + "\n")
        return npz, js

    @classmethod
    def load(cls, path: str | os.PathLike) -> NeuralInverse:
        """Read what :meth:`save` wrote (``path`` with or without suffix).

        Raises:
            FileNotFoundError: the ``.npz`` or the ``.json`` is missing.
            ValueError: (one line naming the file) a corrupt or truncated file, a description
                that is not the expected JSON, or weights of another layout than the one the
                ``.json`` declares (members, parameter names, shapes).
        """
        path = Path(path)
        npz, js = path.with_suffix(".npz"), path.with_suffix(".json")
        if not npz.is_file() or not js.is_file():
            raise FileNotFoundError(
                f"NeuralInverse.load: need {npz.name} and {js.name} in {path.parent}"
            )
        meta = _read_description(js)
        arrays = _read_arrays(npz, meta.get("npz_sha256"), js)
        n_members, spec = meta["n_members"], meta["spec"]
        layout = (
            f"{js.name} (filters {spec['filters']}, units {spec['units']}, "
            f"n_features {spec['n_features']}, window {meta['window']}, {n_members} member(s))"
        )
        found = sorted({key.split("/", 1)[0] for key in arrays})
        wanted = [f"m{k}" for k in range(n_members)]
        if found != sorted(wanted):
            raise ValueError(
                f"{npz}: weights of another layout: holds members {found}, expected {wanted} "
                f"for {layout}"
            )
        members = []
        for k in range(n_members):
            model = build_member(spec)
            prefix = f"m{k}/"
            own = {key[len(prefix) :]: a for key, a in arrays.items() if key.startswith(prefix)}
            _set_params(model, own, where=f"{npz} member {k}", layout=layout)
            members.append(model)
        return cls(
            kind=meta["kind"],
            members=members,
            spec=meta["spec"],
            x_scaler=MinMaxScaler(
                data_min=np.asarray(meta["x_scaler"]["min"], float),
                data_max=np.asarray(meta["x_scaler"]["max"], float),
            ),
            y_scaler=MinMaxScaler(
                data_min=np.asarray(meta["y_scaler"]["min"], float),
                data_max=np.asarray(meta["y_scaler"]["max"], float),
            ),
            window=int(meta["window"]),
            dt=float(meta["dt_s"]),
            sensor_names=tuple(meta["sensor_names"]),
            meta=meta.get("meta", {}),
        )


def shipped(kind: str, *, directory: str | os.PathLike | None = None) -> NeuralInverse:
    """The shipped ``teacher`` or ``student`` (ensemble) estimator (or from ``directory``)."""
    if kind not in ("teacher", "student"):
        raise ValueError(f"shipped: kind must be 'teacher' or 'student', got {kind!r}")
    folder = Path(directory) if directory is not None else SHIPPED_DIR
    return NeuralInverse.load(folder / kind)


def max_weight_difference(a: NeuralInverse, b: NeuralInverse) -> float:
    """Largest absolute parameter difference between two estimators of one architecture
    (0.0 means bit-identical weights); inf when their layouts differ."""
    if a.spec != b.spec or len(a.members) != len(b.members):
        return float("inf")
    worst = 0.0
    for ma, mb in zip(a.members, b.members, strict=True):
        pa, pb = _flat_params(ma), _flat_params(mb)
        if pa.keys() != pb.keys():
            return float("inf")
        worst = max([worst] + [float(np.max(np.abs(pa[k] - pb[k]), initial=0.0)) for k in pa])
    return worst

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
   scaling, eq. 2), all windows of a member in one jitted call that shares the convolutions
   across overlapping windows (:meth:`.models.ConvRecurrent.sliding`);
4. the estimate is the ensemble mean :math:`\bar T = \frac1K\sum_k \hat T^{(k)}` and the band
   :math:`\bar T \pm z\,s` with s the ensemble standard deviation (ddof = 1), interpolated back to
   the record's times.

The ensemble band measures the spread between students trained from different initialisations
and batch orders, i.e. model (epistemic) uncertainty only; the input noise is handled by training
on noisy records. It is not a calibrated posterior: its coverage of the truth is measured and
reported, not assumed.

Weights are stored as a flat ``.npz`` (one array per parameter, keyed ``m<k>/<path>``) plus a
``.json`` of the architecture, scalers, window, dt and the training provenance: a few hundred kB,
portable, and loadable without Orbax (the training study's checkpoints use Orbax).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from .models import KERNEL_SIZE, ConvRecurrent
from .windows import N_PARAMS, MinMaxScaler, pad_start

if TYPE_CHECKING:
    from thermo.inverse.reconstruction import InverseMethod

FORMAT = "millheat.neural_inverse/1"
#: Folder of the weights shipped with millheat (made by ``milling_reconstruction --retrain``).
SHIPPED_DIR = Path(__file__).parent / "weights"
PARAM_KEYS = ("n_rpm", "fz_mm", "ae_mm")


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


def _set_params(model: nnx.Module, arrays: Mapping[str, np.ndarray], *, where: str) -> None:
    state = nnx.state(model, nnx.Param)
    flat, treedef = jax.tree_util.tree_flatten_with_path(state)
    leaves = []
    for k, v in flat:
        key = jax.tree_util.keystr(k)
        if key not in arrays:
            raise ValueError(f"{where}: parameter {key} missing from the weights file")
        a = np.asarray(arrays[key])
        if a.shape != v.shape:
            raise ValueError(f"{where}: {key} has shape {a.shape}, the model needs {v.shape}")
        leaves.append(jnp.asarray(a, dtype=v.dtype))
    nnx.update(model, jax.tree_util.tree_unflatten(treedef, leaves))


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
        if self.window < 1 or not self.dt > 0:
            raise ValueError(f"NeuralInverse: window >= 1 and dt > 0 needed, got {self}")

    # ---- inference -------------------------------------------------------------------------

    @cached_property
    def _apply(self):
        """Padded sequence (L, F) -> (K, L - w + 1): every member on every window
        (:meth:`.models.ConvRecurrent.sliding`), one jitted call per member. Measured on the
        project's 2-core CPU for 5 students: 38 ms as a loop of calls, vs 43 ms vmapped, 60 ms
        as one jitted program and 105 ms with ``lax.map``."""
        views = [nnx.view(m, deterministic=True, raise_if_not_found=False) for m in self.members]
        graphdef, _, rest = nnx.split(views[0], nnx.Param, ...)
        params = [nnx.state(v, nnx.Param) for v in views]
        window = self.window

        @jax.jit
        def one(p, seq):
            return nnx.merge(graphdef, p, rest).sliding(seq, window=window)

        return lambda seq: jnp.stack([one(p, seq) for p in params])

    def model_grid(self, times: np.ndarray) -> np.ndarray:
        """The model's step times t_n = t_0 + n dt covering ``times`` (s)."""
        times = np.asarray(times, float)
        n = int(np.floor((times[-1] - times[0]) / self.dt + 1e-9)) + 1
        return times[0] + self.dt * np.arange(n)

    def predict_members(
        self, times: np.ndarray, measured: np.ndarray, params: Mapping[str, float]
    ) -> np.ndarray:
        """Per-member F1 histories °C on ``times``, shape (K, n_t).

        Args:
            times: record times s, increasing, shape (n_t,).
            measured: sensor temperatures °C, shape (n_t, 4) in :attr:`sensor_names` order.
            params: ``n_rpm`` (r/min), ``fz_mm`` (mm/z), ``ae_mm`` (mm).
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
        pred = np.asarray(self._apply(jnp.asarray(scaled, dtype=jnp.float32)), dtype=float)
        pred = self.y_scaler.inverse_transform(pred)  # (K, n_grid) °C
        return np.stack([np.interp(times, grid, row) for row in pred])

    def estimate(
        self,
        times: np.ndarray,
        measured: np.ndarray,
        params: Mapping[str, float],
        *,
        z: float = 1.96,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Ensemble mean F1 °C (n_t,) and band mean ± z·sd (n_t, 2) (None for one member)."""
        members = self.predict_members(times, measured, params)
        mean = members.mean(axis=0)
        if members.shape[0] < 2:
            return mean, None
        sd = members.std(axis=0, ddof=1)
        return mean, np.stack([mean - z * sd, mean + z * sd], axis=1)

    def as_method(self, name: str | None = None, *, z: float = 1.96) -> InverseMethod:
        """This estimator as a :class:`thermo.inverse.reconstruction.InverseMethod` (no LOSO: the
        networks take all four sensors)."""
        from thermo.inverse.reconstruction import InverseMethod

        def estimate(times, measured, params):
            return self.estimate(times, measured, params, z=z)

        return InverseMethod(name or self.kind, estimate, None)

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
        tmp = npz.with_name(f".{npz.stem}.partial.npz")
        np.savez(tmp, **arrays)
        os.replace(tmp, npz)
        js.write_text(json.dumps(meta, indent=2, default=float) + "\n", encoding="utf-8")
        return npz, js

    @classmethod
    def load(cls, path: str | os.PathLike) -> NeuralInverse:
        """Read what :meth:`save` wrote (``path`` with or without suffix)."""
        path = Path(path)
        npz, js = path.with_suffix(".npz"), path.with_suffix(".json")
        if not npz.is_file() or not js.is_file():
            raise FileNotFoundError(
                f"NeuralInverse.load: need {npz.name} and {js.name} in {path.parent}"
            )
        meta = json.loads(js.read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            raise ValueError(f"{js}: format {meta.get('format')!r}, expected {FORMAT!r}")
        with np.load(npz) as data:
            arrays = {k: data[k] for k in data.files}
        members = []
        for k in range(int(meta["n_members"])):
            model = build_member(meta["spec"])
            prefix = f"m{k}/"
            own = {key[len(prefix) :]: a for key, a in arrays.items() if key.startswith(prefix)}
            _set_params(model, own, where=f"{npz.name} member {k}")
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

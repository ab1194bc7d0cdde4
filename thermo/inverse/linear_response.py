r"""Linear-response operator of the FEM model for one unknown boundary input (the F1 history).

With constant properties the FEM solution is affine in the boundary data. Split the problem
into a **baseline** (every given boundary condition, the unknown group held at the baseline:
:math:`T = T_0` for a temperature input, :math:`q = 0` for a flux input) and the **unit step**
of the unknown input with every other datum homogeneous (Dirichlet :math:`T_0`, flux 0,
convection :math:`T_\infty = T_0`, initial :math:`T_0`). Then, at the step times,

.. math::

    y_n = y^{base}_n + \sum_{k=1}^{n} (u_k - u_{k-1})\, S_{n-k+1}, \qquad u_0 = 0,

exactly for the discrete scheme (:mod:`thermo.inverse.duhamel`), with :math:`u = T_{F1} - T_0` (K)
or
:math:`u = q_{F1}` (W/m²). When the baseline is trivially :math:`T_0` (all other data already
homogeneous, the usual insulated/convection-to-ambient set-up), it is not computed: one FEM run
gives the operator. Otherwise a second run stores the baseline probes (and fields).

Fields (optional), two ways (``field_compression`` of :func:`compute_linear_response`):

* ``"exact"``: the local dof arrays of the P1 temperature (``T.x.array``: owned + ghost dofs of
  this rank, shape (n_t, n_local); with contact conductance the arrays of the per-volume
  functions concatenated in the solver's order) are recorded with the solver's ``on_step``
  callback as :attr:`LinearResponse.field_step`; storage is (n_t × n_dofs) doubles (240 steps ×
  1e5 dofs ≈ 190 MB). Repeated evaluations use its truncated SVD
  (:meth:`LinearResponse.field_compression`, :func:`thermo.inverse.lowrank.compress_step`,
  rank 16 for the 28 000-dof tool at 1e-6 of max |S|), and ``fields(compressed=False)`` the
  exact sum. For small meshes and tests, serial runs.
* ``"streaming"``: the low-rank factors are built during the FEM run, one step at a time
  (:class:`thermo.inverse.streaming_lowrank.StreamingCompressor`), never holding the full
  matrix; :attr:`LinearResponse.field_step` is None and only ``fields(compressed=True)`` is
  available, with the same error guarantee (max |S − AB| ≤ ``max_error`` ≤ tol, here a proven
  bound rather than a measured value). Each rank holds the columns of its **owned** dofs only
  (``T.x.array[:n_owned]`` per function, no ghosts; serial: all dofs, same order as "exact"),
  and the factorisation is the same on any number of ranks up to round-off of the reductions.
  To write such a field into a Function: ``T.x.array[:n_owned] = values;
  T.x.scatter_forward()``. A non-homogeneous baseline field is compressed the same way
  (:attr:`LinearResponse.field_base_factors`).
* ``"auto"`` (default): streaming when the mesh has more than :data:`STREAMING_MIN_DOFS` nodes
  or runs on several ranks, else exact.

Save/load: one ``.npz`` (arrays) plus a ``.json`` side file (units, kind, boundary, time grid,
scheme, probe names, mesh source), written atomically (:mod:`thermo.atomic`); call it on one
rank. Format ``millheat.linear_response/2`` (version 1 files, which never hold streamed
factors, are read as before). The field factors, when computed, are saved too (arrays
``field_time_factor``, ``field_dof_factor``, and ``field_base_time_factor`` /
``field_base_dof_factor`` for a streamed baseline; JSON ``field_compression``).
Fields and factors are saved from a serial run or from :meth:`LinearResponse.gathered`
(rank 0 holds every column, in ascending input-node order: :mod:`thermo.inverse.field_order`),
with ``field_nodes``, the input node of each column; :meth:`LinearResponse.on_nodes` then picks
the columns of any rank's owned dofs, so a cached response serves any number of ranks. A
response with rank-local columns is saved with its probe arrays only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from thermo.atomic import atomic_path, atomic_write_text
from thermo.inverse.duhamel import (
    DuhamelOperator,
    index_of_times,
    single_blas_thread,
    superpose_at,
)
from thermo.inverse.lowrank import COMPRESS_REL_TOL, CompressedStep, compress_step
from thermo.inverse.sensitivity import Sensitivity, build_sensitivity
from thermo.inverse.streaming_lowrank import StreamingCompressor
from thermo.problem import (
    ConvectionBC,
    FluxBC,
    HeatProblem,
    History,
    InsulatedBC,
    TemperatureBC,
)

InputKind = Literal["temperature", "flux"]
FieldCompression = Literal["auto", "exact", "streaming"]

#: Save format; version 2 added streamed field factors (no ``field_step``).
FORMAT = "millheat.linear_response/2"
_READABLE = ("millheat.linear_response/1", FORMAT)
#: ``field_compression="auto"`` streams above this many mesh nodes (P1 dofs): 50 000 doubles ×
#: 241 steps is ~100 MB, where the full matrix starts to dominate the memory of the run.
STREAMING_MIN_DOFS = 50_000


@dataclass
class LinearResponse:
    """Step response of probes (and fields) to the unknown boundary input.

    Attributes:
        times: step times s, shape (n_t,).
        step: probe step response, K per input unit, shape (n_t, n_probes).
        probe_names: probe column names.
        kind: "temperature" (input T − T0, K) or "flux" (W/m²).
        boundary: facet group of the unknown input.
        T0: initial/baseline temperature, °C.
        scheme: time scheme of the FEM run.
        base: baseline probe values °C, shape (n_t, n_probes); None means T0 everywhere.
        field_step: field step response, shape (n_t, n_local_dofs), or None (no fields, or
            streamed factors only: :attr:`has_fields`).
        field_base: baseline field, shape (n_t, n_local_dofs), or None (T0, or streamed).
        field_base_factors: streamed low-rank factors of the baseline field minus T0
            (``field_compression="streaming"`` with a non-homogeneous baseline), or None.
        meta: provenance (mesh source, dofs, timings, ``field_compression`` mode).
        field_nodes: input node index (:mod:`thermo.inverse.field_order`) of each field column
            held here, or None (no fields, or several functions with contact conductance).
    """

    times: np.ndarray
    step: np.ndarray
    probe_names: tuple[str, ...]
    kind: InputKind
    boundary: str
    T0: float
    scheme: str
    base: np.ndarray | None = None
    field_step: np.ndarray | None = None
    field_base: np.ndarray | None = None
    field_base_factors: CompressedStep | None = None
    meta: dict = field(default_factory=dict)
    field_nodes: np.ndarray | None = None
    #: Cached Duhamel operator of :attr:`step` (built on first use of :meth:`probes`).
    _operator: DuhamelOperator | None = field(default=None, init=False, repr=False, compare=False)
    #: Cached low-rank factors of :attr:`field_step` (:meth:`field_compression`), with the
    #: field response they were computed from.
    _field_compression: tuple[np.ndarray, CompressedStep] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def input_samples(self, history: np.ndarray | History) -> np.ndarray:
        """u_n on :attr:`times` from an absolute history (°C or W/m²), shape (n_t,)."""
        values = history(self.times) if callable(history) else np.asarray(history, dtype=float)
        values = np.asarray(values, dtype=float).reshape(-1)
        if values.shape != self.times.shape:
            raise ValueError(f"history must have {self.times.size} samples, got {values.size}")
        return values - (self.T0 if self.kind == "temperature" else 0.0)

    def probes(self, history: np.ndarray | History) -> np.ndarray:
        """Probe temperatures °C for an absolute boundary history, shape (n_t, n_probes)."""
        op = self._operator
        if op is None or op.step is not self.step:
            op = self._operator = DuhamelOperator(self.step)
        y = op(self.input_samples(history))
        return y + (self.T0 if self.base is None else self.base)

    def fields(
        self,
        history: np.ndarray | History,
        *,
        at_times: Sequence[float],
        compressed: bool = False,
    ) -> np.ndarray:
        """Field dof values °C at ``at_times`` (s, on the step grid), shape (k, n_local_dofs).

        ``compressed=False``: the exact Duhamel sum over the full (n_t, n_dofs) field response
        (only with ``field_compression="exact"``).
        ``compressed=True``: the same sum on the low-rank factors of :meth:`field_compression`
        (computed once, cached, or streamed during the FEM run); entrywise error ≤ TV(u) ·
        ``max_error`` K (:class:`thermo.inverse.lowrank.CompressedStep`), plus the streamed
        baseline's ``max_error`` when :attr:`field_base_factors` is set. With streamed factors
        the columns are this rank's owned dofs.
        """
        if not self.has_fields:
            raise ValueError("LinearResponse: no field response was recorded (record_fields)")
        if self.field_step is None and not compressed:
            raise ValueError(
                "LinearResponse.fields: only streamed low-rank factors were recorded "
                "(field_compression='streaming'); use compressed=True"
            )
        idx = index_of_times(self.times, at_times)
        u = self.input_samples(history)
        if compressed:
            y = self.field_compression().superpose_at(u, idx)
        else:
            y = superpose_at(self.field_step, u, idx)
        if self.field_base_factors is not None:
            base = self.field_base_factors
            with single_blas_thread():
                y += base.time_factor[idx] @ base.dof_factor.astype(float)
        return y + (self.T0 if self.field_base is None else self.field_base[idx])

    @property
    def has_fields(self) -> bool:
        """True when fields can be evaluated: a recorded field response or streamed factors."""
        return self.field_step is not None or self.has_field_compression

    @property
    def n_field_dofs(self) -> int:
        """Field columns held here (this rank's; 0 without fields)."""
        if self.field_step is not None:
            return int(self.field_step.shape[1])
        if self.has_field_compression:
            return int(self._field_compression[1].dof_factor.shape[1])
        return 0

    def field_compression(
        self, *, tol: float | None = None, rel_tol: float | None = None, dtype: type | None = None
    ) -> CompressedStep:
        """Low-rank factors A (n_t, r), B (r, n_dofs) of the field step response
        (:func:`thermo.inverse.lowrank.compress_step`: smallest r with max |S − AB| ≤ tol K per
        input
        unit; default tol = :data:`thermo.inverse.lowrank.COMPRESS_REL_TOL` · max |S|, B in
        float32).

        Computed on first use (randomised SVD, ~1 s for 28 000 dofs) and cached on the
        object; :meth:`save` stores the cached factors and :meth:`load` restores them. Without
        arguments the cached factors are returned whatever their tolerance; explicit arguments
        that differ from the cached ones recompute them. Streamed factors
        (``field_compression="streaming"``, no :attr:`field_step`) cannot be recomputed:
        other arguments raise ValueError.
        """
        if self.field_step is None:
            if self.has_field_compression:
                comp = self._field_compression[1]
                ok_tol = tol is None or np.isclose(comp.tol, float(tol), rtol=1e-12, atol=0.0)
                ok_dtype = dtype is None or np.dtype(dtype) == comp.dof_factor.dtype
                if ok_tol and ok_dtype and rel_tol is None:
                    return comp
                raise ValueError(
                    "LinearResponse.field_compression: the factors were streamed during the FEM "
                    f"run (tol {comp.tol:.3g}, B {comp.dof_factor.dtype}); other tolerances or "
                    "dtypes need a new run (compute_linear_response(field_rel_tol=..., "
                    "field_dtype=...))"
                )
            raise ValueError("LinearResponse: no field response was recorded (record_fields)")
        cached = self._field_compression
        if cached is not None and cached[0] is not self.field_step:
            cached = None  # the field response was replaced
        want_tol = None if tol is None else float(tol)
        if want_tol is None and rel_tol is not None:
            want_tol = float(rel_tol) * float(np.max(np.abs(self.field_step)))
        if cached is not None:
            comp = cached[1]
            same_tol = want_tol is None or np.isclose(comp.tol, want_tol, rtol=1e-12, atol=0.0)
            same_dtype = dtype is None or np.dtype(dtype) == comp.dof_factor.dtype
            if same_tol and same_dtype:
                return comp
        comp = compress_step(
            self.field_step,
            tol=want_tol,
            rel_tol=COMPRESS_REL_TOL,
            dtype=np.float32 if dtype is None else dtype,
        )
        self._field_compression = (self.field_step, comp)
        return comp

    @property
    def has_field_compression(self) -> bool:
        """True when low-rank field factors are cached (computed or loaded)."""
        return self._field_compression is not None and self._field_compression[0] is self.field_step

    def _map_columns(self, take, nodes: np.ndarray, meta: dict) -> LinearResponse:
        """A copy whose field arrays' columns are ``take(array)`` (input nodes ``nodes``)."""
        comp = self._field_compression[1] if self.has_field_compression else None
        base = self.field_base_factors

        def on(c: CompressedStep | None) -> CompressedStep | None:
            return None if c is None else replace(c, dof_factor=take(c.dof_factor))

        field_step = None if self.field_step is None else take(self.field_step)
        out = replace(
            self,
            field_step=field_step,
            field_base=None if self.field_base is None else take(self.field_base),
            field_base_factors=on(base),
            field_nodes=np.asarray(nodes, dtype=np.int64),
            meta=meta,
        )
        out._operator = None
        out._field_compression = None if comp is None else (field_step, on(comp))
        return out

    def gathered(self, comm: Any) -> LinearResponse | None:
        """The whole field response on rank 0, columns in ascending input-node order (a
        partition-free layout: :meth:`save` it there and :meth:`on_nodes` it on any number of
        ranks); None on the other ranks. Collective over ``comm``; the probe arrays are the
        same on every rank already. In serial it reorders the columns only.

        Raises:
            ValueError: no fields, or no input-node map (contact conductance: several
                functions).
        """
        from thermo.inverse.field_order import gather_columns

        if not self.has_fields or self.field_nodes is None:
            raise ValueError("LinearResponse.gathered: needs fields with their input nodes")
        nodes = None

        def take(values: np.ndarray) -> np.ndarray | None:
            nonlocal nodes
            cols, nodes = gather_columns(comm, values, self.field_nodes)
            return cols

        out = self._map_columns(take, np.empty(0), self.meta | {"field_gathered": True})
        if comm.rank != 0:
            return None
        out.field_nodes = nodes
        return out

    def on_nodes(self, nodes: np.ndarray) -> LinearResponse:
        """A copy holding the field columns of the input nodes ``nodes`` only, in that order
        (this rank's owned dofs of a mesh: :func:`thermo.inverse.field_order.local_input_nodes`).

        Raises:
            ValueError: no input-node map, or a node is not held.
        """
        from thermo.inverse.field_order import column_positions

        if self.field_nodes is None:
            raise ValueError("LinearResponse.on_nodes: the fields carry no input-node map")
        pos = column_positions(self.field_nodes, nodes)
        meta = {k: v for k, v in self.meta.items() if k != "field_gathered"}
        return self._map_columns(lambda a: np.ascontiguousarray(a[..., pos]), nodes, meta)

    def sensitivity(
        self,
        *,
        obs_times: np.ndarray | None = None,
        param_times: np.ndarray | None = None,
        probes: Sequence[str] | None = None,
    ) -> Sensitivity:
        """Sensitivity matrix for the inverse methods (:mod:`thermo.inverse.sensitivity`);
        its ``y0`` is the baseline at the observation times (default: the step times > 0)."""
        cols = list(range(len(self.probe_names)))
        if probes is not None:
            missing = [p for p in probes if p not in self.probe_names]
            if missing:
                raise KeyError(f"probes {missing} not in the response ({list(self.probe_names)})")
            cols = [self.probe_names.index(p) for p in probes]
        obs = self.times[1:] if obs_times is None else np.asarray(obs_times, dtype=float)
        names = [self.probe_names[i] for i in cols]
        return build_sensitivity(
            self.step[:, cols],
            self.times,
            obs_times=obs,
            param_times=param_times,
            y0=self.baseline_at(obs, names),
            probe_names=names,
        )

    def baseline_at(self, obs_times: np.ndarray, probes: Sequence[str] | None = None) -> np.ndarray:
        """Baseline probe values at ``obs_times`` (linear interpolation), (n_obs, n_probes)."""
        names = list(probes) if probes is not None else list(self.probe_names)
        cols = [self.probe_names.index(p) for p in names]
        if self.base is None:
            return np.full((np.size(obs_times), len(cols)), self.T0)
        return np.stack([np.interp(obs_times, self.times, self.base[:, c]) for c in cols], 1)

    def save(self, path: str | os.PathLike) -> tuple[Path, Path]:
        """Write ``<path>.npz`` and ``<path>.json`` atomically; returns both paths."""
        path = Path(path)
        npz, meta_path = path.with_suffix(".npz"), path.with_suffix(".json")
        arrays: dict[str, np.ndarray] = {"times": self.times, "step": self.step}
        serial = int(self.meta.get("n_ranks", 1)) == 1 or bool(self.meta.get("field_gathered"))
        if serial and self.field_nodes is not None:
            arrays["field_nodes"] = np.asarray(self.field_nodes, dtype=np.int64)
        for name in ("base", "field_step", "field_base"):
            value = getattr(self, name)
            if value is not None and (serial or name == "base"):
                arrays[name] = value
        compression = None
        if serial and self.has_field_compression:
            comp = self._field_compression[1]
            arrays["field_time_factor"] = comp.time_factor
            arrays["field_dof_factor"] = comp.dof_factor
            compression = {
                "tol": comp.tol,
                "max_error": comp.max_error,
                "rank": comp.rank,
                "dtype": str(comp.dof_factor.dtype),
                "streamed": self.field_step is None,
            }
            if self.field_base_factors is not None:
                base = self.field_base_factors
                arrays["field_base_time_factor"] = base.time_factor
                arrays["field_base_dof_factor"] = base.dof_factor
                compression["base"] = {"tol": base.tol, "max_error": base.max_error}
        meta = {
            "format": FORMAT,
            "units": {
                "times": "s",
                "step": "K per input unit",
                "base": "degC",
                "input": "K above T0" if self.kind == "temperature" else "W/m^2",
            },
            "kind": self.kind,
            "boundary": self.boundary,
            "T0_degC": self.T0,
            "scheme": self.scheme,
            "probe_names": list(self.probe_names),
            "meta": self.meta,
        }
        if compression is not None:
            meta["field_compression"] = compression
        with atomic_path(npz) as tmp:
            np.savez(tmp, **arrays)  # uncompressed: float factors barely compress (1M dofs:
            # 129 of 130 MB) and zlib on them cost rank 0 ~20 s while the others waited
        atomic_write_text(meta_path, json.dumps(meta, indent=2, default=float))
        return npz, meta_path

    @classmethod
    def load(cls, path: str | os.PathLike) -> LinearResponse:
        """Read a response written by :meth:`save` (``path`` with or without suffix)."""
        path = Path(path)
        npz, meta_path = path.with_suffix(".npz"), path.with_suffix(".json")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise ValueError(f"{meta_path}: cannot read linear-response metadata ({err})") from err
        if meta.get("format") not in _READABLE:
            raise ValueError(
                f"{meta_path}: format must be one of {list(_READABLE)}, got {meta.get('format')!r}"
            )
        with np.load(npz) as data:
            arrays = {k: data[k] for k in data.files}
        resp = cls(
            times=arrays["times"],
            step=arrays["step"],
            probe_names=tuple(meta["probe_names"]),
            kind=meta["kind"],
            boundary=meta["boundary"],
            T0=float(meta["T0_degC"]),
            scheme=meta["scheme"],
            base=arrays.get("base"),
            field_step=arrays.get("field_step"),
            field_base=arrays.get("field_base"),
            meta=meta.get("meta", {}),
            field_nodes=arrays.get("field_nodes"),
        )
        info = meta.get("field_compression")
        if info is not None and "field_dof_factor" in arrays:
            A, B = arrays["field_time_factor"], arrays["field_dof_factor"]
            comp = CompressedStep(
                time_factor=A,
                dof_factor=B,
                tol=float(info["tol"]),
                max_error=float(info["max_error"]),
            )
            if resp.field_step is not None:
                fits = A.shape[0] == resp.field_step.shape[0]
                if fits and B.shape[1] == resp.field_step.shape[1]:
                    resp._field_compression = (resp.field_step, comp)
            elif info.get("streamed") and A.shape[0] == resp.times.size:
                resp._field_compression = (None, comp)
                if "field_base_dof_factor" in arrays:
                    resp.field_base_factors = CompressedStep(
                        time_factor=arrays["field_base_time_factor"],
                        dof_factor=arrays["field_base_dof_factor"],
                        tol=float(info["base"]["tol"]),
                        max_error=float(info["base"]["max_error"]),
                    )
        return resp


def _canonical(obj: Any) -> Any:
    """A JSON-able, order-independent description of dataclasses, mappings, arrays, numbers."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        fields = {f.name: _canonical(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        return {"__type__": type(obj).__name__, **fields}
    if isinstance(obj, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, np.ndarray):
        return [_canonical(v) for v in obj.tolist()]
    if isinstance(obj, list | tuple):
        return [_canonical(v) for v in obj]
    if isinstance(obj, float | np.floating):
        return repr(float(obj))
    if isinstance(obj, int | np.integer | bool | str) or obj is None:
        return obj
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cache_key: cannot describe a {type(obj).__name__}")


def cache_key(**parts: Any) -> str:
    """A 16-hex-digit key of everything a cached response depends on (problem, geometry, ...).

    Derived from the objects themselves (dataclasses field by field, floats by ``repr``), so a
    change in any material, boundary condition, time step or mesh parameter gives a new key and
    nobody writes a key by hand. Use as ``cache_key(problem=..., geometry=..., boundary="F1",
    kind="temperature", probes=..., format=FORMAT_VERSION)``.
    """
    text = json.dumps(_canonical(parts), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _is_homogeneous(problem: HeatProblem, unknown: str) -> bool:
    T0 = problem.time.T0
    for name, bc in problem.boundaries.items():
        if name == unknown or isinstance(bc, InsulatedBC):
            continue
        if isinstance(bc, ConvectionBC) and bc.T_inf != T0:
            return False
        if isinstance(bc, TemperatureBC) and np.any(bc.value.values != T0):
            return False
        if isinstance(bc, FluxBC) and np.any(bc.value.values != 0.0):
            return False
    return True


def split_problem(
    problem: HeatProblem, *, boundary: str, kind: InputKind
) -> tuple[HeatProblem, HeatProblem]:
    """(unit-step problem, baseline problem) for the unknown ``boundary`` (module docstring)."""
    if kind not in ("temperature", "flux"):
        raise ValueError(f"kind must be 'temperature' or 'flux', got {kind!r}")
    T0, dt = problem.time.T0, problem.time.dt
    homog: dict[str, Any] = {}
    for name, bc in problem.boundaries.items():
        if name == boundary:
            continue
        if isinstance(bc, ConvectionBC):
            homog[name] = ConvectionBC(h=bc.h, T_inf=T0)
        elif isinstance(bc, TemperatureBC):
            homog[name] = TemperatureBC(History.constant(T0))
        elif isinstance(bc, FluxBC):
            homog[name] = FluxBC(History.constant(0.0))
        else:
            homog[name] = bc
    if kind == "temperature":
        step_bc: Any = TemperatureBC(History(np.array([0.0, dt]), np.array([T0, T0 + 1.0])))
        base_bc: Any = TemperatureBC(History.constant(T0))
    else:
        step_bc = FluxBC(History(np.array([0.0, dt]), np.array([0.0, 1.0])))
        base_bc = FluxBC(History.constant(0.0))
    step_problem = replace(problem, boundaries={**homog, boundary: step_bc})
    base_problem = replace(problem, boundaries={**problem.boundaries, boundary: base_bc})
    return step_problem, base_problem


def _owned_values(T: Any) -> np.ndarray:
    """This rank's owned dof values of the solver's temperature (one function, or one per
    volume with contact, concatenated in the solver's order), no ghosts."""
    funcs = T if isinstance(T, list) else [T]
    parts = []
    for f in funcs:
        imap = f.function_space.dofmap.index_map
        n_owned = imap.size_local * f.function_space.dofmap.index_map_bs
        parts.append(f.x.array[:n_owned])
    return np.concatenate(parts)


def resolve_field_compression(mode: str, *, n_dofs: int, n_ranks: int) -> str:
    """``"exact"`` or ``"streaming"`` for ``mode`` ("auto": streaming above
    :data:`STREAMING_MIN_DOFS` mesh nodes or on several ranks)."""
    if mode not in ("auto", "exact", "streaming"):
        raise ValueError(f"field_compression must be 'auto', 'exact' or 'streaming', got {mode!r}")
    if mode == "auto":
        return "streaming" if n_dofs > STREAMING_MIN_DOFS or n_ranks > 1 else "exact"
    return mode


def compute_linear_response(
    tagged: Any,
    problem: HeatProblem,
    *,
    boundary: str,
    kind: InputKind,
    probes: Mapping[str, Sequence[float]],
    record_fields: bool = False,
    field_compression: FieldCompression = "auto",
    field_rel_tol: float = COMPRESS_REL_TOL,
    field_dtype: type = np.float32,
    progress: bool = False,
) -> LinearResponse:
    """Run the FEM for the unit step of ``boundary`` (and the baseline when needed).

    Args:
        tagged: :class:`meshes.tagged.TaggedMesh`.
        problem: the forward problem; the entry for ``boundary`` (if any) is replaced.
        boundary: facet group of the unknown input (e.g. ``"F1"``).
        kind: "temperature" or "flux".
        probes: probe name → (x, y, z) m.
        record_fields: also keep the field response.
        field_compression: "exact" (full (n_t × n_dofs) field response, factors on demand),
            "streaming" (low-rank factors built during the run, owned dofs per rank; no
            ``field_step``), or "auto" (module docstring). Ignored without ``record_fields``.
        field_rel_tol: streamed factors' tolerance relative to max |S| (exact: see
            :meth:`LinearResponse.field_compression`).
        field_dtype: streamed factors' storage of B (float32 or float64).
        progress: tqdm bar of the solver.
    """
    import time

    from thermo.solver import solve_transient

    tagged.require(facets=[boundary])
    if not probes:
        raise ValueError("compute_linear_response: at least one probe is needed")
    step_problem, base_problem = split_problem(problem, boundary=boundary, kind=kind)
    names = tuple(probes)
    comm = tagged.mesh.comm
    n_nodes = int(tagged.mesh.geometry.index_map().size_global)
    mode = resolve_field_compression(field_compression, n_dofs=n_nodes, n_ranks=comm.size)
    streaming = record_fields and mode == "streaming"
    T0 = problem.time.T0
    compress_s = [0.0]
    stream_rank: list[int] = []  # streamed basis size per run (before truncation)
    spaces: list[Any] = []  # the temperature's space (None: one function per volume)

    def run(prob: HeatProblem, offset: float) -> tuple[np.ndarray, Any, dict]:
        frames: list[np.ndarray] = []
        stream: list[StreamingCompressor] = []

        def keep(_n: int, _t: float, T: Any) -> None:
            funcs = T if isinstance(T, list) else [T]  # one function per volume with contact
            frames.append(np.concatenate([f.x.array for f in funcs]))

        def push(_n: int, _t: float, T: Any) -> None:
            t0 = time.perf_counter()
            row = _owned_values(T) - offset
            if not stream:
                stream.append(
                    StreamingCompressor(
                        row.size, rel_tol=field_rel_tol, dtype=field_dtype, comm=comm
                    )
                )
            stream[0].push(row)
            compress_s[0] += time.perf_counter() - t0

        def record(n: int, t: float, T: Any) -> None:
            if not spaces:
                spaces.append(None if isinstance(T, list) else T.function_space)
            (push if streaming else keep)(n, t, T)

        on_step = record if record_fields else None
        res = solve_transient(tagged, prob, probes=dict(probes), on_step=on_step, progress=progress)
        y = np.stack([res.probes[n] for n in names], axis=1)
        fields: Any = None
        if record_fields and not streaming:
            fields = np.stack(frames)
        elif streaming:
            t0 = time.perf_counter()
            stream_rank.append(stream[0].k)
            fields = stream[0].finish()
            compress_s[0] += time.perf_counter() - t0
        return y, fields, dict(res.timings)

    y_step, f_step, timings = run(step_problem, T0)
    y_step = y_step - T0
    comp = None
    if streaming:
        comp, f_step = f_step, None
    elif f_step is not None:
        f_step = f_step - T0
    base = f_base = base_factors = None
    if not _is_homogeneous(problem, boundary):
        base, f_base, _ = run(base_problem, T0)
        if streaming:
            base_factors, f_base = f_base, None
    meta = {
        "mesh": str(getattr(tagged, "source", "")),
        "n_ranks": int(comm.size),
        "timings": timings,
        "probes_m": {n: list(map(float, p)) for n, p in probes.items()},
    }
    if record_fields:
        meta["field_compression"] = mode
        if streaming:
            meta["field_stream_s"] = compress_s[0]
            meta["field_rank"] = comp.rank
            meta["field_stream_basis"] = stream_rank[0]
    resp = LinearResponse(
        times=problem.time.times,
        step=y_step,
        probe_names=names,
        kind=kind,
        boundary=boundary,
        T0=T0,
        scheme=problem.time.scheme,
        base=base,
        field_step=f_step,
        field_base=f_base,
        field_base_factors=base_factors,
        meta=meta,
    )
    if comp is not None:
        resp._field_compression = (None, comp)
    if spaces and spaces[0] is not None:
        from thermo.inverse.field_order import local_input_nodes

        resp.field_nodes = local_input_nodes(spaces[0], owned=streaming)
    return resp

r"""Virtual experiments that can judge an inverse method: data from another model than it inverts.

An inverse method that is tested on data made by its own forward model (same mesh, same step,
same parameters) commits the *inverse crime*: at σ = 0 every classical method recovers the input
to round-off, and nothing is learnt about how it fares on a real tool. Here the records come from
a **generating model** that differs from the **nominal model** the inverse methods use:

* discretisation: a finer mesh and a smaller time step (:class:`GeneratingModel`: size factor
  0.4, about 51 000 P1 dofs, and dt = 0.025 s, against 0.5 / 28 000 dofs and 0.05 s for the
  inverse); the σ = 0 error of a method on the ``"none"`` scenario is this *discretisation gap*;
* model uncertainty, one factor at a time or all together (:data:`SCENARIOS`), drawn per model
  draw (:class:`ModelDraw`) from :class:`UncertaintyRanges`:

  - F3 convection h ∈ 15–40 W/(m² K) (nominal 25): the rotating-cylinder correlation
    Nu = 0.133 Re^(2/3) Pr^(1/3) (Kays & Bjorklund 1958; Becker 1963) gives 20–30 W/(m² K) at
    382–636 r/min for a 25 mm cutter; coolant mist, chips and the spindle's own airflow widen it;
  - F2 contact: perfect (one in three draws) or a contact conductance h_c log-uniform in
    5·10³–5·10⁴ W/(m² K) (clamped carbide–steel joints at moderate pressure; Madhusudana,
    *Thermal Contact Conductance*, 2nd ed., Springer 2014, ch. 3 and 9; Yovanovich 2005);
  - insert conductivity ±10 % (WC–Co grades of 6–10 % Co span 80–100 W/(m K), DESIGN.md);
  - sensor positions ±0.2 mm per axis (drilling and TFTC patterning tolerances; flank sensors
    move along the flank face only, keeping their depth below the surface);
  - thermocouple lag, first order with τ ∈ 0.05–0.3 s, drawn per record (sheathed/exposed
    junctions of 0.25–1 mm; ASTM MNL 12, *Manual on the Use of Thermocouples in Temperature
    Measurement*, 4th ed., 1993, ch. 8);

* realistic sensors: white noise σ, a slow random-walk drift (0.5 K rms over 12 s) and 0.1 K
  quantisation (:class:`thermo.inverse.sensors.SensorModel`), on the tool's flank sensors
  (:mod:`meshes.tool`); σ = 0 records carry neither drift nor quantisation, so that the σ = 0
  rows show the model error alone. The ``"body"`` layout, whose signals fall in the range paper
  000's fit figures imply, is available (``sensor_layout="body"``); measured: with it every
  method's boundary error is in the hundreds of K at σ = 5 K (the sensors see too little of F1),
  so it cannot tell methods apart;
* cutting-zone histories the parameters do not determine: random entry/exit, interrupted cuts,
  feed changes and wear heating, several realisations per factorial case
  (:func:`thermo.inverse.cutting_zone.random_f1_history`).

Records are generated on the fine grid and sampled at the inverse's step (every second fine
step), so every method sees data on its own grid. The nominal model stays what the inverse
methods use; the *oracle* (Tikhonov with the true model of each record: its draw's response,
lagged by its τ) is built by :func:`oracle_response`.

Model draws are a pool: draws that differ only in the sensor offsets share one FEM run (their
probes are evaluated in the same run), and each record uses one draw of its scenario. Training
records and test records use disjoint draws, so a trained method never sees the model of a test
record. Seeds: model draw d of scenario s ``SeedSequence([seed, 7, s, d + 1])``; record
(case, realisation r) its F1 history as :func:`~thermo.inverse.cutting_zone.random_f1_history`
and its lag and noise ``SeedSequence([seed, case, 3, r + 1, i_σ + 1])`` (no trailing zeros, which
``SeedSequence`` would ignore).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from thermo.inverse.cutting_zone import F1Variability, random_f1_history
from thermo.inverse.design import RECONSTRUCTION_CASES, TEST_CASE, case_params
from thermo.inverse.record import SensorRecord
from thermo.inverse.sensors import SensorModel, apply_sensor_model, first_order_lag

#: The uncertainty factors, each of which a scenario may switch on alone.
FACTORS: tuple[str, ...] = ("h_F3", "contact", "k_insert", "position", "lag")
#: ``"none"`` (discretisation gap only), each factor alone, ``"all"`` together.
SCENARIOS: tuple[str, ...] = ("none", *FACTORS, "all")
#: Cases held out of every training set (reconstruction conditions and paper 000's test case).
HOLDOUT_CASES: tuple[int, ...] = (*RECONSTRUCTION_CASES, TEST_CASE)
#: Nominal values the inverse methods use (:mod:`thermo.tool_problem`).
NOMINAL = {"h_F3": 25.0, "k_insert": 85.0}


@dataclass(frozen=True)
class UncertaintyRanges:
    """Ranges of the model uncertainty (module docstring for the sources)."""

    h_F3: tuple[float, float] = (15.0, 40.0)
    contact_perfect_prob: float = 1.0 / 3.0
    h_c: tuple[float, float] = (5.0e3, 5.0e4)
    k_insert_rel: float = 0.10
    position_m: float = 0.2e-3
    tau_s: tuple[float, float] = (0.05, 0.3)


@dataclass(frozen=True)
class GeneratingModel:
    """The model that makes the data (finer than the inverse's; module docstring)."""

    size_factor: float = 0.4
    dt: float = 0.025
    inverse_dt: float = 0.05
    t_end: float = 12.0
    sensor_layout: str = "flank"
    drift_K: float = 0.5
    quantum_K: float = 0.1
    ranges: UncertaintyRanges = field(default_factory=UncertaintyRanges)

    def __post_init__(self) -> None:
        ratio = self.inverse_dt / self.dt
        if abs(ratio - round(ratio)) > 1e-9 or round(ratio) < 1:
            raise ValueError(
                f"GeneratingModel: inverse_dt {self.inverse_dt} must be a multiple of dt {self.dt}"
            )

    @property
    def every(self) -> int:
        """Fine steps per inverse step."""
        return round(self.inverse_dt / self.dt)

    def as_meta(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ModelDraw:
    """One generating model: a scenario's parameters (offsets per sensor in m)."""

    scenario: str
    index: int
    h_F3: float
    h_c: float | None
    k_insert: float
    offsets: tuple[tuple[float, float, float], ...]
    lag: bool

    @property
    def fem_key(self) -> tuple:
        """What needs its own FEM run (draws that differ only in offsets share one)."""
        return (self.h_F3, self.h_c, self.k_insert)

    @property
    def label(self) -> str:
        return f"{self.scenario}#{self.index}"

    def as_meta(self) -> dict:
        return {
            "scenario": self.scenario,
            "draw": self.index,
            "h_F3": self.h_F3,
            "h_c": self.h_c,
            "k_insert": self.k_insert,
            "offsets_m": [list(o) for o in self.offsets],
            "lag": self.lag,
        }


def active_factors(scenario: str) -> tuple[str, ...]:
    """The factors a scenario switches on."""
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario must be one of {SCENARIOS}, got {scenario!r}")
    if scenario == "all":
        return FACTORS
    return (scenario,) if scenario in FACTORS else ()


def draw_model(
    scenario: str,
    index: int,
    *,
    seed: int,
    n_sensors: int = 4,
    ranges: UncertaintyRanges | None = None,
) -> ModelDraw:
    """Model draw ``index`` of ``scenario`` (seeded; module docstring)."""
    ranges = ranges or UncertaintyRanges()
    on = active_factors(scenario)
    ss = np.random.SeedSequence([seed, 7, SCENARIOS.index(scenario) + 1, index + 1])
    rng = np.random.default_rng(ss)
    u = rng.uniform(size=4)  # fixed draws, so switching a factor keeps the others' values
    offsets_raw = rng.uniform(-1.0, 1.0, size=(n_sensors, 3))
    h = ranges.h_F3[0] + u[0] * (ranges.h_F3[1] - ranges.h_F3[0])
    lo, hi = np.log(ranges.h_c[0]), np.log(ranges.h_c[1])
    h_c = None if u[1] < ranges.contact_perfect_prob else float(np.exp(lo + u[2] * (hi - lo)))
    k = NOMINAL["k_insert"] * (1.0 + ranges.k_insert_rel * (2.0 * u[3] - 1.0))
    offsets = ranges.position_m * offsets_raw if "position" in on else np.zeros_like(offsets_raw)
    return ModelDraw(
        scenario=scenario,
        index=index,
        h_F3=float(h) if "h_F3" in on else NOMINAL["h_F3"],
        h_c=h_c if "contact" in on else None,
        k_insert=float(k) if "k_insert" in on else NOMINAL["k_insert"],
        offsets=tuple(tuple(float(x) for x in row) for row in offsets),
        lag="lag" in on,
    )


def draw_problem(draw: ModelDraw, model: GeneratingModel):
    """The generating model's forward problem of ``draw`` (fine step, its h, h_c, insert k)."""
    from thermo.problem import ContactConductance, Material, material
    from thermo.tool_problem import TOOL_MATERIALS, tool_problem

    mats = {g: material(n) for g, n in TOOL_MATERIALS.items()}
    ins = mats["insert"]
    mats["insert"] = Material(k=draw.k_insert, rho=ins.rho, c=ins.c)
    problem = tool_problem(dt=model.dt, t_end=model.t_end, h_F3=draw.h_F3, materials=mats)
    if draw.h_c is not None:
        problem = replace(problem, contact={"F2": ContactConductance(h_c=draw.h_c)})
    return problem


def draw_responses(
    draws: Sequence[ModelDraw],
    model: GeneratingModel,
    *,
    cache: Path | None = None,
    comm: Any = None,
    progress: bool = False,
) -> dict[str, Any]:
    """The fine-grid step responses of every draw's sensors, one FEM run per distinct
    :attr:`ModelDraw.fem_key`: ``{draw.label: LinearResponse}`` with probes S1..S4 (the draw's
    offset positions). Runs are cached in ``cache`` under a key derived from problem, geometry
    and probes."""
    from mpi4py import MPI

    from meshes.tool import ToolGeometry, tool_mesh
    from thermo.inverse.linear_response import LinearResponse, cache_key, compute_linear_response

    comm = MPI.COMM_SELF if comm is None else comm
    geometry = ToolGeometry(size_factor=model.size_factor, sensor_layout=model.sensor_layout)
    tagged = tool_mesh(geometry, comm)
    names = sorted(tagged.sensors)
    groups: dict[tuple, list[ModelDraw]] = {}
    for d in draws:
        groups.setdefault(d.fem_key, []).append(d)
    out: dict[str, Any] = {}
    for members in groups.values():
        problem = draw_problem(members[0], model)
        probes = {}
        for d in members:
            for name, off in zip(names, d.offsets, strict=True):
                shift = _on_surface(np.asarray(off), geometry)
                probes[f"{name}@{d.label}"] = tuple(float(x) for x in tagged.sensors[name] + shift)
        key = cache_key(problem=problem, geometry=geometry, probes=probes, boundary="F1")
        path = None if cache is None else Path(cache) / f"lab_{key}"
        if path is not None and path.with_suffix(".npz").exists():
            resp = LinearResponse.load(path)
        else:
            resp = compute_linear_response(
                tagged, problem, boundary="F1", kind="temperature", probes=probes, progress=progress
            )
            resp.meta["generating_model"] = model.as_meta()
            if path is not None and comm.rank == 0:
                resp.save(path)
        for d in members:
            cols = [resp.probe_names.index(f"{n}@{d.label}") for n in names]
            out[d.label] = replace(
                resp,
                step=resp.step[:, cols],
                probe_names=tuple(names),
                base=None if resp.base is None else resp.base[:, cols],
                meta={**resp.meta, "draw": d.as_meta()},
            )
    return out


def _on_surface(offset: np.ndarray, geometry: Any) -> np.ndarray:
    """A sensor offset as it applies to the layout: flank sensors move along the flank face
    (the component along the face's normal is removed, so the depth below the surface stays);
    body sensors (blind holes) move in any direction."""
    if geometry.sensor_layout != "flank":
        return offset
    a = np.radians(geometry.clearance_deg)
    n = np.array([np.cos(a), -np.sin(a), 0.0])  # the flank's outward normal (meshes.tool)
    return offset - (offset @ n) * n


def record_seed(seed: int, case: int, r: int, i_sigma: int) -> int:
    """Seed of a record's lag and noise (module docstring)."""
    ss = np.random.SeedSequence([seed, case, 3, r + 1, i_sigma + 1])
    return int(ss.generate_state(1)[0])


def record_tau(draw: ModelDraw, *, seed: int, case: int, r: int, ranges: UncertaintyRanges):
    """The record's thermocouple time constants τ (s, one per sensor), 0 without lag."""
    if not draw.lag:
        return 0.0
    rng = np.random.default_rng(np.random.SeedSequence([seed, case, 4, r + 1]))
    return rng.uniform(*ranges.tau_s, size=len(draw.offsets))


def make_records(
    response: Any,
    draw: ModelDraw,
    model: GeneratingModel,
    *,
    case: int,
    r: int,
    sigmas: Sequence[float],
    seed: int,
    variability: F1Variability | None = None,
    split: str = "test",
) -> list[SensorRecord]:
    """The records of realisation ``r`` of ``case`` under ``draw``, one per σ.

    ``response`` is the draw's fine-grid step response (probes S1..S4). Each record is sampled at
    the inverse's step; its ``truth`` is the F1 history (°C), its ``clean`` what a noise-free
    sensor with the record's lag reads (the junction temperature through the thermocouple's
    first-order lag, no noise, drift or quantisation: the reference of leave-one-sensor-out),
    its ``meta`` the case, realisation, split, σ, the draw, τ, the F1 realisation and the sensor
    model.
    """
    t = response.times
    p = case_params(case)
    f1, real = random_f1_history(t, **p, seed=seed, case=case, r=r, variability=variability)
    clean = response.probes(f1)
    tau = record_tau(draw, seed=seed, case=case, r=r, ranges=model.ranges)
    lagged = clean if np.all(np.asarray(tau) == 0.0) else first_order_lag(t, clean, tau)
    keep = slice(None, None, model.every)
    out = []
    for i, sigma in enumerate(sigmas):
        noisy = sigma > 0
        sensor = SensorModel(
            tau_s=0.0,
            sigma_K=float(sigma),
            drift_K=model.drift_K if noisy else 0.0,
            quantum_K=model.quantum_K if noisy else 0.0,
        )
        s_seed = record_seed(seed, case, r, i)
        measured = apply_sensor_model(t, lagged, sensor, seed=s_seed)
        meta = {
            "case": case,
            "realisation": r,
            "split": split,
            "scenario": draw.scenario,
            "sigma_K": float(sigma),
            "tau_s": np.atleast_1d(tau).astype(float).tolist(),
            "draw": draw.as_meta(),
            "f1": real.as_meta(),
            "sensor_model": sensor.as_meta(),
            "sensor_seed": s_seed,
        }
        out.append(
            SensorRecord(
                times=t[keep],
                values=measured[keep],
                names=response.probe_names,
                params=p,
                truth=f1[keep],
                clean=lagged[keep],
                meta=meta,
            )
        )
    return out


def oracle_response(response: Any, record: SensorRecord) -> Any:
    """The true model of ``record``: its draw's fine-grid response lagged by the record's τ."""
    tau = np.asarray(record.meta.get("tau_s", [0.0]), dtype=float)
    if np.all(tau == 0.0):
        return response
    step = first_order_lag(response.times, response.step, tau if tau.size > 1 else float(tau[0]))
    return replace(response, step=step, meta={**response.meta, "tau_s": tau.tolist()})


def split_of(case: int, r: int, n_realisations: int) -> str:
    """``"test"`` for held-out cases and each case's last realisation, else ``"train"``."""
    return "test" if case in HOLDOUT_CASES or r == n_realisations - 1 else "train"


def generate(
    responses: Mapping[str, Any],
    draws: Mapping[str, Sequence[ModelDraw]],
    model: GeneratingModel,
    *,
    cases: Iterable[int] = range(1, 28),
    n_realisations: int = 3,
    sigmas: Sequence[float] = (0.0, 5.0, 10.0),
    seed: int = 0,
    variability: F1Variability | None = None,
    on_record: Callable[[SensorRecord], None] | None = None,
) -> list[SensorRecord]:
    """All records: every case × realisation × σ, for each scenario in ``draws``.

    Args:
        responses: ``{draw.label: fine-grid LinearResponse}`` (:func:`draw_responses`).
        draws: ``{scenario: [draws]}`` (:func:`pool`); which draw a record uses is
            :func:`assign_draw` (training and test records use disjoint draws).
        model: the generating model.
        cases, n_realisations, sigmas, seed, variability: the design (module docstring).
        on_record: called with each record (progress).
    """
    out: list[SensorRecord] = []
    for scenario, pool in draws.items():
        if any(d.scenario != scenario for d in pool):
            raise ValueError(f"generate: the pool of {scenario!r} holds draws of another scenario")
        for case in cases:
            for r in range(n_realisations):
                split = split_of(case, r, n_realisations)
                draw = assign_draw(pool, case=case, r=r, split=split)
                recs = make_records(
                    responses[draw.label],
                    draw,
                    model,
                    case=case,
                    r=r,
                    sigmas=sigmas,
                    seed=seed,
                    variability=variability,
                    split=split,
                )
                for rec in recs:
                    if on_record is not None:
                        on_record(rec)
                out.extend(recs)
    return out


def assign_draw(pool: Sequence[ModelDraw], *, case: int, r: int, split: str) -> ModelDraw:
    """The draw a record uses: training records cycle through the pool's training draws, test
    records through its test draws (the two are disjoint when the pool has both, see
    :func:`pool`)."""
    first_test = pool_split(pool)
    train = [d for d in pool if d.index < first_test]
    test = [d for d in pool if d.index >= first_test] or train
    choice = train if split == "train" and train else test
    return choice[(case * 7 + r) % len(choice)]


def pool_split(pool: Sequence[ModelDraw]) -> int:
    """Index from which a pool's draws are test draws (half of them, at least one each way when
    the pool has two or more; a one-draw pool serves both)."""
    n = len(pool)
    return n if n < 2 else n - max(1, n // 2)


def pool(scenario: str, n_draws: int, *, seed: int, ranges: UncertaintyRanges) -> list[ModelDraw]:
    """``n_draws`` draws of ``scenario``; ``"none"`` and ``"lag"`` need one (no FEM change)."""
    n = 1 if scenario in ("none", "lag") else n_draws
    return [draw_model(scenario, i, seed=seed, ranges=ranges) for i in range(n)]


def nominal_response(model: GeneratingModel, size_factor: float, cache: Path) -> Any:
    """The inverse's model of the records: the standard tool mesh (``size_factor``), the
    inverse's step, nominal parameters, no lag; the F1 → S1..S4 step response, cached in
    ``cache`` under a key derived from problem, geometry and probes."""
    from mpi4py import MPI

    from meshes.tool import ToolGeometry, tool_mesh
    from thermo.inverse.linear_response import LinearResponse, cache_key, compute_linear_response
    from thermo.tool_problem import tool_problem

    geometry = ToolGeometry(size_factor=size_factor, sensor_layout=model.sensor_layout)
    problem = tool_problem(dt=model.inverse_dt, t_end=model.t_end)
    tagged = tool_mesh(geometry, MPI.COMM_SELF)
    probes = {n: tuple(float(x) for x in tagged.sensors[n]) for n in sorted(tagged.sensors)}
    key = cache_key(problem=problem, geometry=geometry, probes=probes, boundary="F1")
    path = Path(cache) / f"nominal_{key}"
    if path.with_suffix(".npz").exists():
        return LinearResponse.load(path)
    resp = compute_linear_response(
        tagged, problem, boundary="F1", kind="temperature", probes=probes
    )
    resp.save(path)
    return resp

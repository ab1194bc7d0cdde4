"""The virtual IHCP data set on the built-in tool, as a library function.

:func:`build_tool_dataset` meshes the insert–shank–bolt system (:mod:`meshes.tool`), sets up the
tool's forward problem (:func:`thermo.tool_problem.tool_problem`) and builds the 27-case data set
(:func:`thermo.inverse.dataset.build_dataset`) with one of two forward models:

* ``"duhamel"`` (default): one FEM run gives the step response of S1..S4 to the F1 input and
  every case is an exact discrete Duhamel sum (:mod:`thermo.inverse.linear_response`);
* ``"fem"``: one direct FEM run per case, the cases split over the communicator's ranks, each
  rank meshing on its own.

Case scripts (``cases.ihcp_dataset``, ``cases.milling_reconstruction --retrain``,
``cases.ihcp_surrogates``) call this function; none calls another script's ``main``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

#: Mesh size factor and time step of the standard and the quick data set.
STANDARD = {"size_factor": 0.5, "dt": 0.05}
QUICK = {"size_factor": 1.0, "dt": 0.1}


def f1_condition(kind: str, times: np.ndarray, values: np.ndarray):
    """F1 boundary condition for a sampled history: ``TemperatureBC`` (°C) or ``FluxBC`` (W/m²)."""
    from thermo.problem import FluxBC, History, TemperatureBC

    hist = History(times=times, values=values)
    if kind == "temperature":
        return TemperatureBC(hist)
    if kind == "flux":
        return FluxBC(hist)
    raise ValueError(f"kind must be 'temperature' or 'flux', got {kind!r}")


@dataclass
class ToolDataset:
    """What :func:`build_tool_dataset` made (``dataset`` only on rank 0 under MPI)."""

    dataset: Any
    response: Any
    tagged: Any
    geometry: Any
    problem: Any
    metrics: dict


def build_tool_dataset(
    *,
    quick: bool = False,
    kind: str = "temperature",
    forward: str = "duhamel",
    sigmas: Sequence[float] = (0.0, 5.0, 10.0),
    seed: int = 0,
    cutoff_hz: float | None = None,
    cases: Sequence[int] = tuple(range(1, 28)),
    record_fields: bool = False,
    comm: Any = None,
    progress: bool = True,
) -> ToolDataset:
    """Build the virtual data set on the built-in tool (module docstring).

    Args:
        quick: coarse mesh (size factor 1.0) and dt = 0.1 s instead of 0.5 and 0.05 s.
        kind: F1 as "temperature" (°C) or "flux" (W/m²).
        forward: "duhamel" or "fem".
        sigmas: noise levels K.
        seed: data-set seed.
        cutoff_hz: optional low-pass of the noisy records.
        cases: case numbers (1..27).
        record_fields: keep the field step response (Duhamel forward only).
        comm: MPI communicator (default ``COMM_WORLD``); the data set is gathered on rank 0.
        progress: tqdm bars on rank 0.
    """
    from mpi4py import MPI

    from meshes.tool import ToolGeometry, tool_mesh
    from thermo.inverse.dataset import build_dataset, merge_datasets
    from thermo.inverse.linear_response import compute_linear_response
    from thermo.solver import solve_transient
    from thermo.tool_problem import tool_problem

    comm = MPI.COMM_WORLD if comm is None else comm
    wanted = sorted({int(c) for c in cases})
    if not wanted or any(not 1 <= c <= 27 for c in wanted):
        raise ValueError(f"--cases must lie in 1..27, got {wanted}")
    if forward not in ("duhamel", "fem"):
        raise ValueError(f"forward must be 'duhamel' or 'fem', got {forward!r}")
    settings = QUICK if quick else STANDARD
    geometry = ToolGeometry(size_factor=settings["size_factor"])
    problem = tool_problem(dt=settings["dt"])
    times = problem.time.times
    show = progress and comm.rank == 0
    common = dict(
        times=times, kind=kind, sigmas=sigmas, seed=seed, cutoff_hz=cutoff_hz, progress=show
    )
    metrics: dict = {"forward": forward, "quick": quick, "kind": kind}
    t0 = time.perf_counter()
    response = None
    if forward == "duhamel":
        tagged = tool_mesh(geometry, comm)
        names = sorted(tagged.sensors)
        response = compute_linear_response(
            tagged,
            problem,
            boundary="F1",
            kind=kind,
            probes={n: tagged.sensors[n] for n in names},
            progress=show,
            record_fields=record_fields,
            # The direct check compares the exact Duhamel fields with the FEM's.
            field_compression="exact",
        )
        metrics["response_s"] = time.perf_counter() - t0
        metrics["n_dofs"] = response.meta["timings"]["n_dofs"]
        model = response.probes
        mine = wanted if comm.rank == 0 else []
    else:
        tagged = tool_mesh(geometry, MPI.COMM_SELF)
        names = sorted(tagged.sensors)
        probes = {n: tagged.sensors[n] for n in names}

        def model(f1: np.ndarray) -> np.ndarray:
            bcs = {**problem.boundaries, "F1": f1_condition(kind, times, f1)}
            res = solve_transient(tagged, replace(problem, boundaries=bcs), probes=probes)
            return np.stack([res.probes[n] for n in names], axis=1)

        mine = wanted[comm.rank :: comm.size]
    part = build_dataset(model, sensor_names=names, cases=mine, **common) if mine else None
    parts = comm.gather(part, root=0)
    dataset = None
    if comm.rank == 0:
        dataset = merge_datasets([p for p in parts if p is not None])
        dataset.meta.update(
            {"forward": forward, "mesh_size_factor": geometry.size_factor, "dt_s": problem.time.dt}
        )
    metrics["total_s"] = time.perf_counter() - t0
    return ToolDataset(dataset, response, tagged, geometry, problem, metrics)

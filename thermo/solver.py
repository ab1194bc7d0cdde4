r"""Transient heat conduction with P1 finite elements and the θ-method (paper 000, eq. 9).

Semi-discrete system on a P1 Lagrange space (DOLFINx 0.11):

.. math::

    M \dot{T} + K T = f(t), \qquad
    M_{ij} = \sum_m \int_{\Omega_m} \rho_m c_m \varphi_j \varphi_i \,dx, \quad
    K_{ij} = \sum_m \int_{\Omega_m} k_m \nabla\varphi_j\cdot\nabla\varphi_i \,dx
           + \sum_{\Gamma_h} \int_{\Gamma_h} h\,\varphi_j \varphi_i \,ds,

    f(t) = \sum_{\Gamma_q} q(t)\, b_q + \sum_{\Gamma_h} h T_\infty\, b_h, \qquad
    (b_\Gamma)_i = \int_\Gamma \varphi_i \,ds,

(M in J/K, K in W/K, f in W). The θ-method (θ = 1 backward Euler, θ = 1/2 Crank–Nicolson) gives

.. math::

    (M + \theta\,\Delta t\,K)\, T^{n+1} = (M - (1-\theta)\Delta t\, K)\, T^n
        + \Delta t\,[\theta f^{n+1} + (1-\theta) f^n].

The operators are assembled in :mod:`thermo.contact` (perfect contact or contact conductance).
Efficiency: :math:`A = M + θΔt K` is assembled once with the Dirichlet rows and columns replaced by
the identity, and one KSP (CG + GAMG, or MUMPS LU) with its preconditioner set up once is reused.
The right-hand side per step is one matrix–vector product :math:`B T^n` with
:math:`B = M - (1-θ)Δt K` plus ``axpy`` of pre-assembled vectors scaled by the boundary histories;
Dirichlet data enter by *lifting*: with :math:`e_g` the indicator of a Dirichlet group's dofs,
:math:`l_g = A_{full} e_g` is computed once and :math:`b \leftarrow b - g(t^{n+1})\, l_g`, then the
Dirichlet rows are set to :math:`g(t^{n+1})`. No form is re-assembled during the time loop.

Energy balance (J) over the run, from the discrete equations tested with :math:`v = 1`:
``stored`` :math:`= \mathbf 1^T M (T^N - T^0)` (= :math:`\int \rho c (T - T_0)\,dx`), ``lost``
:math:`= \Delta t \sum_n \int_{\Gamma_h} h (T^{n,\theta} - T_\infty)\,ds`, flux input
:math:`= \Delta t \sum_n \int_{\Gamma_q} q^{n,\theta} ds`, and the Dirichlet heat input is the
reaction: the sum over the Dirichlet rows of the unconstrained residual
:math:`M(T^N - T^0) + Δt K \sum_n T^{n,θ} - Δt \sum_n f^{n,θ}`, obtained at the end from the running
sum of the solutions (one ``axpy`` per step). Then heat_in = stored + lost holds to solver
tolerance, which checks the implementation, while tests compare heat_in with analytic values.

The initial field is the uniform ``T0``; Dirichlet dofs take their prescribed value from the first
step on (a sudden surface temperature acts at t = 0⁺, as in the erfc solution). Crank–Nicolson is
A- but not L-stable: with such a jump (or any data incompatible with T0) its stiff modes decay
slowly and oscillate near the boundary, so prefer backward Euler there, or start CN from a history
that begins at T0 (as the verification tests do for the convergence orders).
With contact conductance, K also holds the interface term of :mod:`thermo.contact`.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dolfinx_solver  # noqa: F401  (initialises MPI/PETSc before dolfinx)
import numpy as np
from dolfinx import fem
from petsc4py import PETSc

from meshes.tagged import TaggedMesh
from thermo.contact import DiscreteSystem, build_contact_system, build_system, check_groups
from thermo.output import FieldFormat, FieldWriter, write_probes_csv
from thermo.probes import Probes
from thermo.problem import HeatProblem

__all__ = ["TransientResult", "solve_transient"]

_PREFIX_COUNTER = itertools.count()


@dataclass
class TransientResult:
    """Outcome of :func:`solve_transient`.

    Attributes:
        times: time levels (s), shape (n_steps + 1,).
        probes: probe name → temperature (°C), shape (n_steps + 1,), identical on every rank.
        energy: ``heat_in_J`` (= ``heat_in_flux_J`` + ``heat_in_dirichlet_J``), ``stored_J``,
            ``lost_J`` (convection) and ``balance_rel`` = (in − stored − lost) / max(|in|,
            |stored|).
        timings: ``setup_s``, ``assembly_s``, ``pc_setup_s``, ``steps_s``, ``ksp_s``,
            ``per_step_s``, ``ksp_per_step_s``, ``n_steps``, ``n_dofs``, ``ksp_iterations``.
        final: temperature at t_end (``dolfinx.fem.Function``; with contact conductance a list
            of one function per volume group).
        files: output files written (empty without ``out_dir``).
    """

    times: np.ndarray
    probes: dict[str, np.ndarray]
    energy: dict[str, float]
    timings: dict[str, float]
    final: object
    files: list[Path] = field(default_factory=list)


def _make_ksp(
    system: DiscreteSystem, problem: HeatProblem, petsc_options: Mapping[str, object] | None
) -> PETSc.KSP:
    """One KSP for all steps: CG + GAMG (rtol from the problem) or MUMPS LU, plus user options."""
    comm = system.A.getComm()
    ksp = PETSc.KSP().create(comm)
    prefix = f"millheat_heat_{next(_PREFIX_COUNTER)}_"
    ksp.setOptionsPrefix(prefix)
    ksp.setOperators(system.A)
    if problem.linear_solver == "mumps":
        ksp.setType("preonly")
        ksp.getPC().setType("lu")
        ksp.getPC().setFactorSolverType("mumps")
    else:
        ksp.setType("cg")
        ksp.getPC().setType("gamg")
        ksp.setInitialGuessNonzero(True)
        ksp.setTolerances(rtol=problem.rtol, atol=0.0, max_it=2000)
    opts = PETSc.Options()
    for key, value in (petsc_options or {}).items():
        opts[f"{prefix}{key}"] = value
    ksp.setFromOptions()
    for key in petsc_options or {}:
        del opts[f"{prefix}{key}"]
    return ksp


def _snapshot_steps(times: np.ndarray, snapshot_times: Sequence[float], dt: float) -> dict:
    steps: dict[int, float] = {}
    for ts in snapshot_times:
        n = int(np.argmin(np.abs(times - float(ts))))
        if not (np.isfinite(ts) and abs(times[n] - ts) <= 0.5 * dt + 1e-12):
            raise ValueError(f"snapshot_times: {ts!r} s is outside the run [0, {times[-1]}] s")
        steps[n] = float(ts)
    return steps


def _energy(system: DiscreteSystem, *, x0, s1, dt, theta, load_weights, t_end) -> dict:
    """Energy terms (J) from the running sum s1 = Σ_{n≥1} T^n (see module docstring)."""
    x_n = system.x
    s_theta = s1.copy()  # Σ_n T^{n,θ} = θ S1 + (1−θ) S0, S0 = S1 − T^N + T^0
    s_theta.axpy(-(1.0 - theta), x_n)
    s_theta.axpy(1.0 - theta, x0)
    diff = x_n.copy()
    diff.axpy(-1.0, x0)
    stored_vec = system.M.createVecLeft()
    system.M.mult(diff, stored_vec)
    kx = system.K.createVecLeft()
    system.K.mult(s_theta, kx)
    # forcing Σ_n f^{n,θ} Δt
    forcing = system.M.createVecLeft()
    forcing.set(0.0)
    flux_in = 0.0
    for (_h, vec), w in zip(system.loads, load_weights, strict=True):
        forcing.axpy(dt * w, vec)
        flux_in += dt * w * vec.sum()
    conv_in = 0.0
    if system.const_load is not None:
        forcing.axpy(t_end, system.const_load)
        conv_in = t_end * system.const_load.sum()
    stored = stored_vec.sum()
    lost = dt * kx.sum() - conv_in  # 1ᵀK_cond = 0, so 1ᵀK = 1ᵀH (convection only)
    residual = stored_vec.copy()
    residual.axpy(dt, kx)
    residual.axpy(-1.0, forcing)
    local = sum(float(residual.array_r[rows].sum()) for _h, rows, _l in system.dirichlet)
    reaction = system.A.getComm().tompi4py().allreduce(local)
    heat_in = flux_in + reaction
    scale = max(abs(heat_in), abs(stored), 1e-300)
    return {
        "heat_in_J": heat_in,
        "heat_in_flux_J": flux_in,
        "heat_in_dirichlet_J": reaction,
        "stored_J": stored,
        "lost_J": lost,
        "balance_rel": (heat_in - stored - lost) / scale,
    }


def solve_transient(
    tagged: TaggedMesh,
    problem: HeatProblem,
    *,
    probes: Mapping[str, Sequence[float]] | None = None,
    out_dir: Path | None = None,
    fields: FieldFormat = "none",
    snapshot_times: Sequence[float] = (),
    on_step: Callable[[int, float, fem.Function], None] | None = None,
    progress: bool = False,
    field_every: int = 1,
    petsc_options: Mapping[str, object] | None = None,
) -> TransientResult:
    """Solve ``problem`` on ``tagged`` from t = 0 to ``problem.time.t_end``.

    Args:
        tagged: mesh with named volume/facet groups.
        problem: materials per volume group, boundary conditions per facet group, contact,
            time stepping and linear solver.
        probes: name → point (m); values in ``result.probes`` (°C).
        out_dir: when given, writes ``probes.csv``, the field series and snapshot PNGs there.
        fields: ``"xdmf"`` (T.xdmf/T.h5), ``"vtx"`` (T.bp) or ``"none"``.
        snapshot_times: times (s) of PyVista PNG snapshots (needs ``out_dir``), nearest step.
        on_step: called as ``on_step(step, t, T)`` after every step and for step 0 (``T`` is
            the list of per-body functions with contact conductance).
        progress: show a tqdm bar on rank 0.
        field_every: write the field series every this many steps (and the last step).
        petsc_options: extra PETSc options for the KSP (without prefix), e.g. ``{"ksp_max_it": 5}``.

    Raises:
        KeyError: mesh groups and problem disagree (names the mesh source and the groups).
        ValueError: probe outside the mesh, snapshot outside the run, bad ``fields``.
        RuntimeError: the linear solver did not converge (step, time and PETSc reason).
    """
    from thermo import render  # PyVista is loaded only when snapshots are requested

    t_setup = time.perf_counter()
    if fields not in ("xdmf", "vtx", "none"):
        raise ValueError(f"fields must be 'xdmf', 'vtx' or 'none', got {fields!r}")
    if field_every < 1:
        raise ValueError(f"field_every must be an integer >= 1, got {field_every!r}")
    check_groups(tagged, problem)
    ts = problem.time
    times = ts.times
    snap_steps = _snapshot_steps(times, snapshot_times, ts.dt)
    if problem.contact:
        system, evaluate = build_contact_system(tagged, problem, probes=probes or {})
        names = list(probes or {})
    else:
        system = build_system(tagged, problem)
        prb = Probes(msh=tagged.mesh, points=probes or {}, source=tagged.source)
        names = prb.names
        T = system.functions[0]

        def evaluate() -> np.ndarray:
            return prb.evaluate(T)

    ksp = _make_ksp(system, problem, petsc_options)
    t_pc = time.perf_counter()
    ksp.setUp()
    pc_setup_s = time.perf_counter() - t_pc
    comm = system.A.getComm().tompi4py()
    writer = None
    if out_dir is not None:
        out_dir = Path(out_dir)
        if comm.rank == 0:
            out_dir.mkdir(parents=True, exist_ok=True)
        comm.barrier()
        writer = FieldWriter(out_dir=out_dir, functions=system.functions, fmt=fields)
    captures = []

    def record(n: int, t: float) -> None:
        values[n] = evaluate()
        if writer is not None and (n % field_every == 0 or n == ts.n_steps):
            writer.write(t)
        if out_dir is not None and n in snap_steps:
            captures.append((t, render.capture(system.functions)))
        if on_step is not None:
            on_step(n, t, system.functions[0] if len(system.functions) == 1 else system.functions)

    values = np.zeros((ts.n_steps + 1, len(names)))
    x0 = system.x.copy()
    s1 = system.x.duplicate()
    s1.set(0.0)
    rhs = system.A.createVecLeft()
    theta, dt = ts.theta, ts.dt
    q_prev = [h(0.0) for h, _ in system.loads]
    weights = [0.0] * len(system.loads)
    setup_s = time.perf_counter() - t_setup
    record(0, 0.0)
    ksp_s, iterations = 0.0, 0
    bar = None
    if progress and comm.rank == 0:
        from tqdm import tqdm

        bar = tqdm(total=ts.n_steps, desc="heat", unit="step")
    t_loop = time.perf_counter()
    for n in range(1, ts.n_steps + 1):
        t = float(times[n])
        system.B.mult(system.x, rhs)
        for i, (history, vec) in enumerate(system.loads):
            q = history(t)
            w = theta * q + (1.0 - theta) * q_prev[i]
            rhs.axpy(dt * w, vec)
            weights[i] += w
            q_prev[i] = q
        if system.const_load is not None:
            rhs.axpy(dt, system.const_load)
        g_now = [history(t) for history, _, _ in system.dirichlet]
        for g, (_h, _rows, lift) in zip(g_now, system.dirichlet, strict=True):
            rhs.axpy(-g, lift)
        if system.dirichlet:
            arr = rhs.getArray()
            for g, (_h, rows, _l) in zip(g_now, system.dirichlet, strict=True):
                arr[rows] = g
        t_k = time.perf_counter()
        ksp.solve(rhs, system.x)
        ksp_s += time.perf_counter() - t_k
        reason = ksp.getConvergedReason()
        if reason < 0:
            raise RuntimeError(
                f"{tagged.source}: linear solve did not converge at step {n} (t = {t:g} s): "
                f"PETSc KSPConvergedReason {reason}, {ksp.getIterationNumber()} iterations, "
                f"residual norm {ksp.getResidualNorm():.3e}"
            )
        iterations += ksp.getIterationNumber()
        system.sync()
        s1.axpy(1.0, system.x)
        record(n, t)
        if bar is not None:
            bar.update(1)
    steps_s = time.perf_counter() - t_loop
    if bar is not None:
        bar.close()
    energy = _energy(
        system, x0=x0, s1=s1, dt=dt, theta=theta, load_weights=weights, t_end=float(times[-1])
    )
    result_probes = {name: values[:, i].copy() for i, name in enumerate(names)}
    files: list[Path] = []
    if out_dir is not None:
        files.append(write_probes_csv(out_dir / "probes.csv", times=times, probes=result_probes))
        files.extend(writer.close())
        if captures:
            files.extend(render.render_snapshots(captures, out_dir=out_dir, comm=comm))
    ksp.destroy()
    n_steps = ts.n_steps
    timings = {
        "setup_s": setup_s,
        "assembly_s": system.assembly_s,
        "pc_setup_s": pc_setup_s,
        "steps_s": steps_s,
        "ksp_s": ksp_s,
        "per_step_s": steps_s / n_steps,
        "ksp_per_step_s": ksp_s / n_steps,
        "n_steps": n_steps,
        "n_dofs": system.n_dofs,
        "ksp_iterations": iterations,
    }
    final = system.functions[0] if len(system.functions) == 1 else system.functions
    return TransientResult(
        times=times, probes=result_probes, energy=energy, timings=timings, final=final, files=files
    )

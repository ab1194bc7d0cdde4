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

Structure: stepping is apart from output. :class:`LinearStepper` (this module; constant
properties) and :class:`thermo.nonlinear.NonlinearStepper` (any property a table of temperature:
Newton per step) are iterables of ``(step, t, functions)``; probes, field series, snapshots, the
progress bar, ``on_step`` and the energy accounting are observers of that loop
(:mod:`thermo.output`), attached by :func:`solve_transient`. A user loop can iterate a stepper
directly, as scikit-fem's ``evolve``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dolfinx_solver  # noqa: F401  (initialises MPI/PETSc before dolfinx)
import numpy as np
from dolfinx import fem
from petsc4py import PETSc

from meshes.tagged import TaggedMesh
from thermo.contact import (
    DiscreteSystem,
    build_contact_system,
    build_system,
    check_groups,
    discretise,
    energy_terms,
    make_ksp,
    probe_evaluator,
)
from thermo.output import (
    Callback,
    FieldFormat,
    FieldSeries,
    FieldWriter,
    ProbeRecorder,
    ProgressBar,
    Snapshots,
    StepObserver,
    write_probes_csv,
)
from thermo.probes import Probes
from thermo.problem import HeatProblem

__all__ = ["LinearStepper", "TransientResult", "make_ksp", "solve_transient"]


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
            ``per_step_s``, ``ksp_per_step_s``, ``n_steps``, ``n_dofs``, ``ksp_iterations``;
            the nonlinear solver adds ``newton_iterations``, ``jacobian_assemblies``,
            ``pc_setups``, ``residual_s`` and ``jacobian_s``.
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


def _snapshot_steps(times: np.ndarray, snapshot_times: Sequence[float], dt: float) -> dict:
    steps: dict[int, float] = {}
    for ts in snapshot_times:
        n = int(np.argmin(np.abs(times - float(ts))))
        if not (np.isfinite(ts) and abs(times[n] - ts) <= 0.5 * dt + 1e-12):
            raise ValueError(f"snapshot_times: {ts!r} s is outside the run [0, {times[-1]}] s")
        steps[n] = float(ts)
    return steps


class LinearEnergy(StepObserver):
    """Energy accounting of the linear θ-method (module docstring), as an observer.

    Keeps the running sum S1 = Σ_{n≥1} T^n and the θ-weights Σ_n q^{n,θ} of the flux loads;
    :meth:`result` forms the energy terms (J) at the end.
    """

    def __init__(self, system: DiscreteSystem, *, theta: float, dt: float) -> None:
        self._system, self._theta, self._dt = system, theta, dt
        self._x0 = system.x.copy()
        self._s1 = system.x.duplicate()
        self._s1.set(0.0)
        self._q_prev = [h(0.0) for h, _ in system.loads]
        self._weights = [0.0] * len(system.loads)
        self._t = 0.0

    def __call__(self, step: int, t: float, functions: list[fem.Function]) -> None:
        if step == 0:
            return
        theta = self._theta
        for i, (history, _vec) in enumerate(self._system.loads):
            q = history(t)
            self._weights[i] += theta * q + (1.0 - theta) * self._q_prev[i]
            self._q_prev[i] = q
        self._s1.axpy(1.0, self._system.x)
        self._t = t

    def result(self) -> dict[str, float]:
        """Energy terms (J) from S1 (see the module docstring)."""
        system, theta, dt = self._system, self._theta, self._dt
        x_n, x0 = system.x, self._x0
        s_theta = self._s1.copy()  # Σ_n T^{n,θ} = θ S1 + (1−θ) S0, S0 = S1 − T^N + T^0
        s_theta.axpy(-(1.0 - theta), x_n)
        s_theta.axpy(1.0 - theta, x0)
        diff = x_n.copy()
        diff.axpy(-1.0, x0)
        stored_vec = system.M.createVecLeft()
        system.M.mult(diff, stored_vec)
        kx = system.K.createVecLeft()
        system.K.mult(s_theta, kx)
        forcing = system.M.createVecLeft()  # Σ_n f^{n,θ} Δt
        forcing.set(0.0)
        flux_in = 0.0
        for (_h, vec), w in zip(system.loads, self._weights, strict=True):
            forcing.axpy(dt * w, vec)
            flux_in += dt * w * vec.sum()
        conv_in = 0.0
        if system.const_load is not None:
            forcing.axpy(self._t, system.const_load)
            conv_in = self._t * system.const_load.sum()
        stored = stored_vec.sum()
        lost = dt * kx.sum() - conv_in  # 1ᵀK_cond = 0, so 1ᵀK = 1ᵀH (convection only)
        residual = stored_vec.copy()
        residual.axpy(dt, kx)
        residual.axpy(-1.0, forcing)
        local = sum(float(residual.array_r[rows].sum()) for _h, rows, _l in system.dirichlet)
        reaction = system.A.getComm().tompi4py().allreduce(local)
        return energy_terms(flux_in=flux_in, reaction=reaction, stored=stored, lost=lost)


class LinearStepper:
    """The constant-property θ-method loop on a :class:`DiscreteSystem` (module docstring).

    Iterating yields ``(step, t, functions)`` for step 0 (the initial state) and after every
    solve; ``functions`` hold T at ``t``. One KSP with its preconditioner set up once.

    Args:
        system: the assembled system (:func:`thermo.contact.build_system` or the contact one).
        problem: supplies the time stepping and the linear solver.
        petsc_options: extra KSP options (without prefix).
        source: mesh description for error messages.
    """

    def __init__(
        self,
        system: DiscreteSystem,
        problem: HeatProblem,
        *,
        petsc_options: Mapping[str, object] | None = None,
        source: str = "<mesh>",
    ) -> None:
        self.system, self.problem, self.source = system, problem, source
        self.functions = system.functions
        self.ksp = make_ksp(system.A, problem, petsc_options)
        t_pc = time.perf_counter()
        self.ksp.setUp()
        self.pc_setup_s = time.perf_counter() - t_pc
        self.ksp_s, self.iterations = 0.0, 0
        self._rhs = system.A.createVecLeft()

    def energy_observer(self) -> LinearEnergy:
        """The energy accounting of this scheme, to attach as an observer."""
        ts = self.problem.time
        return LinearEnergy(self.system, theta=ts.theta, dt=ts.dt)

    def _rhs_at(self, t: float, q_prev: list[float]) -> PETSc.Vec:
        """B Tⁿ + Δt f^{n,θ} − Σ g lifting, Dirichlet rows set to g(t)."""
        system, rhs = self.system, self._rhs
        theta, dt = self.problem.time.theta, self.problem.time.dt
        system.B.mult(system.x, rhs)
        for i, (history, vec) in enumerate(system.loads):
            q = history(t)
            rhs.axpy(dt * (theta * q + (1.0 - theta) * q_prev[i]), vec)
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
        return rhs

    def _solve(self, rhs: PETSc.Vec, n: int, t: float) -> None:
        ksp = self.ksp
        t_k = time.perf_counter()
        ksp.solve(rhs, self.system.x)
        self.ksp_s += time.perf_counter() - t_k
        reason = ksp.getConvergedReason()
        if reason < 0:
            raise RuntimeError(
                f"{self.source}: linear solve did not converge at step {n} (t = {t:g} s): "
                f"PETSc KSPConvergedReason {reason}, {ksp.getIterationNumber()} iterations, "
                f"residual norm {ksp.getResidualNorm():.3e}"
            )
        self.iterations += ksp.getIterationNumber()
        self.system.sync()

    def __iter__(self) -> Iterator[tuple[int, float, list[fem.Function]]]:
        times = self.problem.time.times
        q_prev = [h(0.0) for h, _ in self.system.loads]
        yield 0, 0.0, self.functions
        for n in range(1, len(times)):
            t = float(times[n])
            self._solve(self._rhs_at(t, q_prev), n, t)
            yield n, t, self.functions

    def timings(self) -> dict[str, float]:
        """Assembly, preconditioner and KSP figures (the loop's own time is the caller's)."""
        return {
            "assembly_s": self.system.assembly_s,
            "pc_setup_s": self.pc_setup_s,
            "ksp_s": self.ksp_s,
            "n_dofs": self.system.n_dofs,
            "ksp_iterations": self.iterations,
        }

    def destroy(self) -> None:
        """Free the KSP."""
        self.ksp.destroy()


def _stepper(tagged: TaggedMesh, problem: HeatProblem, probes, petsc_options):
    """The stepper for ``problem`` (linear or Newton) and its probe names and evaluator."""
    if problem.is_nonlinear:
        from thermo.nonlinear import NonlinearStepper

        disc = discretise(tagged, problem)
        names, evaluate = probe_evaluator(tagged, disc, probes)
        stepper = NonlinearStepper(disc, problem, petsc_options=petsc_options, source=tagged.source)
        return stepper, names, evaluate
    if problem.contact:
        system, evaluate = build_contact_system(tagged, problem, probes=probes)
        names = list(probes)
    else:
        system = build_system(tagged, problem)
        prb = Probes(msh=tagged.mesh, points=probes, source=tagged.source)
        names, T = prb.names, system.functions[0]

        def evaluate() -> np.ndarray:
            return prb.evaluate(T)

    stepper = LinearStepper(system, problem, petsc_options=petsc_options, source=tagged.source)
    return stepper, names, evaluate


def _output_observers(
    stepper, *, out_dir, fields, field_every, snap_steps, n_steps
) -> tuple[list[StepObserver], StepObserver | None, StepObserver | None]:
    if out_dir is None:
        return [], None, None
    comm = stepper.functions[0].function_space.mesh.comm
    out_dir = Path(out_dir)
    if comm.rank == 0:
        out_dir.mkdir(parents=True, exist_ok=True)
    comm.barrier()
    writer = FieldWriter(out_dir=out_dir, functions=stepper.functions, fmt=fields)
    series = FieldSeries(writer, every=field_every, last_step=n_steps)
    snaps = Snapshots(snap_steps, out_dir=out_dir, comm=comm)
    return [series, snaps], series, snaps


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
    observers: Sequence[StepObserver] = (),
) -> TransientResult:
    """Solve ``problem`` on ``tagged`` from t = 0 to ``problem.time.t_end``.

    Constant materials take the linear path (:class:`LinearStepper`); any temperature-dependent
    property selects Newton per step (:class:`thermo.nonlinear.NonlinearStepper`).

    Args:
        tagged: mesh with named volume/facet groups.
        problem: materials per volume group, boundary conditions per facet group, contact,
            time stepping and linear solver.
        probes: name → point (m); values in ``result.probes`` (°C).
        out_dir: when given, writes ``probes.csv``, the field series and snapshot PNGs there
            (in place: stage the folder with :func:`thermo.atomic.staged_dir`).
        fields: ``"xdmf"`` (T.xdmf/T.h5), ``"vtx"`` (T.bp) or ``"none"``.
        snapshot_times: times (s) of PyVista PNG snapshots (needs ``out_dir``), nearest step.
        on_step: called as ``on_step(step, t, T)`` after every step and for step 0 (``T`` is
            the list of per-body functions with contact conductance).
        progress: show a tqdm bar on rank 0.
        field_every: write the field series every this many steps (and the last step).
        petsc_options: extra PETSc options for the KSP (without prefix), e.g. ``{"ksp_max_it": 5}``.
        observers: further :class:`thermo.output.StepObserver` objects, called after the
            built-in ones; the files their ``close()`` returns are added to ``result.files``.

    Raises:
        KeyError: mesh groups and problem disagree (names the mesh source and the groups).
        ValueError: probe outside the mesh, snapshot outside the run, bad ``fields``.
        RuntimeError: the linear (or Newton) solver did not converge (step, time and reason).
    """
    t_setup = time.perf_counter()
    if fields not in ("xdmf", "vtx", "none"):
        raise ValueError(f"fields must be 'xdmf', 'vtx' or 'none', got {fields!r}")
    if field_every < 1:
        raise ValueError(f"field_every must be an integer >= 1, got {field_every!r}")
    check_groups(tagged, problem)
    ts = problem.time
    times = ts.times
    snap_steps = _snapshot_steps(times, snapshot_times, ts.dt)
    stepper, names, evaluate = _stepper(tagged, problem, probes or {}, petsc_options)
    comm = stepper.functions[0].function_space.mesh.comm
    recorder = ProbeRecorder(names, evaluate, ts.n_steps)
    energy = stepper.energy_observer()
    outputs, series, snaps = _output_observers(
        stepper,
        out_dir=out_dir,
        fields=fields,
        field_every=field_every,
        snap_steps=snap_steps,
        n_steps=ts.n_steps,
    )
    watchers: list[StepObserver] = [energy, recorder, *outputs]
    if on_step is not None:
        watchers.append(Callback(on_step))
    watchers.extend(observers)
    if progress:
        watchers.append(ProgressBar(ts.n_steps, comm=comm))
    setup_s = time.perf_counter() - t_setup
    t_loop = None
    for n, t, functions in stepper:
        if t_loop is None:
            t_loop = time.perf_counter()
        for watch in watchers:
            watch(n, t, functions)
    steps_s = time.perf_counter() - t_loop
    result_probes = recorder.probes()
    files: list[Path] = []
    if out_dir is not None:
        files.append(
            write_probes_csv(Path(out_dir) / "probes.csv", times=times, probes=result_probes)
        )
    for watch in watchers:
        files.extend(watch.close())
    stepper.destroy()
    n_steps = ts.n_steps
    timings = {"setup_s": setup_s, **stepper.timings(), "steps_s": steps_s}
    timings.update(
        per_step_s=steps_s / n_steps, ksp_per_step_s=timings["ksp_s"] / n_steps, n_steps=n_steps
    )
    final = stepper.functions[0] if len(stepper.functions) == 1 else stepper.functions
    return TransientResult(
        times=times,
        probes=result_probes,
        energy=energy.result(),
        timings=timings,
        final=final,
        files=files,
    )

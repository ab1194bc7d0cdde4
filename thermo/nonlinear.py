r"""Transient heat conduction with temperature-dependent properties: θ-scheme + Newton per step.

With :math:`k(T)`, :math:`\rho(T)`, :math:`c(T)` tables (:mod:`thermo.properties`) the equation
:math:`\rho c(T)\,\partial_t T = \nabla\cdot(k(T)\nabla T)` is written in **enthalpy form**,
:math:`\partial_t H(T) = \nabla\cdot(k(T)\nabla T)` with
:math:`H(T) = \int_{T_a}^{T} \rho(s)c(s)\,ds` (J/m³; exact, piecewise cubic, see
:meth:`thermo.properties.Property.enthalpy_with`). The θ-scheme (θ = 1 backward Euler,
θ = 1/2 Crank–Nicolson) on the P1 space of :mod:`thermo.contact` finds :math:`T^{n+1}` with

.. math::

    F(T^{n+1}; v) = \int_\Omega \big(H(T^{n+1}) - H(T^n)\big) v\,dx
      + \Delta t\,\big[\theta\,G(T^{n+1}, t^{n+1}; v) + (1-\theta)\,G(T^n, t^n; v)\big] = 0,

    G(T, t; v) = \int_\Omega k(T)\nabla T\cdot\nabla v\,dx
      + \sum_{\Gamma_h}\int h\,(T - T_\infty)\,v\,ds - \sum_{\Gamma_q}\int q(t)\,v\,ds
      + \sum_{\Gamma_c}\int h_c [\![T]\!]\,[\![v]\!]\,dS

for all test functions v vanishing on the Dirichlet groups (T = g(t^{n+1}) there). The capacity
term is the enthalpy difference, not :math:`\rho c(T^{n+\theta})(T^{n+1} - T^n)`: tested with
v = 1 it telescopes, so the energy stored over the run is exactly
:math:`\int H(T^N) - H(T^0)\,dx` whatever the steps, and the balance heat in = stored + lost holds
to the Newton tolerance (the same quadrature, degree :data:`QUADRATURE_DEGREE`, is used for the
residual and for the stored-energy functional). With constant ρc the scheme is the linear
θ-method of :mod:`thermo.solver`.

Newton (hand-written, one KSP for the whole run): the Jacobian :math:`J = \partial F/\partial T`
(``ufl.derivative``; non-symmetric through :math:`k'(T)\nabla T`, so GMRES, right-preconditioned,
with GAMG — or MUMPS LU) is assembled at the first iteration of a step and kept for the step
(modified Newton) unless the residual falls by less than a factor 4 in an iteration, which
re-assembles it. The preconditioner (GAMG hierarchy or LU factors) is set up once and **reused
while it works**: it is rebuilt only when a solve fails or needs more than twice (+ 5) the
iterations it needed right after its last set-up. Dirichlet rows: the iterate takes g(t^{n+1})
on them, the Newton update is zero there (identity rows in J, zero residual rows).

Stopping test per step: :math:`\|F\|_2 \le \max(\text{newton\_rtol}\,\|F_0\|_2,\
\text{rtol}\,\|C\|_2 (1 + \|T^n\|_\infty))` with :math:`F_0` the step's first residual and
:math:`C_i = \int \rho c(T_0)\,\varphi_i\,dx` — the second term is the accuracy the linear solver
reaches (its KSP residual is relative to :math:`\|M T^n\|`), so both paths stop at comparable
accuracy; each GMRES solve aims at a tenth of that absolute target (relative 1e-6 at most). A
step also ends when a Newton update is below newton_rtol × (1 + ‖T‖∞) in the max norm (the
residual can stall at round-off when Δt K dominates); its reaction is then taken from the residual
just before that update.

Energy (J), from the converged residual of every step: ``stored`` = ∫H(T^N) − H(T^0) dx,
``lost`` = Δt Σ_n ∫h(T^{n,θ} − T∞) ds, flux input Δt Σ_n q^{n,θ}∫ds, and the Dirichlet input the
reaction: the sum of the converged, unconstrained residual over the Dirichlet rows, per step.

Under MPI everything is assembled in parallel like the linear path (owned rows, ghost updates);
the contact-conductance system uses the monolithic block layout of :mod:`thermo.contact`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping

import dolfinx_solver  # noqa: F401  (initialises MPI/PETSc before dolfinx)
import numpy as np
import ufl
from dolfinx import fem
from dolfinx.fem import petsc as fem_petsc
from dolfinx.fem.forms import derivative_block
from mpi4py import MPI
from petsc4py import PETSc

from thermo.contact import Discretisation
from thermo.output import StepObserver
from thermo.problem import ConvectionBC, FluxBC, HeatProblem, Material
from thermo.properties import PropertyLike, as_property

__all__ = ["QUADRATURE_DEGREE", "NonlinearStepper", "enthalpy", "ufl_property"]

#: Quadrature degree of the capacity (enthalpy) term and of the stored-energy functional.
QUADRATURE_DEGREE = 4


def _clamp(T, lo: float, hi: float):
    return ufl.min_value(ufl.max_value(T, lo), hi)


def ufl_property(prop: PropertyLike, T):
    """A property as a UFL expression of the temperature ``T``: linear pieces, constant outside."""
    p = as_property(prop)
    if p.T.size == 1 or p.is_constant:
        return float(p.values[0]) + 0.0 * T
    expr = float(p.values[0])
    for lo, hi, slope in zip(p.T[:-1], p.T[1:], p.slopes, strict=True):
        if slope != 0.0:
            expr = expr + float(slope) * (_clamp(T, float(lo), float(hi)) - float(lo))
    return expr


def enthalpy(mat: Material, T):
    r"""UFL :math:`H(T) = \int_{T_a}^{T} \rho c\,ds` (J/m³) of ``mat`` (exact for linear pieces).

    :math:`T_a` is the lowest breakpoint of ρ and c; only differences of H enter the scheme.
    """
    rho, c = as_property(mat.rho), as_property(mat.c)
    knots = np.union1d(rho.T, c.T)
    a, b = float(knots[0]), float(knots[-1])
    out = rho(a) * c(a) * ufl.min_value(T - a, 0.0) + rho(b) * c(b) * ufl.max_value(T - b, 0.0)
    for lo, hi in zip(knots[:-1], knots[1:], strict=True):
        lo, hi = float(lo), float(hi)
        u = _clamp(T, lo, hi) - lo
        p0, q0 = rho(lo), c(lo)
        p1, q1 = (rho(hi) - p0) / (hi - lo), (c(hi) - q0) / (hi - lo)
        out = out + p0 * q0 * u
        if p0 * q1 + p1 * q0 != 0.0:
            out = out + (p0 * q1 + p1 * q0) / 2.0 * u**2
        if p1 * q1 != 0.0:
            out = out + p1 * q1 / 3.0 * u**3
    return out


class _Forms:
    """Residual, Jacobian, energy functional and load vectors of the nonlinear θ-scheme."""

    def __init__(self, disc: Discretisation, problem: HeatProblem) -> None:
        msh = disc.functions[0].function_space.mesh
        theta, dt = problem.time.theta, problem.time.dt
        T = disc.functions
        Tn = [fem.Function(u.function_space, name=f"{u.name}_prev") for u in T]
        for u, un in zip(T, Tn, strict=True):
            un.x.array[:] = u.x.array
        _us, vs = disc.arguments()

        def const(value: float) -> fem.Constant:
            return fem.Constant(msh, PETSc.ScalarType(value))

        c_dt = const(dt)
        F, energy, capacity = 0, 0, 0
        for i, parts in enumerate(disc.cells):
            for _g, mat, dxm in parts:
                dxq = dxm(degree=QUADRATURE_DEGREE)
                F += (enthalpy(mat, T[i]) - enthalpy(mat, Tn[i])) * vs[i] * dxq
                energy += enthalpy(mat, T[i]) * dxq
                k, kn = ufl_property(mat.k, T[i]), ufl_property(mat.k, Tn[i])
                flux_i = theta * k * ufl.grad(T[i]) + (1 - theta) * kn * ufl.grad(Tn[i])
                F += c_dt * ufl.inner(flux_i, ufl.grad(vs[i])) * dxm
                rho_c0 = as_property(mat.rho)(problem.time.T0) * as_property(mat.c)(problem.time.T0)
                capacity += const(rho_c0) * vs[i] * dxm
        for h_c, a, b, dSm in disc.interfaces:
            jump = theta * (T[a]("+") - T[b]("-")) + (1 - theta) * (Tn[a]("+") - Tn[b]("-"))
            F += c_dt * const(h_c) * jump * (vs[a]("+") - vs[b]("-")) * dSm
        self.q: list[tuple[object, fem.Constant, object]] = []  # (history, constant, unit load)
        h_forms = 0
        self.conv_const = 0.0  # Σ h T∞ |Γ_h| (W)
        for name, bc in problem.boundaries.items():
            measures = disc.facets[name]
            if isinstance(bc, ConvectionBC):
                for i, dsm in enumerate(measures):
                    T_theta = theta * T[i] + (1 - theta) * Tn[i]
                    F += c_dt * const(bc.h) * (T_theta - bc.T_inf) * vs[i] * dsm
                    h_forms += const(bc.h) * vs[i] * dsm
            elif isinstance(bc, FluxBC):
                q = const(0.0)
                unit = 0
                for i, dsm in enumerate(measures):
                    F -= c_dt * q * vs[i] * dsm
                    unit += const(1.0) * vs[i] * dsm
                self.q.append((bc.value, q, unit))
        self.T, self.Tn = T, Tn
        self.F = disc.form(F)
        if disc.mixed is None:
            self.J = fem.form(ufl.derivative(F, T[0]))
        else:
            blocks = ufl.extract_blocks(F)
            self.J = fem.form(derivative_block(blocks, T), entity_maps=disc.entity_maps)
        maps = disc.entity_maps
        self.energy = fem.form(energy) if maps is None else fem.form(energy, entity_maps=maps)
        self.capacity = _vector(disc, capacity)
        self.h_vec = None if h_forms == 0 else _vector(disc, h_forms)
        self.unit_loads = [_vector(disc, unit) for _h, _q, unit in self.q]
        for name, bc in problem.boundaries.items():
            if isinstance(bc, ConvectionBC):
                area = sum(
                    fem.assemble_scalar(_scalar(disc, const(1.0) * dsm))
                    for dsm in disc.facets[name]
                )
                self.conv_const += bc.h * bc.T_inf * msh.comm.allreduce(area)

    def stored_energy(self, comm) -> float:
        """∫ H(T) dx over all bodies (J, relative to the lowest table temperature)."""
        return comm.allreduce(fem.assemble_scalar(self.energy))


def _scalar(disc: Discretisation, expr):
    maps = disc.entity_maps
    return fem.form(expr) if maps is None else fem.form(expr, entity_maps=maps)


def _vector(disc: Discretisation, expr) -> PETSc.Vec:
    vec = fem_petsc.assemble_vector(disc.form(expr), kind=disc.kind)
    vec.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    return vec


class NonlinearEnergy(StepObserver):
    """Energy accounting of the nonlinear scheme (module docstring), as an observer."""

    def __init__(self, stepper: NonlinearStepper) -> None:
        self._s = stepper
        forms, comm = stepper.forms, stepper.comm
        self._stored0 = forms.stored_energy(comm)
        self._h_prev = stepper._h_dot()
        self._q_prev = [h(0.0) for h, _q, _u in forms.q]
        self.flux_in = self.lost = 0.0
        self._t = 0.0

    def __call__(self, step: int, t: float, functions: list[fem.Function]) -> None:
        if step == 0:
            return
        s = self._s
        theta, dt = s.problem.time.theta, s.problem.time.dt
        h_now = s._h_dot()
        self.lost += dt * (theta * h_now + (1 - theta) * self._h_prev)
        self._h_prev = h_now
        loads = zip(s.forms.q, s.forms.unit_loads, strict=True)
        for i, ((history, _q, _u), vec) in enumerate(loads):
            q = history(t)
            self.flux_in += dt * (theta * q + (1 - theta) * self._q_prev[i]) * vec.sum()
            self._q_prev[i] = q
        self._t = t

    def result(self) -> dict[str, float]:
        """The energy terms (J) of :class:`thermo.solver.TransientResult`."""
        from thermo.solver import energy_terms

        s = self._s
        stored = s.forms.stored_energy(s.comm) - self._stored0
        lost = self.lost - self._t * s.forms.conv_const
        return energy_terms(flux_in=self.flux_in, reaction=s.reaction, stored=stored, lost=lost)


class NonlinearStepper:
    """The θ-scheme with Newton per step on a :class:`thermo.contact.Discretisation`.

    Iterating yields ``(step, t, functions)`` for step 0 and after every converged step, like
    :class:`thermo.solver.LinearStepper`.

    Args:
        disc: spaces, measures and Dirichlet rows (:func:`thermo.contact.discretise`).
        problem: materials (tables allowed), boundaries, contact, time stepping, solver options
            (``linear_solver``, ``rtol`` and ``newton_rtol``, ``newton_max_it``).
        petsc_options: extra KSP options (without prefix).
        source: mesh description for error messages.
    """

    def __init__(
        self,
        disc: Discretisation,
        problem: HeatProblem,
        *,
        petsc_options: Mapping[str, object] | None = None,
        source: str = "<mesh>",
    ) -> None:
        from thermo.solver import make_ksp

        t0 = time.perf_counter()
        self.disc, self.problem, self.source = disc, problem, source
        self.functions = disc.functions
        self.comm = self.functions[0].function_space.mesh.comm
        self.forms = _Forms(disc, problem)
        spaces = disc.spaces if disc.mixed is not None else disc.spaces[0]
        self.b = fem_petsc.create_vector(spaces, kind=disc.kind)
        self.J = fem_petsc.create_matrix(self.forms.J, kind=disc.kind)
        self.J.setOption(PETSc.Mat.Option.KEEP_NONZERO_PATTERN, True)
        self.J.setOption(PETSc.Mat.Option.NO_OFF_PROC_ZERO_ROWS, True)
        self.dx = self.J.createVecRight()
        rows = [r for _h, r in disc.dirichlet_rows]
        self._rows_local = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int32)
        self._rows_global = (self._rows_local + disc.row_offset).astype(PETSc.IntType)
        self.counts = {"newton": 0, "jacobian": 1, "pc": 1, "ksp_its": 0}
        self.time_s = {"ksp": 0.0, "residual": 0.0, "jacobian": 0.0}
        self._assemble_jacobian()
        self.assembly_s = time.perf_counter() - t0
        self.ksp = make_ksp(self.J, problem, petsc_options, krylov="gmres")
        if problem.linear_solver != "mumps":
            self.ksp.setPCSide(PETSc.PC.Side.RIGHT)
            self.ksp.setGMRESRestart(100)
        t_pc = time.perf_counter()
        self.ksp.setUp()
        self.pc_setup_s = time.perf_counter() - t_pc
        self.ksp.getPC().setReusePreconditioner(True)
        self._pc_its: int | None = None  # iterations of the first solve after a PC set-up
        self._rtol_ksp = min(problem.rtol, 1e-6)
        self.reaction = 0.0
        self._scale = self.forms.capacity.norm()

    def energy_observer(self) -> NonlinearEnergy:
        """The energy accounting of this scheme, to attach as an observer."""
        return NonlinearEnergy(self)

    def _h_dot(self) -> float:
        """∫ h T ds over the convection boundaries (W/K · K) at the current iterate."""
        return 0.0 if self.forms.h_vec is None else self.forms.h_vec.dot(self.disc.x)

    # -- assembly ------------------------------------------------------------------------------
    def _assemble_residual(self) -> float:
        """F at the current iterate into ``b``; returns the Dirichlet-row sum, zeroes those rows."""
        t0 = time.perf_counter()
        b = self.b
        with b.localForm() as local:
            local.set(0.0)
        fem_petsc.assemble_vector(b, self.forms.F)
        b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        arr = b.getArray()
        reaction = float(arr[self._rows_local].sum())
        arr[self._rows_local] = 0.0
        self.time_s["residual"] += time.perf_counter() - t0
        return self.comm.allreduce(reaction)

    def _assemble_jacobian(self) -> None:
        t0 = time.perf_counter()
        self.J.zeroEntries()
        fem_petsc.assemble_matrix(self.J, self.forms.J)
        self.J.assemble()
        self.J.zeroRows(self._rows_global, diag=1.0)
        self.time_s["jacobian"] += time.perf_counter() - t0

    def _linear_solve(self, n: int, t: float, target: float, fnorm: float) -> None:
        ksp = self.ksp
        for attempt in (0, 1):
            if self.problem.linear_solver != "mumps":
                rtol = max(self._rtol_ksp, min(1e-6, 0.1 * target / max(fnorm, 1e-300)))
                ksp.setTolerances(rtol=rtol, atol=0.1 * target, max_it=2000)
            t_k = time.perf_counter()
            ksp.solve(self.b, self.dx)
            self.time_s["ksp"] += time.perf_counter() - t_k
            its, reason = ksp.getIterationNumber(), ksp.getConvergedReason()
            self.counts["ksp_its"] += its
            if self._pc_its is None:
                self._pc_its = its
            if reason < 0 and attempt == 0:
                self._rebuild_pc()
                continue  # retry once with a fresh preconditioner
            if reason >= 0 and its > 2 * self._pc_its + 5:
                self._rebuild_pc()  # worked, but slowly: fresh preconditioner for the next one
            if reason < 0:
                raise RuntimeError(
                    f"{self.source}: linear solve in Newton did not converge at step {n} "
                    f"(t = {t:g} s): PETSc KSPConvergedReason {reason}, {its} iterations"
                )
            return

    def _rebuild_pc(self) -> None:
        pc = self.ksp.getPC()
        pc.setReusePreconditioner(False)
        self.ksp.setOperators(self.J)
        self.ksp.setUp()
        pc.setReusePreconditioner(True)
        self.counts["pc"] += 1
        self._pc_its = None

    # -- time loop -----------------------------------------------------------------------------
    def _set_data(self, t: float, t_prev: float) -> None:
        theta = self.problem.time.theta
        for history, q, _unit in self.forms.q:
            q.value = theta * history(t) + (1 - theta) * history(t_prev)
        x = self.disc.x
        if self.disc.dirichlet_rows:
            arr = x.getArray()
            for history, rows in self.disc.dirichlet_rows:
                arr[rows] = history(t)
        self.disc.sync()

    def _step(self, n: int, t: float) -> None:
        prob = self.problem
        for u, un in zip(self.forms.T, self.forms.Tn, strict=True):
            un.x.array[:] = u.x.array
        local = self.disc.x.array_r
        t_inf = self.comm.allreduce(float(np.max(np.abs(local))) if local.size else 0.0, MPI.MAX)
        target_abs = prob.rtol * self._scale * (1.0 + t_inf)
        self._set_data(t, t - prob.time.dt)
        fnorm0 = prev = None
        for it in range(prob.newton_max_it + 1):
            reaction = self._assemble_residual()
            fnorm = self.b.norm()
            if fnorm0 is None:
                fnorm0 = fnorm
            target = max(prob.newton_rtol * fnorm0, target_abs)
            if fnorm <= target:
                self.reaction += reaction
                return
            if it == prob.newton_max_it:
                break
            if it == 0 or fnorm > 0.25 * prev:  # new step, or slow contraction
                self._assemble_jacobian()
                self.counts["jacobian"] += 1
                if it > 0:
                    self._rebuild_pc()
            self._linear_solve(n, t, target, fnorm)
            self.disc.x.axpy(-1.0, self.dx)
            self.disc.sync()
            self.counts["newton"] += 1
            prev = fnorm
            if self.dx.norm(PETSc.NormType.INFINITY) <= prob.newton_rtol * (1.0 + t_inf):
                self.reaction += reaction  # update below round-off of T: converged
                return
        raise RuntimeError(
            f"{self.source}: Newton did not converge at step {n} (t = {t:g} s) in "
            f"{prob.newton_max_it} iterations: residual {fnorm:.3e}, target {target:.3e} "
            "(raise newton_max_it, use a smaller dt, or check the property tables)"
        )

    def __iter__(self) -> Iterator[tuple[int, float, list[fem.Function]]]:
        times = self.problem.time.times
        yield 0, 0.0, self.functions
        for n in range(1, len(times)):
            t = float(times[n])
            self._step(n, t)
            yield n, t, self.functions

    def timings(self) -> dict[str, float]:
        """Assembly, preconditioner, KSP and Newton figures."""
        return {
            "assembly_s": self.assembly_s,
            "pc_setup_s": self.pc_setup_s,
            "ksp_s": self.time_s["ksp"],
            "residual_s": self.time_s["residual"],
            "jacobian_s": self.time_s["jacobian"],
            "n_dofs": self.disc.n_dofs,
            "ksp_iterations": self.counts["ksp_its"],
            "newton_iterations": self.counts["newton"],
            "jacobian_assemblies": self.counts["jacobian"],
            "pc_setups": self.counts["pc"],
        }

    def destroy(self) -> None:
        """Free the KSP and the matrix."""
        self.ksp.destroy()
        self.J.destroy()

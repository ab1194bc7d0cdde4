r"""Transient heat conduction with temperature-dependent properties: θ-scheme + Newton per step.

With :math:`k(T)`, :math:`\rho(T)`, :math:`c(T)` tables (:mod:`thermo.properties`) the equation
:math:`\rho c(T)\,\partial_t T = \nabla\cdot(k(T)\nabla T)` is written with the two exact
antiderivatives of each material,

.. math::

    H(T) = \int_{T_a}^{T} \rho(s)c(s)\,ds \ \ (\text{enthalpy, J/m}^3), \qquad
    \Phi(T) = \int_{T_a}^{T} k(s)\,ds \ \ (\text{Kirchhoff potential, W/m}),

as :math:`\partial_t H(T) = \nabla^2 \Phi(T)` (:math:`k(T)\nabla T = \nabla\Phi(T)`). Both are
piecewise polynomials (ρc piecewise quadratic, so H cubic; Φ quadratic), evaluated exactly at the
nodes. The spatial discretisation is the **group finite-element** (interpolated-coefficient)
form of Fletcher (*Comput. Methods Appl. Mech. Eng.* 37, 1983) on the P1 spaces of
:mod:`thermo.contact`: H and Φ are interpolated in the same P1 space as T, so per material m

.. math::

    \int_{\Omega_m} H_h v\,dx = (M_m H_m(\mathbf T))\cdot\mathbf v, \qquad
    \int_{\Omega_m} \nabla\Phi_h\cdot\nabla v\,dx = (S_m \Phi_m(\mathbf T))\cdot\mathbf v,

with the constant unit-coefficient mass and stiffness matrices :math:`M_m`, :math:`S_m`
assembled once. The θ-scheme (θ = 1 backward Euler, θ = 1/2 Crank–Nicolson) solves for
:math:`\mathbf T^{n+1}`

.. math::

    F(\mathbf T) = \sum_m M_m\big(H_m(\mathbf T) - H_m(\mathbf T^n)\big)
      + \Delta t\,\theta\,\Big(\sum_m S_m \Phi_m(\mathbf T) + L\,\mathbf T\Big)
      + \Delta t\,(1-\theta)\Big(\sum_m S_m \Phi_m(\mathbf T^n) + L\,\mathbf T^n\Big)
      - \Delta t\, f^{n,\theta} = 0

on the free rows (Dirichlet rows take g(t^{n+1})), with L the convection and contact-conductance
matrix and f the flux and h T∞ loads of the linear solver. Properties of this choice:

* **energy**: the capacity term is an enthalpy difference, not ρc(T^{n+θ})(T^{n+1} − T^n);
  tested with v = 1 it telescopes, so the stored energy is exactly
  :math:`\sum_m \mathbf 1^T M_m (H_m(\mathbf T^N) - H_m(\mathbf T^0))` and the balance heat in
  = stored + lost holds to the Newton tolerance (1ᵀS_m = 0, 1ᵀL = convection only);
* **Kirchhoff-exact**: in 1-D steady state S Φ(T) = 0 makes Φ linear at the nodes, the exact
  Kirchhoff solution; with constant properties F is the linear θ-method of :mod:`thermo.solver`;
* **cheap**: a residual is a few sparse mat-vecs and nodal polynomial evaluations, no
  quadrature, and the Jacobian is exact and algebraic,
  :math:`J = \sum_m M_m\,\mathrm{diag}(\rho c_m(\mathbf T)) + \Delta t\,\theta\,(\sum_m S_m\,
  \mathrm{diag}(k_m(\mathbf T)) + L)` (column scalings of stored matrices, same sparsity).
  The accuracy is second order in space for P1 like the consistent form (verified by the
  Kirchhoff-transform tests).

Newton (hand-written, one KSP for the whole run; J is non-symmetric, so GMRES right-preconditioned
with GAMG, or MUMPS LU): J and the preconditioner are **reused while they work** (chord/modified
Newton across steps). J is rebuilt when an iteration reduces the residual by less than a factor
10, and at the start of a step after one that needed more than one iteration;
the preconditioner (GAMG hierarchy, LU factors) when a solve fails or needs more than twice (+ 5)
the iterations it took right after its last set-up (with MUMPS, every time J is rebuilt). Each
GMRES solve aims at half the step's target residual (relative tolerance at most 1e-2), as the
linear solver does in one solve, so that a step with a good Jacobian takes one Newton iteration
(two residuals, one solve). Dirichlet
rows: identity rows in J, zero residual rows, so the update vanishes there.

Stopping test per step: :math:`\|F\|_2 \le \max(\text{newton\_rtol}\,\|F_0\|_2,\
\text{rtol}\,\|C \circ \mathbf T^n\|_2)` with :math:`F_0` the step's first residual and
:math:`C = \sum_m \rho c_m(T_0) M_m \mathbf 1` the nodal capacities (J/K) — the second term is
the accuracy the linear solver reaches (its KSP residual is relative to
:math:`\|b\| \approx \|M\mathbf T^n\|`). Newton starts from the extrapolation
:math:`2\mathbf T^n - \mathbf T^{n-1}` (from the second step on), which saves about one iteration
per step on smooth histories.
A step also ends when an update is below newton_rtol × (1 + ‖T‖∞) in the max norm (the residual
can stall at round-off when Δt S dominates).

Energy (J): ``stored`` as above, ``lost`` = Δt Σ_n (L1)ᵀT^{n,θ} − t_end Σ h T∞|Γ|, flux input
Δt Σ_n q^{n,θ} ∫ds, and the Dirichlet input the reaction: the sum over the Dirichlet rows of the
converged, unconstrained residual, per step. Under MPI everything is distributed like the linear
path (owned rows; PETSc mat-vecs and column scalings handle the ghosts).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping

import dolfinx_solver  # noqa: F401  (initialises MPI/PETSc before dolfinx)
import numpy as np
import ufl
from dolfinx import fem
from dolfinx.fem import petsc as fem_petsc
from mpi4py import MPI
from petsc4py import PETSc

from thermo.contact import Discretisation, assemble_load, energy_terms, make_ksp
from thermo.output import StepObserver
from thermo.problem import ConvectionBC, FluxBC, HeatProblem
from thermo.properties import PropertyLike, as_property

__all__ = ["NodalAntiderivative", "NonlinearEnergy", "NonlinearStepper"]

_SAME = PETSc.Mat.Structure.SAME_NONZERO_PATTERN


class NodalAntiderivative:
    r"""Exact :math:`A(T) = \int_{T_a}^{T} p(s) q(s)\,ds` and :math:`a(T) = p(T) q(T)`, vectorised.

    ``p`` and ``q`` are piecewise linear and constant outside their tables, so a is piecewise
    quadratic on the union of their breakpoints (constant outside) and A piecewise cubic (linear
    outside). :math:`T_a` is the lowest breakpoint; only differences of A enter the scheme.
    """

    def __init__(self, p: PropertyLike, q: PropertyLike = 1.0) -> None:
        self.p, self.q = as_property(p), as_property(q)
        knots = np.union1d(self.p.T, self.q.T)
        self.knots = knots
        p0, q0 = self.p(knots), self.q(knots)
        if knots.size > 1:
            width = np.diff(knots)
            p1, q1 = np.diff(p0) / width, np.diff(q0) / width
            self._c = np.stack([p0[:-1] * q0[:-1], (p0[:-1] * q1 + p1 * q0[:-1]) / 2, p1 * q1 / 3])
            seg = width * (self._c[0] + width * (self._c[1] + width * self._c[2]))
            self._cum = np.concatenate([[0.0], np.cumsum(seg)])
        self._lo, self._hi = float(p0[0] * q0[0]), float(p0[-1] * q0[-1])

    def __call__(self, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(A(T), a(T))`` for an array of temperatures (°C)."""
        return self.value(T), self.rate(T)

    def value(self, T: np.ndarray) -> np.ndarray:
        """A(T) (e.g. J/m³ for the enthalpy, W/m for the Kirchhoff potential)."""
        T = np.asarray(T, dtype=float)
        a, b = self.knots[0], self.knots[-1]
        if self.knots.size == 1:
            return self._lo * (T - a)
        value = self._lo * np.minimum(T - a, 0.0) + self._hi * np.maximum(T - b, 0.0)
        j = np.clip(np.searchsorted(self.knots, T, side="right") - 1, 0, self.knots.size - 2)
        u = np.clip(T, a, b) - self.knots[j]
        c0, c1, c2 = self._c[0][j], self._c[1][j], self._c[2][j]
        value += self._cum[j] + u * (c0 + u * (c1 + u * c2))
        return value

    def rate(self, T: np.ndarray) -> np.ndarray:
        """a(T) = p(T) q(T) = dA/dT."""
        if self.knots.size == 1:
            return np.full_like(np.asarray(T, dtype=float), self._lo)
        return self.p(T) * self.q(T)


class _Operators:
    """Unit mass/stiffness per material, L (convection + contact), loads; one sparsity pattern."""

    def __init__(self, disc: Discretisation, problem: HeatProblem) -> None:
        msh = disc.functions[0].function_space.mesh
        us, vs = disc.arguments()

        def const(value: float) -> fem.Constant:
            return fem.Constant(msh, PETSc.ScalarType(value))

        one = const(1.0)
        mass, stiff, pattern = [], [], 0
        self.heat: list[NodalAntiderivative] = []
        self.kirchhoff: list[NodalAntiderivative] = []
        for i, parts in enumerate(disc.cells):
            for _g, mat, dxm in parts:
                mass.append(one * us[i] * vs[i] * dxm)
                stiff.append(one * ufl.inner(ufl.grad(us[i]), ufl.grad(vs[i])) * dxm)
                pattern += mass[-1] + stiff[-1]
                self.heat.append(NodalAntiderivative(mat.rho, mat.c))
                self.kirchhoff.append(NodalAntiderivative(mat.k))
        l_form, conv_load, flux = 0, 0, []
        for h_c, a, b, dSm in disc.interfaces:
            l_form += const(h_c) * (us[a]("+") - us[b]("-")) * (vs[a]("+") - vs[b]("-")) * dSm
        for name, bc in problem.boundaries.items():
            measures = disc.facets[name]
            if isinstance(bc, ConvectionBC):
                for i, dsm in enumerate(measures):
                    l_form += const(bc.h) * us[i] * vs[i] * dsm
                    conv_load += const(bc.h * bc.T_inf) * vs[i] * dsm
            elif isinstance(bc, FluxBC):
                unit = sum(one * vs[i] * d for i, d in enumerate(measures))
                flux.append((bc.value, unit))
        pattern = disc.form(pattern + l_form if l_form != 0 else pattern)
        self._pattern = pattern
        # blocked assembly needs every diagonal block present: pad with zero-weighted masses
        pad = 0
        if disc.mixed is not None:
            zero = const(0.0)
            pad = sum(zero * us[i] * vs[i] * parts[0][2] for i, parts in enumerate(disc.cells))
        self.mass = [self._matrix(disc, f + pad) for f in mass]
        self.stiff = [self._matrix(disc, f + pad) for f in stiff]
        self.L = None if l_form == 0 else self._matrix(disc, l_form + pad)
        self.conv_load = None if conv_load == 0 else assemble_load(disc.form(conv_load), disc.kind)
        self.flux = [(h, assemble_load(disc.form(f), kind=disc.kind)) for h, f in flux]
        ones = self.mass[0].createVecRight()
        ones.set(1.0)
        self.lumped = []  # M_m 1: nodal volumes per material (m³)
        for M in self.mass:
            v = M.createVecLeft()
            M.mult(ones, v)
            self.lumped.append(v)
        self.h_vec = None  # L 1 = ∫ h φ ds (contact rows sum to zero)
        if self.L is not None:
            self.h_vec = self.L.createVecLeft()
            self.L.mult(ones, self.h_vec)
        T0 = problem.time.T0
        self.capacity = self.mass[0].createVecLeft()  # Σ ρc_m(T0) M_m 1 (J/K)
        self.capacity.set(0.0)
        for heat, v in zip(self.heat, self.lumped, strict=True):
            self.capacity.axpy(float(heat(np.array([T0]))[1][0]), v)

    def new_matrix(self, disc: Discretisation) -> PETSc.Mat:
        """A zero matrix with the common sparsity pattern (explicit zeros, assembled).

        Assembling the pattern form first stores every entry, so that matrices assembled into
        it later keep the full pattern (PETSc drops never-set entries at assembly).
        """
        A = fem_petsc.assemble_matrix(self._pattern, kind=disc.kind)
        A.assemble()
        A.zeroEntries()
        return A

    def _matrix(self, disc: Discretisation, expr) -> PETSc.Mat:
        A = self.new_matrix(disc)
        fem_petsc.assemble_matrix(A, disc.form(expr))
        A.assemble()
        return A


class NonlinearEnergy(StepObserver):
    """Energy accounting of the nonlinear scheme (module docstring), as an observer."""

    def __init__(self, stepper: NonlinearStepper) -> None:
        self._s = stepper
        self._stored0 = stepper.stored_energy()
        self._h_prev = stepper.h_dot()
        self._q_prev = [h(0.0) for h, _v in stepper.ops.flux]
        self.flux_in = self.lost = 0.0
        self._t = 0.0

    def __call__(self, step: int, t: float, functions: list[fem.Function]) -> None:
        if step == 0:
            return
        s = self._s
        theta, dt = s.problem.time.theta, s.problem.time.dt
        h_now = s.h_dot()
        self.lost += dt * (theta * h_now + (1 - theta) * self._h_prev)
        self._h_prev = h_now
        for i, (history, vec) in enumerate(s.ops.flux):
            q = history(t)
            self.flux_in += dt * (theta * q + (1 - theta) * self._q_prev[i]) * vec.sum()
            self._q_prev[i] = q
        self._t = t

    def result(self) -> dict[str, float]:
        """The energy terms (J) of :class:`thermo.solver.TransientResult`."""
        s = self._s
        stored = s.stored_energy() - self._stored0
        conv = 0.0 if s.ops.conv_load is None else s.ops.conv_load.sum()
        lost = self.lost - self._t * conv
        return energy_terms(flux_in=self.flux_in, reaction=s.reaction, stored=stored, lost=lost)


class NonlinearStepper:
    """The θ-scheme with Newton per step on a :class:`thermo.contact.Discretisation`.

    Iterating yields ``(step, t, functions)`` for step 0 and after every converged step, like
    :class:`thermo.solver.LinearStepper`.

    Args:
        disc: spaces, measures and Dirichlet rows (:func:`thermo.contact.discretise`).
        problem: materials (tables allowed), boundaries, contact, time stepping, solver options
            (``linear_solver``, ``rtol``, ``newton_rtol``, ``newton_max_it``).
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
        t0 = time.perf_counter()
        self.disc, self.problem, self.source = disc, problem, source
        self.functions = disc.functions
        self.comm = self.functions[0].function_space.mesh.comm
        self.ops = ops = _Operators(disc, problem)
        self.J = ops.new_matrix(disc)
        self.J.setOption(PETSc.Mat.Option.KEEP_NONZERO_PATTERN, True)
        self.J.setOption(PETSc.Mat.Option.NO_OFF_PROC_ZERO_ROWS, True)
        self._work = ops.new_matrix(disc)
        self.b, self.b_old, self.dx = (self.J.createVecLeft() for _ in range(3))
        theta, dt = problem.time.theta, problem.time.dt
        for S in ops.stiff:  # stored as Δtθ S_m, Δtθ L from here on
            S.scale(dt * theta)
        if ops.L is not None:
            ops.L.scale(dt * theta)
        self._old_factor = (1.0 - theta) / theta
        # per material: its owned nodes and a nodal work vector (zero elsewhere)
        self._nodes = [np.flatnonzero(v.array_r != 0.0) for v in ops.lumped]
        self._nodal = [self.J.createVecRight() for _ in ops.lumped]
        for v in self._nodal:
            v.set(0.0)
        self._prod = self.J.createVecLeft()
        rows = [r for _h, r in disc.dirichlet_rows]
        self._rows_local = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int32)
        self._rows_global = (self._rows_local + disc.row_offset).astype(PETSc.IntType)
        self.counts = {"newton": 0, "jacobian": 0, "pc": 1, "ksp_its": 0}
        self.time_s = {"ksp": 0.0, "residual": 0.0, "jacobian": 0.0}
        self._assemble_jacobian()
        self.assembly_s = time.perf_counter() - t0
        self.ksp = make_ksp(self.J, problem, petsc_options, krylov="gmres")
        self._direct = problem.linear_solver == "mumps"
        if not self._direct:
            self.ksp.setPCSide(PETSc.PC.Side.RIGHT)
            self.ksp.setGMRESRestart(100)
        t_pc = time.perf_counter()
        self.ksp.setUp()
        self.pc_setup_s = time.perf_counter() - t_pc
        self.ksp.getPC().setReusePreconditioner(True)
        self._pc_its: int | None = None  # iterations of the first solve after a PC set-up
        self._last_iterations = 0  # Newton iterations of the previous step
        self.reaction = 0.0
        self._x_prev = self.disc.x.duplicate()  # Tⁿ⁻¹ for the extrapolated initial guess
        self._x_now = self.disc.x.duplicate()
        self._have_prev = False

    # -- energy --------------------------------------------------------------------------------
    def energy_observer(self) -> NonlinearEnergy:
        """The energy accounting of this scheme, to attach as an observer."""
        return NonlinearEnergy(self)

    def stored_energy(self) -> float:
        """Σ_m 1ᵀ M_m H_m(T) (J, relative to each material's lowest breakpoint)."""
        T = self.disc.x.array_r
        local = sum(
            float(np.dot(v.array_r, heat.value(T)))
            for heat, v in zip(self.ops.heat, self.ops.lumped, strict=True)
        )
        return self.comm.allreduce(local)

    def h_dot(self) -> float:
        """(L 1)ᵀ T = ∫ h T ds over the convection boundaries (W) at the current iterate."""
        return 0.0 if self.ops.h_vec is None else self.ops.h_vec.dot(self.disc.x)

    # -- algebra -------------------------------------------------------------------------------
    def _assemble_old(self, t: float) -> None:
        """The part of F from Tⁿ and the boundary data, once per step (Tⁿ = current x)."""
        t0 = time.perf_counter()
        theta, dt = self.problem.time.theta, self.problem.time.dt
        ops, b, prod, x = self.ops, self.b_old, self._prod, self.disc.x
        T = x.array_r
        b.set(0.0)
        for m, (M, S) in enumerate(zip(ops.mass, ops.stiff, strict=True)):
            nodes, nodal = self._nodes[m], self._nodal[m]
            nodal.array_w[nodes] = ops.heat[m].value(T[nodes])
            M.mult(nodal, prod)
            b.axpy(-1.0, prod)
            if self._old_factor:
                nodal.array_w[nodes] = ops.kirchhoff[m].value(T[nodes])
                S.mult(nodal, prod)
                b.axpy(self._old_factor, prod)
        if self._old_factor and ops.L is not None:
            ops.L.mult(x, prod)
            b.axpy(self._old_factor, prod)
        if ops.conv_load is not None:
            b.axpy(-dt, ops.conv_load)
        for history, vec in ops.flux:
            b.axpy(-dt * (theta * history(t) + (1 - theta) * history(t - dt)), vec)
        self.time_s["residual"] += time.perf_counter() - t0

    def _assemble_residual(self) -> float:
        """F at the current iterate into ``b``; returns the Dirichlet-row sum, zeroes those rows."""
        t0 = time.perf_counter()
        ops, b, x = self.ops, self.b, self.disc.x
        self.b_old.copy(b)
        T = x.array_r
        for m, (M, S) in enumerate(zip(ops.mass, ops.stiff, strict=True)):
            nodes, nodal = self._nodes[m], self._nodal[m]
            nodal.array_w[nodes] = ops.heat[m].value(T[nodes])
            M.multAdd(nodal, b, b)
            nodal.array_w[nodes] = ops.kirchhoff[m].value(T[nodes])
            S.multAdd(nodal, b, b)
        if ops.L is not None:
            ops.L.multAdd(x, b, b)
        arr = b.getArray()
        reaction = float(arr[self._rows_local].sum())
        arr[self._rows_local] = 0.0
        self.time_s["residual"] += time.perf_counter() - t0
        return self.comm.allreduce(reaction)

    def _assemble_jacobian(self) -> None:
        """J = Σ M_m diag(ρc_m(T)) + Δtθ (Σ S_m diag(k_m(T)) + L), identity Dirichlet rows."""
        t0 = time.perf_counter()
        J, W, ops = self.J, self._work, self.ops
        T = self.disc.x.array_r
        J.zeroEntries()
        if ops.L is not None:
            J.axpy(1.0, ops.L, structure=_SAME)
        for m, (M, S) in enumerate(zip(ops.mass, ops.stiff, strict=True)):
            nodes, nodal = self._nodes[m], self._nodal[m]
            for A, coeff in ((M, ops.heat[m]), (S, ops.kirchhoff[m])):
                A.copy(W, structure=_SAME)
                W.assemble()
                nodal.array_w[nodes] = coeff.rate(T[nodes])
                W.diagonalScale(R=nodal)
                J.axpy(1.0, W, structure=_SAME)
        J.zeroRows(self._rows_global, diag=1.0)
        self.counts["jacobian"] += 1
        self.time_s["jacobian"] += time.perf_counter() - t0

    def _linear_solve(self, n: int, t: float, target: float, fnorm: float) -> None:
        ksp = self.ksp
        for attempt in (0, 1):
            if not self._direct:
                rtol = min(1e-2, max(0.5 * target / max(fnorm, 1e-300), 1e-12))
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
            if reason < 0:
                raise RuntimeError(
                    f"{self.source}: linear solve in Newton did not converge at step {n} "
                    f"(t = {t:g} s): PETSc KSPConvergedReason {reason}, {its} iterations"
                )
            if its > 2 * self._pc_its + 5:
                self._rebuild_pc()  # worked, but slowly: fresh preconditioner for the next one
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
    def _set_dirichlet(self, t: float) -> None:
        if self.disc.dirichlet_rows:
            arr = self.disc.x.getArray()
            for history, rows in self.disc.dirichlet_rows:
                arr[rows] = history(t)
        self.disc.sync()

    def _step(self, n: int, t: float) -> None:
        prob = self.problem
        x = self.disc.x
        local = x.array_r
        t_inf = self.comm.allreduce(float(np.max(np.abs(local))) if local.size else 0.0, MPI.MAX)
        self._prod.array_w[:] = self.ops.capacity.array_r * local
        target_abs = prob.rtol * self._prod.norm()  # ≈ rtol ‖M Tⁿ‖, as the linear solver
        self._assemble_old(t)
        # initial guess: linear extrapolation 2Tⁿ − Tⁿ⁻¹ (from step 2 on), then the new g(t)
        x_now = x.copy(self._x_now)
        if self._have_prev:
            x.axpy(1.0, x_now)
            x.axpy(-1.0, self._x_prev)
        x_now.copy(self._x_prev)
        self._have_prev = True
        self._set_dirichlet(t)
        fnorm0 = prev = None
        start = self.counts["newton"]
        for it in range(prob.newton_max_it + 1):
            reaction = self._assemble_residual()
            fnorm = self.b.norm()
            if fnorm0 is None:
                fnorm0 = fnorm
            target = max(prob.newton_rtol * fnorm0, target_abs)
            if fnorm <= target:
                self.reaction += reaction
                self._last_iterations = self.counts["newton"] - start
                return
            if it == prob.newton_max_it:
                break
            slow = prev is not None and fnorm > 0.1 * prev
            if slow or (it == 0 and self._last_iterations > 1):  # fresh Jacobian
                self._assemble_jacobian()
                if self._direct:
                    self._rebuild_pc()
            self._linear_solve(n, t, target, fnorm)
            x.axpy(-1.0, self.dx)
            self._set_dirichlet(t)  # an inexact solve leaves round-off on the Dirichlet rows
            self.counts["newton"] += 1
            prev = fnorm
            if self.dx.norm(PETSc.NormType.INFINITY) <= prob.newton_rtol * (1.0 + t_inf):
                self.reaction += reaction  # update below round-off of T: converged
                self._last_iterations = self.counts["newton"] - start
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
        """Free the KSP and the matrices."""
        self.ksp.destroy()
        self.J.destroy()
        self._work.destroy()

r"""How the bodies are joined: assembly of the discrete heat system for both contact models.

The θ-method loop of :mod:`thermo.solver` runs on a :class:`DiscreteSystem` (matrices M, K, A, B,
load vectors, Dirichlet rows and lifting vectors; see the maths in :mod:`thermo.solver`). Both are
built from one :class:`Discretisation` (spaces, measures per material / boundary / interface,
Dirichlet rows, solution vector), which the nonlinear residual of :mod:`thermo.nonlinear` uses
too. This module builds it for the two F2 models of DESIGN.md:

* **perfect contact** (:func:`build_system`): one continuous P1 field on the conforming mesh;
  forms per volume tag, ``ufl.Measure("dx", subdomain_data=cell_tags)`` and ``ds`` on facet tags.
* **contact conductance** (:func:`build_contact_system`): with :math:`h_c` (W/(m² K)) on an
  interface :math:`\Gamma` between bodies a and b the temperature jumps,
  :math:`-k_a \partial_{n_a} T_a = h_c (T_a - T_b)` (paper 000 §4.2 boundary F2), and the weak form
  gains :math:`\int_\Gamma h_c (T_a - T_b)(v_a - v_b)\,dS`. Discretisation: one submesh per volume
  group (``dolfinx.mesh.create_submesh``) with one P1 space each, combined in a
  ``ufl.MixedFunctionSpace``; all integrals are written on the parent mesh (cells by volume tag,
  boundary and interface facets with explicit integration entities) and assembled into one
  monolithic PETSc matrix with ``entity_maps``. Each interface facet is oriented so that ``"+"``
  lies in the body of lower tag, so ``T_a("+") - T_b("-")`` is the jump.

Interfaces between volume groups that are *not* listed in ``problem.contact`` are left uncoupled
in the conductance model; give every interior interface group a conductance (a large h_c
approximates perfect contact). Restrictions: simplex P1 meshes; interface facets need cells on both
sides on the same rank (DOLFINx's default ``shared_facet`` ghost mode provides this). A probe that
lies exactly on a contact interface has two values; it reports the one of whichever body's cell
the point search returns, which may differ between serial and parallel runs.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import dolfinx_solver  # noqa: F401  (initialises MPI/PETSc before dolfinx)
import numpy as np
import ufl
from dolfinx import fem
from dolfinx import mesh as dmesh
from dolfinx.fem import petsc as fem_petsc
from petsc4py import PETSc

from meshes.tagged import TaggedMesh
from thermo.probes import Probes
from thermo.problem import ConvectionBC, FluxBC, HeatProblem, History, Material, TemperatureBC


@dataclass
class DiscreteSystem:
    """The assembled linear algebra of one θ-method problem (PETSc objects, any block layout).

    Attributes:
        A: M + θΔt K with Dirichlet rows/columns replaced by the identity.
        B: M − (1−θ)Δt K (unconstrained).
        M: mass matrix (J/K); K: conduction + convection matrix (W/K).
        loads: (history q(t), vector b) pairs; f(t) = Σ q(t) b (W).
        const_load: time-independent part of f (W), e.g. h T∞ ∫φ ds, or ``None``.
        dirichlet: (history g(t), owned local row indices, lifting vector A_full e_g) triples.
        x: the solution vector (storage of ``functions``); sync() updates ghosts after a solve.
        functions: the temperature function(s).
        sync: ghost update after ``x`` changed.
        n_dofs: global number of unknowns.
    """

    A: PETSc.Mat
    B: PETSc.Mat
    M: PETSc.Mat
    K: PETSc.Mat
    loads: list[tuple[History, PETSc.Vec]]
    const_load: PETSc.Vec | None
    dirichlet: list[tuple[History, np.ndarray, PETSc.Vec]]
    x: PETSc.Vec
    functions: list[fem.Function]
    sync: Callable[[], None]
    n_dofs: int
    assembly_s: float = 0.0


def check_groups(tagged: TaggedMesh, problem: HeatProblem) -> None:
    missing = [g for g in tagged.volume_groups if g not in problem.materials]
    extra = [g for g in problem.materials if g not in tagged.volume_groups]
    if missing or extra:
        raise KeyError(
            f"{tagged.source}: materials must name exactly the volume groups "
            f"{sorted(tagged.volume_groups)}; missing {missing}, unknown {extra}"
        )
    tagged.require(facets=[*problem.boundaries, *problem.contact])
    msh = tagged.mesh
    imap = msh.topology.index_map(msh.topology.dim)
    owned_tagged = int(np.count_nonzero(tagged.cell_tags.indices < imap.size_local))
    if msh.comm.allreduce(owned_tagged) != imap.size_global:
        raise ValueError(f"{tagged.source}: every cell needs exactly one volume tag")


def assemble_load(form, kind: str | None = None) -> PETSc.Vec:
    vec = fem_petsc.assemble_vector(form, kind=kind)
    vec.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    return vec


def finish_system(
    *,
    M: PETSc.Mat,
    K: PETSc.Mat,
    theta: float,
    dt: float,
    dirichlet_rows: list[tuple[History, np.ndarray]],
    row_offset: int,
    **rest,
) -> DiscreteSystem:
    """Combine M and K into A (with Dirichlet identity rows) and B; compute lifting vectors.

    ``dirichlet_rows`` holds (history, owned local rows) per Dirichlet group, rows disjoint;
    ``row_offset`` is the global index of this rank's first owned row.
    """
    subset = PETSc.Mat.Structure.SUBSET_NONZERO_PATTERN  # pattern(M) ⊆ pattern(K)
    A_full = K.copy()
    A_full.scale(theta * dt)
    A_full.axpy(1.0, M, structure=subset)
    B = M
    if theta < 1.0:
        B = K.copy()
        B.scale(-(1.0 - theta) * dt)
        B.axpy(1.0, M, structure=subset)
    dirichlet = []
    all_rows = []
    for history, rows in dirichlet_rows:
        e = A_full.createVecRight()
        e.array_w[rows] = 1.0
        lift = A_full.createVecLeft()
        A_full.mult(e, lift)
        dirichlet.append((history, rows, lift))
        all_rows.append(rows)
    A = A_full
    if all_rows:
        A = A_full.copy()
        rows_global = (np.concatenate(all_rows) + row_offset).astype(PETSc.IntType)
        A.zeroRowsColumns(rows_global, diag=1.0)
    return DiscreteSystem(A=A, B=B, M=M, K=K, dirichlet=dirichlet, **rest)


@dataclass
class Discretisation:
    """The P1 spaces, measures and Dirichlet rows that the θ-schemes integrate over.

    Shared by the linear system (:func:`build_system`, :func:`build_contact_system`) and the
    nonlinear residual of :mod:`thermo.nonlinear`, so both see exactly the same integrals.

    Attributes:
        spaces: one P1 space (perfect contact) or one per body (contact conductance).
        mixed: the ``ufl.MixedFunctionSpace`` of the bodies, or ``None`` for one space.
        cells: per space, ``(group, material, dx(tag))`` of its volume groups.
        facets: boundary group → one ``ds`` measure per space.
        interfaces: ``(h_c, a, b, dS(k))``: conductance between bodies a ("+") and b ("-").
        entity_maps: submesh entity maps (contact conductance) or ``None``.
        dirichlet_rows: (history, owned local rows) per Dirichlet group, rows disjoint.
        row_offset: global index of this rank's first owned row.
        functions: the temperature function(s), at T0.
        x: the solution vector (PETSc; the functions' storage for one space).
        sync: scatter ``x`` to the ghosts and into ``functions``.
        n_dofs: global number of unknowns.
    """

    spaces: list
    mixed: object
    cells: list[list[tuple[str, Material, ufl.Measure]]]
    facets: dict[str, list[ufl.Measure]]
    interfaces: list[tuple[float, int, int, ufl.Measure]]
    entity_maps: list | None
    dirichlet_rows: list[tuple[History, np.ndarray]]
    row_offset: int
    functions: list[fem.Function]
    x: PETSc.Vec
    sync: Callable[[], None]
    n_dofs: int
    bodies: object = None  # _Bodies of the contact-conductance model (probe evaluation)

    def arguments(self) -> tuple[list, list]:
        """Trial and test functions, one per space."""
        if self.mixed is None:
            V = self.spaces[0]
            return [ufl.TrialFunction(V)], [ufl.TestFunction(V)]
        return list(ufl.TrialFunctions(self.mixed)), list(ufl.TestFunctions(self.mixed))

    def form(self, expr):
        """Compile a bilinear/linear UFL form (blocked with entity maps for several bodies)."""
        if self.mixed is None:
            return fem.form(expr)
        return fem.form(ufl.extract_blocks(expr), entity_maps=self.entity_maps)

    @property
    def kind(self) -> str | None:
        """PETSc layout for assembly: ``None`` (one space) or ``"mpi"`` (monolithic blocks)."""
        return None if self.mixed is None else "mpi"


def _const(msh, value: float) -> fem.Constant:
    return fem.Constant(msh, PETSc.ScalarType(value))


def discretise(tagged: TaggedMesh, problem: HeatProblem) -> Discretisation:
    """The discretisation for ``problem``: one field, or one per body with contact conductance."""
    if problem.contact:
        return _discretise_bodies(tagged, problem)
    return _discretise_single(tagged, problem)


def _disjoint(rows_per_group: list[tuple[History, np.ndarray]], n_local: int) -> list:
    """Make Dirichlet rows disjoint: a dof shared by two groups belongs to the later one."""
    rows, taken = [], np.zeros(n_local, dtype=bool)
    for history, r in reversed(rows_per_group):
        r = r[~taken[r]]
        taken[r] = True
        rows.append((history, r.astype(np.int32)))
    return rows[::-1]


def _discretise_single(tagged: TaggedMesh, problem: HeatProblem) -> Discretisation:
    msh = tagged.mesh
    tdim = msh.topology.dim
    msh.topology.create_connectivity(tdim - 1, tdim)
    V = fem.functionspace(msh, ("Lagrange", 1))
    dx = ufl.Measure("dx", domain=msh, subdomain_data=tagged.cell_tags)
    ds = ufl.Measure("ds", domain=msh, subdomain_data=tagged.facet_tags)
    cells = [[(g, mat, dx(tagged.volume_groups[g])) for g, mat in problem.materials.items()]]
    facets = {name: [ds(tagged.facet_groups[name])] for name in problem.boundaries}
    imap = V.dofmap.index_map
    dirichlet = []
    for name, bc in problem.boundaries.items():
        if isinstance(bc, TemperatureBC):
            facets_g = tagged.facet_tags.find(tagged.facet_groups[name])
            dofs = fem.locate_dofs_topological(V, tdim - 1, facets_g)
            dirichlet.append((bc.value, dofs[dofs < imap.size_local]))
    T = fem.Function(V, name="T")
    T.x.array[:] = problem.time.T0
    return Discretisation(
        spaces=[V],
        mixed=None,
        cells=cells,
        facets=facets,
        interfaces=[],
        entity_maps=None,
        dirichlet_rows=_disjoint(dirichlet, imap.size_local),
        row_offset=imap.local_range[0],
        functions=[T],
        x=T.x.petsc_vec,
        sync=T.x.scatter_forward,
        n_dofs=imap.size_global,
    )


def linear_forms(disc: Discretisation, problem: HeatProblem):
    """UFL forms of the constant-property system: mass, stiffness, constant load, flux loads.

    Returns ``(m_form, k_form, conv_load, flux)`` with ``conv_load`` 0 when there is no
    convection and ``flux`` a list of (history, linear form) per flux boundary.
    """
    msh = disc.functions[0].function_space.mesh
    us, vs = disc.arguments()
    m_form, k_form = 0, 0
    for i, parts in enumerate(disc.cells):
        for _g, mat, dxm in parts:
            m_form += _const(msh, mat.rho * mat.c) * us[i] * vs[i] * dxm
            k_form += _const(msh, mat.k) * ufl.inner(ufl.grad(us[i]), ufl.grad(vs[i])) * dxm
    for h_c, a, b, dSm in disc.interfaces:
        k_form += _const(msh, h_c) * (us[a]("+") - us[b]("-")) * (vs[a]("+") - vs[b]("-")) * dSm
    conv_load, flux = 0, []
    for name, bc in problem.boundaries.items():
        measures = disc.facets[name]
        if isinstance(bc, ConvectionBC):
            for i, dsm in enumerate(measures):
                k_form += _const(msh, bc.h) * us[i] * vs[i] * dsm
                conv_load += _const(msh, bc.h * bc.T_inf) * vs[i] * dsm
        elif isinstance(bc, FluxBC):
            flux.append(
                (bc.value, sum(_const(msh, 1.0) * vs[i] * d for i, d in enumerate(measures)))
            )
    return m_form, k_form, conv_load, flux


def _assemble_linear(disc: Discretisation, problem: HeatProblem) -> DiscreteSystem:
    m_form, k_form, conv_load, flux = linear_forms(disc, problem)

    def matrix(form) -> PETSc.Mat:
        mat = fem_petsc.assemble_matrix(disc.form(form), kind=disc.kind)
        mat.assemble()
        return mat

    loads = [(history, assemble_load(disc.form(f), kind=disc.kind)) for history, f in flux]
    M, K = matrix(m_form), matrix(k_form)
    const_load = None if conv_load == 0 else assemble_load(disc.form(conv_load), kind=disc.kind)
    return finish_system(
        M=M,
        K=K,
        theta=problem.time.theta,
        dt=problem.time.dt,
        dirichlet_rows=disc.dirichlet_rows,
        row_offset=disc.row_offset,
        loads=loads,
        const_load=const_load,
        x=disc.x,
        functions=disc.functions,
        sync=disc.sync,
        n_dofs=disc.n_dofs,
    )


def build_system(tagged: TaggedMesh, problem: HeatProblem) -> DiscreteSystem:
    """Assemble the perfect-contact (one continuous field) P1 system of ``problem``."""
    t0 = time.perf_counter()
    system = _assemble_linear(_discretise_single(tagged, problem), problem)
    system.assembly_s = time.perf_counter() - t0
    return system


def _facet_entities(msh, facets: np.ndarray, kind) -> np.ndarray:
    """(cell, local facet[, cell, local facet]) rows of the owned ``facets``, 2D int32 array."""
    data = fem.compute_integration_domains(kind, msh.topology, facets.astype(np.int32))
    width = 2 if kind == fem.IntegralType.exterior_facet else 4
    return np.asarray(data, dtype=np.int32).reshape(-1, width)


@dataclass
class _Bodies:
    """One submesh and P1 space per volume group, ordered by tag."""

    groups: list[str]
    tag_of: dict[str, int]
    cell_group: np.ndarray  # parent cell → index into groups
    emaps: list
    spaces: list

    @classmethod
    def of(cls, tagged: TaggedMesh) -> _Bodies:
        msh = tagged.mesh
        tdim = msh.topology.dim
        msh.topology.create_connectivity(tdim - 1, tdim)
        msh.topology.create_connectivity(tdim, tdim - 1)
        groups = sorted(tagged.volume_groups, key=lambda g: tagged.volume_groups[g])
        tag_of = {g: tagged.volume_groups[g] for g in groups}
        imap = msh.topology.index_map(tdim)
        cell_group = np.full(imap.size_local + imap.num_ghosts, -1, dtype=np.int32)
        emaps, spaces = [], []
        for i, g in enumerate(groups):
            cells = tagged.cell_tags.find(tag_of[g])
            cell_group[cells] = i
            sub, emap, _vmap, _gmap = dmesh.create_submesh(msh, tdim, cells)
            emaps.append(emap)
            spaces.append(fem.functionspace(sub, ("Lagrange", 1)))
        return cls(groups, tag_of, cell_group, emaps, spaces)

    def exterior(self, tagged: TaggedMesh, name: str) -> np.ndarray:
        facets = tagged.facet_tags.find(tagged.facet_groups[name])
        return _facet_entities(tagged.mesh, facets, fem.IntegralType.exterior_facet)


def _exterior_measure(tagged: TaggedMesh, problem: HeatProblem, bodies: _Bodies):
    """One ``ds`` integration id per (boundary group, body): group → list of measures."""
    data, ids = [], {}
    for name in problem.boundaries:
        rows = bodies.exterior(tagged, name)
        for i in range(len(bodies.groups)):
            ids[name, i] = len(data)
            data.append((len(data), rows[bodies.cell_group[rows[:, 0]] == i].reshape(-1)))
    ds = ufl.Measure("ds", domain=tagged.mesh, subdomain_data=data)
    n = len(bodies.groups)
    return {name: [ds(ids[name, i]) for i in range(n)] for name in problem.boundaries}


def _interfaces(tagged: TaggedMesh, problem: HeatProblem, bodies: _Bodies) -> list:
    """``(h_c, a, b, dS(k))`` per (contact group, body pair), "+" on the lower body index."""
    msh = tagged.mesh
    pair_rows: dict[tuple[str, int, int], np.ndarray] = {}
    for name in problem.contact:
        facets = tagged.facet_tags.find(tagged.facet_groups[name])
        rows = _facet_entities(msh, facets, fem.IntegralType.interior_facet)
        ga, gb = bodies.cell_group[rows[:, 0]], bodies.cell_group[rows[:, 2]]
        swap = ga > gb
        rows[swap] = rows[swap][:, [2, 3, 0, 1]]
        ga, gb = np.minimum(ga, gb), np.maximum(ga, gb)
        for a, b in {(int(x), int(y)) for x, y in zip(ga, gb, strict=True) if x != y}:
            pair_rows[name, a, b] = rows[(ga == a) & (gb == b)].reshape(-1)
    # Every rank must build the same forms: agree on the pairs present anywhere.
    keys = sorted(set().union(*msh.comm.allgather(set(pair_rows))))
    empty = np.zeros(0, dtype=np.int32)
    data = [(k, pair_rows.get(key, empty)) for k, key in enumerate(keys)]
    dS = ufl.Measure("dS", domain=msh, subdomain_data=data)
    return [(problem.contact[name].h_c, a, b, dS(k)) for k, (name, a, b) in enumerate(keys)]


def _body_dirichlet_rows(tagged, problem, bodies: _Bodies, offsets: np.ndarray) -> list:
    """(history, owned rows in the monolithic block layout) per Dirichlet group."""
    fdim = tagged.mesh.topology.dim - 1
    out = []
    for name, bc in problem.boundaries.items():
        if not isinstance(bc, TemperatureBC):
            continue
        ents = bodies.exterior(tagged, name)
        rows = []
        for i, V in enumerate(bodies.spaces):
            mine = ents[bodies.cell_group[ents[:, 0]] == i]
            sub_cells = bodies.emaps[i].sub_topology_to_topology(mine[:, 0], inverse=True)
            layout = V.dofmap.dof_layout
            dofs = [
                V.dofmap.cell_dofs(c)[layout.entity_closure_dofs(fdim, lf)]
                for c, lf in zip(sub_cells, mine[:, 1], strict=True)
            ]
            dofs = np.unique(np.concatenate(dofs)) if dofs else np.zeros(0, dtype=np.int32)
            dofs = dofs[dofs < V.dofmap.index_map.size_local]
            rows.append(dofs + offsets[i])
        out.append((bc.value, np.concatenate(rows).astype(np.int32)))
    return out


def _discretise_bodies(tagged: TaggedMesh, problem: HeatProblem) -> Discretisation:
    msh = tagged.mesh
    bodies = _Bodies.of(tagged)
    dx = ufl.Measure("dx", domain=msh, subdomain_data=tagged.cell_tags)
    cells = [[(g, problem.materials[g], dx(bodies.tag_of[g]))] for g in bodies.groups]
    spaces = bodies.spaces
    offsets = np.cumsum([0] + [V.dofmap.index_map.size_local for V in spaces])
    functions = [fem.Function(V, name=f"T_{g}") for V, g in zip(spaces, bodies.groups, strict=True)]
    x = fem_petsc.create_vector(spaces, kind="mpi")
    x.set(problem.time.T0)
    x.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
    for u in functions:
        u.x.array[:] = problem.time.T0

    def sync() -> None:
        x.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
        fem_petsc.assign(x, functions)

    return Discretisation(
        spaces=spaces,
        mixed=ufl.MixedFunctionSpace(*spaces),
        cells=cells,
        facets=_exterior_measure(tagged, problem, bodies),
        interfaces=_interfaces(tagged, problem, bodies),
        entity_maps=bodies.emaps,
        dirichlet_rows=_disjoint(
            _body_dirichlet_rows(tagged, problem, bodies, offsets), int(offsets[-1])
        ),
        row_offset=x.getOwnershipRange()[0],
        functions=functions,
        x=x,
        sync=sync,
        n_dofs=sum(V.dofmap.index_map.size_global for V in spaces),
        bodies=bodies,
    )


def probe_evaluator(
    tagged: TaggedMesh, disc: Discretisation, probes: Mapping[str, Sequence[float]]
) -> tuple[list[str], Callable[[], np.ndarray]]:
    """Probe names and ``evaluate()`` → values (°C), shape (n_probes,), identical on every rank.

    With several bodies each probe is evaluated in the body of the cell the point search found.
    """
    prb = Probes(msh=tagged.mesh, points=probes, source=tagged.source)
    if disc.mixed is None:
        T = disc.functions[0]
        return prb.names, lambda: prb.evaluate(T)
    bodies: _Bodies = disc.bodies
    idx, pts, cells = prb.owned()
    body = bodies.cell_group[cells]
    sub_cells = np.zeros_like(cells)
    for i in range(len(bodies.groups)):
        sel = body == i
        sub_cells[sel] = bodies.emaps[i].sub_topology_to_topology(cells[sel], inverse=True)

    def evaluate() -> np.ndarray:
        local = np.zeros(len(prb.names))
        for i, u in enumerate(disc.functions):
            sel = body == i
            if np.any(sel):
                local[idx[sel]] = u.eval(pts[sel], sub_cells[sel]).reshape(-1)
        return prb.gather(local)

    return prb.names, evaluate


def build_contact_system(
    tagged: TaggedMesh, problem: HeatProblem, *, probes: Mapping[str, Sequence[float]]
):
    """Assemble the multi-body system with contact conductances.

    Returns:
        ``(system, evaluate)``: a :class:`DiscreteSystem` whose ``functions`` are one temperature
        per volume group (named ``T_<group>``), and ``evaluate()`` returning the probe values
        (°C), shape (n_probes,), identical on every rank.
    """
    t0 = time.perf_counter()
    disc = _discretise_bodies(tagged, problem)
    system = _assemble_linear(disc, problem)
    system.assembly_s = time.perf_counter() - t0
    _names, evaluate = probe_evaluator(tagged, disc, probes)
    return system, evaluate


_PREFIX_COUNTER = itertools.count()


def make_ksp(
    A: PETSc.Mat,
    problem: HeatProblem,
    petsc_options: Mapping[str, object] | None,
    *,
    krylov: str = "cg",
) -> PETSc.KSP:
    """One KSP for all steps: ``krylov`` + GAMG (rtol from the problem) or MUMPS LU, plus options.

    ``krylov`` is "cg" for the symmetric linear system and "gmres" for the non-symmetric Newton
    Jacobian of :mod:`thermo.nonlinear`.
    """
    ksp = PETSc.KSP().create(A.getComm())
    prefix = f"millheat_heat_{next(_PREFIX_COUNTER)}_"
    ksp.setOptionsPrefix(prefix)
    ksp.setOperators(A)
    if problem.linear_solver == "mumps":
        ksp.setType("preonly")
        ksp.getPC().setType("lu")
        ksp.getPC().setFactorSolverType("mumps")
    else:
        ksp.setType(krylov)
        ksp.getPC().setType("gamg")
        ksp.setInitialGuessNonzero(krylov == "cg")
        ksp.setTolerances(rtol=problem.rtol, atol=0.0, max_it=2000)
    opts = PETSc.Options()
    for key, value in (petsc_options or {}).items():
        opts[f"{prefix}{key}"] = value
    ksp.setFromOptions()
    for key in petsc_options or {}:
        del opts[f"{prefix}{key}"]
    return ksp


def energy_terms(*, flux_in: float, reaction: float, stored: float, lost: float) -> dict:
    """The energy dictionary of :class:`TransientResult` from its four terms (J)."""
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

r"""How the bodies are joined: assembly of the discrete heat system for both contact models.

The θ-method loop of :mod:`thermo.solver` runs on a :class:`DiscreteSystem` (matrices M, K, A, B,
load vectors, Dirichlet rows and lifting vectors; see the maths in :mod:`thermo.solver`). This
module builds it for the two F2 models of DESIGN.md:

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
from thermo.problem import ConvectionBC, FluxBC, HeatProblem, History, TemperatureBC


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


def build_system(tagged: TaggedMesh, problem: HeatProblem) -> DiscreteSystem:
    """Assemble the perfect-contact (one continuous field) P1 system of ``problem``."""
    t0 = time.perf_counter()
    msh = tagged.mesh
    tdim = msh.topology.dim
    msh.topology.create_connectivity(tdim - 1, tdim)
    V = fem.functionspace(msh, ("Lagrange", 1))
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    dx = ufl.Measure("dx", domain=msh, subdomain_data=tagged.cell_tags)
    ds = ufl.Measure("ds", domain=msh, subdomain_data=tagged.facet_tags)

    def const(value: float) -> fem.Constant:
        return fem.Constant(msh, PETSc.ScalarType(value))

    m_form, k_form = 0, 0
    for name, mat in problem.materials.items():
        tag = tagged.volume_groups[name]
        m_form += const(mat.rho * mat.c) * u * v * dx(tag)
        k_form += const(mat.k) * ufl.inner(ufl.grad(u), ufl.grad(v)) * dx(tag)
    loads, conv_load, dirichlet_dofs = [], 0, []
    for name, bc in problem.boundaries.items():
        tag = tagged.facet_groups[name]
        if isinstance(bc, ConvectionBC):
            k_form += const(bc.h) * u * v * ds(tag)
            conv_load += const(bc.h * bc.T_inf) * v * ds(tag)
        elif isinstance(bc, FluxBC):
            loads.append((bc.value, assemble_load(fem.form(const(1.0) * v * ds(tag)))))
        elif isinstance(bc, TemperatureBC):
            dofs = fem.locate_dofs_topological(V, tdim - 1, tagged.facet_tags.find(tag))
            dirichlet_dofs.append((name, bc.value, dofs))
    M = fem_petsc.assemble_matrix(fem.form(m_form))
    M.assemble()
    K = fem_petsc.assemble_matrix(fem.form(k_form))
    K.assemble()
    const_load = None if conv_load == 0 else assemble_load(fem.form(conv_load))
    imap = V.dofmap.index_map
    # Disjoint Dirichlet rows: a dof shared by two groups belongs to the later one.
    rows, taken = [], np.zeros(imap.size_local, dtype=bool)
    for _name, history, dofs in reversed(dirichlet_dofs):
        owned = dofs[dofs < imap.size_local]
        owned = owned[~taken[owned]]
        taken[owned] = True
        rows.append((history, owned.astype(np.int32)))
    T = fem.Function(V, name="T")
    T.x.array[:] = problem.time.T0
    system = finish_system(
        M=M,
        K=K,
        theta=problem.time.theta,
        dt=problem.time.dt,
        dirichlet_rows=rows[::-1],
        row_offset=imap.local_range[0],
        loads=loads,
        const_load=const_load,
        x=T.x.petsc_vec,
        functions=[T],
        sync=T.x.scatter_forward,
        n_dofs=imap.size_global,
    )
    system.assembly_s = time.perf_counter() - t0
    return system


def _facet_entities(msh, facets: np.ndarray, kind) -> np.ndarray:
    """(cell, local facet[, cell, local facet]) rows of the owned ``facets``, 2D int32 array."""
    data = fem.compute_integration_domains(kind, msh.topology, facets.astype(np.int32))
    width = 2 if kind == fem.IntegralType.exterior_facet else 4
    return np.asarray(data, dtype=np.int32).reshape(-1, width)


def build_contact_system(
    tagged: TaggedMesh, problem: HeatProblem, *, probes: Mapping[str, Sequence[float]]
):
    """Assemble the multi-body system with contact conductances.

    Returns:
        ``(system, evaluate)``: a :class:`thermo.solver.DiscreteSystem` whose ``functions`` are
        one temperature per volume group (named ``T_<group>``), and ``evaluate()`` returning the
        probe values (°C), shape (n_probes,), identical on every rank.
    """
    t0 = time.perf_counter()
    msh = tagged.mesh
    tdim = msh.topology.dim
    fdim = tdim - 1
    msh.topology.create_connectivity(fdim, tdim)
    msh.topology.create_connectivity(tdim, fdim)
    groups = sorted(tagged.volume_groups, key=lambda g: tagged.volume_groups[g])
    tag_of = {g: tagged.volume_groups[g] for g in groups}
    n_cells = msh.topology.index_map(tdim).size_local + msh.topology.index_map(tdim).num_ghosts
    cell_group = np.full(n_cells, -1, dtype=np.int32)  # index into ``groups``
    for i, g in enumerate(groups):
        cell_group[tagged.cell_tags.find(tag_of[g])] = i
    subs, emaps, spaces = [], [], []
    for g in groups:
        sub, emap, _vmap, _gmap = dmesh.create_submesh(msh, tdim, tagged.cell_tags.find(tag_of[g]))
        subs.append(sub)
        emaps.append(emap)
        spaces.append(fem.functionspace(sub, ("Lagrange", 1)))
    W = ufl.MixedFunctionSpace(*spaces)
    us, vs = ufl.TrialFunctions(W), ufl.TestFunctions(W)

    def const(value: float) -> fem.Constant:
        return fem.Constant(msh, PETSc.ScalarType(value))

    dx = ufl.Measure("dx", domain=msh, subdomain_data=tagged.cell_tags)
    m_form, k_form = 0, 0
    for i, g in enumerate(groups):
        mat = problem.materials[g]
        m_form += const(mat.rho * mat.c) * us[i] * vs[i] * dx(tag_of[g])
        k_form += const(mat.k) * ufl.inner(ufl.grad(us[i]), ufl.grad(vs[i])) * dx(tag_of[g])

    # Exterior facets split by body: one integration id per (boundary group, body).
    ext_data, ext_id = [], {}
    for name in problem.boundaries:
        rows = _facet_entities(
            msh, tagged.facet_tags.find(tagged.facet_groups[name]), fem.IntegralType.exterior_facet
        )
        for i in range(len(groups)):
            ext_id[name, i] = len(ext_data)
            ext_data.append((len(ext_data), rows[cell_group[rows[:, 0]] == i].reshape(-1)))
    ds = ufl.Measure("ds", domain=msh, subdomain_data=ext_data)
    # Interface facets: one id per (contact group, body pair), "+" on the lower body index.
    pair_rows: dict[tuple[str, int, int], np.ndarray] = {}
    for name in problem.contact:
        rows = _facet_entities(
            msh, tagged.facet_tags.find(tagged.facet_groups[name]), fem.IntegralType.interior_facet
        )
        ga, gb = cell_group[rows[:, 0]], cell_group[rows[:, 2]]
        swap = ga > gb
        rows[swap] = rows[swap][:, [2, 3, 0, 1]]
        ga, gb = np.minimum(ga, gb), np.maximum(ga, gb)
        for a, b in {(int(x), int(y)) for x, y in zip(ga, gb, strict=True) if x != y}:
            pair_rows[name, a, b] = rows[(ga == a) & (gb == b)].reshape(-1)
    # Every rank must build the same forms: agree on the pairs present anywhere.
    keys = sorted(set().union(*msh.comm.allgather(set(pair_rows))))
    empty = np.zeros(0, dtype=np.int32)
    dS = ufl.Measure(
        "dS",
        domain=msh,
        subdomain_data=[(k, pair_rows.get(key, empty)) for k, key in enumerate(keys)],
    )
    for k, (name, a, b) in enumerate(keys):
        jump_u = us[a]("+") - us[b]("-")
        jump_v = vs[a]("+") - vs[b]("-")
        k_form += const(problem.contact[name].h_c) * jump_u * jump_v * dS(k)
    loads, conv_load = [], 0
    for name, bc in problem.boundaries.items():
        if isinstance(bc, ConvectionBC):
            for i in range(len(groups)):
                k_form += const(bc.h) * us[i] * vs[i] * ds(ext_id[name, i])
                conv_load += const(bc.h * bc.T_inf) * vs[i] * ds(ext_id[name, i])
        elif isinstance(bc, FluxBC):
            flux = sum(const(1.0) * vs[i] * ds(ext_id[name, i]) for i in range(len(groups)))
            loads.append(
                (
                    bc.value,
                    assemble_load(
                        fem.form(ufl.extract_blocks(flux), entity_maps=emaps), kind="mpi"
                    ),
                )
            )

    def assemble(form) -> PETSc.Mat:
        mat = fem_petsc.assemble_matrix(
            fem.form(ufl.extract_blocks(form), entity_maps=emaps), kind="mpi"
        )
        mat.assemble()
        return mat

    M, K = assemble(m_form), assemble(k_form)
    const_load = None
    if conv_load != 0:
        const_load = assemble_load(
            fem.form(ufl.extract_blocks(conv_load), entity_maps=emaps), kind="mpi"
        )
    offsets = np.cumsum([0] + [V.dofmap.index_map.size_local for V in spaces])
    rows_dirichlet = []
    for name, bc in problem.boundaries.items():
        if not isinstance(bc, TemperatureBC):
            continue
        ents = _facet_entities(
            msh, tagged.facet_tags.find(tagged.facet_groups[name]), fem.IntegralType.exterior_facet
        )
        rows = []
        for i, V in enumerate(spaces):
            mine = ents[cell_group[ents[:, 0]] == i]
            sub_cells = emaps[i].sub_topology_to_topology(mine[:, 0], inverse=True)
            layout = V.dofmap.dof_layout
            dofs = [
                V.dofmap.cell_dofs(c)[layout.entity_closure_dofs(fdim, lf)]
                for c, lf in zip(sub_cells, mine[:, 1], strict=True)
            ]
            dofs = np.unique(np.concatenate(dofs)) if dofs else np.zeros(0, dtype=np.int32)
            dofs = dofs[dofs < V.dofmap.index_map.size_local]
            rows.append(dofs + offsets[i])
        rows_dirichlet.append((bc.value, np.concatenate(rows).astype(np.int32)))
    rows, taken = [], np.zeros(offsets[-1], dtype=bool)
    for history, r in reversed(rows_dirichlet):  # disjoint: shared dofs go to the later group
        r = r[~taken[r]]
        taken[r] = True
        rows.append((history, r))
    functions = [fem.Function(V, name=f"T_{g}") for V, g in zip(spaces, groups, strict=True)]
    x = fem_petsc.create_vector(spaces, kind="mpi")
    x.set(problem.time.T0)
    x.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
    for u in functions:
        u.x.array[:] = problem.time.T0

    def sync() -> None:
        x.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
        fem_petsc.assign(x, functions)

    system: DiscreteSystem = finish_system(
        M=M,
        K=K,
        theta=problem.time.theta,
        dt=problem.time.dt,
        dirichlet_rows=rows[::-1],
        row_offset=M.getOwnershipRange()[0],
        loads=loads,
        const_load=const_load,
        x=x,
        functions=functions,
        sync=sync,
        n_dofs=sum(V.dofmap.index_map.size_global for V in spaces),
    )
    system.assembly_s = time.perf_counter() - t0

    prb = Probes(msh=msh, points=probes, source=tagged.source)
    idx, pts, cells = prb.owned()
    body = cell_group[cells]
    sub_cells = np.zeros_like(cells)
    for i in range(len(groups)):
        sel = body == i
        sub_cells[sel] = emaps[i].sub_topology_to_topology(cells[sel], inverse=True)

    def evaluate() -> np.ndarray:
        local = np.zeros(len(prb.names))
        for i, u in enumerate(functions):
            sel = body == i
            if np.any(sel):
                local[idx[sel]] = u.eval(pts[sel], sub_cells[sel]).reshape(-1)
        return prb.gather(local)

    return system, evaluate

"""Run a parsed TOML case (:mod:`thermo.case`): mesh, checks against the mesh, solve, outputs.

Steps of :func:`run_case`, all before any file appears under the final output name:

1. build or load the mesh (:func:`load_case_mesh`): a ``.msh`` file through
   ``meshes.io.load_mesh`` (scaled to metres from ``[mesh] unit``; linear tetrahedra only),
   the Gmsh insert–shank–bolt tool (``meshes.tool.ToolGeometry`` from
   ``[mesh.params]``), or a DOLFINx ``bar`` (``meshes.boxes.bar``, 1–3D), ``box`` (3D bar with
   defaults) or ``two-blocks`` (``meshes.boxes.two_blocks``) for verification;
2. check the case against the mesh (:func:`check_case_against_mesh`): every volume group has a
   material and every material names a volume group; every boundary and contact group is a facet
   group; every probe (or mesh sensor when ``[probes]`` is absent) lies inside the mesh; for an
   inverse case, at least one probe lies in a part of the mesh connected to the ``unknown-*``
   boundary (no probes at all, or all of them in detached bodies, is refused). Any mismatch
   raises :class:`thermo.case.CaseError` naming the case file and key path;
3. ``thermo.solver.solve_transient`` writes ``probes.csv`` (``time_s`` + one column per probe,
   °C), the field series (``T.xdmf``/``T.h5`` or ``T.bp``) and the snapshot PNGs;
4. this module adds ``case.toml`` (verbatim copy, with the tables it reads beside it),
   ``summary.json`` (dofs, steps, timings, probe
   maxima, energy balance), ``probes.png`` and ``report.md`` linking them.

Atomicity: everything is written into the hidden sibling folder of
:func:`thermo.atomic.staged_dir`, published as ``out_dir`` at the end (a previous ``out_dir`` is
replaced only then); a failed run removes its staged folder. An ``out_dir`` that is an existing
file is refused (:class:`thermo.atomic.OutputPathError`) before the mesh is built. Under MPI
every rank calls :func:`run_case`; rank 0 does file work.

A case with an ``unknown-*`` boundary is an inverse problem (paper 000 §2): a forward run would
silently treat that group as insulated, so :func:`run_case` refuses it with a ``CaseError``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import dolfinx_solver  # noqa: F401  (initialises MPI/PETSc before dolfinx)
import numpy as np
from mpi4py import MPI

from meshes.tagged import TaggedMesh
from thermo.atomic import check_output_dir, staged_dir
from thermo.case import Case, CaseError
from thermo.problem import TemperatureBC

#: Defaults of the verification builtins (metres, cells) when [mesh.params] leaves them out.
_BOX_DEFAULTS = {"lengths": (0.01, 0.01, 0.01), "cells": (4, 4, 4), "volume_name": "box"}


def _build_or_load(case: Case, comm: MPI.Comm) -> TaggedMesh:
    spec = case.mesh
    if spec.file is not None:
        from meshes.io import load_mesh

        return load_mesh(spec.file, comm, unit=spec.unit, max_span=spec.max_span)
    if spec.builtin == "insert-shank-bolt":
        from meshes.tool import ToolGeometry, tool_mesh

        geometry = ToolGeometry.from_mapping(spec.params, source=f"{case.path}: mesh.params")
        return tool_mesh(geometry, comm)
    from meshes import boxes

    params = dict(spec.params)
    if spec.builtin == "two-blocks":
        return boxes.two_blocks(**params, comm=comm)
    if spec.builtin == "box":
        params = {**_BOX_DEFAULTS, **params}
        if len(params["lengths"]) != 3:
            raise ValueError("a box needs 3 lengths (m) and 3 cell counts")
    return boxes.bar(**params, comm=comm)


def _span_m(tagged: TaggedMesh) -> float:
    """Largest bounding-box edge (m) of the whole (distributed) mesh."""
    x = np.asarray(tagged.mesh.geometry.x)
    comm = tagged.mesh.comm
    lo = np.array(x.min(axis=0) if len(x) else np.full(3, np.inf), dtype=np.float64)
    hi = np.array(x.max(axis=0) if len(x) else np.full(3, -np.inf), dtype=np.float64)
    comm.Allreduce(MPI.IN_PLACE, lo, op=MPI.MIN)
    comm.Allreduce(MPI.IN_PLACE, hi, op=MPI.MAX)
    return float(np.max(hi - lo))


def load_case_mesh(case: Case, *, comm: MPI.Comm = MPI.COMM_WORLD) -> TaggedMesh:
    """Build or load the mesh named by ``case.mesh`` (scaled to metres from ``[mesh] unit``).

    Bad parameters, an unreadable or unsupported mesh and a size implausible for the unit raise
    ``CaseError`` (keys ``mesh.file``, ``mesh.params``, ``mesh.unit``).
    """
    from meshes.units import MeshUnitError, span_problem

    spec = case.mesh
    try:
        tagged = _build_or_load(case, comm)
    except MeshUnitError as err:
        problem = str(err).removeprefix(f"{spec.file}: ")
        problem = problem.replace('load it with unit="', 'set [mesh] unit = "')
        raise CaseError(
            case.path,
            "mesh.unit",
            f"{spec.file.name if spec.file else 'mesh'}: {problem}",
            f'unit = "m" | "mm" matching the mesh file (a bounding box of at most '
            f"max_span = {spec.max_span:g} m after scaling)",
        ) from err
    except (KeyError, ValueError, TypeError, OSError) as err:
        key = "mesh.file" if spec.file is not None else "mesh.params"
        form = (
            "a readable .msh with named physical groups and linear tetrahedra (and a valid "
            "<stem>.sensors.json beside it, if any)"
            if spec.file is not None
            else f"parameters of the {spec.builtin!r} builtin (SI units)"
        )
        message = str(err).strip("'\"")
        raise CaseError(case.path, key, f"{type(err).__name__}: {message}", form) from err
    if spec.file is None:
        advice = "[mesh.params] are in metres (20 mm = 0.02)"
        problem = span_problem(_span_m(tagged), "m", max_span=spec.max_span, set_unit=advice)
        if problem is not None:
            raise CaseError(
                case.path,
                "mesh.params",
                f"the {spec.builtin!r} builtin: {problem}",
                f"lengths in metres (a bounding box of at most max_span = {spec.max_span:g} m)",
            )
    return tagged


def check_case_against_mesh(case: Case, tagged: TaggedMesh) -> dict[str, tuple[float, ...]]:
    """Check groups and probes of ``case`` against ``tagged``; return the probes to use (m).

    Raises:
        CaseError: naming the case file, the key path and the groups the mesh has.
    """
    volumes, facets = sorted(tagged.volume_groups), sorted(tagged.facet_groups)
    for name in case.problem.materials:
        if name not in tagged.volume_groups:
            raise CaseError(
                case.path,
                f"materials.{name}",
                f"{tagged.source} has no volume group {name!r}",
                f"one of the mesh's volume groups {volumes}",
            )
    missing = [v for v in volumes if v not in case.problem.materials]
    if missing:
        raise CaseError(
            case.path,
            "materials",
            f"volume groups {missing} have no material",
            f"one [materials.GROUP] table per volume group {volumes}",
        )
    groups = [("boundary", g) for g in case.problem.boundaries]
    groups += [("contact", g) for g in case.problem.contact]
    if case.unknown_boundary is not None:
        groups.append(("boundary", case.unknown_boundary[0]))
    for table, name in groups:
        if name not in tagged.facet_groups:
            raise CaseError(
                case.path,
                f"{table}.{name}",
                f"{tagged.source} has no facet group {name!r}",
                f"one of the mesh's facet groups {facets}",
            )
    from thermo.probes import Probes

    if case.probes is not None:
        points = {k: tuple(v) for k, v in case.probes.items()}
        keys = {k: f"probes.{k}" for k in points}
    else:
        points = {k: tuple(float(c) for c in np.ravel(v)) for k, v in tagged.sensors.items()}
        keys = {k: f"mesh (sensor {k} of {tagged.source})" for k in points}
    for name, xyz in points.items():
        try:
            Probes(msh=tagged.mesh, points={name: xyz}, source=tagged.source)
        except ValueError as err:
            raise CaseError(case.path, keys[name], str(err), "a point inside the mesh (m)") from err
    if case.unknown_boundary is not None:
        _check_probes_see(case, tagged, points)
    return points


def _vertex_components(tagged: TaggedMesh, probes: np.ndarray, group_tag: int) -> Any:
    """Rank 0: (component of each probe (-1 if not found), components touching the facet group).

    Components of the vertex graph (two vertices joined when they share a cell): with P1 elements
    heat flows exactly between vertices of a component, also across contact interfaces, which
    keep their shared vertices in the mesh. The owned cells of every rank are gathered on rank 0
    (global vertex numbers, 4 × int64 per tetrahedron).
    """
    import scipy.sparse
    import scipy.sparse.csgraph
    from dolfinx import geometry

    msh = tagged.mesh
    comm, tdim = msh.comm, msh.topology.dim
    vmap = msh.topology.index_map(0)
    n_cells = msh.topology.index_map(tdim).size_local
    c2v = msh.topology.connectivity(tdim, 0)
    cells = vmap.local_to_global(c2v.array).reshape(-1, c2v.offsets[1])[:n_cells]
    msh.topology.create_connectivity(tdim - 1, 0)
    f2v = msh.topology.connectivity(tdim - 1, 0)
    facets = tagged.facet_tags.find(group_tag)
    facet_vertices = [f2v.links(int(f))[0] for f in facets]
    seen_vertices = vmap.local_to_global(np.asarray(facet_vertices, dtype=np.int32))
    query = probes if comm.rank == 0 else np.zeros((0, 3))
    data = geometry.determine_point_ownership(msh, query, 1e-8 * _span_m(tagged))
    found = np.asarray(data.dest_cells, dtype=np.int32)
    probe_vertex = vmap.local_to_global(c2v.array[c2v.offsets[found]].astype(np.int32))
    gathered = comm.gather((cells, seen_vertices, probe_vertex), root=0)
    owners = np.asarray(data.src_owner, dtype=np.int64) if comm.rank == 0 else None
    if comm.rank != 0:
        return None
    n = vmap.size_global
    all_cells = np.concatenate([g[0] for g in gathered])
    rows = np.repeat(all_cells[:, 0], all_cells.shape[1] - 1)
    cols = all_cells[:, 1:].ravel()
    graph = scipy.sparse.coo_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))
    _, label = scipy.sparse.csgraph.connected_components(graph, directed=False)
    touching = set(label[np.concatenate([g[1] for g in gathered])].tolist())
    probe_label = np.full(len(probes), -1, dtype=np.int64)
    for i, rank in enumerate(owners):
        if rank >= 0:
            # the owner's answers come in the order of the points it owns
            mine = int(np.sum(owners[:i] == rank))
            probe_label[i] = label[gathered[rank][2][mine]]
    return probe_label, touching


def _check_probes_see(case: Case, tagged: TaggedMesh, points: dict) -> None:
    """Refuse an inverse case whose unknown boundary no probe can see (no probes at all, or all
    of them in bodies of the mesh that do not touch that boundary)."""
    group, kind = case.unknown_boundary
    form = (
        f"at least one probe [probes] NAME = [x, y, z] (m) in a body that touches {group} "
        "(or a sensors file beside the mesh)"
    )
    if not points:
        raise CaseError(
            case.path,
            "probes",
            f"no probes: nothing measures the unknown-{kind} boundary {group}",
            form,
        )
    names = list(points)
    coords = np.array([points[n] for n in names], dtype=float).reshape(len(names), 3)
    answer = _vertex_components(tagged, coords, tagged.facet_groups[group])
    blind = None
    if answer is not None:
        label, touching = answer
        blind = [n for n, c in zip(names, label, strict=True) if c not in touching]
    blind = tagged.mesh.comm.bcast(blind, root=0)
    if len(blind) == len(names):
        raise CaseError(
            case.path,
            "probes",
            f"no probe sees the unknown-{kind} boundary {group}: probes {names} lie in parts "
            f"of {tagged.source} that are not connected to it",
            form,
        )


def _summary(case: Case, result: Any, points: dict, tagged: TaggedMesh, files: dict) -> dict:
    """The content of ``summary.json`` (SI units, °C)."""
    times = np.asarray(result.times)
    probes = {}
    for name, values in result.probes.items():
        values = np.asarray(values)
        i = int(np.argmax(values))
        probes[name] = {
            "xyz_m": list(points[name]),
            "max_C": float(values[i]),
            "t_max_s": float(times[i]),
            "final_C": float(values[-1]),
        }
    energy = {k: float(v) for k, v in result.energy.items()}
    tdim = tagged.mesh.topology.dim
    n_cells = tagged.mesh.topology.index_map(tdim).size_global
    t = case.problem.time
    return {
        "case": str(case.path),
        "mesh": tagged.source,
        "mesh_params": dict(case.mesh.params),
        "n_cells": int(n_cells),
        "n_dofs": result.timings.get("n_dofs"),
        "n_steps": result.timings.get("n_steps"),
        "materials": {g: m.as_json() for g, m in case.problem.materials.items()},
        "boundaries": {g: type(bc).__name__ for g, bc in case.problem.boundaries.items()},
        "contact_h_c": {g: c.h_c for g, c in case.problem.contact.items()},
        "tables": {k: str(v) for k, v in case.tables.items()},
        "time": {"dt_s": t.dt, "t_end_s": t.t_end, "T0_C": t.T0, "scheme": t.scheme},
        "timings": {
            k: (float(v) if isinstance(v, float) else v) for k, v in result.timings.items()
        },
        "probes": probes,
        "energy": energy,
        "files": files,
    }


def _plot_probes(path: Path, case: Case, result: Any) -> None:
    """Probe curves (°C over s), with the prescribed temperature histories dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    times = np.asarray(result.times)
    fig, ax = plt.subplots(figsize=(7.0, 4.0), constrained_layout=True)
    for name, bc in case.problem.boundaries.items():
        if isinstance(bc, TemperatureBC):
            ax.plot(times, bc.value(times), "--", color="0.4", lw=1.0, label=f"{name} (prescribed)")
    for name, values in result.probes.items():
        ax.plot(times, values, lw=1.4, label=name)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("temperature (°C)")
    ax.set_title(case.path.name)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _report(case: Case, summary: dict, files: dict) -> str:
    """Markdown report linking the outputs (relative links)."""
    lines = [
        f"# millheat simulate: `{case.path.name}`",
        "",
        f"Mesh: {summary['mesh']} ({summary['n_cells']} cells, "
        f"{summary['n_dofs']} dofs); {summary['n_steps']} steps of {case.problem.time.dt} s "
        f"({case.problem.time.scheme}).",
        "",
        "| probe | max (°C) | at (s) | final (°C) |",
        "|---|---|---|---|",
    ]
    for name, p in summary["probes"].items():
        lines.append(f"| {name} | {p['max_C']:.2f} | {p['t_max_s']:.2f} | {p['final_C']:.2f} |")
    e = summary["energy"]
    if {"heat_in_J", "stored_J", "lost_J", "balance_rel"} <= e.keys():
        lines += [
            "",
            f"Energy (J): in {e['heat_in_J']:.4g}, stored {e['stored_J']:.4g}, "
            f"lost {e['lost_J']:.4g}; (in − stored − lost) / in = {e['balance_rel']:.2e}.",
        ]
    lines += ["", "Files:", ""]
    lines += [
        f"- [{label}]({name})" for label, name in files.items() if isinstance(name, str) and name
    ]
    for png in files.get("snapshots", []):
        lines += ["", f"![{png}]({png})"]
    return "\n".join(lines) + "\n"


def _copy_tables(case: Case, folder: Path, *, taken: set[str]) -> None:
    """Copy the tables a case reads beside its copy, at the same relative path, so that
    ``folder/case.toml`` runs again; tables outside the case folder keep their absolute path."""
    for path in case.tables.values():
        try:
            rel = path.relative_to(case.path.parent)
        except ValueError:
            continue
        if str(rel) not in taken:
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, folder / rel)


def _write_extras(case: Case, result: Any, points: dict, tagged: TaggedMesh, tmp: Path) -> None:
    """Add case copy, tables, probe plot, summary and report to the staged folder (rank 0).

    Plain writes: the staged folder itself is published atomically by :func:`staged_dir`.
    """
    written = [Path(f).name for f in result.files]
    fields = [n for n in written if n.endswith((".xdmf", ".bp"))]
    files = {
        "probes": "probes.csv",
        "probe plot": "probes.png",
        "field": fields[0] if fields else "",
        "case": "case.toml",
        "summary": "summary.json",
        "snapshots": [n for n in written if n.endswith(".png")],
    }
    (tmp / "case.toml").write_text(case.text, encoding="utf-8")
    taken = {*written, "probes.png", "summary.json", "report.md", "case.toml"}
    _copy_tables(case, tmp, taken=taken)
    _plot_probes(tmp / "probes.png", case, result)
    summary = _summary(case, result, points, tagged, files)
    (tmp / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (tmp / "report.md").write_text(_report(case, summary, files), encoding="utf-8")


def run_case(
    case: Case, out_dir: str | Path, *, progress: bool = True, comm: MPI.Comm = MPI.COMM_WORLD
) -> Any:
    """Solve ``case`` and write every output into ``out_dir`` atomically.

    Args:
        case: a parsed case (:func:`thermo.case.parse_case`).
        out_dir: output folder; replaced as a whole when the run succeeds.
        progress: tqdm bar of the time loop (rank 0).
        comm: MPI communicator (every rank calls this function).

    Returns:
        ``thermo.solver.TransientResult`` (times (n+1,) s, probes °C, energy J, timings, final).

    Raises:
        CaseError: before solving, when the case does not fit the mesh.
        OutputPathError: at once, when ``out_dir`` is an existing file (left untouched).
    """
    out_dir = check_output_dir(Path(out_dir).resolve())
    if case.unknown_boundary is not None:
        group, kind = case.unknown_boundary
        raise CaseError(
            case.path,
            f"boundary.{group}.type",
            f"unknown-{kind} is an inverse problem and cannot be simulated forward",
            f'type = "{kind}" with a value or table',
        )
    from thermo.solver import solve_transient

    tagged = load_case_mesh(case, comm=comm)
    points = check_case_against_mesh(case, tagged)
    with staged_dir(out_dir, comm=comm) as tmp:
        result = solve_transient(
            tagged,
            case.problem,
            probes=points,
            out_dir=tmp,
            fields=case.output.fields,
            snapshot_times=case.output.snapshots,
            progress=progress,
        )
        if comm.rank == 0:
            _write_extras(case, result, points, tagged, tmp)
    return result

"""``millheat mesh --out tool.msh [--size F | --dofs N] [--png tool.png]``: build the tool mesh.

Builds the Gmsh model of paper 000 Fig. 9 (meshes.tool), writes ``tool.msh`` and
``tool.sensors.json`` (thermocouple points S1..S4, metres), optionally a PNG of the regions, and
prints the cell and node (P1 dof) counts.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``mesh`` subcommand; Gmsh/DOLFINx are imported only when it runs."""
    parser = subparsers.add_parser(
        "mesh",
        help="build the insert-shank-bolt tool mesh (.msh + sensors JSON)",
        description=__doc__.split("\n\n")[1].replace("\n", " "),
    )
    parser.add_argument("--out", type=Path, required=True, metavar="FILE.msh", help="mesh file")
    parser.add_argument(
        "--size",
        type=float,
        default=1.0,
        metavar="F",
        help="mesh size factor: every target size is multiplied by F; P1 dofs measured on the "
        "default tool: 2.0 -> 1.7k, 1.0 -> 5.4k, 0.5 -> 28k, 0.4 -> 51k, 0.3 -> 110k, "
        "0.25 -> 183k, 0.22 -> 263k",
    )
    parser.add_argument(
        "--params",
        type=Path,
        default=None,
        metavar="JSON",
        help='JSON object of ToolGeometry fields in SI units (e.g. {"ap": 0.006})',
    )
    parser.add_argument("--png", type=Path, default=None, metavar="FILE.png", help="region plot")
    parser.add_argument(
        "--dofs",
        type=int,
        default=None,
        metavar="N",
        help="aim at about N P1 dofs instead (sets F from the measured table; overrides --size)",
    )
    parser.add_argument("--verbose", action="store_true", help="show Gmsh's log")
    parser.set_defaults(func=mesh)
    return parser


def mesh(args: argparse.Namespace) -> int:
    """Handler of ``millheat mesh``; returns 0 on success, 2 on bad input (one line on stderr)."""
    from cases.exits import USER_ERRORS, report_user_error

    try:
        return _mesh(args)
    except USER_ERRORS as err:
        return report_user_error("millheat mesh", err)


def _mesh(args: argparse.Namespace) -> int:
    from meshes.tool import ToolGeometry, size_factor_for_dofs
    from thermo.atomic import OutputPathError

    for flag, target in (("--out", args.out), ("--png", args.png)):
        if target is not None and Path(target).is_dir():
            raise OutputPathError(f"{flag} {target}: is a folder; expected a file path")
    params = {}
    if args.params is not None:
        try:
            params = json.loads(Path(args.params).read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise ValueError(f"{args.params}: not JSON ({err}); expected a JSON object") from err
        if not isinstance(params, dict):
            raise ValueError(f"{args.params}: expected a JSON object of ToolGeometry fields")
    size = args.size if args.dofs is None else size_factor_for_dofs(args.dofs)
    params.setdefault("size_factor", size)
    try:
        geometry = ToolGeometry.from_mapping(params, source=str(args.params or "--size"))
    except KeyError as err:  # unknown fields: a user error, reported like the ValueErrors
        raise ValueError(str(err).strip("'\"")) from err
    from mpi4py import MPI

    from meshes.io import load_mesh
    from meshes.tool import save_tool_mesh

    path = save_tool_mesh(args.out, geometry, verbose=args.verbose)
    tagged = load_mesh(path, MPI.COMM_WORLD)
    n_cells = tagged.mesh.topology.index_map(3).size_global
    n_nodes = tagged.mesh.geometry.index_map().size_global
    if args.png is not None and MPI.COMM_WORLD.rank == 0:
        from meshes.plot import plot_regions

        plot_regions(tagged if MPI.COMM_WORLD.size == 1 else path, args.png)
    if MPI.COMM_WORLD.rank == 0:
        print(
            f"millheat mesh: {path} ({n_cells} tetrahedra, {n_nodes} nodes = P1 dofs), "
            f"sensors in {path.with_name(path.stem + '.sensors.json')}"
            + (f", picture {args.png}" if args.png else "")
        )
    return 0

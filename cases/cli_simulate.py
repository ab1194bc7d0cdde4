"""``millheat simulate CASE.toml [--out DIR]``: run one TOML heat case (issue 2).

Parses the case (:func:`thermo.case.parse_case`), builds or loads its mesh, checks the case
against the mesh, solves (:func:`thermo.case_run.run_case`) and writes ``probes.csv``, the field
series, snapshot PNGs, ``summary.json`` and ``report.md`` into one folder (default
``results/<case-stem>``). A bad case prints its :class:`thermo.case.CaseError` message (file, key
path, expected form), without a traceback, and exits with status 2 before anything is solved
(:func:`cases.exits.report_user_error`). An ``--out`` that is an existing regular file is refused
the same way at once; the file is left untouched (millheat never replaces a file with a folder).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``simulate`` subcommand; heavy imports happen only when it runs."""
    parser = subparsers.add_parser(
        "simulate",
        help="run a transient heat case from a TOML file",
        description=(
            "Parse a TOML case, build or load its mesh, check the case against the mesh, solve "
            "the transient heat problem and write probes.csv, the field series (XDMF/VTX), "
            "snapshot PNGs, summary.json and report.md into one folder. A bad case prints "
            "file, key and expected form and exits with status 2 before solving."
        ),
    )
    parser.add_argument("case", type=Path, metavar="CASE.toml", help="the case file")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="output folder (default: results/<case-stem>); replaced as a whole on success; "
        "an existing file there is refused",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=simulate)
    return parser


def simulate(args: argparse.Namespace) -> int:
    """Handler of ``millheat simulate``; returns the exit code (0 ok, 2 bad input)."""
    from cases.exits import USER_ERRORS, report_user_error
    from thermo.atomic import check_output_dir
    from thermo.case import parse_case

    out = args.out if args.out is not None else Path("results") / Path(args.case).stem
    try:
        check_output_dir(out)  # a file under --out is refused before any work, and left as it is
        case = parse_case(args.case)
        from thermo.case_run import run_case  # DOLFINx import only for a valid case

        result = run_case(case, out, progress=not args.quiet)
    except USER_ERRORS as err:
        return report_user_error("millheat simulate", err)
    from mpi4py import MPI

    if MPI.COMM_WORLD.rank == 0:
        t = result.timings
        print(
            f"millheat simulate: {t.get('n_steps')} steps, {t.get('n_dofs')} dofs, "
            f"{t.get('steps_s', 0.0):.1f} s in the time loop; outputs in {Path(out).resolve()} "
            f"(report.md, probes.csv, summary.json)"
        )
    return 0

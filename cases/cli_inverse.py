"""``millheat inverse CASE.toml --measurements FILE.csv --method tikhonov|sfsm|kalman``.

Estimates the history of the case's unknown boundary (``type = "unknown-temperature"`` or
``"unknown-flux"``, e.g. the cutting zone F1) from sensor records with a classical inverse
method: Tikhonov (order 0/1; λ by the discrepancy principle when --sigma is given, else GCV or
L-curve), Beck's sequential function specification (r future steps) or a Kalman filter with
Rauch–Tung–Striebel smoother (needs --sigma and one sample per time step). The CSV has ``time_s``
plus one column per probe name (and optionally an ``F1`` truth column, then the boundary error
is reported). Works on any case file and mesh. Writes boundary_estimate.csv (time_s,value),
fitted_probes.csv, inverse.png, summary.json (with the regularisation parameter), the reusable
linear response and report.md into one folder (default results/<case-stem>-inverse).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``inverse`` subcommand; heavy imports happen only when it runs."""
    parser = subparsers.add_parser(
        "inverse",
        help="estimate an unknown boundary history from sensor records",
        description=__doc__.split("\n\n")[1].replace("\n", " "),
    )
    parser.add_argument("case", type=Path, metavar="CASE.toml", help="case with an unknown-* BC")
    parser.add_argument(
        "--measurements",
        type=Path,
        required=True,
        metavar="FILE.csv",
        help="time_s plus one column per probe (°C); optional F1 truth column",
    )
    parser.add_argument("--method", choices=("tikhonov", "sfsm", "kalman"), default="tikhonov")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="output folder (default: results/<case-stem>-inverse)",
    )
    parser.add_argument(
        "--sigma",
        type=float,
        default=None,
        metavar="K",
        help="sensor noise σ (K) if known: discrepancy principle",
    )
    parser.add_argument("--order", type=int, choices=(0, 1), default=1, help="Tikhonov order")
    parser.add_argument(
        "--rule",
        choices=("discrepancy", "gcv", "lcurve"),
        default=None,
        help="Tikhonov λ rule (default: discrepancy with --sigma, else gcv)",
    )
    parser.add_argument(
        "--future-steps",
        type=int,
        default=None,
        metavar="R",
        help="SFSM future steps r (default: by discrepancy with --sigma, else 3)",
    )
    parser.add_argument(
        "--response",
        type=Path,
        default=None,
        metavar="FILE.npz",
        help="reuse a saved linear response (response.npz of an earlier run)",
    )
    parser.set_defaults(func=inverse)
    return parser


def inverse(args: argparse.Namespace) -> int:
    """Handler of ``millheat inverse``; returns 0, or 2 on a bad case or measurement file."""
    from thermo.case import CaseError, parse_case
    from thermo.inverse.dataset import read_measurements_csv

    out = args.out if args.out is not None else Path("results") / f"{Path(args.case).stem}-inverse"
    try:
        case = parse_case(args.case)
        meas = read_measurements_csv(args.measurements)
        from thermo.inverse.run import run_inverse

        outcome = run_inverse(
            case,
            meas,
            out,
            method=args.method,
            order=args.order,
            rule=args.rule,
            sigma=args.sigma,
            future_steps=args.future_steps,
            response=args.response,
        )
    except (CaseError, ValueError) as err:
        print(f"millheat inverse: error: {err}", file=sys.stderr)
        return 2
    s = outcome.summary
    if "lam" in s:
        par = f"lambda = {s['lam']:.4g} ({s['rule']})"
    elif "future_steps" in s:
        par = f"r = {s['future_steps']}"
    else:
        par = f"q = {s['q']:.4g}"
    print(
        f"millheat inverse: {s['method']}, {par}, sensor RMSE {s['fit']['all']['rmse']:.3g} K; "
        f"outputs in {Path(out).resolve()}"
    )
    return 0

"""``millheat inverse CASE.toml --measurements FILE.csv --method NAME``.

Estimates the history of the case's unknown boundary (``type = "unknown-temperature"`` or
``"unknown-flux"``, e.g. the cutting zone F1) from sensor records with any method of the one
registry (thermo.inverse.registry): Tikhonov (order 0/1; λ by the discrepancy principle when
--sigma is given, else GCV or L-curve), Beck's sequential function specification (r future
steps), a Kalman filter with Rauch–Tung–Striebel smoother (needs --sigma and one sample per time
step), or a registered neural method. The CSV has a time column plus one column per probe name
(and optionally a truth column, then the boundary error is reported); --time-column,
--time-unit, --sensors and --truth-column take the user's own names and units. Works on any case
file and mesh (``[mesh] unit = "mm"`` for meshes in millimetres). Writes boundary_estimate.csv
(time_s,value), fitted_probes.csv, inverse.png, summary.json (with the regularisation
parameter), the reusable linear response and report.md into one folder (default
results/<case-stem>-inverse). Bad input exits 2 with one line.
"""

from __future__ import annotations

import argparse
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
    from thermo.inverse.registry import describe, method_names

    parser.add_argument(
        "--method",
        choices=method_names(),
        default=None,
        help="inverse method (default: gauss-newton for a case with temperature-dependent "
        f"properties, else tikhonov; {describe()})",
    )
    parser.add_argument(
        "--reference-temperature",
        type=float,
        default=None,
        metavar="DEGC",
        help="temperature at which a T-dependent case is linearised (default: T0)",
    )
    parser.add_argument("--time-column", default="time_s", metavar="COL", help="time column")
    parser.add_argument(
        "--time-unit", choices=("s", "ms", "min"), default="s", help="unit of the time column"
    )
    parser.add_argument(
        "--sensors",
        default=None,
        metavar="A,B,...",
        help="sensor columns to use, comma-separated (default: all but time and truth)",
    )
    parser.add_argument(
        "--truth-column", default="F1", metavar="COL", help="boundary truth column, if present"
    )
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
    """Handler of ``millheat inverse``; returns 0, or 2 on bad input (one line on stderr)."""
    from cases.exits import USER_ERRORS, report_user_error
    from thermo.atomic import check_output_dir
    from thermo.case import parse_case
    from thermo.inverse.record import read_record_csv

    out = args.out if args.out is not None else Path("results") / f"{Path(args.case).stem}-inverse"
    try:
        check_output_dir(out)
        case = parse_case(args.case)
        meas = read_record_csv(
            args.measurements,
            time_column=args.time_column,
            time_unit=args.time_unit,
            sensor_columns=None if args.sensors is None else args.sensors.split(","),
            truth_column=args.truth_column,
        )
        if args.sigma is not None and not args.sigma >= 0:
            raise ValueError(f"--sigma must be >= 0 K, got {args.sigma}")
        from thermo.inverse.run import run_inverse

        options = {}
        if args.method in (None, "tikhonov"):  # None: tikhonov or, if T-dependent, gauss-newton
            options = {"order": args.order, "rule": args.rule}
        elif args.method == "sfsm":
            options = {"future_steps": args.future_steps}
        outcome = run_inverse(
            case,
            meas,
            out,
            method=args.method,
            sigma=args.sigma,
            response=args.response,
            reference_temperature=args.reference_temperature,
            **options,
        )
    except USER_ERRORS as err:
        return report_user_error("millheat inverse", err)
    s = outcome.summary
    if "lam" in s:
        par = f"lambda = {s['lam']:.4g} ({s['rule']})"
    elif "future_steps" in s:
        par = f"r = {s['future_steps']}"
    elif "q" in s:
        par = f"q = {s['q']:.4g}"
    if "iterations" in s:
        par += f", {s['iterations']} Gauss-Newton iterations, {s['forward_solves']} forward runs"
    else:
        par = s["method_label"]
    print(
        f"millheat inverse: {s['method']}, {par}, sensor RMSE {s['fit']['all']['rmse']:.3g} K; "
        f"outputs in {Path(out).resolve()}"
    )
    return 0

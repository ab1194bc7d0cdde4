"""``millheat recommend``: cutting conditions from the chained networks of paper 002.

Example::

    millheat recommend --operation 2 --material P1.2 --hardness 150 --cutter 1 \\
        --diameter 10 --teeth 4

prints Vc (m/min), n (r/min), fz (mm/tooth), Vf (mm/min) and the nearest handbook rows. Bad
input (unknown material, hardness outside the material's range, ...) prints one error line and
exits with code 2. The shipped weights (``surrogates/cutting/recommender_model.json``) are used;
without them a quick model is trained first and the command says so.
"""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``recommend`` subcommand."""
    parser = subparsers.add_parser(
        "recommend",
        help="recommend Vc, n, fz, Vf for an end-milling operation (paper 002 networks)",
        description="Recommend cutting speed, spindle speed, feed per tooth and feed speed "
        "with the chained networks of paper 002.",
    )
    parser.add_argument(
        "--operation",
        type=int,
        required=True,
        help="1 full slot, 2 shoulder roughing, 3 side finishing, 4 high-speed light ae",
    )
    parser.add_argument("--material", required=True, help="material code, e.g. P1.2, N1.3, S4.2")
    parser.add_argument("--hardness", type=float, required=True, help="Brinell hardness (HB)")
    parser.add_argument(
        "--cutter",
        type=int,
        required=True,
        help="1 solid carbide, 2 HSS-Co, 3 indexable, 4 solid carbide ball-nose",
    )
    parser.add_argument("--diameter", type=float, help="cutter diameter, mm (default: nominal)")
    parser.add_argument("--teeth", type=int, help="number of teeth (default: nominal)")
    parser.add_argument("--weights", help="weights JSON (default: the shipped model)")
    parser.add_argument("--context", type=int, default=3, help="handbook rows to show (3)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Validate, predict, print. Returns the exit code (0 ok, 2 bad input)."""
    from surrogates.cutting.recommender import (
        WEIGHTS_PATH,
        RecommendationInputError,
        load_or_train,
        validate_request,
    )

    request = {
        "operation": args.operation,
        "material": args.material,
        "hardness_hb": args.hardness,
        "cutter": args.cutter,
    }
    try:
        validate_request(**request, diameter_mm=args.diameter, teeth=args.teeth)
        if args.context < 0:
            raise RecommendationInputError(f"--context must be >= 0, got {args.context}")
        path = args.weights or WEIGHTS_PATH
        rec, trained_now = load_or_train(path)
    except (RecommendationInputError, ValueError) as err:
        print(f"millheat recommend: error: {err}", file=sys.stderr)
        return 2
    if trained_now:
        print(f"note: no weights file at {path}; trained a quick model (not saved)")
    r = rec.recommend(**request, diameter_mm=args.diameter, teeth=args.teeth)
    print(
        f"operation {r.operation}, material {r.material}, {r.hardness_hb:g} HB, cutter {r.cutter}, "
        f"D = {r.diameter_mm:g} mm, z = {r.teeth}"
    )
    print(f"  Vc = {r.vc:8.1f} m/min")
    print(f"  n  = {r.n_rpm:8.0f} r/min")
    print(f"  fz = {r.fz:8.4f} mm/tooth")
    print(f"  Vf = {r.vf:8.1f} mm/min")
    if r.note:
        print(f"  ({r.note})")
    if args.context:
        rows = rec.nearest_rows(**request, k=args.context)
        cols = ["operation", "material", "hardness_hb", "cutter", "diameter_mm", "teeth"]
        cols += ["vc_min", "vc_max", "vc", "fz", "vf", "origin"]
        print("nearest handbook rows (nominal cutter geometry):")
        print(rows[cols].to_string(index=False))
    return 0

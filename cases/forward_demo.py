"""Forward demo (issue 2 main job): 12 s of milling Inconel 718 on the built-in cutting system.

Runs ``cases/examples/tool_forward.toml``: the insert–shank–bolt tool of paper 000 (§4.2, Fig. 9)
with a WC–Co insert and 42CrMo4 shank and bolt, a prescribed time-averaged cutting-zone (F1)
temperature history (``f1_history.csv``: N = 636 r/min, fz = 0.075 mm/z, ae = 0.2 mm),
convection h = 25 W/(m² K) to 20 °C air on F3, perfect contact on F2, backward Euler with
dt = 0.05 s to 12 s. Outputs (one folder, written atomically by :func:`thermo.case_run.run_case`):
``probes.csv`` and ``probes.png`` (the four flank thermocouples S1..S4), ``T.xdmf``/``T.h5`` for
ParaView, ``T_4s.png``/``T_8s.png``/``T_12s.png`` (paper Fig. 10 times), ``summary.json``,
``report.md``.

``--quick`` doubles every mesh size (``size_factor`` 0.5 → 1.0: about 4.5k instead of 28k P1
dofs) and uses dt = 0.2 s (60 steps); the snapshot times are unchanged. ``--seed`` regenerates
the F1 history's fluctuation with :func:`thermo.inverse.cutting_zone.f1_temperature` (same
conditions as
the shipped table, which is seed 0); without it the shipped table is used. Nothing else in the
run is random. The copied ``case.toml`` is the example as shipped; ``summary.json`` records the
time step and mesh parameters that actually ran.

Usage::

    python -m cases.forward_demo [--out results/forward_demo] [--quick] [--seed N]
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from cases.exits import run_main

EXAMPLE = Path(__file__).resolve().parent / "examples" / "tool_forward.toml"
#: Conditions of the shipped F1 table (see its header); used when ``--seed`` regenerates it.
F1_CONDITIONS = {"n_rpm": 636.0, "fz_mm": 0.075, "ae_mm": 0.2, "diameter_mm": 25.0, "t_in": 0.2}


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of the demo."""
    parser = argparse.ArgumentParser(
        prog="python -m cases.forward_demo",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("results/forward_demo"),
        metavar="DIR",
        help="output folder (default: results/forward_demo)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="coarse mesh (size_factor x 2) and dt = 0.2 s"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="regenerate the F1 fluctuation with this seed (default: shipped table)",
    )
    parser.add_argument("--case", type=Path, default=EXAMPLE, help=argparse.SUPPRESS)
    return parser


def demo_case(*, case_path: Path = EXAMPLE, quick: bool = False, seed: int | None = None):
    """The example case, coarsened for ``quick`` and with a regenerated F1 history for ``seed``.

    Returns a :class:`thermo.case.Case`.
    """
    import numpy as np

    from thermo.case import parse_case
    from thermo.problem import History, TemperatureBC, TimeStepping

    case = parse_case(case_path)
    problem = case.problem
    if seed is not None:
        from thermo.inverse.cutting_zone import f1_temperature

        t = problem.time.times
        values = f1_temperature(t, seed=seed, **F1_CONDITIONS)
        f1 = TemperatureBC(value=History(times=t, values=np.asarray(values)))
        problem = dataclasses.replace(problem, boundaries={**problem.boundaries, "F1": f1})
    if quick:
        params = dict(case.mesh.params)
        params["size_factor"] = 2.0 * float(params.get("size_factor", 1.0))
        mesh = dataclasses.replace(case.mesh, params=params)
        time = TimeStepping(
            dt=0.2, t_end=problem.time.t_end, T0=problem.time.T0, scheme=problem.time.scheme
        )
        problem = dataclasses.replace(problem, time=time)
        case = dataclasses.replace(case, mesh=mesh)
    return dataclasses.replace(case, problem=problem)


def main(argv: list[str] | None = None) -> int:
    """Run the demo; returns the exit code (bad input: ValueError, see cases.exits)."""
    args = build_parser().parse_args(argv)
    case = demo_case(case_path=args.case, quick=args.quick, seed=args.seed)
    from mpi4py import MPI

    from thermo.case_run import run_case

    result = run_case(case, args.out, progress=True)
    if MPI.COMM_WORLD.rank == 0:
        peaks = ", ".join(f"{k} {v.max():.1f} °C" for k, v in result.probes.items())
        print(
            f"forward_demo: {result.timings['n_dofs']} dofs, {result.timings['n_steps']} steps "
            f"in {result.timings['steps_s']:.1f} s; sensor maxima {peaks}"
        )
        print(f"forward_demo: outputs in {args.out.resolve()} (open report.md; T.xdmf in ParaView)")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main, "cases.forward_demo"))

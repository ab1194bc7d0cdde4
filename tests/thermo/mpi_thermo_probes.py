"""Run under ``mpirun -n N``: a small 3D problem with flux, convection and Dirichlet boundaries.

The same problems run with constant properties (linear solver) and, prefixed ``N``, with the
temperature-dependent library materials (Newton per step, :mod:`thermo.nonlinear`). Rank 0 writes
the probe histories and energy terms as JSON to the path given as argv[1].
"""

import json
import sys

import dolfinx_solver  # noqa: F401
import numpy as np
from mpi4py import MPI

from meshes.boxes import bar, two_blocks
from thermo.problem import (
    MATERIALS,
    ContactConductance,
    ConvectionBC,
    FluxBC,
    HeatProblem,
    History,
    TemperatureBC,
    TimeStepping,
)
from thermo.solver import solve_transient

PROBES = {"S1": (0.002, 0.001, 0.001), "S2": (0.005, 0.0005, 0.0015), "S3": (0.0099, 0.002, 0.0)}


def _runs(suffix: str) -> dict:
    wc, steel = MATERIALS["wc-co" + suffix], MATERIALS["42crmo4" + suffix]
    q_peak = 2e6 if not suffix else 8e6
    problem = HeatProblem(
        materials={"bar": wc},
        boundaries={
            "x0": FluxBC(History(times=np.array([0.0, 0.5]), values=np.array([0.0, q_peak]))),
            "x1": TemperatureBC(History.constant(20.0)),
            "y1": ConvectionBC(h=500.0, T_inf=20.0),
        },
        time=TimeStepping(dt=0.02, t_end=0.5, T0=20.0, scheme="crank-nicolson"),
        rtol=1e-13,
    )
    result = solve_transient(
        bar(lengths=(0.01, 0.002, 0.002), cells=(20, 4, 4)), problem, probes=PROBES
    )
    contact = HeatProblem(
        materials={"left": wc, "right": steel},
        boundaries={
            "x0": FluxBC(History.constant(1e6)),
            "x1": TemperatureBC(History.constant(20.0)),
            "y0": ConvectionBC(h=1e3, T_inf=20.0),
        },
        contact={"interface": ContactConductance(h_c=2e4)},
        time=TimeStepping(dt=0.05, t_end=0.5, T0=20.0),
        rtol=1e-13,
    )
    blocks = two_blocks(
        length_left=0.005,
        length_right=0.005,
        cells_left=8,
        cells_right=8,
        cross_section=(0.002, 0.002),
        cross_cells=(3, 3),
    )
    # off the interface x = 0.005: a point on it has two values (one per body)
    points = {
        "CS1": (0.002, 0.001, 0.001),
        "CS2": (0.0049, 0.0005, 0.0015),
        "CS3": (0.0099, 0.002, 0.0),
        "Cjump": (0.0051, 0.001, 0.001),
    }
    result_c = solve_transient(blocks, contact, probes=points)
    data = {name: values.tolist() for name, values in result.probes.items()}
    data.update({name: values.tolist() for name, values in result_c.probes.items()})
    data["energy"] = result.energy
    data["energy_contact"] = result_c.energy
    data["newton"] = [r.timings.get("newton_iterations", 0) for r in (result, result_c)]
    return data


def main(path: str) -> None:
    data = _runs("")
    data.update({f"N{key}": value for key, value in _runs("-t").items()})
    if MPI.COMM_WORLD.rank == 0:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(data, fh)


if __name__ == "__main__":
    main(sys.argv[1])

"""Run under ``mpirun -n N``: the checks of an inverse case against its mesh, on every rank.

Usage: ``python tests/cases/mpi_case_checks.py WORKDIR OUT.json``. Rank 0 writes a two-body box
case (:func:`test_case_inputs._inverse_case`); every rank checks it twice: probes in both bodies
(accepted), then both probes in the detached body (refused with the same message on every rank).
"""

import json
import sys
from pathlib import Path

import dolfinx_solver  # noqa: F401  (initialises MPI/PETSc before dolfinx)
from mpi4py import MPI

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1]), str(HERE)]

from test_case_inputs import _inverse_case  # noqa: E402

from thermo.case import CaseError, parse_case  # noqa: E402
from thermo.case_run import check_case_against_mesh, load_case_mesh  # noqa: E402


def main() -> None:
    comm = MPI.COMM_WORLD
    work, out = Path(sys.argv[1]), Path(sys.argv[2])
    results = {}
    for label, probes in (
        ("both", "[probes]\nP = [0.043, 0.003, 0.003]\nQ = [0.01, 0.003, 0.003]\n"),
        ("island", "[probes]\nP = [0.043, 0.003, 0.003]\nQ = [0.044, 0.002, 0.004]\n"),
    ):
        folder = work / f"{label}_{comm.size}"
        if comm.rank == 0:
            folder.mkdir(parents=True, exist_ok=True)
            _inverse_case(folder, probes)
        comm.barrier()
        case = parse_case(folder / "case.toml")
        try:
            results[label] = sorted(check_case_against_mesh(case, load_case_mesh(case)))
        except CaseError as err:
            results[label] = str(err)
    gathered = comm.gather(results, root=0)
    if comm.rank == 0:
        out.write_text(json.dumps(gathered), encoding="utf-8")


if __name__ == "__main__":
    main()

"""Run under ``mpirun -n N``: build/save/load the tool mesh in parallel and write global figures.

Usage: ``python tests/meshes/mpi_meshes_tool.py OUT.json WORKDIR``. Also checks that a missing
group raises the same KeyError on every rank (no rank is left waiting).
"""

import json
import sys
from pathlib import Path

import dolfinx_solver  # noqa: F401  (initialises MPI/PETSc before dolfinx)

# isort: split
import dolfinx
import ufl
from mpi4py import MPI

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from meshes.io import load_mesh  # noqa: E402
from meshes.tool import ToolGeometry, save_tool_mesh, tool_mesh  # noqa: E402


def measures(tagged):
    msh = tagged.mesh
    one = dolfinx.fem.Constant(msh, 1.0)
    out = {}
    for name, tag in tagged.volume_groups.items():
        dx = ufl.Measure("dx", domain=msh, subdomain_data=tagged.cell_tags)
        out[name] = msh.comm.allreduce(dolfinx.fem.assemble_scalar(dolfinx.fem.form(one * dx(tag))))
    ds = ufl.Measure("ds", domain=msh, subdomain_data=tagged.facet_tags)
    out["F1"] = msh.comm.allreduce(dolfinx.fem.assemble_scalar(dolfinx.fem.form(one * ds(11))))
    out["cells"] = msh.topology.index_map(3).size_global
    out["nodes"] = msh.geometry.index_map().size_global
    return out


def main() -> None:
    comm = MPI.COMM_WORLD
    out, work = Path(sys.argv[1]), Path(sys.argv[2])
    g = ToolGeometry(size_factor=2.5)
    built = measures(tool_mesh(g, comm))
    path = save_tool_mesh(work / f"tool_{comm.size}.msh", g, comm=comm)
    loaded = measures(load_mesh(path, comm, require_volumes=("insert",)))
    error = ""
    try:
        load_mesh(path, comm, require_facets=("F7",))
    except KeyError as err:
        error = str(err)
    errors = comm.gather(error, root=0)
    if comm.rank == 0:
        doc = {"built": built, "loaded": loaded, "errors": errors}
        out.write_text(json.dumps(doc))


if __name__ == "__main__":
    main()

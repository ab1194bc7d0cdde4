"""Run under ``mpirun -n N`` (or serially): the streamed factorisation on N ranks.

1. A synthetic step response whose columns are split over the ranks: rank 0 gathers the
   Duhamel sums at 4/8/12 s of the factors in global column order.
2. The field step response of a small FEM box (streaming, MUMPS, B in float64 and, as
   ``fem_fields32``, float32): the fields at 4/8/12 s are gathered with the owned dofs'
   coordinates and sorted by them.
Rank 0 writes ``n_ranks``, ``*_fields`` (global order), ``*_sigma`` (singular values of A B's
rows, a partition-free summary) and ``fem_max_error`` / ``fem_tol`` to the .npz given as argv[1].
"""

import sys

import dolfinx_solver  # noqa: F401
import numpy as np
from mpi4py import MPI

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))

from test_streaming_lowrank import AT, PROBES, _history, box_problem, diffusive_step  # noqa: E402

from meshes.boxes import bar  # noqa: E402
from thermo.inverse.duhamel import index_of_times  # noqa: E402
from thermo.inverse.linear_response import _owned_values, compute_linear_response  # noqa: E402
from thermo.inverse.streaming_lowrank import compress_streaming  # noqa: E402

comm = MPI.COMM_WORLD


def _sigma(comp) -> np.ndarray:
    """Singular values of A B: A orthonormal, so those of B (Gram matrix allreduced)."""
    B = comp.dof_factor.astype(float)
    G = comm.allreduce(B @ B.T, op=MPI.SUM)
    return np.sqrt(np.clip(np.linalg.eigvalsh(G)[::-1], 0.0, None))


S = diffusive_step(n=3001)
parts = np.array_split(np.arange(S.shape[1]), comm.size)
mine = parts[comm.rank]
synth = compress_streaming(S[:, mine], rel_tol=1e-6, dtype=np.float64, comm=comm)
t = 0.05 * np.arange(S.shape[0])
idx = index_of_times(t, AT)
local = synth.superpose_at(_history(t), idx)
gathered = comm.gather(local, root=0)
synthetic = np.concatenate(gathered, axis=1) if comm.rank == 0 else None
synth_sigma = _sigma(synth)

tagged = bar(lengths=(0.03, 0.004, 0.004), cells=(30, 2, 2), comm=comm)
problem = box_problem()


def _fem(dtype):
    resp = compute_linear_response(
        tagged,
        problem,
        boundary="x0",
        kind="temperature",
        probes=PROBES,
        record_fields=True,
        field_compression="streaming",
        field_dtype=dtype,
    )
    return resp, resp.fields(problem.boundaries["x0"].value, at_times=AT, compressed=True)


resp, fields = _fem(np.float64)
_, fields32 = _fem(np.float32)

# coordinates of the owned dofs, in the order of _owned_values
from dolfinx import fem  # noqa: E402

V = fem.functionspace(tagged.mesh, ("Lagrange", 1))
coords_fn = [fem.Function(V) for _ in range(3)]
for d, f in enumerate(coords_fn):
    f.interpolate(lambda x, d=d: x[d])
# the solver's space is the same P1 space on the same mesh: same dof layout
xyz = np.stack([_owned_values(f) for f in coords_fn], axis=1)
assert xyz.shape[0] == fields.shape[1], (xyz.shape, fields.shape)
all_xyz = comm.gather(xyz, root=0)
all_fields = comm.gather(fields, root=0)
all_fields32 = comm.gather(fields32, root=0)
fem_sigma = _sigma(resp.field_compression())
if comm.rank == 0:
    xyz = np.concatenate(all_xyz)
    vals = np.concatenate(all_fields, axis=1)
    vals32 = np.concatenate(all_fields32, axis=1)
    order = np.lexsort(np.round(xyz, 9).T[::-1])
    np.savez(
        sys.argv[1],
        n_ranks=comm.size,
        synthetic_fields=synthetic,
        synthetic_sigma=synth_sigma,
        fem_fields=vals[:, order],
        fem_fields32=vals32[:, order],
        fem_sigma=fem_sigma,
        fem_max_error=resp.field_compression().max_error,
        fem_tol=resp.field_compression().tol,
    )

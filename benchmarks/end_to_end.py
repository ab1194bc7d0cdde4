"""The main job end to end at scale: mesh, field response, 3-condition reconstruction (issue 18).

``python -m benchmarks.end_to_end [--dofs 28000 183000 1000000] [--ranks 1 2] [--out FILE.json]
[--keep DIR]``

Each row runs ``python -m cases.milling_reconstruction --size-factor S`` (``mpirun -n R`` for
R > 1) in a fresh process with a fresh response cache, so the mesh and the field step response
are built, never read: S is :func:`meshes.tool.size_factor_for_dofs` of the asked dofs (the real
count is printed). The generating model's records (the virtual experiment that stands in for
the user's measurements) come from the study cache ``results/.cache/ihcp_robustness`` when it
exists (linked in, as a user's measurements would be read); without it they are computed once
by the first row (printed). Columns, from the job's ``metrics.json``:

* ``mesh_s``: Gmsh on rank 0 and the distribution (``tool_mesh``);
* ``response_s``: the streamed field step response (FEM run, factors, gathered and cached);
* ``inverse_s``: records, every method, calibration and the reconstructions (rank 0);
* ``output_s``: fields for ParaView (XDMF, every rank), CSVs and figures;
* ``wall_s``: the process from the outside (imports included);
* ``peak_MB``: peak resident memory, worst rank and sum over the ranks (``ru_maxrss``).

Rows with the same dofs and different ranks are compared: the largest relative difference of
every number of the two ``metrics.json`` (timings, the rank count and band coverage counts
left out) and of the sensor CSVs is printed (the 1e-8 goal of ``mpirun -n 2``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cases.recon_report import run_differences
from thermo.atomic import atomic_write_json

ROOT = Path(__file__).resolve().parents[1]
STUDY_CACHE = ROOT / "results" / ".cache" / "ihcp_robustness"
HEADER = (
    f"{'dofs':>9} {'ranks':>5} {'mesh_s':>7} {'response_s':>10} {'inverse_s':>9} "
    f"{'output_s':>8} {'total_s':>7} {'wall_s':>7} {'peak_MB':>13}"
)


def run_row(*, size_factor: float, ranks: int, work: Path, lab: Path | None) -> dict:
    """One fresh job; returns its timings and where its outputs are."""
    cache = work / f"cache_{size_factor:g}_{ranks}"
    shutil.rmtree(cache, ignore_errors=True)  # never a cached response
    cache.mkdir(parents=True)
    if lab is not None:
        (cache / "virtual_lab").symlink_to(lab)
    out = work / f"job_{size_factor:g}_{ranks}"  # --keep: kept there
    cmd = [sys.executable, "-m", "cases.milling_reconstruction", "--size-factor", str(size_factor)]
    cmd += ["--cache", str(cache), "--out", str(out), "--no-progress"]
    if ranks > 1:
        mpirun = Path(sys.executable).with_name("mpirun")
        if not mpirun.exists():
            raise FileNotFoundError(f"benchmarks.end_to_end: no mpirun beside {sys.executable}")
        cmd = [str(mpirun), "-n", str(ranks), *cmd]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, env=os.environ | {"PYTHONUNBUFFERED": "1"})
    wall = time.perf_counter() - t0
    m = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    recon = sum(c["methods"][m["method"]]["reconstruct_s"] for c in m["conditions"].values())
    return {
        "dofs": m["n_dofs"],
        "ranks": m["n_ranks"],
        "size_factor": size_factor,
        "mesh_s": m["mesh_s"],
        "response_s": m["response_s"] - m["mesh_s"],
        "total_s": m["total_s"],
        "wall_s": wall,
        "inverse_s": m.get("inverse_s"),
        "output_s": m.get("output_s"),
        "reconstruct_default_s": recon / len(m["conditions"]),
        "peak_max_MB": m["peak_rss_MB"]["max_rank"],
        "peak_sum_MB": m["peak_rss_MB"]["sum_ranks"],
        "records": "study cache" if lab is not None else "computed",
        "folder": str(out),
    }


def row_text(r: dict) -> str:
    peak = f"{r['peak_max_MB']:.0f}/{r['peak_sum_MB']:.0f}"
    return (
        f"{r['dofs']:>9} {r['ranks']:>5} {r['mesh_s']:>7.1f} {r['response_s']:>10.1f} "
        f"{r['inverse_s'] or 0.0:>9.1f} {r['output_s'] or 0.0:>8.1f} {r['total_s']:>7.1f} "
        f"{r['wall_s']:>7.1f} {peak:>13}"
    )


def compare_ranks(by_ranks: dict[int, dict]) -> list[dict]:
    """Each rank count's job against the fewest ranks' (same dofs); prints and returns them."""
    first, *rest = sorted(by_ranks)
    out = []
    for r in rest:
        diff = run_differences(Path(by_ranks[first]["folder"]), Path(by_ranks[r]["folder"]))
        diff |= {"dofs": by_ranks[r]["dofs"], "ranks": [first, r]}
        print(
            f"{diff['dofs']} dofs, {first} vs {r} ranks: metrics {diff['metrics_rel']:.1e} "
            f"relative ({diff['n_numbers']} numbers), sensor CSVs {diff['csv_rel']:.1e}",
            flush=True,
        )
        out.append(diff)
    return out


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point (see the module docstring)."""
    from meshes.tool import size_factor_for_dofs

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dofs", type=int, nargs="+", default=[28_000, 183_000, 1_000_000])
    p.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    p.add_argument("--out", type=Path, default=None, help="also write the rows as JSON here")
    p.add_argument("--keep", type=Path, default=None, help="keep the job folders here")
    args = p.parse_args(argv)
    if any(n < 1 for n in args.dofs) or any(r < 1 for r in args.ranks):
        p.error("--dofs and --ranks must be positive")
    lab = STUDY_CACHE if STUDY_CACHE.is_dir() else None
    print(f"generating-model records: {lab or 'computed by the first row (cold)'}", flush=True)
    rows, agree = [], []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) if args.keep is None else args.keep
        for n in args.dofs:
            sf = size_factor_for_dofs(n)
            by_ranks = {}
            for ranks in args.ranks:
                by_ranks[ranks] = run_row(size_factor=sf, ranks=ranks, work=work, lab=lab)
                rows.append(by_ranks[ranks])
                print(HEADER + "\n" + row_text(by_ranks[ranks]), flush=True)
            agree += compare_ranks(by_ranks)
    print("\n" + HEADER)
    for row in rows:
        print(row_text(row))
    if args.out is not None:
        atomic_write_json(args.out, {"rows": rows, "agreement": agree})


if __name__ == "__main__":
    main()

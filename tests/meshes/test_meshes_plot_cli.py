"""Region picture and the ``millheat mesh`` subcommand (coarse meshes, a few seconds each)."""

import argparse

import numpy as np
import pytest
from mpi4py import MPI

from cases import cli_mesh
from meshes.io import load_mesh
from meshes.plot import plot_regions
from meshes.tool import ToolGeometry, tool_mesh


def _png_pixels(path):
    import matplotlib.image

    return matplotlib.image.imread(path)


def test_plot_regions_writes_coloured_png(tmp_path):
    tagged = tool_mesh(ToolGeometry(size_factor=2.5), MPI.COMM_SELF)
    png = plot_regions(tagged, tmp_path / "regions.png", window_size=(800, 400))
    img = _png_pixels(png)
    assert img.shape[:2] == (400, 800)
    rgb = img[..., :3].reshape(-1, 3)
    red = np.mean((rgb[:, 0] > 0.75) & (rgb[:, 1] < 0.3) & (rgb[:, 2] < 0.3))  # F1
    gold = np.mean((rgb[:, 0] > 0.6) & (rgb[:, 1] > 0.45) & (rgb[:, 2] < 0.25))  # insert
    assert red > 1e-4 and gold > 1e-3, (red, gold)
    assert [p.name for p in tmp_path.iterdir()] == ["regions.png"]


def _run_cli(argv):
    parser = argparse.ArgumentParser(prog="millheat")
    cli_mesh.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_mesh_writes_msh_and_sensors(tmp_path, capsys):
    out = tmp_path / "tool.msh"
    assert _run_cli(["mesh", "--out", str(out), "--size", "2.5"]) == 0
    assert out.is_file() and (tmp_path / "tool.sensors.json").is_file()
    assert "tetrahedra" in capsys.readouterr().out
    tagged = load_mesh(out, MPI.COMM_SELF, require_volumes=("insert", "shank", "bolt"))
    assert len(tagged.sensors) == 4


def test_cli_mesh_bad_params_exit_2(tmp_path, capsys):
    params = tmp_path / "p.json"
    params.write_text('{"diameter": 0.02}')
    assert _run_cli(["mesh", "--out", str(tmp_path / "t.msh"), "--params", str(params)]) == 2
    assert "unknown tool-geometry parameter(s) ['diameter']" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _run_cli(["mesh"])  # --out is required


def test_cli_mesh_dofs_target(tmp_path, capsys):
    assert _run_cli(["mesh", "--out", str(tmp_path / "t.msh"), "--dofs", "2000"]) == 0
    text = capsys.readouterr().out
    nodes = int(text.split("tetrahedra, ")[1].split(" nodes")[0])
    assert nodes == pytest.approx(2000, rel=0.15), text


def test_cli_mesh_out_or_png_a_folder_exit_2(tmp_path, capsys):
    folder = tmp_path / "taken"
    folder.mkdir()
    assert _run_cli(["mesh", "--out", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("millheat mesh: error: --out "), err
    assert _run_cli(["mesh", "--out", str(tmp_path / "t.msh"), "--png", str(folder)]) == 2
    assert "--png" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"] and not any(folder.iterdir())

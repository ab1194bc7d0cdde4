"""``--machine-csv``: any machine's CSV with its own column names (issue 17).

The fixture is a small seeded series (not the virtual machining centre): two informative sensors
with a first-order lag, two distractors, a speed column; drift linear in the informative rises.
"""

import json

import numpy as np
import pandas as pd

from cases.exits import run_main

PROG = "cases.thermal_compensation"


def _fixture(path, n=480, dt=60.0, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n) * dt
    rpm = np.where((t // 3600) % 2 == 0, 6000.0, 0.0)
    heat = rpm / 6000.0
    hot = np.zeros(n)
    for k in range(1, n):  # spindle housing, 20 min lag
        hot[k] = hot[k - 1] + dt / 1200.0 * (3.0 * heat[k] - hot[k - 1])
    room = 1.5 * np.sin(2 * np.pi * t / (8 * 3600))
    table = pd.DataFrame(
        {
            "Zeit [s]": t,
            "Spindel vorn": 21.0 + hot + rng.normal(0, 0.05, n),
            "Raum": 21.0 + room + rng.normal(0, 0.05, n),
            "Schrank": 25.0 + rng.normal(0, 0.3, n),
            "Tür": 19.0 + rng.normal(0, 0.3, n),
            "n_rpm": rpm,
            "dZ um": 4.0 * hot + 1.5 * room + rng.normal(0, 0.3, n),
        }
    )
    table.to_csv(path, index=False)
    return path


def _argv(path, out, *extra):
    return ["--out", str(out), "--machine-csv", str(path), "--time-column", "Zeit [s]",
            "--temperature-columns", "Spindel vorn,Raum,Schrank,Tür", "--drift-column", "dZ um",
            "--speed-column", "n_rpm", "--test-from", "21600", "--n-inputs", "2",
            "--epochs", "25", "--repeats", "2", *extra]  # fmt: skip


def test_machine_csv_run_with_arbitrary_columns(tmp_path):
    from cases.thermal_compensation import main

    data = _fixture(tmp_path / "machine.csv")
    out = tmp_path / "res"
    assert run_main(main, PROG, _argv(data, out)) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert set(m["models"]) == {"compensator", "ridge", "none"}
    for row in m["models"].values():
        assert row["rmse_um"] > 0 and row["mae_um"] > 0
    # MI picks the two informative sensors, not the noise channels
    assert sorted(m["selected_inputs"][:2]) == ["Raum", "Spindel vorn"]
    assert m["selected_inputs"][2] == "n_rpm"
    assert m["n_train_records"] == 360 and m["n_test_records"] == 120
    none, ridge = m["models"]["none"]["rmse_um"], m["models"]["ridge"]["rmse_um"]
    comp = m["models"]["compensator"]["rmse_um"]
    assert ridge < 0.5 * none  # the drift is linear in the informative sensors
    assert comp < 0.8 * none  # a tiny budget, but clearly better than nothing
    assert (out / "drift_compensated.png").stat().st_size > 10_000
    pred = pd.read_csv(out / "predictions.csv")
    assert len(pred) == 480 and int(pred.test.sum()) == 120


def test_machine_csv_bad_column_is_one_line(tmp_path, capsys):
    from cases.thermal_compensation import main

    data = _fixture(tmp_path / "machine.csv")
    argv = _argv(data, tmp_path / "res")
    argv[argv.index("dZ um")] = "dz"
    assert run_main(main, PROG, argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{data}: missing column(s) ['dz']" in err[0]
    assert not (tmp_path / "res").exists()


def test_windows_regions_and_column_options():
    import pytest

    from surrogates.compensation.data import windows
    from surrogates.compensation.machine_csv import MachineColumns, parse_list, parse_regions
    from surrogates.compensation.selection import select_columns

    x = np.arange(10.0)[:, None]
    w = windows(x, window=3, stride=2)
    assert w.shape == (10, 3, 1)
    np.testing.assert_array_equal(w[5, :, 0], [1.0, 3.0, 5.0])  # oldest first
    np.testing.assert_array_equal(w[1, :, 0], [0.0, 0.0, 1.0])  # before the start: first sample
    assert parse_regions("sp=a,b; col=c") == {"sp": ["a", "b"], "col": ["c"]}
    with pytest.raises(ValueError, match="NAME=COL"):
        parse_regions("a,b")
    with pytest.raises(ValueError, match="comma-separated"):
        parse_list("a,,b", "--temperature-columns")
    with pytest.raises(ValueError, match="more than once"):
        MachineColumns("t", ("a", "t"), "d")
    rng = np.random.default_rng(1)
    sig = rng.uniform(0, 3, 300)
    df = pd.DataFrame({"a": sig, "b": rng.uniform(0, 3, 300), "c": rng.uniform(0, 3, 300),
                       "dz_um": 2 * sig + 0.05 * rng.normal(size=300)})  # fmt: skip
    _, sel, _ = select_columns(
        {"r": df}, ["a", "b", "c"], regions={"one": ["b", "a"], "two": ["c"]}
    )
    assert sel == {"one": "a", "two": "c"}
    with pytest.raises(ValueError, match="not among"):
        select_columns({"r": df}, ["a", "b"], regions={"one": ["z"]})


def test_transfer_path_reads_arbitrary_columns(tmp_path):
    """--data-delivery/--data-aged with the user's own column names: MI selection over those
    columns, features and pretraining (tiny budget) run through the case's preparation step."""
    from cases.thermal_compensation import _prepare, build_parser
    from surrogates.compensation.transfer import FineTuneConfig
    from thermo.machine.centre import simulate_state

    names = {"time_s": "t [s]", "dz_um": "Z-Drift", "S25": "spindle 1", "S26": "spindle 2",
             "C16": "col front", "C15": "col rear", "B1": "bed", "A1": "room"}  # fmt: skip
    paths = {}
    for state in ("delivery", "aged"):
        rec = simulate_state(state, sampling_interval_s=1800.0)
        rows = [df[list(names)].rename(columns=names).assign(run=n) for n, df in rec.items()]
        paths[state] = tmp_path / f"{state}.csv"
        pd.concat(rows).to_csv(paths[state], index=False)
    temps = ",".join(v for k, v in names.items() if k not in ("time_s", "dz_um"))
    args = build_parser().parse_args(
        ["--data-delivery", str(paths["delivery"]), "--data-aged", str(paths["aged"]),
         "--condition-column", "run", "--time-column", "t [s]", "--drift-column", "Z-Drift",
         "--temperature-columns", temps,
         "--regions", "spindle=spindle 1,spindle 2;column=col front,col rear;base=bed"]
    )  # fmt: skip
    info = _prepare(args, 1800.0, 2, FineTuneConfig(epochs=1), tmp_path)
    assert list(info["selected"]) == ["spindle", "column", "base"]
    assert info["selected"]["base"] == "bed"
    assert info["selected"]["spindle"] in ("spindle 1", "spindle 2")
    x, y = info["aged"]["H20"]
    assert x.shape == (17, 1, 3) and y.shape == (17,)
    assert set(info["pre_rmse"]) == {f"H{i}'" for i in range(1, 17)}

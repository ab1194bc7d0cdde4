"""``cases.milling_reconstruction --nonlinear`` (cases.recon_nonlinear): the main job on the
k(T), c(T) tool, end to end on the coarse mesh (``--quick``, about 30 s on one core)."""

import json

import numpy as np
import pytest


def test_quick_nonlinear_main_job(tmp_path):
    from cases.milling_reconstruction import main

    out = tmp_path / "recon"
    argv = ["--quick", "--nonlinear", "--no-progress", "--out", str(out)]
    assert main([*argv, "--cache", str(tmp_path / "cache")]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["nonlinear"] is True and m["method"] == "gauss-newton"  # the default with k(T)
    assert m["methods"] == ["gauss-newton", "tikhonov", "student"]
    for name in ("fig10_fields.png", "fig10_sensors.png", "boundary.png", "report.md"):
        assert (out / name).stat().st_size > 0, name
    assert "nonlinear" in (out / "report.md").read_text()
    assert len(m["conditions"]) == 3
    for label, c in m["conditions"].items():
        for name in ("T.xdmf", "T.h5", "sensors.csv"):
            assert (out / label / name).stat().st_size > 0, (label, name)
        gn, lin = c["methods"]["gauss-newton"], c["methods"]["tikhonov"]
        # measured (quick, σ = 5 K): boundary 5.4–6.4 K (GN) vs 17–27 K (constant properties);
        # GN fits the sensors at the noise level (5.0 K), the linear model cannot (10–15 K)
        assert gn["boundary"]["rmse"] < 0.6 * lin["boundary"]["rmse"], label
        assert 0.8 * m["sigma_K"] < gn["sensors"]["all"]["rmse"] < 1.25 * m["sigma_K"], label
        assert lin["sensors"]["all"]["rmse"] > 1.4 * m["sigma_K"], label
        assert len(gn["field_max_error_K"]) == 3 and np.all(np.isfinite(gn["field_rms_error_K"]))
        assert c["field_max_error_K"] == gn["field_max_error_K"]  # the rendered method's fields
    # the ParaView series of the rendered method holds the nonlinear run (every 0.25 s → 0.2 s)
    n_steps = (out / "N509_fz0.075_ae0.2" / "T.xdmf").read_text().count('<Time Value="')
    assert n_steps == m["n_steps"] + 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--retrain"], "--retrain with --nonlinear"), (["--sigma", "-1"], "--sigma")],
)
def test_nonlinear_refuses_bad_options(tmp_path, extra, message):
    from cases.milling_reconstruction import main

    with pytest.raises(ValueError, match=message):
        main(["--quick", "--nonlinear", "--out", str(tmp_path / "o"), *extra])

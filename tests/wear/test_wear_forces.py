"""Force model and wear curve against closed-form expectations and public magnitudes."""

import numpy as np
import pytest

from surrogates.wear.features import amplitude_spectrum
from surrogates.wear.forces import (
    MillingSetup,
    SignalOptions,
    coefficients_for,
    kienzle_to_linear,
    mean_forces_closed_form,
    revolution_forces,
    simulate_record,
)
from surrogates.wear.growth import WearCurve, wear_campaign


@pytest.mark.parametrize("down", [True, False])
@pytest.mark.parametrize("vb_mm", [0.0, 0.15])
def test_mean_force_matches_closed_form(down, vb_mm):
    """Per-revolution mean of the discretised helical model = Altintas eq. (2.47)-(2.49)."""
    setup = MillingSetup(ae_mm=0.3, down_milling=down, dz_mm=0.05)
    _, f = revolution_forces(setup, vb_mm=vb_mm, n_angles=2048, runout=False)
    expected = mean_forces_closed_form(setup, vb_mm=vb_mm)
    np.testing.assert_allclose(f.mean(axis=0), expected, rtol=0.01, atol=0.2)


def test_kienzle_line_is_exact_without_size_effect():
    """With m_c = 0 the Kienzle law is linear: K_tc = k_c1.1, K_te = 0."""
    ktc, kte = kienzle_to_linear(kc11=4700.0, mc=0.0, h_min_mm=0.001, h_max_mm=0.02)
    assert ktc == pytest.approx(4700.0, rel=1e-9)
    assert kte == pytest.approx(0.0, abs=1e-9)


def test_record_dominant_frequency_is_tooth_passing():
    """Spectrum of the sharp-tool record peaks at Nt n / 60 (666.7 Hz at 10 000 r/min)."""
    setup = MillingSetup(runout_mm=0.0)
    opt = SignalOptions(cut_s=0.5, entry_exit=False, noise_n=0.0, drift_n=0.0, tooth_jitter=0.0)
    rec = simulate_record(setup, vb_um=0.0, options=opt, flute_wear=np.ones(4), seed=1)
    freqs, amps = amplitude_spectrum(rec.forces[:, 1], fs_hz=rec.fs_hz)
    assert freqs[np.argmax(amps)] == pytest.approx(setup.tooth_hz, abs=2.0)
    # mean of the record = closed-form mean force
    np.testing.assert_allclose(rec.forces.mean(0), mean_forces_closed_form(setup), rtol=0.01)


def test_runout_adds_spindle_harmonic():
    opt = SignalOptions(cut_s=0.5, entry_exit=False, noise_n=0.0, drift_n=0.0, tooth_jitter=0.0)
    amp = []
    for rho in (0.0, 0.003):
        rec = simulate_record(
            MillingSetup(runout_mm=rho), vb_um=0.0, options=opt, flute_wear=np.ones(4)
        )
        freqs, amps = amplitude_spectrum(rec.forces[:, 1], fs_hz=rec.fs_hz)
        amp.append(amps[np.argmin(np.abs(freqs - 166.67))])
    assert amp[0] < 0.2 < 2.0 < amp[1]


def test_phm2010_magnitudes():
    """PHM 2010 challenge (Ø6 mm carbide, 3 flutes, HRC 52, 10 400 r/min, 1555 mm/min,
    ae 0.125 mm, ap 0.2 mm): measured peak forces are tens of newtons, growing with wear.
    Tolerance band: sharp-tool peak resultant in [10, 100] N, worn (VB 0.15 mm) below 200 N."""
    phm = MillingSetup(
        flutes=3, spindle_rpm=10_400, feed_mm_min=1555, ae_mm=0.125, ap_mm=0.2, hardness_hrc=52
    )
    peaks = []
    for vb in (0.0, 0.15):
        _, f = revolution_forces(phm, vb_mm=vb)
        peaks.append(np.linalg.norm(f, axis=1).max())
    assert 10.0 <= peaks[0] <= 100.0
    assert peaks[0] < peaks[1] < 200.0


def test_wear_raises_forces_and_paper_setup_scale():
    setup = MillingSetup()
    c0, c1 = coefficients_for(setup), coefficients_for(setup).with_wear(vb_mm=0.2, setup=setup)
    assert c1.kre == pytest.approx(c0.kre + 300.0 * 0.2)
    peaks = [np.linalg.norm(revolution_forces(setup, vb_mm=v)[1], axis=1).max() for v in (0, 0.2)]
    assert 50.0 < peaks[0] < 400.0  # paper set-up: tens to a few hundred N
    assert 1.5 < peaks[1] / peaks[0] < 3.0  # "roughly doubles" by VB = 0.2 mm


def test_wear_curve_three_stages():
    curve = WearCurve()
    L = np.linspace(0, curve.end_length_m, 400)
    rate = curve.rate(L)
    i_min = np.argmin(rate)
    assert 0 < i_min < len(L) - 1  # rate falls (initial), then rises (accelerated)
    assert rate[0] > 2 * rate[i_min] and rate[-1] > 2 * rate[i_min]
    assert curve(curve.end_length_m) == pytest.approx(297.0, abs=1.0)  # ISO 8688-2: 300 µm
    np.testing.assert_allclose(np.gradient(curve(L), L), rate, rtol=0.02, atol=1.0)


def test_campaign_labels_grow_and_are_seeded():
    opt = SignalOptions(cut_s=0.05, air_s=0.01, entry_exit=False)
    runs = [
        list(wear_campaign(MillingSetup(), n_tools=1, passes_per_tool=5, options=opt, seed=3))
        for _ in range(2)
    ]
    vb = [p.record.meta["vb_true_um"] for p in runs[0]]
    assert np.all(np.diff(vb) > 0)
    retired = wear_campaign(
        MillingSetup(), n_tools=1, passes_per_tool=80, options=opt, vb_end_um=150.0, seed=3
    )
    kept = [p.record.meta["vb_true_um"] for p in retired]
    assert 0 < len(kept) < 80 and max(kept) <= 150.0
    # same seed, same process and library build: bit-identical (a same-machine check, not a
    # claim across CPUs or BLAS builds)
    np.testing.assert_array_equal(runs[0][-1].record.forces, runs[1][-1].record.forces)


def test_bad_setup_is_rejected():
    with pytest.raises(ValueError, match="ae_mm"):
        MillingSetup(ae_mm=7.0)
    with pytest.raises(ValueError, match="VB"):
        coefficients_for(MillingSetup()).with_wear(vb_mm=-0.1, setup=MillingSetup())

"""Each Table-4 feature against values computed by hand on signals with known answers."""

import numpy as np
import pytest
from scipy import stats

from surrogates.wear.features import (
    amplitude_spectrum,
    band_amplitudes,
    extract_features,
    fast_length,
    feature_names,
    frequency_features,
    lowpass,
    time_features,
    trim_engagement,
)
from surrogates.wear.forces import MillingSetup, SignalOptions, simulate_record

FS = 50_000.0


def _sine(amplitude=3.0, f0=500.0, n=50_000, offset=0.0):
    t = np.arange(n) / FS
    return offset + amplitude * np.sin(2 * np.pi * f0 * t)


def test_time_features_of_a_sine():
    """A sine of amplitude A (M = 100 samples per period, integer periods): max |x| = A,
    mean 0, var A²/2, skew 0, kurtosis 3/2 · N/(N−1), ptp 2A, peak factor 2A/(A/√2) = 2√2;
    mean |x| of the sampled sine is A (2/M) cot(π/M) (→ 2A/π as M → ∞), giving the pulse
    factor 2A / mean|x| and waveform factor (A/√2) / mean|x|."""
    a, n, m = 3.0, 50_000, 100
    mean_abs = a * (2 / m) / np.tan(np.pi / m)
    assert mean_abs == pytest.approx(2 * a / np.pi, rel=5e-4)
    f = time_features(_sine(a, n=n))
    expected = [a, 0.0, a * a / 2, 0.0, 1.5 * n / (n - 1), 2 * a, 2 * np.sqrt(2)]
    expected += [2 * a / mean_abs, a / np.sqrt(2) / mean_abs]
    np.testing.assert_allclose(f, expected, rtol=1e-9, atol=1e-9)


def test_time_features_of_an_offset_sine_and_a_hand_example():
    f = time_features(_sine(2.0, offset=5.0))
    assert f[0] == pytest.approx(7.0) and f[1] == pytest.approx(5.0)
    assert f[5] == pytest.approx(4.0)
    # x = [0, 0, 0, 4]: mean 1, deviations (-1, -1, -1, 3), var 12/4 = 3, Σd³ = 24, Σd⁴ = 84,
    # skew = (24/3)/3^1.5, kurt = (84/3)/3², rms = √(16/4) = 2, mean|x| = 1, ptp 4.
    x = np.array([0.0, 0.0, 0.0, 4.0])
    expected = [4, 1, 3, 8 / 3**1.5, 28 / 9, 4, 4 / 2, 4 / 1, 2 / 1]
    np.testing.assert_allclose(time_features(x), expected, rtol=1e-10)  # SIMD sums differ by ulp


def test_skew_kurtosis_agree_with_scipy():
    x = np.random.default_rng(0).gamma(2.0, size=(3, 10_001))
    f = time_features(x)
    n = x.shape[1]
    np.testing.assert_allclose(f[:, 3], stats.skew(x, axis=1) * n / (n - 1), rtol=1e-10)
    np.testing.assert_allclose(
        f[:, 4], stats.kurtosis(x, axis=1, fisher=False) * n / (n - 1), rtol=1e-10
    )


def test_frequency_features_of_one_and_two_tones():
    """One tone: centroid f0, msf f0², variance 0, mean amplitude A/K.
    Two tones A1@f1, A2@f2: centroid (A1 f1 + A2 f2)/(A1 + A2), etc."""
    n = 50_000
    freqs, amps = amplitude_spectrum(_sine(3.0, 500.0, n), fs_hz=FS)
    s1, fc, msf, fv = frequency_features(freqs, amps)
    assert fc == pytest.approx(500.0, rel=1e-6) and msf == pytest.approx(500.0**2, rel=1e-6)
    assert fv < 1e-8 * msf  # zero up to float round-off of the 25 000 empty lines
    assert s1 == pytest.approx(3.0 / len(freqs), rel=1e-6)
    x = _sine(3.0, 500.0, n) + _sine(1.0, 2000.0, n)
    freqs, amps = amplitude_spectrum(x, fs_hz=FS)
    s1, fc, msf, fv = frequency_features(freqs, amps)
    assert fc == pytest.approx((3 * 500 + 1 * 2000) / 4, rel=1e-6)
    assert msf == pytest.approx((3 * 500**2 + 2000**2) / 4, rel=1e-6)
    assert fv == pytest.approx((3 * (500 - 875) ** 2 + (2000 - 875) ** 2) / 4, rel=1e-6)


def test_band_amplitude_picks_harmonic_within_5_hz():
    x = _sine(2.0, 166.0, 200_000) + _sine(0.5, 664.0, 200_000)
    freqs, amps = amplitude_spectrum(x, fs_hz=FS)
    got = band_amplitudes(freqs, amps, centres_hz=np.array([166.67, 666.67]))
    np.testing.assert_allclose(got, [2.0, 0.5], rtol=1e-3)
    assert fast_length(197_492) == 196_830


def test_extract_features_layout_and_window_values():
    n = 100_000
    x = np.stack([_sine(1.0, 500.0, n), _sine(2.0, 500.0, n), np.full(n, 3.0)], axis=1)
    x[:, 2] += 1e-3 * np.sin(np.arange(n))  # avoid a zero variance
    f = extract_features(x, fs_hz=FS, spindle_hz=166.67, flutes=4)
    names = feature_names()
    assert f.shape == (len(names),) == (327,)
    assert f[names.index("fy_max_abs")] == pytest.approx(2.0, rel=1e-6)
    assert f[names.index("fy_w7_peak_to_peak")] == pytest.approx(4.0, rel=1e-6)
    assert f[names.index("fx_w0_variance")] == pytest.approx(0.5, rel=1e-4)
    assert f[names.index("fz_mean")] == pytest.approx(3.0, rel=1e-6)
    with pytest.raises(ValueError, match="n_samples, 3"):
        extract_features(x[:, :2], fs_hz=FS, spindle_hz=166.67, flutes=4)


def test_lowpass_keeps_tooth_band_and_removes_noise_band():
    x = _sine(1.0, 500.0) + _sine(1.0, 15_000.0)
    y = lowpass(x, fs_hz=FS, cutoff_hz=5000.0)
    freqs, amps = amplitude_spectrum(y[5000:-5000], fs_hz=FS)
    got = band_amplitudes(freqs, amps, centres_hz=np.array([500.0, 15_000.0]))
    assert got[0] == pytest.approx(1.0, rel=1e-3) and got[1] < 1e-3


def test_trim_keeps_only_the_steady_cut():
    """Fig. 7: the kept span lies inside the true steady cut of a simulated record."""
    rec = simulate_record(MillingSetup(), vb_um=50.0, options=SignalOptions(cut_s=1.0), seed=2)
    keep = trim_engagement(lowpass(rec.forces.astype(float), fs_hz=rec.fs_hz), fs_hz=rec.fs_hz)
    start, stop = keep.start / rec.fs_hz, keep.stop / rec.fs_hz
    assert rec.meta["cut_start_s"] <= start < rec.meta["cut_start_s"] + 0.1
    assert rec.meta["cut_end_s"] - 0.1 < stop <= rec.meta["cut_end_s"]

"""Table 6 signal characterisation against hand computation."""
import numpy as np
import pytest

from sertk_wieser.characterise import activity, characterise, dbfs, runs

SR = 16000


def tone_with_pause():
    """1 s of 440 Hz at -6 dBFS (amplitude 0.5), 0.3 s of silence, 1 s of the tone again."""
    t = np.arange(SR) / SR
    tone = 0.5 * np.sin(2 * np.pi * 440 * t)
    return np.concatenate([tone, np.zeros(int(0.3 * SR)), tone])


def test_tone_with_a_pause_matches_hand_computation():
    signal = tone_with_pause()
    c = characterise(signal, SR)
    # RMS of the tone is 0.5/√2 over 2 of 2.3 s; AES17 dBFS adds √2 back: 20·log10(0.5·√(2/2.3))
    assert c.loudness_dbfs == pytest.approx(20 * np.log10(0.5 * np.sqrt(2 / 2.3)), abs=0.01)
    assert c.dominant_hz == pytest.approx(440, abs=SR / len(signal))
    # the 500 Hz octave band: 500/√2 .. 500·√2
    assert (c.band_low_hz, c.band_high_hz) == pytest.approx((353.55, 707.11), abs=0.01)
    assert c.max_amplitude == pytest.approx(0.5, abs=1e-3) and c.min_amplitude == pytest.approx(-0.5, abs=1e-3)
    assert c.pauses == 1 and c.typical_pause_s == pytest.approx(0.3, abs=0.011)
    assert c.voiced_segment_s == pytest.approx(1.0, abs=0.011)
    assert c.active_s == pytest.approx(2.0, abs=0.021)


def test_full_scale_sine_is_zero_dbfs_and_silence_has_no_level():
    t = np.arange(SR) / SR
    assert characterise(np.sin(2 * np.pi * 1000 * t), SR).loudness_dbfs == pytest.approx(0.0, abs=0.01)
    assert dbfs(0.0) == float("-inf")
    assert not activity(np.zeros(SR), SR).any()


def test_a_dc_offset_or_slow_drift_does_not_hide_the_dominant_frequency():
    signal = tone_with_pause()
    drift = 0.2 + 0.3 * np.sin(2 * np.pi * 5 * np.arange(len(signal)) / SR)
    c = characterise(signal + drift, SR)
    assert c.dominant_hz == pytest.approx(440, abs=SR / (2.3 * SR))
    assert (c.band_low_hz, c.band_high_hz) == pytest.approx((353.55, 707.11), abs=0.01)


def test_dominant_band_of_band_limited_noise():
    rng = np.random.default_rng(0)
    spectrum = np.fft.rfft(rng.standard_normal(SR))
    freqs = np.fft.rfftfreq(SR, 1 / SR)
    spectrum[(freqs < 1500) | (freqs > 2700)] = 0
    c = characterise(0.1 * np.fft.irfft(spectrum, SR), SR)
    assert (c.band_low_hz, c.band_high_hz) == pytest.approx((1414.21, 2828.43), abs=0.01)
    assert 1500 <= c.dominant_hz <= 2700


def test_leading_and_trailing_silence_are_not_pauses():
    signal = np.concatenate([np.zeros(SR // 2), tone_with_pause()[:SR], np.zeros(SR // 2)])
    c = characterise(signal, SR)
    assert c.pauses == 0 and c.typical_pause_s == 0.0
    assert c.voiced_segment_s == pytest.approx(1.0, abs=0.011)


def test_run_length_encoding():
    assert runs(np.array([1, 1, 0, 1, 0, 0], bool)) == [(True, 2), (False, 1), (True, 1), (False, 2)]
    assert runs(np.array([], bool)) == []

import pickle

import numpy as np
import pytest

from sertk.builtins.features import COMPONENTS, MFCC, LogMel, OpenSmile, Pitch, Raw, Spectrogram
from sertk.registry import check_params

RATE = 16000
NOISE = (0.1 * np.random.default_rng(0).standard_normal(16100)).astype(np.float32)


def _tone(hz, seconds=1.0, amplitude=0.5):
    return (amplitude * np.sin(2 * np.pi * hz * np.arange(int(seconds * RATE)) / RATE)).astype(np.float32)


def _power(signal, start, win, n_fft):
    """|FFT|² of the periodic-Hann-windowed samples [start, start + win), zeros past the end."""
    frame = np.zeros(win)
    piece = signal[max(start, 0):start + win]
    frame[max(-start, 0):max(-start, 0) + len(piece)] = piece
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win) / win)
    return np.abs(np.fft.rfft(frame * hann, n=n_fft)) ** 2


def _mel_db(signal, start, win, n_fft, n_mels):
    import librosa

    mel = librosa.filters.mel(sr=RATE, n_fft=n_fft, n_mels=n_mels) @ _power(signal, start, win, n_fft)
    return 10 * np.log10(np.maximum(mel, 1e-10))


def _htk_delta(c, n=2):
    padded = np.pad(c, ((n, n), (0, 0)), mode="edge")
    t = np.arange(len(c)) + n
    return sum(k * (padded[t + k] - padded[t - k]) for k in range(1, n + 1)) / (2 * sum(k * k for k in range(1, n + 1)))


def test_raw_is_the_waveform():
    out = Raw()(NOISE, RATE)
    assert out.shape == (len(NOISE), 1) and Raw().frame_rate(RATE) == RATE and Raw.normalize == "none"
    np.testing.assert_array_equal(out[:, 0], NOISE)


def test_mfcc_gives_599_by_26_for_six_seconds():
    out = MFCC(deltas=1)(np.tile(NOISE, 6)[:6 * RATE], RATE)
    assert out.shape == (599, 26) and out.dtype == np.float32
    assert MFCC(center=True)(NOISE[:6 * RATE // 10], RATE).shape == (1 + 9600 // 160, 13)
    assert MFCC().frame_rate(RATE) == 100


def test_mfcc_frames_match_hand_computation():
    import scipy.fft

    out = MFCC(deltas=2)(NOISE, RATE)
    assert out.shape == (1 + int(np.ceil((16100 - 400) / 160)), 39)
    for k in (0, 37, len(out) - 1):  # the last frame runs past the end and is zero-padded
        expected = scipy.fft.dct(_mel_db(NOISE, k * 160, 400, 512, 40), type=2, norm="ortho")[:13]
        np.testing.assert_allclose(out[k, :13], expected, rtol=1e-3, atol=1e-3)
    delta = _htk_delta(out[:, :13].astype(np.float64))
    np.testing.assert_allclose(out[:, 13:26], delta, atol=1e-3)
    np.testing.assert_allclose(out[:, 26:], _htk_delta(delta), atol=1e-3)


def test_mfcc_with_a_1024_point_fft_matches_hand_computation():
    out = MFCC(n_mfcc=26, n_fft=1024)(NOISE, RATE)  # LoM's "frequency resolution of 1024" (Wieser et al. 2020)
    assert out.shape == (1 + int(np.ceil((16100 - 400) / 160)), 26)
    for k in (0, 37):
        expected = scipy_dct(_mel_db(NOISE, k * 160, 400, 1024, 40))[:26]
        np.testing.assert_allclose(out[k], expected, rtol=1e-3, atol=1e-3)
    with pytest.raises(ValueError, match="n_fft .256. must be at least the window"):
        MFCC(n_fft=256)(NOISE, RATE)


def scipy_dct(x):
    import scipy.fft

    return scipy.fft.dct(x, type=2, norm="ortho")


def test_logmel_gives_251_by_128_for_eight_seconds():
    signal = np.tile(NOISE, 8)[:8 * RATE]
    out = LogMel()(signal, RATE)
    assert out.shape == (251, 128) and LogMel().frame_rate(RATE) == RATE / 512
    for k in (0, 100, 250):  # centred frames: frame k starts n_fft // 2 before k·hop
        np.testing.assert_allclose(out[k], _mel_db(signal, k * 512 - 1024, 2048, 2048, 128), rtol=1e-3, atol=1e-3)


def test_spectrogram_matches_hand_stft():
    magnitude = Spectrogram(log=False)(NOISE, RATE)
    logged = Spectrogram()(NOISE, RATE)
    assert magnitude.shape == logged.shape == (1 + 16100 // 160, 257)
    expected = np.sqrt(_power(NOISE, 50 * 160 - 256, 512, 512))
    np.testing.assert_allclose(magnitude[50], expected, rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(logged[50], 20 * np.log10(expected), rtol=1e-3, atol=1e-3)


def test_pitch_finds_150_hz_and_energy():
    loud, soft = Pitch()(_tone(150), RATE), Pitch()(_tone(150, amplitude=0.25), RATE)
    assert loud.shape == (1 + RATE // 160, 2) and Pitch().frame_rate(RATE) == 100
    assert np.median(loud[:, 0]) == pytest.approx(150, rel=0.01)
    inner = slice(10, -10)
    np.testing.assert_allclose(loud[inner, 1], 20 * np.log10(0.5 / np.sqrt(2)), atol=0.1)
    np.testing.assert_allclose(loud[inner, 1] - soft[inner, 1], 20 * np.log10(2), atol=0.01)


def test_opensmile_egemaps_functionals_and_llds():
    tone = _tone(200, seconds=0.5)
    func = OpenSmile()
    values = func(tone, RATE)
    assert func.level == "utterance" and values.shape == (88,) and np.isfinite(values).all()
    copy = pickle.loads(pickle.dumps(func))
    assert copy._smile is None
    np.testing.assert_array_equal(copy(tone, RATE), values)
    lld = OpenSmile(level="lld")
    assert lld.level == "frame" and lld.frame_rate(RATE) == 100 and lld(tone, RATE).shape[1] == 25
    assert func.cache_params() != lld.cache_params()


def test_opensmile_rejects_unknown_set():
    with pytest.raises(ValueError, match=r"unknown openSMILE feature set 'GeMAPSv3'.*valid: .*eGeMAPSv02"):
        OpenSmile("GeMAPSv3")


@pytest.mark.parametrize("make, message", [
    (lambda: MFCC(deltas=3), "deltas must be 0, 1"),
    (lambda: MFCC(delta_width=4), "delta_width must be an odd number"),
    (lambda: MFCC(n_mfcc=50), "cannot exceed n_mels"),
    (lambda: LogMel(fmin=8000.0, fmax=100.0), "need 0 <= fmin < fmax"),
    (lambda: Spectrogram(n_fft=256, win_length=512), "cannot exceed n_fft"),
    (lambda: Pitch(fmin=0.0), "fmin must be > 0"),
])
def test_invalid_params_raise_value_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_components_have_names_docs_and_checkable_params():
    assert [c.name for c in COMPONENTS] == ["raw", "mfcc", "logmel", "spectrogram", "pitch", "opensmile"]
    for cls in COMPONENTS:
        assert cls.__doc__ and cls.describe()
        check_params(cls, {}, f"features.{cls.name}")
    check_params(MFCC, {"n_mfcc": 26, "fmax": 8000, "center": True}, "features.mfcc")


def test_yin_finds_pure_and_missing_fundamentals_without_a_jit():
    """A 220 Hz sine and a 150 Hz harmonic complex without its fundamental; numpy only (this
    implementation agreed with librosa.yin within 1e-4 Hz on these signals and on noise)."""
    import subprocess
    import sys

    from sertk.signals import yin

    t = np.arange(16000) / 16000
    sine = np.sin(2 * np.pi * 220 * t)
    missing = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(2, 7))
    for signal, f0 in ((sine, 220.0), (missing, 150.0)):
        track = yin(signal, 16000, 50.0, 500.0, 1024, 160)
        assert len(track) == 101 and np.median(np.abs(track - f0)) < 0.01 * f0
    glide = np.sin(2 * np.pi * np.cumsum(np.linspace(100, 300, 16000)) / 16000)
    track = yin(glide, 16000, 50.0, 500.0, 1024, 160)
    assert track[10] < track[50] < track[90] and abs(track[50] - 200) < 5
    check = ("import sys, numpy as np; from sertk.signals import yin; yin(np.ones(4000), 16000, 50.0, 500.0, 1024, 160); "
             "assert 'numba' not in sys.modules and 'librosa' not in sys.modules")
    assert subprocess.run([sys.executable, "-c", check]).returncode == 0

import pickle

import numpy as np
import pytest

from sertk.builtins import spectral
from sertk.builtins.features import MFCC, OPENSMILE_SETS, LogMel, OpenSmile, Pitch, Raw, Spectrogram
from sertk.registry import check_params
from tests.fakes.builtins import builtin_classes

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


def test_opensmile_is_checked_without_importing_it_and_the_table_matches_opensmile():
    """The set/level table that spares importing opensmile until a feature is computed
    refuses exactly the pairs openSMILE itself refuses."""
    import warnings

    import opensmile

    assert set(OPENSMILE_SETS) == {s.name for s in opensmile.FeatureSet}
    for name in OPENSMILE_SETS:
        for level in ("func", "lld", "lld_de"):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # deprecated GeMAPS names
                    opensmile.Smile(feature_set=opensmile.FeatureSet[name], feature_level=opensmile.FeatureLevel(level))
                offered = True
            except Exception:  # openSMILE raises its own error types
                offered = False
            if offered:
                assert OpenSmile(name, level)._smile is None
            else:
                with pytest.raises(ValueError, match=f"no level 'lld_de'"):
                    OpenSmile(name, level)


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
    features = builtin_classes("features")
    assert [c.name for c in features] == ["raw", "mfcc", "logmel", "spectrogram", "pitch", "opensmile", "ssl"]
    required = {"ssl": {"architecture": "wav2vec2_base", "checkpoint": "model.pt"}}
    for cls in features:
        assert cls.__doc__ and cls.describe()
        check_params(cls, required.get(cls.name, {}), f"features.{cls.name}")
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


def _speechlike(seconds=1.3):
    """A gliding 120 Hz harmonic tone with a syllable-rate envelope and a little noise."""
    t = np.arange(int(seconds * RATE)) / RATE
    voiced = sum(np.sin(2 * np.pi * h * (120 * t + 5 * np.sin(2 * np.pi * 3 * t))) / h for h in range(1, 8))
    noise = 0.01 * np.random.default_rng(1).standard_normal(len(t))
    return (0.3 * voiced * np.abs(np.sin(2 * np.pi * 2 * t)) + noise).astype(np.float32)


SIGNALS = {"noise": NOISE[:12345], "speechlike": _speechlike()}


def _librosa_mel_db(signal, **stft):
    import librosa

    mel = librosa.feature.melspectrogram(y=signal, sr=RATE, **stft)
    return librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=None)


def _librosa_mfcc(signal, f):
    """MFCC as sertk computed it with librosa's pipeline before it was vectorised."""
    import librosa

    win, hop = int(round(f.win_ms * RATE / 1000)), int(round(f.hop_ms * RATE / 1000))
    n_fft = f.n_fft or 1 << (win - 1).bit_length()
    if not f.center:
        frames, left = 1 + int(np.ceil(max(len(signal) - win, 0) / hop)), (n_fft - win) // 2
        signal = np.pad(signal, (left, (frames - 1) * hop + n_fft - left - len(signal)))
    mel = _librosa_mel_db(signal, n_fft=n_fft, hop_length=hop, win_length=win, center=f.center, n_mels=f.n_mels,
                          fmin=f.fmin, fmax=f.fmax)
    coeffs = [librosa.feature.mfcc(S=mel, n_mfcc=f.n_mfcc)]
    for _ in range(f.deltas):
        coeffs.append(librosa.feature.delta(coeffs[-1], width=f.delta_width, mode="nearest"))
    return np.concatenate(coeffs).T


def _assert_close(out, expected):
    assert out.shape == expected.shape and out.dtype == np.float32
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


@pytest.mark.parametrize("signal", SIGNALS.values(), ids=SIGNALS.keys())
@pytest.mark.parametrize("params", [{}, {"n_mfcc": 26, "n_fft": 1024}, {"deltas": 2, "delta_width": 9},
                                    {"center": True, "deltas": 1},
                                    {"win_ms": 32, "hop_ms": 16, "n_mels": 64, "fmin": 50.0, "fmax": 7000.0},
                                    {"win_ms": 20, "hop_ms": 5, "n_fft": 331, "center": True, "deltas": 2}])
def test_mfcc_equals_librosa(signal, params):
    f = MFCC(**params)
    _assert_close(f(signal, RATE), _librosa_mfcc(signal, f))


@pytest.mark.parametrize("signal", SIGNALS.values(), ids=SIGNALS.keys())
@pytest.mark.parametrize("params", [{}, {"n_fft": 512, "hop_length": 160, "win_length": 400, "n_mels": 40,
                                         "center": False},
                                    {"n_fft": 1023, "hop_length": 100, "n_mels": 64, "fmin": 100.0, "fmax": 6000.0}])
def test_logmel_equals_librosa(signal, params):
    f = LogMel(**params)
    expected = _librosa_mel_db(signal, n_fft=f.n_fft, hop_length=f.hop_length, win_length=f.win_length,
                               center=f.center, n_mels=f.n_mels, fmin=f.fmin, fmax=f.fmax).T
    _assert_close(f(signal, RATE), expected)


@pytest.mark.parametrize("signal", SIGNALS.values(), ids=SIGNALS.keys())
@pytest.mark.parametrize("params", [{}, {"log": False}, {"n_fft": 400, "win_length": 300, "hop_length": 123,
                                                         "center": False}])
def test_spectrogram_equals_librosa(signal, params):
    import librosa

    f = Spectrogram(**params)
    magnitude = np.abs(librosa.stft(signal, n_fft=f.n_fft, hop_length=f.hop_length, win_length=f.win_length,
                                    center=f.center))
    expected = librosa.power_to_db(magnitude ** 2, ref=1.0, amin=1e-10, top_db=None) if f.log else magnitude
    _assert_close(f(signal, RATE), expected.T)


def test_spectral_helpers_equal_librosa():
    import librosa

    for rate, n_fft, n_mels, fmin, fmax in [(16000, 512, 40, 0.0, None), (22050, 2048, 128, 30.0, 8000.0),
                                            (8000, 255, 20, 0.0, 4000.0)]:
        expected = librosa.filters.mel(sr=rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
        np.testing.assert_allclose(spectral.mel_filters(rate, n_fft, n_mels, fmin, fmax).T, expected, atol=1e-7)
    values = np.random.default_rng(2).standard_normal((50, 7)).astype(np.float32)
    for width in (3, 5, 9):
        expected = librosa.feature.delta(values.T, width=width, mode="nearest").T
        np.testing.assert_allclose(spectral.delta(values, width), expected, atol=1e-5)
    with pytest.raises(ValueError, match="shorter than n_fft=2048"):
        LogMel(center=False)(NOISE[:1000], RATE)

"""Built-in augmentations: measured gain, SNR, tempo and reverberation decay against
what was drawn; seeding, probability, dtype and length rules; parameter errors."""
import numpy as np
import pytest

from sertk.audio import write_audio
from sertk.builtins.augmentations import AdditiveNoise, Gain, Reverb, Tempo, colored_noise
from sertk.errors import SertkError
from tests.fakes.builtins import builtin_classes

SR = 16000


def _speechlike(seconds=1.0, seed=0):
    """A 150 Hz harmonic tone with a syllable-rate envelope, float32."""
    t = np.arange(int(seconds * SR)) / SR
    tone = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 6))
    noise = 0.05 * np.random.default_rng(seed).standard_normal(len(t))
    return (0.3 * (1.2 + np.sin(2 * np.pi * 4 * t)) * tone + noise).astype(np.float32)


def _db(power_ratio):
    return 10 * np.log10(power_ratio)


def _power(x):
    return np.mean(np.asarray(x, dtype=np.float64) ** 2)


def _dominant_hz(x):
    return np.argmax(np.abs(np.fft.rfft(x * np.hanning(len(x))))) * SR / len(x)


ALL = [Gain(), Tempo(), AdditiveNoise(), AdditiveNoise(color="pink"), Reverb()]


@pytest.mark.parametrize("aug", ALL, ids=lambda a: f"{a.name}-{getattr(a, 'color', '')}")
def test_seeding_probability_dtype_and_length(aug):
    x = _speechlike(0.5)
    out = aug(x, SR, np.random.default_rng(7))
    assert out.dtype == np.float32 and out.ndim == 1
    np.testing.assert_array_equal(out, aug(x, SR, np.random.default_rng(7)))
    assert not np.array_equal(out, aug(x, SR, np.random.default_rng(8)))
    assert len(out) == len(x) or aug.changes_timing
    off = type(aug)(**{**{k: v for k, v in vars(aug).items() if not k.startswith("_")}, "p": 0.0})
    np.testing.assert_array_equal(off(x.astype(np.float64), SR, np.random.default_rng(7)), x)
    applied = [not np.array_equal(type(aug)(p=0.3)(x, SR, np.random.default_rng(s)), x) for s in range(40)]
    assert 4 <= sum(applied) <= 20  # about 30% of 40


@pytest.mark.parametrize("db", [-6.0, 0.0, 4.5])
def test_gain_is_exact_in_db(db):
    x = _speechlike()
    out = Gain(db=[db, db])(x, SR, np.random.default_rng(0))
    assert _db(_power(out) / _power(x)) == pytest.approx(db, abs=1e-4)
    ratios = [_db(_power(Gain()(x, SR, np.random.default_rng(s))) / _power(x)) for s in range(30)]
    assert -6 - 1e-4 <= min(ratios) < -2 and 2 < max(ratios) <= 6 + 1e-4


@pytest.mark.parametrize("factor", [0.8, 1.25])
def test_tempo_changes_length_but_not_pitch(factor):
    t = np.arange(SR) / SR
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    out = Tempo(factor=[factor, factor])(tone, SR, np.random.default_rng(0))
    assert Tempo.changes_timing and len(out) == round(SR / factor)
    assert _dominant_hz(out) == pytest.approx(440, rel=0.02)


@pytest.mark.parametrize("color", ["white", "pink", "brown"])
@pytest.mark.parametrize("snr", [0.0, 7.5, 20.0])
def test_measured_snr_equals_the_drawn_snr(color, snr):
    x = _speechlike()
    out = AdditiveNoise(snr_db=[snr, snr], color=color)(x, SR, np.random.default_rng(1))
    assert _db(_power(x) / _power(out.astype(np.float64) - x)) == pytest.approx(snr, abs=0.1)


@pytest.mark.parametrize("color, slope", [("white", 0.0), ("pink", -1.0), ("brown", -2.0)])
def test_noise_colours_have_their_spectral_slope(color, slope):
    noise = colored_noise(2 ** 16, color, np.random.default_rng(0))
    power = np.abs(np.fft.rfft(noise)) ** 2
    f = np.fft.rfftfreq(len(noise))
    band = (f > 1e-3) & (f < 0.5)
    fitted = np.polyfit(np.log10(f[band]), np.log10(power[band]), 1)[0]  # log power per log frequency
    assert fitted == pytest.approx(slope, abs=0.05)


def test_noise_from_a_folder_is_an_excerpt_or_looped(tmp_path):
    rng = np.random.default_rng(0)
    long_noise = rng.standard_normal(3 * SR).astype(np.float32) * 0.1
    short_noise = rng.standard_normal(SR // 10).astype(np.float32) * 0.1
    write_audio(tmp_path / "long.wav", long_noise, SR)
    x = _speechlike()
    out = AdditiveNoise(snr_db=[5, 5], folder=str(tmp_path))(x, SR, np.random.default_rng(3))
    added = out.astype(np.float64) - x
    assert _db(_power(x) / _power(added)) == pytest.approx(5, abs=0.1)
    # the added noise is a scaled excerpt of the recording: find its offset by FFT cross-correlation
    lags = np.fft.irfft(np.fft.rfft(long_noise) * np.conj(np.fft.rfft(added, len(long_noise))), len(long_noise))
    start = int(np.argmax(lags[:len(long_noise) - len(x) + 1]))
    assert np.corrcoef(added, long_noise[start:start + len(x)])[0, 1] > 0.9999

    (tmp_path / "long.wav").unlink()
    write_audio(tmp_path / "short.flac", short_noise, SR)
    added = AdditiveNoise(snr_db=[5, 5], folder=str(tmp_path))(x, SR, np.random.default_rng(3)) - x
    period = len(short_noise)
    np.testing.assert_allclose(added[:period], added[period:2 * period], atol=1e-6)

    write_audio(tmp_path / "short.flac", np.zeros(100, np.float32), SR)
    with pytest.raises(SertkError, match="short.flac: noise recording is silent"):
        AdditiveNoise(folder=str(tmp_path))(x, SR, np.random.default_rng(0))


def test_silent_signals_stay_silent():
    silence = np.zeros(SR // 2, np.float32)
    for aug in (AdditiveNoise(), Reverb()):
        np.testing.assert_array_equal(aug(silence, SR, np.random.default_rng(0)), silence)


def _decay_db_per_second(h):
    """Schroeder backward integration; slope of the −5 to −25 dB part (T20 method)."""
    edc = _db(np.cumsum((h ** 2)[::-1])[::-1] / np.sum(h ** 2))
    part = (edc <= -5) & (edc >= -25)
    return np.polyfit(np.flatnonzero(part) / SR, edc[part], 1)[0]


@pytest.mark.parametrize("rt60", [0.3, 0.7])
def test_synthetic_rir_decays_60_db_over_rt60_with_the_direct_path_first(rt60):
    h = Reverb(rt60=[rt60, rt60]).impulse_response(SR, np.random.default_rng(2))
    assert len(h) == round(rt60 * SR) and np.argmax(np.abs(h)) == 0
    assert _decay_db_per_second(h[1:]) * rt60 == pytest.approx(-60, abs=4)


def test_reverb_convolves_cuts_and_keeps_rms(tmp_path):
    x = _speechlike()
    out = Reverb(rt60=[0.4, 0.4])(x, SR, np.random.default_rng(5))
    assert len(out) == len(x) and _power(out) == pytest.approx(_power(x), rel=1e-5)
    # same draws after the probability draw: rebuild the expected output with numpy
    rng = np.random.default_rng(5)
    rng.random()
    h = Reverb(rt60=[0.4, 0.4]).impulse_response(SR, rng)
    wet = np.convolve(x.astype(np.float64), h)[:len(x)]
    np.testing.assert_allclose(out, wet * np.sqrt(_power(x) / _power(wet)), atol=1e-5)

    rir = np.concatenate([np.zeros(50), [0.9, 0.0, 0.0, 0.3]]).astype(np.float32)
    write_audio(tmp_path / "room.wav", rir, SR)
    recorded = Reverb(folder=str(tmp_path))(x, SR, np.random.default_rng(0))
    echo = x + (0.3 / 0.9) * np.concatenate([np.zeros(3, np.float32), x[:-3]])  # leading silence cut
    np.testing.assert_allclose(recorded, echo * np.sqrt(_power(x) / _power(echo)), atol=1e-3)


def test_bad_params_raise_one_line_value_errors(tmp_path):
    cases = [(lambda: Gain(db=[6, -6]), "db must be .low, high. with low <= high"),
             (lambda: Gain(p=1.5), "p must be a probability in .0, 1."),
             (lambda: Tempo(factor=[0, 1.1]), "factor must lie above 0"),
             (lambda: Reverb(rt60=[0.5]), "rt60 must be .low, high."),
             (lambda: AdditiveNoise(color="blue"), "color must be one of white, pink, brown"),
             (lambda: AdditiveNoise(color="pink", folder=str(tmp_path)), "either color .'pink'. or folder"),
             (lambda: AdditiveNoise(folder=str(tmp_path / "nope")), "is not a folder"),
             (lambda: Reverb(folder=str(tmp_path)), "holds no audio files")]
    for make, message in cases:
        with pytest.raises(ValueError, match=message) as info:
            make()
        assert "\n" not in str(info.value)


def test_registered_components():
    assert {c.name: c.changes_timing for c in builtin_classes("augmentations")} == {"gain": False, "tempo": True, "noise": False,
                                                              "reverb": False}

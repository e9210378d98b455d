"""Corruption for the rDA experiments (MixedEmotions D4.2 §3.4.1): SNR, noise thirds that share no
sample, causal decaying impulse responses, MFCCs identical to the core's, parameter checks."""
import numpy as np
import pytest
import soundfile as sf

from sertk_mixedemotions.corruption import (CorruptedMFCC, add_at_snr, convolve, excerpt, microphone_response,
                                            noise_source, normalised_room_response, part_bounds, power)

RATE = 16000


def speech_like(seconds: float = 1.5, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    phase = 2 * np.pi * np.cumsum(140 + 30 * np.sin(2 * np.pi * 0.7 * t)) / RATE
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2
    return (0.2 * envelope * sum(np.sin(k * phase) / k for k in range(1, 8))
            + 0.001 * rng.standard_normal(len(t))).astype(np.float32)


def snr_of(clean: np.ndarray, mixture: np.ndarray) -> float:
    return 10 * np.log10(power(clean) / power(mixture - clean))


@pytest.mark.parametrize("snr", [0.0, 3.0, 6.0, 9.0, 12.0])
@pytest.mark.parametrize("noise", ["white", "babble"])
def test_the_feature_adds_noise_at_the_requested_snr(snr, noise):
    x = speech_like()
    feature = CorruptedMFCC(snr_db=snr, noise=noise, noise_part="test", mic_ir=None, room_ir=None, noise_seconds=12)
    assert abs(snr_of(x.astype(np.float64), feature.corrupt(x, RATE)) - snr) < 0.1
    assert abs(snr_of(x, add_at_snr(x, np.ones(len(x)), snr)) - snr) < 0.1


def test_noise_thirds_share_no_sample(tmp_path):
    folder = tmp_path / "noise"
    folder.mkdir()
    first, second = np.linspace(-1.0, -0.2, 3000), np.linspace(0.05, 0.5, 3001)  # every sample a different value
    sf.write(folder / "a.wav", first, RATE, subtype="FLOAT")
    sf.write(folder / "b.wav", second, RATE, subtype="FLOAT")
    source = noise_source(str(folder), RATE, 0, 1.0)
    assert len(source) == 6001 and np.isclose(np.abs(source[:3000]).max(), 1) and np.isclose(source[3000:].max(), 1)
    parts = {}
    for part in ("train", "devel", "test"):
        noise = CorruptedMFCC(noise=str(folder), noise_part=part)._prepared(RATE)[0]
        drawn = excerpt(noise, 5000, np.random.default_rng(1))  # longer than the part: wraps inside it
        assert set(drawn) <= set(noise)
        parts[part] = set(noise)
    for a, b in (("train", "devel"), ("devel", "test"), ("train", "test")):
        assert not parts[a] & parts[b], (a, b)
    assert sum(map(len, parts.values())) == 6001
    bounds = [part_bounds(10, p) for p in ("train", "devel", "test")]
    assert bounds == [(0, 3), (3, 6), (6, 10)]


def test_generated_noise_is_peak_normalised_and_deterministic():
    for kind in ("white", "pink", "brown", "babble"):
        a, b = noise_source(kind, RATE, 3, 2.0), noise_source(kind, RATE, 3, 2.0)
        assert len(a) == 2 * RATE and np.isclose(np.abs(a).max(), 1.0) and np.array_equal(a, b)
    babble = noise_source("babble", RATE, 0, 4.0)
    spectrum = np.abs(np.fft.rfft(babble)) ** 2
    freqs = np.fft.rfftfreq(len(babble), 1 / RATE)
    assert spectrum[freqs < 3400].sum() > 50 * spectrum[freqs > 4500].sum()  # band-limited like speech


def decay_time(h: np.ndarray) -> float:
    """T30 from Schroeder's backward integration, extrapolated to 60 dB (seconds)."""
    edc = 10 * np.log10(np.cumsum(h[::-1] ** 2)[::-1] / np.sum(h ** 2))
    t5, t35 = np.argmax(edc < -5), np.argmax(edc < -35)
    return 2 * (t35 - t5) / RATE


def test_impulse_responses_are_causal_and_decaying():
    room = normalised_room_response(0.4, RATE, np.random.default_rng(0))
    mic = microphone_response(RATE)
    assert room[0] == 1.0 and abs(decay_time(room) - 0.4) < 0.06
    for h in (room, mic):
        quarter = len(h) // 4
        assert power(h[-quarter:]) < 1e-3 * power(h[:quarter])
        impulse = np.zeros(RATE // 2)
        impulse[4000] = 1.0
        out = convolve(impulse, h)
        assert np.abs(out[:4000]).max() < 1e-9 * np.abs(out).max() and np.argmax(np.abs(out)) < 4000 + RATE // 100
        assert np.isclose(power(out), power(impulse))


def test_corruption_is_deterministic_and_depends_on_the_part():
    x = speech_like()
    features = {p: CorruptedMFCC(snr_db=6.0, noise="pink", noise_part=p, noise_seconds=12) for p in ("train", "test")}
    a, b = features["train"](x, RATE), features["train"](x, RATE)
    assert a.shape == (1 + int(np.ceil((len(x) - 400) / 160)), 13) and np.array_equal(a, b)
    assert not np.allclose(a, features["test"](x, RATE))


def test_mfccs_are_those_of_the_core_mfcc_feature(registry):
    x = speech_like(seed=3)
    core = registry.build("features", {"name": "mfcc", "params": {"n_mfcc": 13, "win_ms": 25.0, "hop_ms": 10.0}},
                          "features.0")
    ours = CorruptedMFCC(snr_db=200.0, noise="white", mic_ir=None, room_ir=None, noise_seconds=3)
    assert np.allclose(ours(x, RATE), core(x, RATE), atol=1e-3)
    assert ours.frame_rate(RATE) == core.frame_rate(RATE) == 100.0


@pytest.mark.parametrize("params, key", [({"noise_part": "dev"}, "noise_part"), ({"noise": "/no/such"}, "noise"),
                                         ({"mic_ir": "/no/ir.wav"}, "mic_ir"), ({"rt60": 0.0}, "rt60"),
                                         ({"snr_db": float("inf")}, "snr_db")])
def test_bad_params_fail_at_construction_naming_the_key(params, key):
    with pytest.raises(ValueError, match=key) as info:
        CorruptedMFCC(**params)
    assert "\n" not in str(info.value)

"""The two inputs of Lakomkin et al. (2017): the recogniser's power spectrogram (§3.1.1) and the
baseline's MFCCs + deltas + smoothed pitch (§3.1.2), both normalised per utterance (§3.3)."""
import numpy as np
import pytest

from sertk_lakomkin.features import MFCCPitch, PowerSpectrogram, frame_count, moving_average

SR = 16000


def tone(seconds: float, freq: float = 150.0, sr: int = SR, seed: int = 0) -> np.ndarray:
    t = np.arange(int(round(seconds * sr))) / sr
    rng = np.random.default_rng(seed)
    glide = freq * (1 + 0.2 * t / max(seconds, 1e-3))  # a rising F0, so pitch varies over frames
    x = 0.3 * np.sin(2 * np.pi * np.cumsum(glide) / sr) + 0.005 * rng.standard_normal(t.size)
    return x.astype(np.float32)


def test_power_spectrogram_has_161_bins_at_100_frames_per_second():
    feature = PowerSpectrogram()
    for seconds in (0.5, 1.0, 2.345):
        frames = feature(tone(seconds), SR)
        assert frames.shape == (1 + int(round(seconds * SR)) // 160, 161)
        assert frames.dtype == np.float32
    assert feature.frame_rate(SR) == 100.0
    assert feature.bins(SR) == 161 and feature.bins(8000) == 81
    assert PowerSpectrogram.normalize == "none"


def test_power_spectrogram_is_the_log_power_of_a_20_ms_hamming_stft():
    import librosa

    x = tone(0.4)
    raw = PowerSpectrogram(utterance_norm="none")(x, SR)
    stft = librosa.stft(x, n_fft=320, hop_length=160, win_length=320, window="hamming", center=True)
    np.testing.assert_allclose(raw, np.log1p(np.abs(stft.T) ** 2), rtol=1e-5, atol=1e-6)
    peak_bin = int(np.argmax(raw[10]))  # 50 Hz per bin: a ~150-165 Hz tone peaks in bin 3
    assert peak_bin == 3


@pytest.mark.parametrize("mode", ["per_bin", "global"])
def test_power_spectrogram_is_normalised_over_the_utterance(mode):
    frames = PowerSpectrogram(utterance_norm=mode)(tone(1.0), SR).astype(np.float64)
    if mode == "per_bin":
        np.testing.assert_allclose(frames.mean(0), 0.0, atol=1e-4)
        stds = frames.std(0)
        assert np.all((np.abs(stds - 1) < 1e-3) | (stds < 1e-6))  # constant bins become zeros
    else:
        assert abs(frames.mean()) < 1e-4 and abs(frames.std() - 1) < 1e-3


def test_mfcc_pitch_is_27_columns_frame_aligned_with_the_spectrogram():
    feature = MFCCPitch()
    assert feature.dim == 27 and MFCCPitch.normalize == "none"
    assert feature.frame_rate(SR) == 100.0
    for seconds in (0.3, 1.0, 1.737):
        x = tone(seconds)
        out = feature(x, SR)
        assert out.shape == (frame_count(len(x), 160), 27)
        assert len(out) == len(PowerSpectrogram()(x, SR))
        np.testing.assert_allclose(out.astype(np.float64).mean(0), 0.0, atol=1e-4)
        np.testing.assert_allclose(out.astype(np.float64).std(0), 1.0, atol=1e-3)
    assert MFCCPitch(deltas=2).dim == 40 and MFCCPitch(deltas=0)(tone(0.3), SR).shape[1] == 14


def test_pitch_is_the_15_frame_moving_average_of_the_f0_track():
    feature = MFCCPitch(utterance_norm=False)
    x = tone(1.0, freq=140.0)
    raw = feature.pitch_track(x, SR)
    assert np.median(raw) == pytest.approx(154.0, rel=0.05)  # the glide runs 140 -> 168 Hz
    expected = np.empty_like(raw)
    for t in range(len(raw)):  # by hand: the mean of frames t-7..t+7 that exist
        window = [raw[k] for k in range(t - 7, t + 8) if 0 <= k < len(raw)]
        expected[t] = sum(window) / len(window)
    out = feature(x, SR)
    np.testing.assert_allclose(out[:, -1], expected, rtol=1e-5)
    assert not np.allclose(out[:, -1], raw)  # the smoothing did something


def test_moving_average_edges_and_identity():
    values = np.array([0.0, 10.0, 20.0, 30.0, 40.0])
    np.testing.assert_allclose(moving_average(values, 3), [5.0, 10.0, 20.0, 30.0, 35.0])
    np.testing.assert_allclose(moving_average(values, 15), [20.0] * 5)
    np.testing.assert_allclose(moving_average(values, 1), values)
    assert moving_average(np.array([]), 15).shape == (0,)


def test_pyin_marks_silence_unvoiced():
    x = np.concatenate([tone(0.3, 200.0), np.zeros(int(0.3 * SR), np.float32)])
    f0 = MFCCPitch(pitch="pyin").pitch_track(x, SR)
    assert np.median(f0[5:25]) == pytest.approx(220.0, rel=0.1)
    assert np.all(f0[-15:] == 0.0)


@pytest.mark.filterwarnings("ignore:n_fft=.*is too large")
def test_short_and_silent_signals_keep_the_frame_count():
    for n in (1, 159, 160, 400):
        x = np.zeros(n, np.float32)
        assert PowerSpectrogram()(x, SR).shape == (frame_count(n, 160), 161)
        out = MFCCPitch()(x, SR)
        assert out.shape == (frame_count(n, 160), 27) and np.isfinite(out).all()


@pytest.mark.parametrize("cls, params, message", [
    (PowerSpectrogram, {"utterance_norm": "speaker"}, "utterance_norm"),
    (PowerSpectrogram, {"window_ms": 0}, "window_ms"),
    (MFCCPitch, {"pitch_smoothing": 14}, "odd number"),
    (MFCCPitch, {"deltas": 3}, "deltas"),
    (MFCCPitch, {"pitch": "crepe"}, "pitch must be"),
    (MFCCPitch, {"fmin": 300, "fmax": 200}, "fmin < fmax"),
])
def test_bad_params_fail_clearly(cls, params, message):
    with pytest.raises(ValueError, match=message):
        cls(**params)

"""The two input representations of Lakomkin et al. (2017), §3.1.1–§3.1.2 and §3.3.

* ``power_spectrogram``: what the speech recogniser reads (§3.1.1), 161
  frequency bins every 10 ms at 16 kHz;
* ``mfcc_pitch``: what the emotion baseline reads (§3.1.2), MFCCs with their
  deltas and a smoothed pitch track, at the same 100 frames/s.

Both are normalised per utterance (§3.3: mean and variance normalisation of
each utterance), inside the feature, so their ``normalize`` is ``"none"``: the
engine adds no fold statistics on top.  Both frame the signal the same way
(centred frames, librosa's convention): a signal of ``n`` samples gives
``1 + n // hop`` frames, frame ``k`` centred on sample ``k · hop``.

librosa is imported inside the methods so that listing components stays fast.
"""
from __future__ import annotations

from typing import Literal

import numpy as np

from sertk import Feature

WINDOW_MS = 20.0
HOP_MS = 10.0
STD_FLOOR = 1e-8
DB_FLOOR = 1e-10


def _samples(ms: float, sample_rate: int) -> int:
    return int(round(ms * sample_rate / 1000))


def frame_count(n_samples: int, hop: int) -> int:
    """Centred frames of a signal of ``n_samples``: ``1 + n_samples // hop``."""
    return 1 + int(n_samples) // hop


def _fit_frames(x: np.ndarray, frames: int) -> np.ndarray:
    """(T, D) cut or edge-padded to ``frames`` rows (guards one-frame differences between librosa routines)."""
    if len(x) >= frames:
        return x[:frames]
    return np.pad(x, [(0, frames - len(x)), (0, 0)], mode="edge") if len(x) else np.zeros((frames, x.shape[1]), x.dtype)


def utterance_normalise(x: np.ndarray, per_dim: bool = True) -> np.ndarray:
    """Mean and variance normalisation over one utterance's frames (§3.3): each
    column (``per_dim``) or the whole array (one mean, one standard deviation)
    to zero mean and unit variance; a constant column becomes zeros."""
    x = np.asarray(x, dtype=np.float64)
    axis = 0 if per_dim else None
    mean = x.mean(axis=axis, keepdims=per_dim)
    std = np.maximum(x.std(axis=axis, keepdims=per_dim), STD_FLOOR)
    return ((x - mean) / std).astype(np.float32)


def moving_average(values: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average over ``width`` frames (odd): frame t is the mean of
    frames t − width//2 … t + width//2 that exist, so the window shrinks at the
    edges instead of averaging in zeros.  ``width`` 1 returns the values."""
    values = np.asarray(values, dtype=np.float64)
    if width <= 1 or len(values) == 0:
        return values.copy()
    half = width // 2
    csum = np.concatenate([[0.0], np.cumsum(values)])
    index = np.arange(len(values))
    lo = np.clip(index - half, 0, len(values))
    hi = np.clip(index + half + 1, 0, len(values))
    return (csum[hi] - csum[lo]) / (hi - lo)


class PowerSpectrogram(Feature):
    """Log power spectrogram, the speech recogniser's input (Lakomkin et al. 2017, §3.1.1; Fig. 2).

    Hamming windows of ``window_ms`` (20 ms) every ``hop_ms`` (10 ms), FFT size
    equal to the window (320 samples at 16 kHz), so 161 bins from 0 to 8 kHz.
    The squared magnitude (``exponent`` 2; 1 gives the magnitude spectrogram
    the PyTorch Deep Speech 2 code feeds) is compressed as log(1 + S)
    (``compression: log1p``): the paper says "power spectrogram", Deep Speech 2
    (Amodei et al. 2016) feeds log spectrograms, and log1p keeps digital
    silence at 0 rather than at a floor.  Then mean and variance normalisation
    over the utterance (§3.3): ``per_bin`` (each frequency bin over time, the
    default) or ``global`` (one mean and one standard deviation for the whole
    spectrogram, as the PyTorch Deep Speech 2 code normalises).  Output
    (1 + n // hop, 1 + n_fft // 2); ``normalize`` is ``none`` because the
    feature normalises itself.
    """

    name = "power_spectrogram"
    summary = "log power spectrogram, Hamming 20/10 ms, 161 bins, utterance-normalised (Lakomkin et al. 2017, §3.1.1)"
    normalize = "none"

    def __init__(self, window_ms: float = WINDOW_MS, hop_ms: float = HOP_MS, exponent: float = 2.0,
                 compression: Literal["log1p", "none"] = "log1p",
                 utterance_norm: Literal["per_bin", "global", "none"] = "per_bin"):
        if not window_ms > 0 or not hop_ms > 0:
            raise ValueError(f"window_ms and hop_ms must be > 0, got {window_ms} and {hop_ms}")
        if not exponent > 0:
            raise ValueError(f"exponent must be > 0 (2: power, 1: magnitude), got {exponent}")
        if compression not in ("log1p", "none"):
            raise ValueError(f"compression must be 'log1p' or 'none', got {compression!r}")
        if utterance_norm not in ("per_bin", "global", "none"):
            raise ValueError(f"utterance_norm must be 'per_bin', 'global' or 'none', got {utterance_norm!r}")
        self.window_ms, self.hop_ms, self.exponent = float(window_ms), float(hop_ms), float(exponent)
        self.compression, self.utterance_norm = compression, utterance_norm

    def bins(self, sample_rate: int) -> int:
        """Frequency bins at ``sample_rate`` (161 at 16 kHz)."""
        return _samples(self.window_ms, sample_rate) // 2 + 1

    def __call__(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        import librosa

        win, hop = _samples(self.window_ms, sample_rate), _samples(self.hop_ms, sample_rate)
        signal = np.asarray(signal, dtype=np.float32)
        stft = librosa.stft(signal, n_fft=win, hop_length=hop, win_length=win, window="hamming", center=True)
        power = (np.abs(stft).astype(np.float64) ** self.exponent).T
        power = _fit_frames(power, frame_count(len(signal), hop))
        if self.compression == "log1p":
            power = np.log1p(power)
        if self.utterance_norm == "none":
            return power.astype(np.float32)
        return utterance_normalise(power, per_dim=self.utterance_norm == "per_bin")

    def frame_rate(self, sample_rate: int) -> float:
        return sample_rate / _samples(self.hop_ms, sample_rate)


class MFCCPitch(Feature):
    """MFCCs, their deltas and a smoothed pitch track: the emotion baseline's input
    (Lakomkin et al. 2017, §3.1.2), normalised per utterance (§3.3).

    ``n_mfcc`` (13) coefficients from ``n_mels`` (26) mel bands of Hamming
    windows of ``window_ms`` (20 ms) every ``hop_ms`` (10 ms) (FFT: the next
    power of two), in dB, DCT-II; ``deltas`` 1 appends Δ (2: Δ and ΔΔ), the
    regression over ±2 frames with edge frames repeated; then F0 in Hz,
    smoothed by a centred moving average of ``pitch_smoothing`` (15) frames
    (:func:`moving_average`).  Columns: 13 + 13 + 1 = 27 by default, each mean
    and variance normalised over the utterance.  Frames as
    ``power_spectrogram``: 1 + n // hop, 100 per second.

    Deviation: the paper takes pitch from openSMILE; here it is librosa's YIN
    (``pitch: yin``, F0 on every frame, no voicing decision) or pYIN (``pitch:
    pyin``, unvoiced frames 0 as in openSMILE's F0 output; much slower, too
    slow for on-the-fly augmentation), searched between
    ``fmin`` and ``fmax`` Hz.  26 mel bands and the ±2-frame deltas are
    openSMILE's MFCC defaults; the paper names neither.
    """

    name = "mfcc_pitch"
    summary = "13 MFCC + deltas + 15-frame smoothed pitch, per-utterance normalised (Lakomkin et al. 2017, §3.1.2)"
    normalize = "none"

    def __init__(self, n_mfcc: int = 13, deltas: int = 1, n_mels: int = 26, window_ms: float = WINDOW_MS,
                 hop_ms: float = HOP_MS, pitch: Literal["yin", "pyin"] = "yin", fmin: float = 50.0,
                 fmax: float = 500.0, pitch_smoothing: int = 15, utterance_norm: bool = True):
        if n_mfcc < 1 or n_mels < n_mfcc:
            raise ValueError(f"need 1 <= n_mfcc <= n_mels, got n_mfcc={n_mfcc}, n_mels={n_mels}")
        if deltas not in (0, 1, 2):
            raise ValueError(f"deltas must be 0, 1 (Δ) or 2 (Δ and ΔΔ), got {deltas}")
        if not window_ms > 0 or not hop_ms > 0:
            raise ValueError(f"window_ms and hop_ms must be > 0, got {window_ms} and {hop_ms}")
        if pitch not in ("yin", "pyin"):
            raise ValueError(f"pitch must be 'yin' or 'pyin', got {pitch!r}")
        if not 0 < fmin < fmax:
            raise ValueError(f"need 0 < fmin < fmax, got fmin={fmin}, fmax={fmax}")
        if pitch_smoothing < 1 or pitch_smoothing % 2 == 0:
            raise ValueError(f"pitch_smoothing must be an odd number of frames >= 1, got {pitch_smoothing}")
        self.n_mfcc, self.deltas, self.n_mels = n_mfcc, deltas, n_mels
        self.window_ms, self.hop_ms = float(window_ms), float(hop_ms)
        self.pitch, self.fmin, self.fmax = pitch, float(fmin), float(fmax)
        self.pitch_smoothing, self.utterance_norm = pitch_smoothing, utterance_norm

    @property
    def dim(self) -> int:
        """Columns of the output: MFCCs, their deltas, pitch."""
        return self.n_mfcc * (1 + self.deltas) + 1

    def mfcc(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        """(frames, n_mfcc · (1 + deltas)) MFCCs and deltas, not normalised."""
        import librosa

        win, hop = _samples(self.window_ms, sample_rate), _samples(self.hop_ms, sample_rate)
        n_fft = 1 << (win - 1).bit_length()
        mel = librosa.feature.melspectrogram(y=signal, sr=sample_rate, n_fft=n_fft, hop_length=hop, win_length=win,
                                             window="hamming", center=True, n_mels=self.n_mels)
        coeffs = [librosa.feature.mfcc(S=librosa.power_to_db(mel, ref=1.0, amin=DB_FLOOR, top_db=None),
                                       n_mfcc=self.n_mfcc)]
        for _ in range(self.deltas):
            coeffs.append(librosa.feature.delta(coeffs[-1], width=5, mode="nearest"))
        return _fit_frames(np.concatenate(coeffs).T, frame_count(len(signal), hop))

    def pitch_track(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        """(frames,) F0 in Hz before smoothing (0 on pYIN's unvoiced frames)."""
        import librosa

        from sertk.signals import yin

        hop = _samples(self.hop_ms, sample_rate)
        frame = 1 << int(np.ceil(np.log2(2 * sample_rate / self.fmin + 1)))
        if self.pitch == "pyin":
            f0, _, _ = librosa.pyin(signal, fmin=self.fmin, fmax=self.fmax, sr=sample_rate, frame_length=frame,
                                    hop_length=hop, center=True, fill_na=0.0)
        else:
            f0 = yin(signal, sample_rate, self.fmin, self.fmax, frame, hop)
        f0 = np.nan_to_num(np.asarray(f0, dtype=np.float64), nan=0.0)
        return _fit_frames(f0[:, None], frame_count(len(signal), hop))[:, 0]

    def __call__(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        signal = np.asarray(signal, dtype=np.float32)
        pitch = moving_average(self.pitch_track(signal, sample_rate), self.pitch_smoothing)
        out = np.concatenate([self.mfcc(signal, sample_rate), pitch[:, None]], axis=1)
        return utterance_normalise(out) if self.utterance_norm else out.astype(np.float32)

    def frame_rate(self, sample_rate: int) -> float:
        return sample_rate / _samples(self.hop_ms, sample_rate)

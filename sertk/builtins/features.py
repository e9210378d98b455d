"""Built-in features: raw waveform, MFCC, log-mel and STFT spectrograms, F0, openSMILE sets.

MFCC, log-mel and spectrogram are computed with :mod:`sertk.builtins.spectral`
(vectorised numpy, librosa's conventions); librosa and opensmile are imported
inside the methods that need them so that listing components stays fast.
"""
from __future__ import annotations

from typing import Any, Literal, Optional

import numpy as np

from ..errors import unknown
from ..interfaces import Feature
from . import spectral
from .spectral import db as _db

LEVELS = {"func": "utterance", "lld": "frame", "lld_de": "frame"}  # openSMILE level -> sertk level


def _samples(ms: float, sample_rate: int) -> int:
    return int(round(ms * sample_rate / 1000))


def _positive(**values: float) -> None:
    for name, value in values.items():
        if value is not None and not value > 0:
            raise ValueError(f"{name} must be > 0, got {value}")


def _check_band(fmin: float, fmax: Optional[float]) -> None:
    if fmin < 0 or (fmax is not None and fmax <= fmin):
        raise ValueError(f"need 0 <= fmin < fmax, got fmin={fmin}, fmax={fmax}")


class Raw(Feature):
    """The waveform itself as (samples, 1), for end-to-end models; not normalised."""

    name = "raw"
    summary = "Raw waveform (samples, 1) for end-to-end models"
    normalize = "none"

    def __call__(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        return np.asarray(signal, dtype=np.float32)[:, None]

    def frame_rate(self, sample_rate: int) -> float:
        return float(sample_rate)


class MFCC(Feature):
    """Mel-frequency cepstral coefficients as librosa computes them, optionally with Δ and ΔΔ appended.

    Hann frames of ``win_ms`` every ``hop_ms``, an FFT of ``n_fft`` points
    (default: the next power of two of the window), ``n_mels`` mel bands, dB, DCT-II (orthonormal); no pre-emphasis or
    liftering.  With ``center=False`` framing follows python_speech_features:
    frame k covers samples [k·hop, k·hop + win) and the last partial frame is
    zero-padded, so 6 s at 16 kHz gives 599 frames, the 599×26 input (26 MFCCs)
    of Wieser et al. (2020); ``center=True`` uses librosa's centred frames
    (1 + n // hop).  Δ is the HTK regression over ±``delta_width // 2`` frames
    with edge frames repeated; ΔΔ is the Δ of Δ.
    """

    name = "mfcc"
    summary = "MFCC (librosa-equivalent) with optional deltas, output (frames, n_mfcc * (1 + deltas))"

    def __init__(self, n_mfcc: int = 13, win_ms: float = 25.0, hop_ms: float = 10.0, n_mels: int = 40,
                 deltas: int = 0, delta_width: int = 5, fmin: float = 0.0, fmax: Optional[float] = None,
                 center: bool = False, n_fft: Optional[int] = None):
        _positive(n_mfcc=n_mfcc, win_ms=win_ms, hop_ms=hop_ms, n_mels=n_mels, n_fft=n_fft)
        _check_band(fmin, fmax)
        if n_mfcc > n_mels:
            raise ValueError(f"n_mfcc ({n_mfcc}) cannot exceed n_mels ({n_mels})")
        if deltas not in (0, 1, 2):
            raise ValueError(f"deltas must be 0, 1 (Δ) or 2 (Δ and ΔΔ), got {deltas}")
        if delta_width < 3 or delta_width % 2 == 0:
            raise ValueError(f"delta_width must be an odd number >= 3, got {delta_width}")
        self.n_mfcc, self.win_ms, self.hop_ms, self.n_mels = n_mfcc, win_ms, hop_ms, n_mels
        self.deltas, self.delta_width, self.fmin, self.fmax, self.center = deltas, delta_width, fmin, fmax, center
        self.n_fft = n_fft

    def __call__(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        from ..signals import mfcc

        coeffs = [mfcc(signal, sample_rate, self.n_mfcc, self.win_ms, self.hop_ms, self.n_mels, self.fmin, self.fmax,
                       self.center, self.n_fft)]
        for _ in range(self.deltas):
            coeffs.append(spectral.delta(coeffs[-1], self.delta_width))
        return np.concatenate(coeffs, axis=1).astype(np.float32)

    def frame_rate(self, sample_rate: int) -> float:
        return sample_rate / _samples(self.hop_ms, sample_rate)


class LogMel(Feature):
    """Log-mel spectrogram in dB as librosa computes it, output (frames, n_mels).

    Defaults follow the 2-D CNN LSTM input of Zhao, Mao & Chen (2019), "Speech
    emotion recognition using deep 1D & 2D CNN LSTM networks": 128 mel bands,
    FFT 2048, hop 512, centred frames, giving 128×251 for 8 s at 16 kHz.
    """

    name = "logmel"
    summary = "Log-mel spectrogram in dB (librosa-equivalent), output (frames, n_mels)"

    def __init__(self, n_fft: int = 2048, hop_length: int = 512, win_length: Optional[int] = None, n_mels: int = 128,
                 fmin: float = 0.0, fmax: Optional[float] = None, center: bool = True):
        _positive(n_fft=n_fft, hop_length=hop_length, win_length=win_length, n_mels=n_mels)
        _check_band(fmin, fmax)
        if win_length is not None and win_length > n_fft:
            raise ValueError(f"win_length ({win_length}) cannot exceed n_fft ({n_fft})")
        self.n_fft, self.hop_length, self.win_length, self.n_mels = n_fft, hop_length, win_length, n_mels
        self.fmin, self.fmax, self.center = fmin, fmax, center

    def __call__(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        blocks = spectral.librosa_power_blocks(signal, self.n_fft, self.hop_length, self.win_length or self.n_fft,
                                               self.center)
        filters = spectral.mel_filters(sample_rate, self.n_fft, self.n_mels, self.fmin, self.fmax)
        return spectral.mel_db(blocks, filters).astype(np.float32)

    def frame_rate(self, sample_rate: int) -> float:
        return sample_rate / self.hop_length


class Spectrogram(Feature):
    """STFT magnitude spectrogram as librosa computes it, in dB when ``log``; output (frames, n_fft // 2 + 1)."""

    name = "spectrogram"
    summary = "STFT magnitude spectrogram (librosa-equivalent), optionally in dB"

    def __init__(self, n_fft: int = 512, hop_length: int = 160, win_length: Optional[int] = None, log: bool = True,
                 center: bool = True):
        _positive(n_fft=n_fft, hop_length=hop_length, win_length=win_length)
        if win_length is not None and win_length > n_fft:
            raise ValueError(f"win_length ({win_length}) cannot exceed n_fft ({n_fft})")
        self.n_fft, self.hop_length, self.win_length, self.log, self.center = n_fft, hop_length, win_length, log, center

    def __call__(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        power = np.concatenate(list(spectral.librosa_power_blocks(signal, self.n_fft, self.hop_length,
                                                                  self.win_length or self.n_fft, self.center)))
        return (_db(power) if self.log else np.sqrt(power)).astype(np.float32)

    def frame_rate(self, sample_rate: int) -> float:
        return sample_rate / self.hop_length


class Pitch(Feature):
    """Fundamental frequency (YIN, Hz; :func:`sertk.signals.yin`, librosa's conventions
    without its JIT) and RMS energy (dB) every ``hop_ms``: (frames, 2).

    YIN has no voicing decision, so F0 is reported on every frame; the energy
    column lets a model discount silent frames.  The analysis frame is the
    smallest power of two holding two periods of ``fmin``.
    """

    name = "pitch"
    summary = "F0 (YIN, Hz) and RMS energy (dB) per frame, output (frames, 2)"

    def __init__(self, fmin: float = 50.0, fmax: float = 500.0, hop_ms: float = 10.0):
        _positive(fmin=fmin, hop_ms=hop_ms)
        _check_band(fmin, fmax)
        self.fmin, self.fmax, self.hop_ms = fmin, fmax, hop_ms

    def __call__(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        import librosa

        from ..signals import yin

        hop = _samples(self.hop_ms, sample_rate)
        frame = 1 << int(np.ceil(np.log2(2 * sample_rate / self.fmin + 1)))
        f0 = yin(signal, sample_rate, self.fmin, self.fmax, frame, hop)
        rms = librosa.feature.rms(y=signal, frame_length=frame, hop_length=hop)[0]
        return np.stack([f0, _db(rms ** 2)], axis=1).astype(np.float32)

    def frame_rate(self, sample_rate: int) -> float:
        return sample_rate / _samples(self.hop_ms, sample_rate)


# openSMILE 2.6's feature sets; the GeMAPS family has no ``lld_de`` level
OPENSMILE_SETS = ("ComParE_2016", "GeMAPS", "GeMAPSv01b", "eGeMAPS", "eGeMAPSv01b", "eGeMAPSv02", "emobase",
                  "IS09", "IS10", "IS11", "IS12", "IS13")


class OpenSmile(Feature):
    """An openSMILE feature set (audEERING's opensmile package; research, non-commercial licence).

    ``level='func'`` gives the set's functionals per segment (dim,), e.g. the 88
    eGeMAPSv02 parameters (Eyben et al., 2016) or the 6373 of ComParE_2016;
    ``'lld'`` / ``'lld_de'`` give its low-level descriptors (and their deltas)
    every 10 ms as (frames, dim).
    """

    name = "opensmile"
    summary = "openSMILE feature set (functionals or low-level descriptors); non-commercial licence"

    def __init__(self, feature_set: str = "eGeMAPSv02", level: Literal["func", "lld", "lld_de"] = "func"):
        if level not in LEVELS:
            raise ValueError(unknown("openSMILE level", level, LEVELS))
        if feature_set not in OPENSMILE_SETS:
            import opensmile  # a set this table does not know yet: ask the installed package

            sets = [s.name for s in opensmile.FeatureSet]
            if feature_set not in sets:
                raise ValueError(unknown("openSMILE feature set", feature_set, sets))
        elif level == "lld_de" and "GeMAPS" in feature_set:
            raise ValueError(f"openSMILE's {feature_set} has no level 'lld_de' (no deltas); use 'lld' or 'func'")
        self.feature_set, self.feature_level = feature_set, level
        self.level = LEVELS[level]
        self._smile = None  # built on first use: a run whose features are all cached never imports opensmile

    def _build(self):
        import opensmile

        return opensmile.Smile(feature_set=opensmile.FeatureSet[self.feature_set],
                               feature_level=opensmile.FeatureLevel(self.feature_level))

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k != "_smile"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _smile=None)

    def __call__(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        if self._smile is None:
            self._smile = self._build()
        values = self._smile.process_signal(signal, sample_rate).to_numpy(dtype=np.float32)
        return values[0] if self.level == "utterance" else values

    def frame_rate(self, sample_rate: int) -> Optional[float]:
        return 100.0 if self.level == "frame" else None

"""Signal characterisation of generated inputs (Wieser et al. 2020, Table 6).

Pure numpy.  The dominant band is the octave band with the most power.
Levels follow AES17: a full-scale sine is 0 dBFS, so a signal's
loudness is 20·log10(√2 · RMS).  Activity is decided on non-overlapping frames
of ``frame_s`` seconds whose RMS level lies within ``silence_db`` of the
loudest frame; a pause is a run of inactive frames between two active ones.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass
class Characterisation:
    """The Table 6 quantities of one signal (seconds, Hz, dBFS, amplitudes)."""

    loudness_dbfs: float
    dominant_hz: float
    band_low_hz: float
    band_high_hz: float
    min_amplitude: float
    max_amplitude: float
    typical_pause_s: float
    pauses: int
    voiced_segment_s: float
    active_s: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def dbfs(rms: float) -> float:
    """RMS level relative to a full-scale sine (AES17), -inf for silence."""
    return float(20 * np.log10(np.sqrt(2) * rms)) if rms > 0 else float("-inf")


def dominant_band(signal: np.ndarray, sample_rate: int) -> tuple[float, float, float]:
    """Peak frequency of the power spectrum and the octave band (centres
    1 kHz·2^k from 31.25 Hz, edges at centre/√2 and centre·√2) holding the
    most power: (peak, band low, band high) in Hz.  Both ignore everything
    below the lowest band (about 22 Hz): DC offsets and slow drifts."""
    power = np.abs(np.fft.rfft(signal * np.hanning(len(signal)))) ** 2
    freqs = np.fft.rfftfreq(len(signal), 1.0 / sample_rate)
    centres = 1000.0 * 2.0 ** np.arange(-5, int(np.log2(sample_rate / 2 / 1000)) + 1)
    edges = [(c / np.sqrt(2), min(c * np.sqrt(2), sample_rate / 2)) for c in centres]
    energy = [power[(freqs >= lo) & (freqs < hi)].sum() for lo, hi in edges]
    low, high = edges[int(np.argmax(energy))]
    audible = np.where(freqs >= edges[0][0], power, 0.0)
    return float(freqs[int(np.argmax(audible))]), float(low), float(high)


def activity(signal: np.ndarray, sample_rate: int, frame_s: float = 0.01, silence_db: float = 40.0) -> np.ndarray:
    """Boolean activity per frame (frames of ``frame_s`` seconds, last partial frame dropped)."""
    size = max(1, int(round(frame_s * sample_rate)))
    frames = signal[: len(signal) // size * size].reshape(-1, size)
    rms = np.sqrt((frames.astype(float) ** 2).mean(axis=1))
    if not rms.size or rms.max() == 0:
        return np.zeros(len(rms), dtype=bool)
    return rms >= rms.max() * 10 ** (-silence_db / 20)


def runs(flags: np.ndarray) -> list[tuple[bool, int]]:
    """Run-length encoding: [(value, length), ...]."""
    out: list[tuple[bool, int]] = []
    for f in flags:
        if out and out[-1][0] == bool(f):
            out[-1] = (out[-1][0], out[-1][1] + 1)
        else:
            out.append((bool(f), 1))
    return out


def characterise(signal: np.ndarray, sample_rate: int, frame_s: float = 0.01,
                 silence_db: float = 40.0) -> Characterisation:
    """Loudness, dominant frequency band, amplitude range, typical (median)
    pause and voiced-segment durations of a mono signal."""
    signal = np.asarray(signal, dtype=float).reshape(-1)
    if signal.size == 0:
        raise ValueError("cannot characterise an empty signal")
    peak, low, high = dominant_band(signal, sample_rate)
    encoded = runs(activity(signal, sample_rate, frame_s, silence_db))
    voiced = [n for active, n in encoded if active]
    inner = encoded[1:-1] if len(encoded) > 2 else []
    pauses = [n for active, n in inner if not active]
    frame = max(1, int(round(frame_s * sample_rate))) / sample_rate
    return Characterisation(
        loudness_dbfs=dbfs(float(np.sqrt(np.mean(signal ** 2)))),
        dominant_hz=peak, band_low_hz=low, band_high_hz=high,
        min_amplitude=float(signal.min()), max_amplitude=float(signal.max()),
        typical_pause_s=float(np.median(pauses) * frame) if pauses else 0.0,
        pauses=len(pauses),
        voiced_segment_s=float(np.median(voiced) * frame) if voiced else 0.0,
        active_s=float(sum(voiced) * frame),
    )

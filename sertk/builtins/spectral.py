"""Short-time spectra in vectorised numpy, with librosa's conventions and without its imports.

Power spectra of periodic-Hann frames, Slaney mel filterbanks (librosa's default,
``htk=False, norm='slaney'``), dB and an orthonormal DCT-II, and HTK deltas; the
filterbank and matrices are built once per parameter set.  Frames are transformed
in blocks so memory stays bounded on long recordings.
"""
from __future__ import annotations

import warnings
from functools import lru_cache
from typing import Iterator, Optional

import numpy as np

DB_FLOOR = 1e-10  # power floor for dB scales (-100 dB)
BLOCK = 2048  # frames transformed at once


def db(power: np.ndarray) -> np.ndarray:
    """10·log10 of a power spectrum, floored at -100 dB (absolute, not relative to the maximum)."""
    return 10 * np.log10(np.maximum(power, np.asarray(DB_FLOOR, power.dtype)))


@lru_cache(maxsize=32)
def hann(win: int) -> np.ndarray:
    """Periodic Hann window (``scipy.signal.get_window('hann', win)``), float32."""
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win) / win)).astype(np.float32)


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz, logarithmic above."""
    step = np.log(6.4) / 27
    return np.where(hz < 1000, hz * 3 / 200, 15 + np.log(np.maximum(hz, 1000) / 1000) / step)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    step = np.log(6.4) / 27
    return np.where(mel < 15, mel * 200 / 3, 1000 * np.exp(step * (np.maximum(mel, 15) - 15)))


@lru_cache(maxsize=32)
def mel_filters(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: Optional[float]) -> np.ndarray:
    """(n_fft // 2 + 1, n_mels) float32 weights, equal to ``librosa.filters.mel(...).T``."""
    fmax = sample_rate / 2 if fmax is None else fmax
    edges = _mel_to_hz(np.linspace(_hz_to_mel(np.float64(fmin)), _hz_to_mel(np.float64(fmax)), n_mels + 2))
    ramps = np.subtract.outer(edges, np.fft.rfftfreq(n_fft, 1 / sample_rate))
    widths = np.diff(edges)
    lower, upper = -ramps[:-2] / widths[:-1, None], ramps[2:] / widths[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper)) * (2 / (edges[2:] - edges[:-2]))[:, None]
    if not np.all((edges[:-2] == 0) | (weights.max(axis=1) > 0)):
        warnings.warn("empty mel filters: some bands get no FFT bin; use fewer mel bands or a longer FFT",
                      stacklevel=2)
    return np.ascontiguousarray(weights.T, dtype=np.float32)


@lru_cache(maxsize=32)
def dct_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_in, n_out) float32 orthonormal DCT-II: ``x @ M == scipy.fft.dct(x, norm='ortho')[..., :n_out]``."""
    k, n = np.arange(n_out), np.arange(n_in)
    basis = np.cos(np.pi * np.outer(n + 0.5, k) / n_in) * np.sqrt(2 / n_in)
    basis[:, 0] /= np.sqrt(2)
    return basis.astype(np.float32)


def frame_count(n: int, n_fft: int, hop: int, center: bool) -> int:
    """librosa's number of STFT frames; a ValueError when an uncentred signal is shorter than ``n_fft``."""
    padded = n + 2 * (n_fft // 2) if center else n
    if padded < n_fft:
        raise ValueError(f"signal of {n} samples is shorter than n_fft={n_fft} (use center=True or a shorter FFT)")
    return 1 + (padded - n_fft) // hop


def power_blocks(signal: np.ndarray, win: int, hop: int, n_fft: int, count: int,
                 start: int = 0) -> Iterator[np.ndarray]:
    """|rfft|² (n_fft points) of Hann-windowed frames ``signal[start + k·hop : start + k·hop + win]``,
    k < ``count``, zeros outside the signal (``start`` may be negative), in blocks of (frames, n_fft // 2 + 1).

    Only magnitudes are kept, so where the window sits inside the FFT frame does not matter.
    """
    import scipy.fft  # several times faster than numpy's FFT on stacked frames

    stop = start + (count - 1) * hop + win
    left, right = max(-start, 0), max(stop - len(signal), 0)
    padded = np.pad(np.asarray(signal, dtype=np.float32)[max(start, 0):min(stop, len(signal))], (left, right))
    frames = np.lib.stride_tricks.sliding_window_view(padded, win)[::hop]
    window = hann(win)
    for first in range(0, count, BLOCK):
        spectrum = scipy.fft.rfft(frames[first:first + BLOCK] * window, n=n_fft)
        yield spectrum.real ** 2 + spectrum.imag ** 2


def librosa_power_blocks(signal: np.ndarray, n_fft: int, hop: int, win: int, center: bool) -> Iterator[np.ndarray]:
    """:func:`power_blocks` framed as ``librosa.stft`` (window centred in ``n_fft``, zero padding when ``center``)."""
    count = frame_count(len(signal), n_fft, hop, center)
    return power_blocks(signal, win, hop, n_fft, count, (n_fft - win) // 2 - (n_fft // 2 if center else 0))


def mel_db(blocks: Iterator[np.ndarray], filters: np.ndarray) -> np.ndarray:
    """(frames, n_mels) dB mel spectrogram from power blocks."""
    return np.concatenate([db(block @ filters) for block in blocks])


def delta(values: np.ndarray, width: int) -> np.ndarray:
    """HTK regression over ±``width // 2`` frames (axis 0), edge frames repeated, as
    ``librosa.feature.delta(values.T, width=width, mode='nearest').T``."""
    n = width // 2
    padded = np.pad(values, ((n, n), (0, 0)), mode="edge")
    length = len(values)
    total = sum(k * (padded[n + k:n + k + length] - padded[n - k:n - k + length]) for k in range(1, n + 1))
    return (total / (2 * sum(k * k for k in range(1, n + 1)))).astype(values.dtype)

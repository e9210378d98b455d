"""Signal helpers that the core and plugins share (part of the public plugin API):
MFCCs, YIN fundamental frequency, coloured noise and synthetic room impulse responses.

YIN (de Cheveigné & Kawahara, "YIN, a fundamental frequency estimator for speech
and music", JASA 2002) follows librosa.yin's conventions (centred zero-padded
frames, absolute threshold 0.1, parabolic refinement) in plain numpy, without a
JIT: librosa's numba-compiled helper, cached in a shared folder, crashed
processes once concurrent jobs had left two compiled versions there, and
compiling it per process costs seconds."""
from __future__ import annotations

from typing import Optional

import numpy as np


def difference(frames: np.ndarray, max_period: int) -> np.ndarray:
    """The difference function d(τ), τ = 0..max_period, of each frame (eq. 6),
    from the FFT autocorrelation: d(τ) = 2·(r(0) − r(τ)) − Σ_{m<τ} x(m)²."""
    n_fft = 1 << int(np.ceil(np.log2(2 * frames.shape[1] - 1)))
    acf = np.fft.irfft(np.abs(np.fft.rfft(frames, n_fft, axis=1)) ** 2, n_fft, axis=1)[:, :max_period + 1]
    energy = np.cumsum(frames ** 2, axis=1)
    out = np.zeros_like(acf)
    out[:, 1:] = 2 * (acf[:, :1] - acf[:, 1:]) - energy[:, :max_period]
    return out


def normalized_difference(frames: np.ndarray, min_period: int, max_period: int) -> np.ndarray:
    """The cumulative mean normalised difference d'(τ) for τ = min_period..max_period (eq. 8)."""
    diff = difference(frames, max_period)
    mean = np.cumsum(diff[:, 1:], axis=1) / np.arange(1, max_period + 1)
    denominator = mean[:, min_period - 1:max_period]
    return diff[:, min_period:] / (denominator + np.finfo(np.float64).tiny)


def parabolic_shifts(x: np.ndarray) -> np.ndarray:
    """Offset of the parabola through each bin and its neighbours (step 5); 0 at the
    edges and where the vertex lies beyond a neighbour."""
    shifts = np.zeros_like(x)
    a = x[:, 2:] + x[:, :-2] - 2 * x[:, 1:-1]
    b = (x[:, 2:] - x[:, :-2]) / 2
    inside = np.abs(b) < np.abs(a)
    shifts[:, 1:-1] = np.where(inside, -b / np.where(inside, a, 1.0), 0.0)
    return shifts


def yin(signal: np.ndarray, sample_rate: int, fmin: float, fmax: float, frame_length: int, hop_length: int,
        threshold: float = 0.1) -> np.ndarray:
    """F0 in Hz of every frame: the first dip of d' below ``threshold`` that is a local
    minimum (step 4), else the global minimum, refined by parabolic interpolation."""
    y = np.pad(np.asarray(signal, dtype=np.float64), frame_length // 2)
    n_frames = 1 + max(0, len(y) - frame_length) // hop_length
    y = np.pad(y, (0, max(0, frame_length - len(y))))
    frames = np.lib.stride_tricks.sliding_window_view(y, frame_length)[::hop_length][:n_frames]
    min_period = int(np.floor(sample_rate / fmax))
    max_period = min(int(np.ceil(sample_rate / fmin)), frame_length - 1)
    d = normalized_difference(frames, min_period, max_period)
    left = np.concatenate([np.zeros((len(d), 1), bool), d[:, 1:] < d[:, :-1]], axis=1)
    right = np.concatenate([d[:, :-1] <= d[:, 1:], np.ones((len(d), 1), bool)], axis=1)
    trough = left & right
    trough[:, 0] = d[:, 0] < d[:, 1]
    below = trough & (d < threshold)
    index = np.where(below.any(axis=1), below.argmax(axis=1), d.argmin(axis=1))
    shift = np.take_along_axis(parabolic_shifts(d), index[:, None], axis=1)[:, 0]
    return sample_rate / (min_period + index + shift)


COLOR_EXPONENTS = {"white": 0.0, "pink": 1.0, "brown": 2.0}  # noise power ∝ 1 / f^exponent


def colored_noise(n: int, color: str, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of Gaussian noise with power ∝ 1/f (pink) or 1/f² (brown),
    shaped in the frequency domain (DC removed); white noise unshaped."""
    white = rng.standard_normal(n)
    exponent = COLOR_EXPONENTS[color]
    if not exponent:
        return white
    spectrum = np.fft.rfft(white)
    spectrum[0] = 0
    spectrum[1:] /= np.fft.rfftfreq(n)[1:] ** (exponent / 2)
    return np.fft.irfft(spectrum, n)


def room_response(rt60: float, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """A synthetic room impulse response: Gaussian noise under an exponential envelope
    whose amplitude falls 60 dB over ``rt60`` seconds (Polack's statistical model of late
    reverberation, 1988), with a direct-path tap as strong as its largest sample first."""
    t = np.arange(max(int(round(rt60 * sample_rate)), 2)) / sample_rate
    h = rng.standard_normal(len(t)) * 10 ** (-3 * t / rt60)
    h[0] = np.abs(h).max()
    return h


def mfcc(signal: np.ndarray, sample_rate: int, n_mfcc: int = 13, win_ms: float = 25.0, hop_ms: float = 10.0,
         n_mels: int = 40, fmin: float = 0.0, fmax: Optional[float] = None, center: bool = False,
         n_fft: Optional[int] = None) -> np.ndarray:
    """(frames, n_mfcc) MFCCs as the built-in ``mfcc`` feature computes them (its docstring
    gives the framing): Hann frames, mel power in dB, orthonormal DCT-II; no deltas."""
    from .builtins import spectral

    win, hop = int(round(win_ms * sample_rate / 1000)), int(round(hop_ms * sample_rate / 1000))
    n_fft = n_fft or 1 << (win - 1).bit_length()
    if n_fft < win:
        raise ValueError(f"n_fft ({n_fft}) must be at least the window of {win} samples ({win_ms} ms)")
    if center:
        blocks = spectral.librosa_power_blocks(signal, n_fft, hop, win, center=True)
    else:  # frame k covers [k·hop, k·hop + win), the last one zero-padded
        blocks = spectral.power_blocks(signal, win, hop, n_fft, 1 + -(-max(len(signal) - win, 0) // hop))
    mel = spectral.mel_db(blocks, spectral.mel_filters(sample_rate, n_fft, n_mels, fmin, fmax))
    return mel @ spectral.dct_matrix(n_mels, n_mfcc)


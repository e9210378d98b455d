"""Built-in training augmentations: random gain, tempo, additive noise and reverberation.

Each applies with probability ``p`` and draws everything from the generator it is
given, so one seed gives one output. librosa, scipy and the audio decoders are
imported inside the methods so that listing components stays fast.
"""
from __future__ import annotations

import abc
from pathlib import Path
from typing import Literal, Optional

import numpy as np

from ..errors import SertkError
from ..interfaces import Augmentation
from ..signals import COLOR_EXPONENTS, colored_noise, room_response

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")


def _span(name: str, values: list[float], above: Optional[float] = None) -> tuple[float, float]:
    """A checked ``[low, high]`` parameter range."""
    if len(values) != 2 or values[0] > values[1]:
        raise ValueError(f"{name} must be [low, high] with low <= high, got {values}")
    if above is not None and values[0] <= above:
        raise ValueError(f"{name} must lie above {above}, got {values}")
    return float(values[0]), float(values[1])


def _audio_files(name: str, folder: str) -> list[Path]:
    """The audio files under ``folder`` (recursively, sorted), at least one."""
    if not Path(folder).is_dir():
        raise ValueError(f"{name} {folder!r} is not a folder; give a folder of audio files")
    files = sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
    if not files:
        raise ValueError(f"{name} {folder!r} holds no audio files ({', '.join(AUDIO_SUFFIXES)}); add some")
    return files


def _random_file(files: list[Path], sample_rate: int, rng: np.random.Generator, what: str) -> np.ndarray:
    """A random file's signal at ``sample_rate``; a silent one is an error naming it (``what`` it holds)."""
    from ..audio import load_audio

    path = files[rng.integers(len(files))]
    signal = load_audio(path, sample_rate)[0]
    if _power(signal) == 0:
        raise SertkError(f"{path}: {what} is silent; remove it from the folder")
    return signal


def _power(x: np.ndarray) -> float:
    return float(np.mean(np.square(x, dtype=np.float64))) if len(x) else 0.0


class _Random(Augmentation):
    """Applies ``_apply`` with probability ``p``; float32 in and out."""

    def __init__(self, p: float) -> None:
        if not 0 <= p <= 1:
            raise ValueError(f"p must be a probability in [0, 1], got {p}")
        self.p = p

    def __call__(self, signal: np.ndarray, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
        signal = np.asarray(signal, dtype=np.float32)
        if rng.random() >= self.p:
            return signal
        return np.asarray(self._apply(signal, sample_rate, rng), dtype=np.float32)

    @abc.abstractmethod
    def _apply(self, signal: np.ndarray, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
        """The transformed signal."""


class Gain(_Random):
    """Random gain uniform in ``db`` decibels: the volume perturbation of Kaldi's
    recipes (utils/data/perturb_data_dir_volume.sh, a linear factor uniform in
    [1/8, 2]); deviation: uniform in dB."""

    name = "gain"
    summary = "random gain, uniform in dB"

    def __init__(self, db: list[float] = [-6.0, 6.0], p: float = 1.0) -> None:
        super().__init__(p)
        self.db = _span("db", db)

    def _apply(self, signal, sample_rate, rng):
        return signal * 10 ** (rng.uniform(*self.db) / 20)


class Tempo(_Random):
    """Tempo change by a factor uniform in ``factor``, pitch kept (phase vocoder,
    ``librosa.effects.time_stretch``); the output has round(n / factor) samples.
    After the speed perturbation of Ko et al., "Audio augmentation for speech
    recognition", Interspeech 2015 — theirs resamples, changing speed and pitch
    together; this changes the tempo only."""

    name = "tempo"
    summary = "tempo change without pitch change (phase vocoder)"
    changes_timing = True

    def __init__(self, factor: list[float] = [0.9, 1.1], p: float = 1.0) -> None:
        super().__init__(p)
        self.factor = _span("factor", factor, above=0.0)

    def _apply(self, signal, sample_rate, rng):
        import librosa

        return librosa.effects.time_stretch(signal, rate=rng.uniform(*self.factor))


class AdditiveNoise(_Random):
    """Additive noise at an SNR uniform in ``snr_db``, signal power against noise
    power over the whole segment (a silent signal is left unchanged). The noise is
    generated (``color``: white, pink or brown) or, with ``folder``, a random
    excerpt of a random recording there, looped when too short. Used e.g. in the
    MixedEmotions project, deliverable D4.2 §3.4.1 (additive noise at 0–12 dB SNR)."""

    name = "noise"
    summary = "additive white/pink/brown or recorded noise at a random SNR"

    def __init__(self, snr_db: list[float] = [0.0, 20.0], color: Literal["white", "pink", "brown"] = "white",
                 folder: Optional[str] = None, p: float = 1.0) -> None:
        super().__init__(p)
        if color not in COLOR_EXPONENTS:
            raise ValueError(f"color must be one of {', '.join(COLOR_EXPONENTS)}, got {color!r}")
        if folder is not None and color != "white":
            raise ValueError(f"give either color ({color!r}) or folder, not both")
        self.snr_db, self.color, self.folder = _span("snr_db", snr_db), color, folder
        self._files = _audio_files("folder", folder) if folder is not None else None

    def _noise(self, n: int, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
        if self._files is None:
            return colored_noise(n, self.color, rng)
        noise = _random_file(self._files, sample_rate, rng, "noise recording")
        if len(noise) < n:
            start = rng.integers(len(noise))
            return np.resize(noise, start + n)[start:]
        start = rng.integers(len(noise) - n + 1)
        return noise[start:start + n]

    def _apply(self, signal, sample_rate, rng):
        power = _power(signal)
        if power == 0:
            return signal
        snr = rng.uniform(*self.snr_db)
        noise = self._noise(len(signal), sample_rate, rng)
        return signal + noise * np.sqrt(power / (_power(noise) * 10 ** (snr / 10)))


class Reverb(_Random):
    """Reverberation by convolution with a room impulse response (Ko et al., "A study
    on data augmentation of reverberant speech for robust speech recognition",
    ICASSP 2017): a random recording from ``folder`` (cut to start at its peak, the
    direct path) or a synthetic one, Gaussian noise under an exponential envelope
    decaying 60 dB over an RT60 uniform in ``rt60`` seconds (Polack's statistical
    model of late reverberation, 1988), a direct-path tap as strong as its largest
    sample first. The output is cut to the input length and rescaled to its RMS."""

    name = "reverb"
    summary = "convolution with a recorded or synthetic room impulse response"

    def __init__(self, rt60: list[float] = [0.2, 0.8], folder: Optional[str] = None, p: float = 1.0) -> None:
        super().__init__(p)
        self.rt60, self.folder = _span("rt60", rt60, above=0.0), folder
        self._files = _audio_files("folder", folder) if folder is not None else None

    def impulse_response(self, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
        """One room impulse response at ``sample_rate``, direct path first."""
        if self._files is not None:
            h = _random_file(self._files, sample_rate, rng, "impulse response")
            return h[np.argmax(np.abs(h)):]
        return room_response(rng.uniform(*self.rt60), sample_rate, rng)

    def _apply(self, signal, sample_rate, rng):
        from scipy.signal import fftconvolve

        power = _power(signal)
        if power == 0:
            return signal
        wet = fftconvolve(signal.astype(np.float64), self.impulse_response(sample_rate, rng))[:len(signal)]
        return wet * np.sqrt(power / _power(wet))

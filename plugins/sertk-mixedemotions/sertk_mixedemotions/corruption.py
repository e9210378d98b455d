"""Corrupted speech for the rDA experiments of MixedEmotions D4.2 §3.4.1 (Table 4.1): additive
noise at a given SNR from one third of a noise source, then convolution with a microphone and a
room impulse response; and ``corrupted_mfcc``, the MFCCs of the corrupted segment.

Noise independence: every noise recording is normalised to 0 dB peak, the recordings of one
noise type are concatenated and cut into three equal parts for training, validation and test
(``noise_part``).  A recipe extracts one stream per part; the ``rda_backend`` model reads the
``train`` part's stream on training segments, ``devel`` on validation and ``test`` on test
segments, so no noise sample is shared between them (tested).
"""
from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any, Literal, Optional

import numpy as np

from sertk import Feature, load_audio
from sertk.signals import colored_noise, mfcc, room_response

PARTS = ("train", "devel", "test")
GENERATED_NOISE = ("white", "pink", "brown", "babble")
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")


def power(x: np.ndarray) -> float:
    return float(np.mean(np.square(x, dtype=np.float64))) if len(x) else 0.0


def peak_normalised(x: np.ndarray) -> np.ndarray:
    """The signal scaled to 0 dB peak (max |x| = 1); silence stays silent."""
    x = np.asarray(x, dtype=np.float64)
    peak = np.abs(x).max() if len(x) else 0.0
    return x / peak if peak > 0 else x


def babble(n: int, sample_rate: int, rng: np.random.Generator, voices: int = 6) -> np.ndarray:
    """Babble from ``voices`` generated talkers (none of them a corpus speaker): a sawtooth
    glottal source at an F0 drifting around 90–240 Hz, a 4-Hz syllable envelope with pauses,
    low-passed at 3.4 kHz, summed at random levels."""
    from scipy.signal import butter, sosfilt

    t = np.arange(n) / sample_rate
    out = np.zeros(n)
    lowpass = butter(4, min(3400.0, 0.45 * sample_rate), fs=sample_rate, output="sos")
    for _ in range(voices):
        knots = np.arange(0, n / sample_rate + 0.25, 0.25)
        f0 = rng.uniform(90, 240) * 2 ** (np.interp(t, knots, rng.normal(0, 0.15, len(knots))))
        saw = 2 * ((np.cumsum(f0) / sample_rate) % 1.0) - 1
        syllables = np.interp(t, knots, (rng.random(len(knots)) > 0.25) * rng.uniform(0.3, 1.0, len(knots)))
        envelope = syllables * (0.5 - 0.5 * np.cos(2 * np.pi * rng.uniform(3.0, 5.0) * t))
        out += rng.uniform(0.5, 1.0) * sosfilt(lowpass, saw * envelope)
    return out


def noise_source(noise: str, sample_rate: int, seed: int, seconds: float) -> np.ndarray:
    """One noise type: the audio files under folder ``noise`` (sorted, each at 0 dB peak)
    concatenated, or ``seconds`` of generated noise (white, pink, brown, babble) at 0 dB peak."""
    if noise in GENERATED_NOISE:
        rng = np.random.default_rng([seed, GENERATED_NOISE.index(noise)])
        n = int(round(seconds * sample_rate))
        signal = babble(n, sample_rate, rng) if noise == "babble" else colored_noise(n, noise, rng)
        return peak_normalised(signal)
    return np.concatenate([peak_normalised(load_audio(p, sample_rate)[0]) for p in noise_files(noise)])


def noise_files(folder: str) -> list[Path]:
    """The audio files under ``folder`` (recursively, sorted), at least one."""
    files = sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file()) \
        if Path(folder).is_dir() else []
    if not files:
        raise ValueError(f"noise {folder!r} must be one of {', '.join(GENERATED_NOISE)} or a folder of audio files "
                         f"({', '.join(AUDIO_SUFFIXES)})")
    return files


def part_bounds(n: int, part: str) -> tuple[int, int]:
    """Sample range [start, end) of the ``part`` third of an n-sample noise source."""
    k = PARTS.index(part)
    return k * n // 3, (k + 1) * n // 3


def excerpt(noise: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples from a random start in ``noise``, wrapping around inside it (looped when shorter)."""
    return np.resize(np.roll(noise, -int(rng.integers(len(noise)))), n)


def add_at_snr(signal: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """signal + noise scaled so that power(signal) / power(noise) is ``snr_db`` decibels
    over the whole segment (a silent signal or noise is returned unchanged)."""
    ps, pn = power(signal), power(noise)
    if ps == 0 or pn == 0:
        return np.asarray(signal, dtype=np.float64)
    return signal + noise * np.sqrt(ps / (pn * 10 ** (snr_db / 10)))


def normalised_room_response(rt60: float, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """The core's synthetic room impulse response (Polack's model, ``sertk.signals.room_response``)
    normalised to peak 1."""
    h = room_response(rt60, sample_rate, rng)
    return h / h[0]


def microphone_response(sample_rate: int, seconds: float = 0.02) -> np.ndarray:
    """A generated microphone impulse response: a 4th-order Butterworth band-pass 100 Hz –
    6 kHz (at most 0.45 × the sampling rate), the impulse response of a causal, stable filter
    cut after ``seconds``, normalised to peak 1."""
    from scipy.signal import butter, sosfilt

    sos = butter(4, [100.0, min(6000.0, 0.45 * sample_rate)], btype="bandpass", fs=sample_rate, output="sos")
    impulse = np.zeros(max(int(round(seconds * sample_rate)), 2))
    impulse[0] = 1.0
    h = sosfilt(sos, impulse)
    return h / np.abs(h).max()


def recorded_response(path: str, sample_rate: int) -> np.ndarray:
    """An impulse response from a file, cut to start at its peak (the direct path), peak 1."""
    h = load_audio(path, sample_rate)[0].astype(np.float64)
    h = h[np.argmax(np.abs(h)):]
    return h / np.abs(h[0])


def convolve(signal: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Causal convolution cut to the input length, rescaled to the input's power."""
    from scipy.signal import fftconvolve

    ps = power(signal)
    wet = fftconvolve(signal, h)[:len(signal)]
    return wet * np.sqrt(ps / power(wet)) if ps > 0 and power(wet) > 0 else wet


class CorruptedMFCC(Feature):
    """MFCCs 0–12 (25-ms windows every 10 ms) of the segment corrupted as in MixedEmotions
    D4.2 §3.4.1: additive noise at ``snr_db`` from the ``noise_part`` third (train, devel or
    test) of the noise source, then convolution with a microphone (``mic_ir``) and a room
    (``room_ir``) impulse response.

    ``noise``: a folder of noise recordings (one noise type, e.g. a CHiME background) or a
    generated kind (white, pink, brown, babble of generated talkers; ``noise_seconds`` in all,
    from ``seed``).  ``mic_ir`` / ``room_ir``: an impulse-response file, ``generated`` (a
    band-pass microphone; a room decaying over ``rt60`` s) or null (none).  The excerpt of the
    noise third is chosen from a hash of the segment's samples and ``seed``, so a segment is
    corrupted the same way every time (the feature cache stays valid).  The SNR is the ratio
    of speech to noise power over the whole segment before the convolutions; the output keeps
    the mixture's power.  Not z-scored by the engine (``normalize: none``): the
    ``rda_backend`` model standardises with training statistics itself.
    """

    name = "corrupted_mfcc"
    summary = "MFCCs of speech + noise (one third of a noise source) convolved with mic and room IRs (D4.2 §3.4.1)"
    normalize = "none"

    def __init__(self, snr_db: float = 0.0, noise: str = "babble",
                 noise_part: Literal["train", "devel", "test"] = "train",
                 mic_ir: Optional[str] = "generated", room_ir: Optional[str] = "generated", rt60: float = 0.4,
                 seed: int = 0, noise_seconds: float = 180.0, n_mfcc: int = 13, win_ms: float = 25.0,
                 hop_ms: float = 10.0, n_mels: int = 40):
        if not np.isfinite(snr_db):
            raise ValueError(f"snr_db must be a finite number of decibels, got {snr_db}")
        if noise_part not in PARTS:
            raise ValueError(f"noise_part must be one of {', '.join(PARTS)}, got {noise_part!r}")
        if noise not in GENERATED_NOISE:
            noise_files(noise)
        for key, value in (("mic_ir", mic_ir), ("room_ir", room_ir)):
            if value not in (None, "generated") and not Path(value).is_file():
                raise ValueError(f"{key} must be an impulse-response file, 'generated' or null; {value!r} is no file")
        if not rt60 > 0 or not noise_seconds > 0:
            raise ValueError(f"rt60 and noise_seconds must be > 0, got {rt60} and {noise_seconds}")
        if n_mfcc < 1 or n_mfcc > n_mels or not win_ms > 0 or not hop_ms > 0:
            raise ValueError(f"need 1 <= n_mfcc <= n_mels and win_ms, hop_ms > 0; got n_mfcc={n_mfcc}, "
                             f"n_mels={n_mels}, win_ms={win_ms}, hop_ms={hop_ms}")
        self.snr_db, self.noise, self.noise_part, self.seed = float(snr_db), noise, noise_part, int(seed)
        self.mic_ir, self.room_ir, self.rt60, self.noise_seconds = mic_ir, room_ir, float(rt60), float(noise_seconds)
        self.n_mfcc, self.win_ms, self.hop_ms, self.n_mels = n_mfcc, float(win_ms), float(hop_ms), n_mels
        self._sources: dict[int, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k != "_sources"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _sources={})

    def _prepared(self, sample_rate: int) -> tuple[np.ndarray, list[np.ndarray]]:
        """This part's noise and the impulse responses at ``sample_rate`` (built once)."""
        if sample_rate not in self._sources:
            source = noise_source(self.noise, sample_rate, self.seed, self.noise_seconds)
            lo, hi = part_bounds(len(source), self.noise_part)
            responses = []
            if self.mic_ir is not None:
                responses.append(microphone_response(sample_rate) if self.mic_ir == "generated"
                                 else recorded_response(self.mic_ir, sample_rate))
            if self.room_ir is not None:
                rng = np.random.default_rng([self.seed, 7])
                responses.append(normalised_room_response(self.rt60, sample_rate, rng)
                                 if self.room_ir == "generated" else recorded_response(self.room_ir, sample_rate))
            self._sources[sample_rate] = (source[lo:hi], responses)
        return self._sources[sample_rate]

    def corrupt(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        """The corrupted signal (float64), same length as ``signal``."""
        noise, responses = self._prepared(sample_rate)
        signal = np.asarray(signal, dtype=np.float32)
        rng = np.random.default_rng([self.seed, zlib.crc32(signal.tobytes())])
        out = add_at_snr(signal.astype(np.float64), excerpt(noise, len(signal), rng), self.snr_db)
        for h in responses:
            out = convolve(out, h)
        return out

    def __call__(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        return mfcc(self.corrupt(signal, sample_rate), sample_rate, self.n_mfcc, self.win_ms, self.hop_ms,
                    self.n_mels).astype(np.float32)

    def frame_rate(self, sample_rate: int) -> float:
        return sample_rate / int(round(self.hop_ms * sample_rate / 1000))

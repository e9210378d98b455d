"""The embedded demo corpus: emotional "speech" synthesised locally.

No download: a source-filter synthesiser (glottal sawtooth through a speaker's
formant resonances and a spectral tilt, syllable-rate amplitude envelope)
renders utterances whose prosody follows the emotion along the cues reported
for acted emotional speech (K. R. Scherer, "Vocal communication of emotion: A
review of research paradigms", Speech Communication 40, 2003): F0 level and
range, speaking rate, loudness, spectral balance and jitter.  Speakers differ in F0,
formants, rate, loudness and expressiveness, and every utterance has its own
intensity and noise, so the classes are learnable but overlap.

Labels: ``emotion`` plus utterance ``arousal``/``valence`` in [-1, 1] and
time-continuous ``arousal``/``valence`` contours at 10 Hz; the local
loudness, F0 and rate follow the arousal contour and the pitch-accent
excursion the valence contour, so frame-level regression is learnable too.  Rendering is
deterministic given the parameters and cached on disk.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from ..errors import unknown
from ..interfaces import Contour, Utterance
from ._base import LocalCorpus
from ._integrity import Integrity

VERSION = 1
CONTOUR_RATE = 10.0    # contour frames per second
CONTROL_RATE = 1000.0  # rate of the prosody control signals
REFERENCE_RMS = 0.05   # RMS of a 0 dB utterance
LEAD_S = 0.1           # background noise before the voice starts
# First three formants (Hz) of a neutral vocal tract (schwa) and the per-utterance articulation
# variations around a speaker's own formant scale.
FORMANTS = (500.0, 1500.0, 2500.0)
ARTICULATION = (0.94, 0.97, 1.0, 1.03, 1.06)


@dataclass(frozen=True)
class Profile:
    """Prosody of one emotion relative to a speaker's neutral voice."""

    f0: float          # F0 level ratio
    range_st: float    # pitch-accent range in semitones
    rate: float        # syllable-rate ratio
    loudness_db: float
    brightness: float  # gain of the high-frequency part (spectral tilt)
    jitter: float      # relative cycle-to-cycle F0 perturbation
    arousal: float
    valence: float


PROFILES: dict[str, Profile] = {
    "neutral":   Profile(1.00, 2.0, 1.00, 0.0, 0.45, 0.010, 0.0, 0.0),
    "anger":     Profile(1.20, 4.0, 1.15, 6.0, 0.90, 0.020, 0.8, -0.6),
    "happiness": Profile(1.25, 5.0, 1.10, 3.0, 0.70, 0.012, 0.6, 0.7),
    "sadness":   Profile(0.92, 1.0, 0.75, -5.0, 0.20, 0.015, -0.6, -0.6),
    "fear":      Profile(1.35, 3.0, 1.25, -1.0, 0.60, 0.035, 0.6, -0.7),
    "disgust":   Profile(0.95, 2.5, 0.85, 1.0, 0.40, 0.020, 0.2, -0.7),
    "boredom":   Profile(0.93, 0.8, 0.80, -3.0, 0.25, 0.010, -0.7, -0.2),
}
DEFAULT_CLASSES = ("anger", "happiness", "sadness", "neutral")


@dataclass(frozen=True)
class Voice:
    """One synthetic speaker."""

    id: str
    gender: str
    f0: float
    formant_scale: float
    rate: float
    loudness_db: float
    brightness: float
    expressiveness: float
    noise_db: float


class Synthetic(LocalCorpus):
    """Synthetic emotional speech: several speakers, prosody driven by the emotion, labels of every kind."""

    name = "synthetic"
    summary = "synthetic emotional speech generated locally (the demo corpus; no data needed)"
    vocabulary = {name: name for name in PROFILES}

    def __init__(self, n_speakers: int = 6, n_per_class: int = 20, classes: Optional[list[str]] = None,
                 seed: int = 0, sample_rate: int = 16000, cache_dir: Optional[str] = None):
        classes = list(classes) if classes else list(DEFAULT_CLASSES)
        for name in classes:
            if name not in PROFILES:
                raise ValueError(unknown("synthetic emotion", name, PROFILES))
        if len(set(classes)) != len(classes) or len(classes) < 2:
            raise ValueError(f"classes must name at least two different emotions, got {classes}")
        if n_speakers < 2:
            raise ValueError(f"n_speakers must be at least 2, got {n_speakers}")
        if n_per_class < 1:
            raise ValueError(f"n_per_class must be at least 1, got {n_per_class}")
        if not 8000 <= sample_rate <= 48000:
            raise ValueError(f"sample_rate must be within 8000..48000, got {sample_rate}")
        self.n_speakers, self.n_per_class, self.classes = n_speakers, n_per_class, classes
        self.seed, self.sample_rate, self.cache_dir = seed, sample_rate, cache_dir

    # ---------------------------------------------------------------- cache
    def folder(self) -> Path:
        """The cache folder of this configuration: under ``cache_dir`` when given, else under
        ``$SERTK_CACHE/synthetic`` or ``~/.cache/sertk/synthetic``."""
        return cache_folder(self.name, self.cache_dir,
                            [VERSION, self.n_speakers, self.n_per_class, self.classes, self.seed, self.sample_rate])

    def _where(self) -> str:
        return str(self.folder())

    def _load(self, check: Integrity) -> list[Utterance]:
        return [Utterance(
            id=rec["id"], speaker=rec["speaker"], path=str(path), partition=rec["partition"], corpus=self.name,
            labels={"emotion": rec["emotion"], "arousal": rec["arousal"], "valence": rec["valence"]},
            contours=contours_of(rec), meta={"gender": rec["gender"], "intensity": rec["intensity"]})
            for rec, path in load_rendered(self.folder(), self._render, check)]

    def _render(self, tmp: Path) -> list[dict]:
        """Write every utterance under ``tmp/wav``; return the label records."""
        records = []
        for s in range(self.n_speakers):
            voice = make_voice(self.seed, s)
            partition = partition_of(s, self.n_speakers)
            for emotion in self.classes:
                for i in range(self.n_per_class):
                    rng = np.random.default_rng([self.seed, s, list(PROFILES).index(emotion), i])
                    audio, rec = render(voice, PROFILES[emotion], self.sample_rate, rng)
                    rec.update(id=f"{voice.id}_{emotion}_{i:03d}", speaker=voice.id, emotion=emotion,
                               gender=voice.gender, partition=partition)
                    _write_wav(tmp / "wav" / f"{rec['id']}.wav", audio, self.sample_rate)
                    records.append(rec)
        return records


# -------------------------------------------------------------------- cache
def cache_folder(corpus: str, cache_dir: Optional[str], key: list) -> Path:
    """The folder of one configuration (``key``, hashed): under ``cache_dir`` when given, else
    under ``$SERTK_CACHE/<corpus>`` or ``~/.cache/sertk/<corpus>``."""
    base = cache_dir or os.environ.get("SERTK_CACHE")
    root = Path(os.path.expanduser(base)) if base else Path.home() / ".cache" / "sertk"
    if not cache_dir:
        root = root / corpus
    return root / hashlib.sha1(json.dumps(key).encode()).hexdigest()[:16]


def load_rendered(folder: Path, render_into: Callable[[Path], list[dict]],
                  check: Integrity) -> list[tuple[dict, Path]]:
    """The label records of a rendered folder with their wav paths, rendering it first when absent.

    ``render_into(tmp)`` writes ``tmp/wav/<id>.wav`` files and returns the records; it runs in
    a temporary folder that is then renamed to ``folder``, so a folder is complete or absent.
    """
    if not (folder / "labels.json").is_file():
        _render_atomically(folder, render_into)
    out = []
    for rec in json.loads((folder / "labels.json").read_text(encoding="utf-8")):
        path = folder / "wav" / f"{rec['id']}.wav"
        if path.is_file():
            out.append((rec, path))
        else:
            check.problem("cached records without audio", str(path))
    return out


def _render_atomically(folder: Path, render_into: Callable[[Path], list[dict]]) -> None:
    """Run ``render_into`` in a temporary folder beside ``folder``, then rename it into place."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder.parent))
    try:
        (tmp / "wav").mkdir()
        (tmp / "labels.json").write_text(json.dumps(render_into(tmp)), encoding="utf-8")
        if folder.is_dir() and not (folder / "labels.json").is_file():
            shutil.rmtree(folder)  # an incomplete folder left by hand
        try:
            os.rename(tmp, folder)
        except OSError:
            if not (folder / "labels.json").is_file():  # not a concurrent render that won the race
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def contours_of(record: dict) -> dict[str, Contour]:
    """The contours of a label record."""
    return {k: Contour(np.asarray(v["times"]), np.asarray(v["values"], dtype=np.float32))
            for k, v in record["contours"].items()}


def partition_of(speaker: int, n_speakers: int) -> str:
    """The last speaker is the test set, the one before it the development set, the rest train."""
    return "test" if speaker == n_speakers - 1 else "dev" if speaker == n_speakers - 2 else "train"


def _write_wav(path: Path, audio: np.ndarray, sr: int) -> None:
    """16-bit mono PCM through the standard library (no per-file disk sync)."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sr)
        out.writeframes((audio * 32767).astype("<i2").tobytes())


# -------------------------------------------------------------------- synthesis
def make_voice(seed: int, index: int) -> Voice:
    """Speaker ``index``: alternately female and male, with its own voice."""
    rng = np.random.default_rng([seed, 100_000 + index])
    female = index % 2 == 0
    return Voice(
        id=f"syn{index + 1:02d}", gender="female" if female else "male",
        f0=rng.uniform(180, 240) if female else rng.uniform(95, 135),
        formant_scale=rng.uniform(1.05, 1.18) if female else rng.uniform(0.88, 1.0),
        rate=rng.uniform(3.6, 5.2), loudness_db=rng.uniform(-3, 3), brightness=rng.uniform(0.8, 1.25),
        expressiveness=rng.uniform(0.6, 1.2), noise_db=rng.uniform(-78, -66))


def render(voice: Voice, emotion: Profile, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """One utterance: the signal and its label record.

    Prosody is computed at :data:`CONTROL_RATE` and interpolated to the
    sample rate; the glottal sawtooth is filtered in the frequency domain.
    """
    neutral = PROFILES["neutral"]
    intensity = float(rng.uniform(0.6, 1.0))
    s = intensity * voice.expressiveness

    def toward(a: float, b: float) -> float:
        return a + s * (b - a)

    f0 = voice.f0 * np.exp(s * np.log(emotion.f0) + rng.normal(0, 0.05))
    range_st = toward(neutral.range_st, emotion.range_st) * np.exp(rng.normal(0, 0.2))
    rate = voice.rate * np.exp(s * np.log(emotion.rate) + rng.normal(0, 0.08))
    loud_db = voice.loudness_db + s * emotion.loudness_db + rng.normal(0, 1.5)
    bright = voice.brightness * toward(neutral.brightness, emotion.brightness) * np.exp(rng.normal(0, 0.12))
    jitter = toward(neutral.jitter, emotion.jitter) * np.exp(rng.normal(0, 0.25))
    arousal = float(np.clip(intensity * emotion.arousal + rng.normal(0, 0.1), -1, 1))
    valence = float(np.clip(intensity * emotion.valence + rng.normal(0, 0.1), -1, 1))
    articulation = ARTICULATION[int(rng.integers(len(ARTICULATION)))]

    seconds = float(rng.uniform(1.0, 2.0))
    tc = np.arange(0.0, seconds, 1.0 / CONTROL_RATE)
    # Time-continuous affect: smooth deviations around the utterance values, at the contour rate.
    knots = np.arange(0.0, seconds, 1.0 / CONTOUR_RATE)
    d_arousal, d_valence = _smooth_walk(rng, len(knots), 0.15), _smooth_walk(rng, len(knots), 0.1)
    local_a, local_v = np.interp(tc, knots, d_arousal), np.interp(tc, knots, d_valence)

    # Syllables: a raised-cosine envelope at the syllable rate, some syllables dropped as pauses.
    syl_phase = np.cumsum(rate * (1 + 0.15 * local_a)) / CONTROL_RATE
    syl = syl_phase.astype(int)
    n_syl = int(syl[-1]) + 1
    levels = rng.uniform(0.6, 1.0, n_syl) * (rng.random(n_syl) > 0.12)
    edges = np.minimum(1.0, tc / 0.08) * np.minimum(1.0, (seconds - tc) / 0.08)
    envelope = (0.5 - 0.5 * np.cos(2 * np.pi * syl_phase)) ** 2 * levels[syl] * edges
    # F0: level, declination, smoothed syllable accents (wider with valence), arousal, jitter.
    accent = _moving_average(rng.uniform(-0.5, 0.5, n_syl)[syl] * range_st, int(0.05 * CONTROL_RATE))
    f0_c = (f0 * np.exp(-0.12 * tc / seconds) * 2 ** (accent * np.exp(0.8 * local_v) / 12)
            * (1 + 0.12 * local_a) * (1 + jitter * rng.standard_normal(len(tc))))
    gain_c = (REFERENCE_RMS * 10 ** ((loud_db + 6.0 * local_a) / 20) * envelope
              * (1 + 0.3 * jitter * rng.standard_normal(len(tc))))

    n = int(seconds * sr)
    t = np.arange(n) / sr
    phase = np.cumsum(np.interp(t, tc, f0_c)) / sr
    spectrum, size = _spectrum(2 * (phase % 1.0) - 1, sr)
    voiced = np.fft.irfft(spectrum * _vocal_tract(voice.formant_scale * articulation, size, sr)
                          * _tilt(bright, size), size)[:n]
    voiced /= np.sqrt(np.mean(voiced ** 2)) + 1e-9
    noise = 10 ** (voice.noise_db / 20)
    signal = voiced * np.interp(t, tc, gain_c) + noise * rng.standard_normal(n)
    lead = noise * rng.standard_normal(int(LEAD_S * sr))
    audio = np.clip(np.concatenate([lead, signal]), -0.99, 0.99).astype(np.float32)

    times = (knots + LEAD_S).round(4).tolist()
    record = {"arousal": arousal, "valence": valence, "intensity": intensity,
              "contours": {"arousal": {"times": times, "values": np.clip(arousal + d_arousal, -1, 1).tolist()},
                           "valence": {"times": times, "values": np.clip(valence + d_valence, -1, 1).tolist()}}}
    return audio, record


def _smooth_walk(rng: np.random.Generator, n: int, std: float) -> np.ndarray:
    """A smooth zero-mean curve (AR(1), coefficient 0.85) with standard deviation about ``std``."""
    noise = rng.normal(0, std * np.sqrt(1 - 0.85 ** 2), n)
    out = np.empty(n)
    value = rng.normal(0, std)
    for i in range(n):
        value = 0.85 * value + noise[i]
        out[i] = value
    return out


def _moving_average(x: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average with edge padding, through a cumulative sum."""
    width = max(1, width)
    padded = np.pad(x, (width // 2 + 1, width - 1 - width // 2), mode="edge")
    csum = np.cumsum(padded)
    return (csum[width:] - csum[:-width]) / width


def _spectrum(x: np.ndarray, sr: int) -> tuple[np.ndarray, int]:
    """The real FFT of ``x`` zero-padded by at least 50 ms (room for the filters'
    ringing) to a power of two, and that size."""
    size = 1 << int(np.ceil(np.log2(len(x) + int(0.05 * sr))))
    return np.fft.rfft(x, size), size


@functools.lru_cache(maxsize=256)
def _vocal_tract(scale: float, size: int, sr: int) -> np.ndarray:
    """Magnitude response of parallel formant resonances at :data:`FORMANTS` × ``scale``
    (Lorentzian peaks, bandwidths 80/120/160 Hz, gains 0/-4/-9 dB), on the rfft bins of ``size``."""
    freqs = np.fft.rfftfreq(size, 1.0 / sr)
    response = np.full_like(freqs, 0.02)
    for centre, bandwidth, gain in zip(FORMANTS, (80.0, 120.0, 160.0), (1.0, 0.6, 0.35)):
        response += gain / np.sqrt(1 + ((freqs - centre * scale) / (bandwidth / 2)) ** 2)
    return response


def _tilt(brightness: float, size: int) -> np.ndarray:
    """Spectral balance: a one-pole low-pass plus ``brightness`` times its complement."""
    low = _lowpass(size)
    return low + brightness * (1 - low)


@functools.lru_cache(maxsize=8)
def _lowpass(size: int) -> np.ndarray:
    """Frequency response of ``y[n] = 0.25 x[n] + 0.75 y[n-1]`` on the rfft bins of ``size``."""
    return 0.25 / (1 - 0.75 * _unit_delay(size))


@functools.lru_cache(maxsize=8)
def _unit_delay(size: int) -> np.ndarray:
    """``exp(-j w)`` on the rfft bins of ``size``."""
    return np.exp(-2j * np.pi * np.fft.rfftfreq(size))

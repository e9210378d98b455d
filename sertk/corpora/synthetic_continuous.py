"""A synthetic time-continuous corpus whose contours are functions of its audio.

sertk's own test corpus for time-continuous regression (no paper, no
download): a correct pipeline (frame features → sequence model → CCC at the
contour frames) reaches a high concordance on it, a broken one (misaligned
targets, ignored masks) does not.  Recordings of varied length are rendered
with the source-filter synthesiser of :mod:`sertk.corpora.synthetic`.  Four
smooth unit random curves z, u, w, b (AR(1) walks at 4 knots/s, interpolated
and averaged over 0.25 s) drive the cues relative to the speaker's baseline:

* loudness  ΔL(t) = 5 z + 2 u dB: the locally RMS-normalised voice is scaled
  to the level L_spk + ΔL(t) dB before the syllable envelope,
* F0 level  Δ(t) = ln(F0/F0_spk) = 0.08 z + 0.04 w (syllable accents ride on it),
* brightness β(t) = β_spk · exp(0.5 b): the high-frequency gain of the spectral tilt.

The ratings follow the cues with the reaction lag ``lag_s``, at the frame
times t = k / ``contour_rate`` from the file start (cues before the voice
starts count as at its start, at :data:`LEAD_S`):

    arousal(t) = tanh(0.08 · ΔL(t − lag) + 4 · Δ(t − lag))
    valence(t) = tanh(1.5 · ln(β(t − lag) / β_spk))

Utterance ``arousal``/``valence`` are the contour means.  The last speaker is
the test set, the one before it the development set, the rest train.  Arousal
is relative to the speaker's baseline, so features need speaker normalisation:
20 MFCCs into a 32-unit ``blstm`` trained on CCC for 12 epochs reach a test CCC
of about 0.89 arousal / 0.85 valence with per-speaker z-scores, but 0.6 / 0.9
with z-scores over the training set.
Rendering is deterministic given the parameters and cached on disk.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from ..interfaces import Utterance
from ._base import LocalCorpus
from ._integrity import Integrity
from .synthetic import (ARTICULATION, CONTROL_RATE, LEAD_S, Voice, _moving_average, _smooth_walk, _spectrum,
                        _tilt, _vocal_tract, _write_wav, cache_folder, contours_of, load_rendered, make_voice,
                        partition_of)

VERSION = 1
KNOT_RATE = 4.0       # knots per second of the cue walks
SMOOTH_S = 0.25       # moving average over the interpolated walks
LEVEL_RMS = 0.04      # voice RMS at the syllable nuclei of a 0 dB level
NORMALIZE_S = 0.03    # window of the voice's local RMS normalisation
BRIGHTNESS = 0.45     # a speaker's baseline tilt gain, times its voice brightness
ACCENT_ST = 2.0       # range of the syllable pitch accents in semitones
NUCLEUS_FLOOR = 0.5   # envelope between syllable nuclei (no pauses, so every frame's level is measurable)
# Cue weights and label formulas (see the module docstring).
LOUDNESS_DB = (5.0, 2.0)  # ΔL = 5 z + 2 u
LOG_F0 = (0.08, 0.04)     # Δ = 0.08 z + 0.04 w
LOG_BRIGHTNESS = 0.5      # ln(β/β_spk) = 0.5 b
AROUSAL_PER_DB, AROUSAL_PER_LOG_F0, VALENCE_PER_LOG_BRIGHTNESS = 0.08, 4.0, 1.5


class SyntheticContinuous(LocalCorpus):
    """Synthetic speech with arousal/valence contours computed from its loudness, F0 and brightness."""

    name = "synthetic_continuous"
    summary = "synthetic speech whose arousal/valence contours are functions of its audio (time-continuous tests)"

    def __init__(self, n_speakers: int = 6, n_per_speaker: int = 12, min_seconds: float = 3.0,
                 max_seconds: float = 8.0, contour_rate: float = 25.0, lag_s: float = 0.2, seed: int = 0,
                 sample_rate: int = 16000, cache_dir: Optional[str] = None):
        if n_speakers < 2:
            raise ValueError(f"n_speakers must be at least 2 (a dev and a test speaker), got {n_speakers}")
        if n_per_speaker < 1:
            raise ValueError(f"n_per_speaker must be at least 1, got {n_per_speaker}")
        if not 1.0 <= min_seconds <= 60.0:
            raise ValueError(f"min_seconds must be within 1..60, got {min_seconds}")
        if not min_seconds <= max_seconds <= 60.0:
            raise ValueError(f"max_seconds must be within min_seconds ({min_seconds})..60, got {max_seconds}")
        if not 1.0 <= contour_rate <= 100.0:
            raise ValueError(f"contour_rate must be within 1..100 frames per second, got {contour_rate}")
        if not 0.0 <= lag_s <= 2.0:
            raise ValueError(f"lag_s must be within 0..2 seconds, got {lag_s}")
        if seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed}")
        if not 8000 <= sample_rate <= 48000:
            raise ValueError(f"sample_rate must be within 8000..48000, got {sample_rate}")
        self.n_speakers, self.n_per_speaker = n_speakers, n_per_speaker
        self.min_seconds, self.max_seconds = float(min_seconds), float(max_seconds)
        self.contour_rate, self.lag_s = float(contour_rate), float(lag_s)
        self.seed, self.sample_rate, self.cache_dir = seed, sample_rate, cache_dir

    def folder(self) -> Path:
        """The cache folder of this configuration: under ``cache_dir`` when given, else under
        ``$SERTK_CACHE/synthetic_continuous`` or ``~/.cache/sertk/synthetic_continuous``."""
        return cache_folder(self.name, self.cache_dir, [
            VERSION, self.n_speakers, self.n_per_speaker, self.min_seconds, self.max_seconds,
            self.contour_rate, self.lag_s, self.seed, self.sample_rate])

    def _where(self) -> str:
        return str(self.folder())

    def _load(self, check: Integrity) -> list[Utterance]:
        return [Utterance(
            id=rec["id"], speaker=rec["speaker"], path=str(path), partition=rec["partition"], corpus=self.name,
            labels={"arousal": rec["arousal"], "valence": rec["valence"]}, contours=contours_of(rec),
            meta={"gender": rec["gender"]})
            for rec, path in load_rendered(self.folder(), self._render, check)]

    def _render(self, tmp: Path) -> list[dict]:
        """Write every recording under ``tmp/wav``; return the label records."""
        records = []
        for s in range(self.n_speakers):
            voice = make_voice(self.seed, s)
            for i in range(self.n_per_speaker):
                rng = np.random.default_rng([self.seed, s, i])
                seconds = float(rng.uniform(self.min_seconds, self.max_seconds))
                audio, rec = render(voice, seconds, self.contour_rate, self.lag_s, self.sample_rate, rng)
                rec.update(id=f"{voice.id}_{i:03d}", speaker=voice.id, gender=voice.gender,
                           partition=partition_of(s, self.n_speakers))
                _write_wav(tmp / "wav" / f"{rec['id']}.wav", audio, self.sample_rate)
                records.append(rec)
        return records


def render(voice: Voice, seconds: float, contour_rate: float, lag_s: float, sr: int,
           rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """One recording of ``seconds`` (lead noise included): the signal and its label record."""
    tc = np.arange(0.0, seconds, 1.0 / CONTROL_RATE)
    knots = np.arange(0.0, seconds + 1.0 / KNOT_RATE, 1.0 / KNOT_RATE)
    z, u, w, b = (_moving_average(np.interp(tc, knots, _smooth_walk(rng, len(knots), 1.0)),
                                  int(SMOOTH_S * CONTROL_RATE)) for _ in range(4))
    d_loud = LOUDNESS_DB[0] * z + LOUDNESS_DB[1] * u
    d_log_f0 = LOG_F0[0] * z + LOG_F0[1] * w
    d_log_bright = LOG_BRIGHTNESS * b

    # Syllables from the voice onset: raised-cosine nuclei over a floor, each at its own level.
    spoken = np.maximum(tc - LEAD_S, 0.0)
    syl_phase = spoken * voice.rate * np.exp(rng.normal(0, 0.08))
    syl = syl_phase.astype(int)
    n_syl = int(syl[-1]) + 1
    levels = rng.uniform(0.8, 1.0, n_syl)
    edges = np.clip(spoken / 0.08, 0, 1) * np.clip((seconds - tc) / 0.08, 0, 1)
    envelope = (_moving_average(levels[syl], int(0.05 * CONTROL_RATE))
                * (NUCLEUS_FLOOR + (1 - NUCLEUS_FLOOR) * (0.5 - 0.5 * np.cos(2 * np.pi * syl_phase))) * edges)
    accent = _moving_average(rng.uniform(-0.5, 0.5, n_syl)[syl] * ACCENT_ST, int(0.05 * CONTROL_RATE))
    f0_c = voice.f0 * np.exp(d_log_f0) * 2 ** (accent / 12) * (1 + 0.01 * rng.standard_normal(len(tc)))

    n = int(seconds * sr)
    t = np.arange(n) / sr
    phase = np.cumsum(np.interp(t, tc, f0_c)) / sr
    spectrum, size = _spectrum(2 * (phase % 1.0) - 1, sr)
    shaped = spectrum * _vocal_tract(voice.formant_scale * ARTICULATION[int(rng.integers(len(ARTICULATION)))],
                                     size, sr)
    dark = np.fft.irfft(shaped * _tilt(0.0, size), size)[:n]
    full = np.fft.irfft(shaped * _tilt(1.0, size), size)[:n]
    brightness = BRIGHTNESS * voice.brightness * np.exp(d_log_bright)
    voiced = dark + np.interp(t, tc, brightness) * (full - dark)  # = the tilt of brightness β(t)
    voiced /= np.sqrt(_moving_average(voiced ** 2, int(NORMALIZE_S * sr))) + 1e-9
    gain = LEVEL_RMS * 10 ** ((voice.loudness_db + d_loud) / 20) * envelope
    signal = voiced * np.interp(t, tc, gain) + 10 ** (voice.noise_db / 20) * rng.standard_normal(n)
    audio = np.clip(signal, -0.99, 0.99).astype(np.float32)

    times = np.arange(int(np.ceil(seconds * contour_rate - 1e-9))) / contour_rate
    cue_times = np.maximum(times - lag_s, LEAD_S)
    arousal = np.tanh(AROUSAL_PER_DB * np.interp(cue_times, tc, d_loud)
                      + AROUSAL_PER_LOG_F0 * np.interp(cue_times, tc, d_log_f0))
    valence = np.tanh(VALENCE_PER_LOG_BRIGHTNESS * np.interp(cue_times, tc, d_log_bright))
    contours = {k: {"times": times.round(6).tolist(), "values": v.round(6).tolist()}
                for k, v in (("arousal", arousal), ("valence", valence))}
    return audio, {"arousal": float(arousal.mean()), "valence": float(valence.mean()), "contours": contours}

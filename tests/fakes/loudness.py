"""A generated time-continuous corpus whose ``arousal`` contour is each recording's
loudness envelope, and the frame-level log-RMS feature that tracks it."""
from __future__ import annotations

import numpy as np

from sertk import Contour, Corpus, Feature, Utterance, hookimpl


class Loudness(Corpus):
    """Recordings of ``shortest``–2.4 s at 8 kHz: noise whose envelope is the ``arousal``
    contour at 25 label frames/s; speaker ``unlabelled`` has no contours (unlabelled audio)."""

    name = "loudness"
    rate = 8000
    label_rate = 25.0
    speakers, shortest, unlabelled = 5, 0.8, 4

    def utterances(self):
        rng = np.random.default_rng(0)
        out = []
        for s in range(self.speakers):
            for k in range(8):
                seconds = rng.uniform(self.shortest, 2.4)
                t = np.arange(int(seconds * self.rate)) / self.rate
                envelope = 0.5 + 0.4 * np.sin(2 * np.pi * rng.uniform(0.3, 1.2) * t + rng.uniform(0, 6))
                audio = (envelope * rng.standard_normal(len(t)) * 0.1).astype(np.float32)
                times = np.arange(0, seconds, 1 / self.label_rate)
                contours = {} if s == self.unlabelled else {"arousal": Contour(times, np.interp(times, t, envelope))}
                out.append(Utterance(f"s{s}_{k}", f"s{s}", audio=audio, sample_rate=self.rate, contours=contours))
        return out


class FrameLevel(Feature):
    """Log RMS over 10-ms frames (100 frames/s)."""

    name = "frame_level"

    def __call__(self, signal, sample_rate):
        hop = sample_rate // 100
        frames = signal[: len(signal) // hop * hop].reshape(-1, hop)
        return np.log(np.sqrt((frames ** 2).mean(1)) + 1e-6)[:, None]

    def frame_rate(self, sample_rate):
        return 100.0


class LoudnessPlugin:
    """Registers :class:`Loudness` (or a variant given) and :class:`FrameLevel`."""

    def __init__(self, corpus: type = Loudness) -> None:
        self.corpus = corpus

    @hookimpl
    def sertk_register_corpora(self, register):
        register(self.corpus)

    @hookimpl
    def sertk_register_features(self, register):
        register(FrameLevel)

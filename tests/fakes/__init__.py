"""Generated fake corpus trees in each corpus's real layout, for loader tests.

Every builder writes short tone-plus-noise audio files and label files the way
the corpus distributes them, and returns what a loader should find.
"""
from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import soundfile as sf


def write_tone(path: Path, seconds: float = 0.25, sample_rate: int = 16000, freq: float = 220.0) -> Path:
    """A short sine plus a little noise; the format follows the suffix (.wav or .flac)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    noise = np.random.default_rng(zlib.crc32(path.name.encode())).normal(0, 0.01, len(t))
    sf.write(path, (0.3 * np.sin(2 * np.pi * freq * t) + noise).astype(np.float32), sample_rate,
             subtype="PCM_16")
    return path


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path

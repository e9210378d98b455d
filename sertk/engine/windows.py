"""Sliding windows over long recordings, read block by block (never the whole file at once)."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..audio import resample
from ..errors import AudioProblem, SertkError

DEFAULT_WINDOW_S = 10.0  # for runs that kept whole utterances (data.segment.policy: whole)


@dataclass(frozen=True)
class Window:
    """One window of a recording: ``start_s``..``end_s`` and its mono signal at the model's rate."""

    start_s: float
    end_s: float
    signal: np.ndarray


def default_window(policy) -> float:
    """The run's training segment length (``fixed``/``slices``), else :data:`DEFAULT_WINDOW_S`."""
    return float(policy.seconds) if policy.policy in ("fixed", "slices") else DEFAULT_WINDOW_S


def window_starts(n_samples: int, window: int, hop: int) -> list[int]:
    """Start samples: every ``hop`` until a window reaches the end (the last one may be shorter)."""
    if window <= 0 or hop <= 0:
        raise SertkError(f"window and hop must be positive, got {window} and {hop} samples")
    if n_samples <= window:
        return [0]
    return [k * hop for k in range(1 + math.ceil((n_samples - window) / hop))]


def duration_s(path: str) -> float:
    """A recording's length from its header (nothing decoded)."""
    import soundfile as sf

    try:
        return float(sf.info(os.fspath(path)).duration)
    except (sf.SoundFileError, OSError, RuntimeError) as exc:
        raise AudioProblem("unreadable audio", str(path), str(exc).rstrip(".")) from None


def count_windows(path: str, window_s: float, hop_s: float) -> int:
    """How many windows :func:`read_windows` yields for ``path``."""
    import soundfile as sf

    info = sf.info(os.fspath(path))
    return len(window_starts(info.frames, round(window_s * info.samplerate), round(hop_s * info.samplerate)))


def read_windows(path: str, sample_rate: int, window_s: float, hop_s: float) -> Iterator[Window]:
    """The windows of ``path`` in order, each read on its own (seek, then one window's
    frames), mixed to mono and resampled to ``sample_rate``: memory stays one window."""
    import soundfile as sf

    try:
        with sf.SoundFile(os.fspath(path)) as f:
            rate, frames = f.samplerate, f.frames
            width, hop = round(window_s * rate), round(hop_s * rate)
            for start in window_starts(frames, width, hop):
                f.seek(start)
                block = f.read(min(width, frames - start), dtype="float32", always_2d=True)
                mono = block.mean(axis=1, dtype=np.float32) if block.shape[1] > 1 else block[:, 0]
                yield Window(start / rate, (start + len(block)) / rate, resample(mono, rate, sample_rate))
    except (sf.SoundFileError, RuntimeError) as exc:
        raise AudioProblem("unreadable audio", str(path), str(exc).rstrip(".")) from None

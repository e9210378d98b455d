"""Sliding windows over long recordings, read block by block (never the whole file at once)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..audio import SpanReader
from ..errors import SertkError

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
    with SpanReader(path) as audio:
        return audio.frames / audio.rate


def count_windows(path: str, window_s: float, hop_s: float) -> int:
    """How many windows :func:`read_windows` yields for ``path``."""
    with SpanReader(path) as audio:
        return len(window_starts(audio.frames, round(window_s * audio.rate), round(hop_s * audio.rate)))


def read_windows(path: str, sample_rate: int, window_s: float, hop_s: float) -> Iterator[Window]:
    """The windows of ``path`` in order, each read on its own (seek, then one window's
    frames), mixed to mono and resampled to ``sample_rate``: memory stays one window."""
    with SpanReader(path) as audio:
        width, hop = round(window_s * audio.rate), round(hop_s * audio.rate)
        for start in window_starts(audio.frames, width, hop):
            signal, read = audio.read(start, min(width, audio.frames - start), sample_rate)
            yield Window(start / audio.rate, (start + read) / audio.rate, signal)

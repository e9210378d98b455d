"""Cutting utterances into the segments features are extracted from.

``whole`` keeps the utterance as one segment; ``fixed`` truncates or zero-pads
it to ``seconds``; ``slices`` cuts consecutive non-overlapping slices of
``seconds``, zero-padding each to full length and keeping the last one only if
it is longer than ``min_last`` seconds, while an utterance shorter than
``seconds`` gives one padded slice (Wieser et al., 2020, Sec. 3.2: a 14.5-s
utterance gives 2 slices of 6 s with ``min_last=3``, a 15.5-s one gives 3).
"""
from __future__ import annotations

import numpy as np

from ..settings import SegmentPolicy

__all__ = ["SegmentPolicy", "segment_bounds", "cut"]


def segment_bounds(n_samples: int, sample_rate: int, policy: SegmentPolicy) -> list[tuple[int, int]]:
    """Sample windows ``(start, end)`` of the segments; ``end`` may run past the
    signal, where :func:`cut` zero-pads."""
    if policy.policy == "whole":
        return [(0, n_samples)]
    length = int(round(policy.seconds * sample_rate))
    if policy.policy == "fixed" or n_samples <= length:
        return [(0, length)]
    full, rest = divmod(n_samples, length)
    count = full + (rest > policy.min_last * sample_rate)
    return [(k * length, (k + 1) * length) for k in range(count)]


def cut(signal: np.ndarray, bounds: list[tuple[int, int]]) -> list[np.ndarray]:
    """The segments of ``signal`` for ``bounds``, zero-padded where a window runs past the end."""
    out = []
    for start, end in bounds:
        piece = signal[start:end]
        if len(piece) < end - start:
            piece = np.pad(piece, (0, end - start - len(piece)))
        out.append(piece)
    return out

"""Helpers for time-continuous labels shared by the AVEC-style corpora."""
from __future__ import annotations

import numpy as np

from ..interfaces import Contour


def shift_back(contour: Contour, delay_s: float) -> Contour:
    """Compensate the annotators' reaction delay: the value at time t becomes
    the one rated at t + ``delay_s``; the last rating is repeated at the end so
    the contour keeps its frame times."""
    if delay_s <= 0 or len(contour.values) == 0:
        return contour
    period = float(np.median(np.diff(contour.times))) if len(contour.times) > 1 else delay_s
    steps = min(int(round(delay_s / period)), len(contour.values))
    values = np.concatenate([contour.values[steps:], np.repeat(contour.values[-1:], steps)])
    return Contour(contour.times.copy(), values)

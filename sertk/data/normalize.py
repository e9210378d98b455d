"""Z-normalisation of feature streams.

``global`` fits one mean and standard deviation per dimension on the training
arrays only (over all frames of frame-level features, over segments of
utterance-level ones).  ``speaker`` standardises each speaker's arrays with
that speaker's own statistics, computed when transforming, so a test
speaker's unlabelled audio sets its own statistics: common practice in SER,
but it assumes the test speakers' audio is available in advance.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Optional, Sequence

import numpy as np

MODES = ("global", "speaker")
STD_FLOOR = 1e-8


def _stats(arrays: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    rows = np.concatenate([np.atleast_2d(a) for a in arrays]).astype(np.float64)
    return rows.mean(axis=0), np.maximum(rows.std(axis=0), STD_FLOOR)


def _apply(arrays: list[np.ndarray], mean: np.ndarray, std: np.ndarray) -> list[np.ndarray]:
    return [((a - mean) / std).astype(np.float32) for a in arrays]


class Normalizer:
    """Per-key z-normalisation; keys not given to :meth:`fit` pass through unchanged."""

    def __init__(self, mode: str = "global"):
        if mode not in MODES:
            raise ValueError(f"normalisation mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.mode = mode
        self.keys: list[str] = []
        self.stats: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def fit(self, arrays: dict[str, list[np.ndarray]], keys: Sequence[str]) -> "Normalizer":
        """Learn statistics of ``keys`` from training arrays (``global`` mode)."""
        self.keys = list(keys)
        if self.mode == "global":
            self.stats = {k: _stats(arrays[k]) for k in self.keys}
        return self

    def transform(self, arrays: dict[str, list[np.ndarray]],
                  speakers: Optional[Sequence[str]] = None) -> dict[str, list[np.ndarray]]:
        """Normalised copies of the fitted keys; ``speakers`` (one per array) is needed in ``speaker`` mode."""
        out = dict(arrays)
        if self.mode == "global":
            for k in self.keys:
                out[k] = _apply(arrays[k], *self.stats[k])
            return out
        if speakers is None:
            raise ValueError("speaker normalisation needs the speaker of every segment")
        groups = defaultdict(list)
        for i, speaker in enumerate(speakers):
            groups[speaker].append(i)
        for k in self.keys:
            normed: list[Optional[np.ndarray]] = [None] * len(arrays[k])
            for idx in groups.values():
                own = [arrays[k][i] for i in idx]
                for i, a in zip(idx, _apply(own, *_stats(own))):
                    normed[i] = a
            out[k] = normed
        return out

    def state_dict(self) -> dict:
        """Everything needed to normalise new data the same way (for saved runs)."""
        return {"mode": self.mode, "keys": self.keys, "stats": self.stats}

    @classmethod
    def from_state_dict(cls, state: dict) -> "Normalizer":
        norm = cls(state["mode"])
        norm.keys, norm.stats = list(state["keys"]), dict(state["stats"])
        return norm

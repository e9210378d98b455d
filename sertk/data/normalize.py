"""Z-normalisation of feature streams, chosen per feature key.

``standard`` fits one mean and standard deviation per dimension on the
training arrays only (over all frames of frame-level features, over segments
of utterance-level ones).  ``speaker`` standardises each speaker's arrays
with that speaker's own statistics, computed when transforming, so a test
speaker's unlabelled audio sets its own statistics: common practice in SER,
but it assumes the test speakers' audio is available in advance.  ``none``
(and any key without a mode) passes through unchanged.
"""
from __future__ import annotations

import json
from collections import defaultdict
from typing import Optional, Sequence

import numpy as np

from ..atomic import PathLike, atomic_path

MODES = ("standard", "speaker", "none")
STD_FLOOR = 1e-8


def _stats(arrays: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation per dimension, accumulated in float64 (two passes, no squared copy)."""
    rows = np.concatenate([np.atleast_2d(a) for a in arrays])
    mean = rows.mean(axis=0, dtype=np.float64)
    centred = rows - mean
    return mean, np.maximum(np.sqrt(np.einsum("ij,ij->j", centred, centred) / len(rows)), STD_FLOOR)


def _apply(arrays: list[np.ndarray], mean: np.ndarray, std: np.ndarray, block: int = 32) -> list[np.ndarray]:
    """(a − mean) / std in float64, stored as float32; equal-shaped arrays (e.g. functionals)
    as rows of one matrix, ``block`` rows at a time so the float64 work stays in cache."""
    if len(arrays) > 1 and all(a.shape == arrays[0].shape for a in arrays):
        out = np.empty((len(arrays), *arrays[0].shape), dtype=np.float32)
        work = np.empty((min(block, len(arrays)), *arrays[0].shape))
        for start in range(0, len(arrays), block):
            rows = np.stack(arrays[start:start + block])
            part = work[:len(rows)]
            np.subtract(rows, mean, out=part)
            np.divide(part, std, out=part)
            out[start:start + len(part)] = part
        return list(out)
    return [((a - mean) / std).astype(np.float32) for a in arrays]


class Normalizer:
    """Per-key z-normalisation; ``modes`` maps feature keys to one of :data:`MODES`."""

    def __init__(self, modes: dict[str, str]):
        for key, mode in modes.items():
            if mode not in MODES:
                raise ValueError(f"normalisation of '{key}' must be one of {', '.join(MODES)}, got {mode!r}")
        self.modes = dict(modes)
        self.stats: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def fit(self, arrays: dict[str, list[np.ndarray]], speakers: Optional[Sequence[str]] = None) -> "Normalizer":
        """Learn the ``standard`` statistics from training arrays.  ``speakers`` is not
        needed (speaker statistics come from the data being transformed) and is accepted
        so that fit and transform take the same arguments."""
        self.stats = {k: _stats(arrays[k]) for k, mode in self.modes.items() if mode == "standard" and k in arrays}
        return self

    def transform(self, arrays: dict[str, list[np.ndarray]],
                  speakers: Optional[Sequence[str]] = None) -> dict[str, list[np.ndarray]]:
        """Normalised copies; ``speakers`` (one per array) is needed for ``speaker`` keys."""
        out = dict(arrays)
        for k in self.stats.keys() & arrays.keys():
            out[k] = _apply(arrays[k], *self.stats[k])
        for k in [k for k, mode in self.modes.items() if mode == "speaker" and k in arrays]:
            if speakers is None:
                raise ValueError(f"speaker normalisation of '{k}' needs the speaker of every segment")
            groups = defaultdict(list)
            for i, speaker in enumerate(speakers):
                groups[speaker].append(i)
            normed: list[Optional[np.ndarray]] = [None] * len(arrays[k])
            for idx in groups.values():
                own = [arrays[k][i] for i in idx]
                for i, a in zip(idx, _apply(own, *_stats(own))):
                    normed[i] = a
            out[k] = normed
        return out

    def save(self, path: PathLike) -> None:
        """Write modes and statistics to an .npz file (atomically)."""
        stored = {"modes": np.array(json.dumps(self.modes))}
        for k, (mean, std) in self.stats.items():
            stored[f"mean/{k}"], stored[f"std/{k}"] = mean, std
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez(f, **stored)

    @classmethod
    def load(cls, path: PathLike) -> "Normalizer":
        """A normalizer saved with :meth:`save`."""
        with np.load(path, allow_pickle=False) as stored:
            norm = cls(json.loads(str(stored["modes"])))
            norm.stats = {name[5:]: (stored[name], stored[f"std/{name[5:]}"]) for name in stored.files
                          if name.startswith("mean/")}
        return norm

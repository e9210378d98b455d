"""Token sequences of CTC heads: greedy decoding and edit-distance error rates.

Part of the public plugin API (``from sertk.sequences import ...``); numpy only.
"""
from __future__ import annotations

from typing import Hashable, Sequence

import numpy as np


def greedy_decode(path: np.ndarray, blank: int = 0) -> np.ndarray:
    """Best-path CTC decoding (Graves et al., ICML 2006, §3.2): collapse repeated
    labels of a per-frame argmax ``path``, then drop ``blank``s."""
    path = np.asarray(path, dtype=np.int64)
    if path.ndim != 1:
        raise ValueError(f"path must be 1-D (per-frame argmax), got shape {path.shape}; decode one sequence at a time")
    if path.size == 0:
        return path
    keep = np.concatenate([[True], path[1:] != path[:-1]]) & (path != blank)
    return path[keep]


def edit_distance(ref: Sequence[Hashable], hyp: Sequence[Hashable]) -> int:
    """Levenshtein distance (unit-cost substitutions, deletions, insertions) between
    two token sequences (Levenshtein 1966; Wagner & Fischer 1974's row recurrence,
    insertions resolved per row with a running minimum)."""
    ids: dict = {}
    r = [ids.setdefault(t, len(ids)) for t in list(ref)]
    h = np.array([ids.setdefault(t, len(ids)) for t in list(hyp)], dtype=np.int64)
    offsets = np.arange(len(h) + 1)
    row = offsets.copy()
    for i, token in enumerate(r, 1):
        best = np.empty_like(row)
        best[0] = i
        best[1:] = np.minimum(row[:-1] + (h != token), row[1:] + 1)
        row = np.minimum.accumulate(best - offsets) + offsets
    return int(row[-1])


def error_rate(refs: Sequence[Sequence[Hashable]], hyps: Sequence[Sequence[Hashable]]) -> float:
    """Σ edit distances / Σ reference lengths over paired sequences (the usual
    corpus-level CER / PER / WER)."""
    if len(refs) != len(hyps):
        raise ValueError(f"refs and hyps must pair up, got {len(refs)} references and {len(hyps)} hypotheses")
    total = sum(len(r) for r in refs)
    if total == 0:
        raise ValueError("error_rate needs at least one non-empty reference sequence")
    return sum(edit_distance(r, h) for r, h in zip(refs, hyps)) / total


def split_words(tokens: Sequence[int], classes: Sequence[str], separator: str = " ") -> list[str]:
    """Token indices → the words they spell: tokens are looked up in ``classes``,
    joined, and split at ``separator`` tokens (empty words dropped)."""
    return [w for w in "".join(classes[int(t)] for t in tokens).split(separator) if w]

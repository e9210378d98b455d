"""On-disk cache of extracted feature arrays.

An entry holds one array per segment of an utterance and is keyed by the
SHA-256 of the decoded (resampled) audio, the feature's name and
``cache_params()``, the sample rate, the segment policy, the transcript and
timings a feature ``uses``, and :data:`CACHE_VERSION`.  Entries are written atomically; an unreadable entry
counts as a miss and is rewritten.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
import zipfile
from pathlib import Path
from typing import Optional

import numpy as np

from ..atomic import PathLike, atomic_path
from ..interfaces import Feature
from .segment import SegmentPolicy

CACHE_VERSION = 1


def audio_digest(signal: np.ndarray) -> str:
    """SHA-256 of the float32 samples."""
    return hashlib.sha256(np.ascontiguousarray(signal, dtype=np.float32).tobytes()).hexdigest()


def cache_key(digest: str, feature: Feature, sample_rate: int, policy: SegmentPolicy,
              context: Optional[list] = None) -> str:
    """The entry key for one feature of one utterance's audio (given by its :func:`audio_digest`);
    ``context`` holds the transcript and timing fields the feature ``uses``."""
    spec = {"audio": digest, "feature": feature.name, "params": feature.cache_params(), "sample_rate": sample_rate,
            "segment": policy.cache_params(), "version": CACHE_VERSION}
    if context:
        spec["context"] = context
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()


class FeatureCache:
    """Arrays per key under ``root``; ``root=None`` disables caching."""

    def __init__(self, root: Optional[PathLike]):
        self.root = Path(root) if root is not None else None

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npz"

    def sweep(self, older_than_s: float = 3600.0) -> int:
        """Delete temporary files left by writers that were killed (older than
        ``older_than_s``, so a concurrent run's files in progress stay); returns how many."""
        if self.root is None or not self.root.is_dir():
            return 0
        now, removed = time.time(), 0
        for folder in self.root.iterdir():
            if not folder.is_dir():
                continue
            for entry in os.scandir(folder):
                if entry.name.startswith(".") and ".tmp" in entry.name:
                    try:
                        if now - entry.stat().st_mtime > older_than_s:
                            os.unlink(entry.path)
                            removed += 1
                    except OSError:
                        continue
        return removed

    def get(self, key: str) -> Optional[list[np.ndarray]]:
        """The stored arrays, or None when absent, disabled or unreadable."""
        if self.root is None:
            return None
        try:
            with np.load(self._path(key), allow_pickle=False) as stored:
                return [stored[f"arr_{i}"] for i in range(len(stored.files))]
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile):
            return None

    def put(self, key: str, arrays: list[np.ndarray]) -> None:
        """Store ``arrays`` under ``key`` (atomically; no-op when disabled)."""
        if self.root is None:
            return
        with atomic_path(self._path(key)) as tmp, open(tmp, "wb") as f:
            np.savez(f, *arrays)

"""On-disk cache of extracted feature arrays.

An entry holds one array per segment of an utterance and is keyed by the
SHA-256 of the decoded (resampled) audio, the feature's name and
``cache_params()``, the sample rate, the segment policy, the transcript and
timings a feature ``uses``, and :data:`CACHE_VERSION`.  Entries are written atomically; an unreadable entry
counts as a miss and is rewritten.

So that a warm run need not decode its audio, a small index maps each
recording file as it is on disk (:func:`recording_key`) to the digest and
length of its decoded audio; any change to the file changes that key.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
import zipfile
from pathlib import Path
from typing import NamedTuple, Optional

import numpy as np

from ..atomic import PathLike, atomic_path, write_json
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
    return _hash(spec)


class Recording(NamedTuple):
    """A recording's decoded audio, by its :func:`audio_digest` and its number of samples."""

    digest: str
    samples: int


def recording_key(path: Optional[PathLike], sample_rate: int, policy: SegmentPolicy) -> Optional[str]:
    """The index key of the audio file ``path`` as it is now: its absolute path, size,
    modification and change times and inode, with the sample rate and segment policy
    (None without a file to stat)."""
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return _hash({"path": os.path.abspath(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
                  "ctime_ns": st.st_ctime_ns, "inode": st.st_ino, "sample_rate": sample_rate,
                  "segment": policy.cache_params(), "version": CACHE_VERSION})


def _hash(spec: dict) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()


class FeatureCache:
    """Arrays per key under ``root``; ``root=None`` disables caching."""

    def __init__(self, root: Optional[PathLike]):
        self.root = Path(root) if root is not None else None

    def _path(self, key: str, suffix: str = ".npz") -> Path:
        return self.root / key[:2] / f"{key}{suffix}"

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
            with open(self._path(key, ".npy"), "rb") as f:
                return [np.lib.format.read_array(f, allow_pickle=False)]
        except FileNotFoundError:
            pass
        except (OSError, ValueError, EOFError):
            return None
        try:
            with np.load(self._path(key), allow_pickle=False) as stored:
                return [stored[f"arr_{i}"] for i in range(len(stored.files))]
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile):
            return None

    def put(self, key: str, arrays: list[np.ndarray]) -> None:
        """Store ``arrays`` under ``key`` (atomically; no-op when disabled): one array as
        ``.npy`` (read about twice as fast), several as ``.npz``."""
        if self.root is None:
            return
        single = len(arrays) == 1
        with atomic_path(self._path(key, ".npy" if single else ".npz")) as tmp, open(tmp, "wb") as f:
            if single:
                np.save(f, arrays[0], allow_pickle=False)
            else:
                np.savez(f, *arrays)

    def recording(self, key: Optional[str]) -> Optional[Recording]:
        """The indexed audio of a :func:`recording_key`, or None when unknown, disabled or unreadable."""
        if self.root is None or key is None:
            return None
        try:
            with open(self._path(key, ".audio.json"), encoding="utf-8") as f:
                stored = json.load(f)
            return Recording(str(stored["digest"]), int(stored["samples"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put_recording(self, key: Optional[str], recording: Recording) -> None:
        """Index ``recording`` under ``key`` (atomically; no-op when disabled or without a key)."""
        if self.root is not None and key is not None:
            write_json(self._path(key, ".audio.json"), recording._asdict())

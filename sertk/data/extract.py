"""Feature extraction over a list of utterances, cached and optionally parallel.

Each utterance's audio is decoded, cut into segments, and every feature is
computed on every segment (or read from the cache).  With ``workers > 1``
utterances missing from the cache are spread over spawned processes (forking
a process that has loaded torch can deadlock), each limited to one
torch/OpenMP thread.
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Iterator, Optional

import numpy as np

from ..audio import utterance_signal
from ..errors import SertkError
from ..interfaces import Feature, FeatureInfo, SegmentContext, Utterance, Word
from ..progress import Progress, Silent
from .cache import FeatureCache, audio_digest, cache_key
from .segment import SegmentPolicy, cut, segment_bounds


@dataclass(frozen=True)
class Segment:
    """One segment of utterance ``utt_index``: its audio spans ``start_s``..``end_s``
    seconds (the segment's array may be zero-padded beyond ``end_s``)."""

    id: str
    utt_index: int
    start_s: float
    end_s: float


@dataclass
class Extracted:
    """Segments and, per feature key, one array per segment in the same order."""

    segments: list[Segment]
    arrays: dict[str, list[np.ndarray]]
    info: dict[str, FeatureInfo]


@dataclass
class _Done:
    n_samples: int
    bounds: list[tuple[int, int]]
    arrays: dict[str, list[np.ndarray]]


def extract_features(utterances: list[Utterance], features: list[tuple[str, Feature]], sample_rate: int,
                     policy: SegmentPolicy, cache: FeatureCache, workers: int = 1,
                     progress: Progress = Silent()) -> Extracted:
    """Extract every ``(key, feature)`` from every segment of every utterance.

    With ``workers > 1`` the cache is first read here, and only utterances
    with a missing entry go to worker processes, so a warm run starts none.
    """
    done: list[Optional[_Done]] = [None] * len(utterances)
    args = (features, sample_rate, policy, cache)
    with progress.task("Extracting features", total=len(utterances)) as task:
        todo = []
        for i, utt in enumerate(utterances):
            done[i] = _extract_utterance(utt, *args, compute=workers <= 1)
            if done[i] is None:
                todo.append(i)
            else:
                task.advance()
        for i, result in _compute(utterances, todo, args, workers):
            done[i] = result
            task.advance()
    return _assemble(utterances, features, sample_rate, done)


def _compute(utterances: list[Utterance], todo: list[int], args: tuple, workers: int) -> Iterator[tuple[int, _Done]]:
    """Yield ``(index, result)`` for the utterances ``todo``, in spawned processes when there are several."""
    if workers <= 1 or len(todo) <= 1:
        yield from ((i, _extract_utterance(utterances[i], *args)) for i in todo)
        return
    with ProcessPoolExecutor(min(workers, len(todo)), mp_context=multiprocessing.get_context("spawn"),
                             initializer=_init_worker, initargs=args) as pool:
        futures = {pool.submit(_work, utterances[i]): i for i in todo}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise


_worker_args: tuple = ()


def _init_worker(*args) -> None:
    """Keep the features for all of this worker's tasks (so lazily built state such as an
    openSMILE extractor is built once) and use one torch/OpenMP thread, read when a feature
    first imports torch."""
    global _worker_args
    _worker_args = args
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = "1"


def _work(utt: Utterance) -> _Done:
    return _extract_utterance(utt, *_worker_args)


def _extract_utterance(utt: Utterance, features: list[tuple[str, Feature]], sample_rate: int, policy: SegmentPolicy,
                       cache: FeatureCache, compute: bool = True) -> Optional[_Done]:
    """Cached or computed arrays of one utterance; None at the first cache miss when not ``compute``."""
    signal = utterance_signal(utt, sample_rate)
    bounds = segment_bounds(len(signal), sample_rate, policy)
    digest = audio_digest(signal)
    pieces = None
    contexts = [segment_context(utt, start / sample_rate, end / sample_rate) for start, end in bounds]
    out = {}
    for key, feature in features:
        entry = cache_key(digest, feature, sample_rate, policy,
                          [c.digest_fields(feature.uses) for c in contexts] if feature.uses else None)
        arrays = cache.get(entry)
        if arrays is None:
            if not compute:
                return None
            pieces = pieces if pieces is not None else cut(signal, bounds)
            arrays = [_checked(feature.extract(p, sample_rate, c), key, feature) for p, c in zip(pieces, contexts)]
            cache.put(entry, arrays)
        out[key] = arrays
    return _Done(len(signal), bounds, out)


def segment_context(utt: Utterance, start_s: float, end_s: float) -> SegmentContext:
    """The utterance's transcript and the words and alignment units overlapping
    ``start_s``..``end_s``, with times relative to ``start_s``."""
    def inside(units) -> tuple[Word, ...]:
        return tuple(Word(max(w.start, start_s) - start_s, min(w.end, end_s) - start_s, w.text)
                     for w in units if w.end > start_s and w.start < end_s)
    return SegmentContext(utt.id, start_s, end_s, utt.transcript, inside(utt.words),
                          {k: inside(v) for k, v in utt.alignments.items()})


def _checked(array, key: str, feature: Feature) -> np.ndarray:
    array = np.asarray(array, dtype=np.float32)
    if array.ndim != (2 if feature.level == "frame" else 1):
        raise SertkError(f"feature '{key}' ({feature.name}) returned shape {array.shape}; a frame-level feature "
                         f"must return (frames, dim), an utterance-level one (dim,)")
    return array


def _assemble(utterances: list[Utterance], features: list[tuple[str, Feature]], sample_rate: int,
              done: list[_Done]) -> Extracted:
    segments = [Segment(f"{utt.id}#{k}", i, start / sample_rate, min(end, d.n_samples) / sample_rate)
                for i, (utt, d) in enumerate(zip(utterances, done)) for k, (start, end) in enumerate(d.bounds)]
    arrays = {key: [a for d in done for a in d.arrays[key]] for key, _ in features}
    info = {}
    for key, feature in features:
        dims = {a.shape[-1] for a in arrays[key]}
        if len(dims) > 1:
            raise SertkError(f"feature '{key}' ({feature.name}) returned different dimensions {sorted(dims)} "
                             f"for different segments")
        info[key] = FeatureInfo(key, dims.pop() if dims else 0, feature.level, feature.frame_rate(sample_rate))
    return Extracted(segments, arrays, info)

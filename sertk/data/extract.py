"""Feature extraction over a list of utterances, cached and optionally parallel.

Each utterance's audio is cut into segments and every feature is computed on
every segment, or read from the cache (a warm run decodes no audio).  With ``workers > 1``
utterances missing from the cache are spread over spawned processes (forking
a process that has loaded torch can deadlock), each limited to one
torch/OpenMP thread.
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterator, Optional, Sequence

import numpy as np

from ..audio import utterance_signal
from ..errors import AudioProblem, SertkError
from ..interfaces import Feature, FeatureInfo, SegmentContext, Utterance, Word
from ..progress import Progress, Silent
from .cache import FeatureCache, Recording, audio_digest, cache_key, recording_key
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
class Skipped:
    """An utterance left out of extraction: its problem ``kind`` and the one-line ``message``."""

    utt_index: int
    kind: str
    message: str


@dataclass
class Extracted:
    """Segments and, per feature key, one array per segment in the same order.
    ``kept`` are the indices (into the utterances given) of the utterances the
    segments belong to, in order; ``skipped`` the ones left out and why."""

    segments: list[Segment]
    arrays: dict[str, list[np.ndarray]]
    info: dict[str, FeatureInfo]
    kept: list[int] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


@dataclass
class _Done:
    n_samples: int
    bounds: list[tuple[int, int]]
    arrays: dict[str, list[np.ndarray]]


def skipped_report(skipped: Sequence[Skipped]) -> list[str]:
    """One line per kind of problem: how many recordings were skipped, with examples."""
    kinds: dict[str, list[str]] = {}
    for s in skipped:
        kinds.setdefault(s.kind, []).append(s.message)
    return [f"skipped {len(m)} recording{'s' if len(m) > 1 else ''} with {kind}: {'; '.join(m[:3])}"
            + (" ..." if len(m) > 3 else "") for kind, m in kinds.items()]


def extract_features(utterances: list[Utterance], features: list[tuple[str, Feature]], sample_rate: int,
                     policy: SegmentPolicy, cache: FeatureCache, workers: int = 1,
                     progress: Progress = Silent(), bad_audio: str = "skip") -> Extracted:
    """Extract every ``(key, feature)`` from every segment of every utterance.

    With ``workers > 1`` the cache is first read here, and only utterances
    with a missing entry go to worker processes, so a warm run starts none.
    An utterance whose audio or features are unusable (see
    :func:`sertk.audio.check_signal`; non-finite feature values are never
    cached) is skipped, or stops the run with ``bad_audio="stop"``.  A Ctrl-C
    stops extraction even when a compiled library swallowed it.
    """
    results: list = [None] * len(utterances)

    def settle(i: int, result) -> None:
        if isinstance(result, Skipped) and bad_audio == "stop":
            raise SertkError(f"{result.message}; fix or remove the file, or set data.bad_audio: skip")
        results[i] = result

    with progress.task("Extracting features", total=len(utterances)) as task, _noticed_interrupts() as interrupt:
        args = (features, sample_rate, policy, cache, interrupt)
        todo = []
        for i, utt in enumerate(utterances):
            result = _extract_utterance(i, utt, *args, compute=workers <= 1)
            interrupt.check()
            if result is None:
                todo.append(i)
                continue
            settle(i, result)
            task.advance()
        for i, result in _compute(utterances, todo, args, workers):
            interrupt.check()
            settle(i, result)
            task.advance()
    kept = [i for i, r in enumerate(results) if isinstance(r, _Done)]
    extracted = _assemble([utterances[i] for i in kept], features, sample_rate, [results[i] for i in kept])
    extracted.kept = kept
    extracted.skipped = [r for r in results if isinstance(r, Skipped)]
    return extracted


class _Interrupt:
    """Whether Ctrl-C was pressed during extraction (some compiled libraries, e.g.
    openSMILE's callbacks, catch the KeyboardInterrupt and return NaN instead)."""

    hit = False

    def check(self) -> None:
        if self.hit:
            raise KeyboardInterrupt


@contextlib.contextmanager
def _noticed_interrupts() -> Iterator[_Interrupt]:
    state = _Interrupt()
    if threading.current_thread() is not threading.main_thread():
        yield state
        return

    def remember(signum, frame):
        state.hit = True
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, remember)
    try:
        yield state
    finally:
        signal.signal(signal.SIGINT, previous)


def _compute(utterances: list[Utterance], todo: list[int], args: tuple, workers: int) -> Iterator[tuple[int, object]]:
    """Yield ``(index, result)`` for the utterances ``todo``, in spawned processes when there are several."""
    from concurrent.futures.process import BrokenProcessPool

    if workers <= 1 or len(todo) <= 1:
        yield from ((i, _extract_utterance(i, utterances[i], *args)) for i in todo)
        return
    pool = ProcessPoolExecutor(min(workers, len(todo), os.cpu_count() or 1),
                               mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=args[:4])
    futures = {pool.submit(_work, i, utterances[i]): i for i in todo}
    try:
        for future in as_completed(futures):
            yield futures[future], future.result()
    except BrokenProcessPool:
        pending = [utterances[i].path or utterances[i].id for f, i in futures.items() if not f.done()]
        raise SertkError(f"a feature extraction worker crashed (e.g. a fault in a compiled library) while "
                         f"extracting one of {len(pending)} files such as {', '.join(map(str, pending[:3]))}; "
                         f"rerun with data.workers: 1 to see which file and why") from None
    finally:
        _stop(pool)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Shut the pool down now: cancel queued work and end workers still busy."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)


_worker_args: tuple = ()


def _init_worker(*args) -> None:
    """Keep the features for all of this worker's tasks (so lazily built state such as an
    openSMILE extractor is built once) and use one torch/OpenMP thread, read when a feature
    first imports torch.  A worker ignores Ctrl-C (the main process stops it) and dies
    with the main process, even when that is killed."""
    global _worker_args
    _worker_args = (*args, _Interrupt())
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = "1"
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (elsewhere: a watcher thread)."""
    parent = os.getppid()
    try:
        import ctypes

        if ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL) == 0:  # PR_SET_PDEATHSIG
            if os.getppid() != parent:
                os._exit(1)
            return
    except (OSError, AttributeError):
        pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _work(i: int, utt: Utterance):
    return _extract_utterance(i, utt, *_worker_args)


def _extract_utterance(i: int, utt: Utterance, features: list[tuple[str, Feature]], sample_rate: int,
                       policy: SegmentPolicy, cache: FeatureCache, interrupt: _Interrupt, compute: bool = True):
    """Cached or computed arrays of one utterance (:class:`_Done`), a :class:`Skipped`, or
    None at the first cache miss when not ``compute``.  The audio is decoded only when the
    cache's index does not know the file as it is now, or when a feature must be computed
    (which re-indexes the file from the decoded audio first).  Nothing non-finite, and
    nothing computed after a Ctrl-C, enters the cache."""
    source = recording_key(utt.path, sample_rate, policy) if utt.audio is None else None
    known = cache.recording(source)
    if known is not None:
        result = _cached_or_computed(i, utt, known, None, features, sample_rate, policy, cache, interrupt, compute)
        if result is not _NEEDS_AUDIO:
            return result
    try:
        signal_ = utterance_signal(utt, sample_rate)
    except AudioProblem as problem:
        return Skipped(i, problem.kind, str(problem))
    known = Recording(audio_digest(signal_), len(signal_))
    if source is not None and source == recording_key(utt.path, sample_rate, policy):
        cache.put_recording(source, known)  # the file did not change while it was read
    return _cached_or_computed(i, utt, known, signal_, features, sample_rate, policy, cache, interrupt, compute)


_NEEDS_AUDIO = object()


def _cached_or_computed(i: int, utt: Utterance, known: Recording, signal_: Optional[np.ndarray],
                        features: list[tuple[str, Feature]], sample_rate: int, policy: SegmentPolicy,
                        cache: FeatureCache, interrupt: _Interrupt, compute: bool):
    """:func:`_extract_utterance` for a known recording; ``_NEEDS_AUDIO`` at a miss without ``signal_``."""
    bounds = segment_bounds(known.samples, sample_rate, policy)
    pieces = None

    @lru_cache(maxsize=None)
    def contexts() -> list[SegmentContext]:  # read only when needed: the utterance's timings may be parsed lazily
        return [segment_context(utt, start / sample_rate, end / sample_rate) for start, end in bounds]

    out = {}
    for key, feature in features:
        entry = cache_key(known.digest, feature, sample_rate, policy,
                          [c.digest_fields(feature.uses) for c in contexts()] if feature.uses else None)
        arrays = cache.get(entry)
        if arrays is None:
            if not compute:
                return None
            if signal_ is None:
                return _NEEDS_AUDIO
            pieces = pieces if pieces is not None else cut(signal_, bounds)
            arrays = [_checked(feature.extract(p, sample_rate, c), key, feature) for p, c in zip(pieces, contexts())]
            interrupt.check()
            if not all(np.isfinite(a).all() for a in arrays):
                return Skipped(i, "non-finite feature values",
                               f"{utt.path or utt.id}: feature '{key}' ({feature.name}) gave NaN or Inf values")
            cache.put(entry, arrays)
        out[key] = arrays
    return _Done(known.samples, bounds, out)


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

"""Work in forked worker processes: folds trained at the same time (``train.jobs``), and a
run's figures drawn while its tables are computed.

The workers are forked before any of them starts work, so they share the
parent's extracted features and registry without copying or pickling them; each
runs one task at a time on one thread and sends back its result with the log
lines it wrote.  An error in a task stops the work with that task's message; the
workers ignore Ctrl-C, which the parent handles by stopping them.
"""
from __future__ import annotations

import multiprocessing
import pickle
import queue
import signal
import sys
import traceback
from typing import Any, Callable, Iterator, Optional

from threadpoolctl import threadpool_limits

from ..errors import SertkError
from ..progress import Silent

_WORK: Optional[Callable[[int, Any], Any]] = None  # what the forked workers call, set just before they fork


class RecordedLog(Silent):
    """A worker's progress: no bars; its log lines are kept for the parent to print."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def log(self, message: str) -> None:
        self.lines.append(message)


def _worker(tasks, results) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _own_std_streams()
    threadpool_limits(1)  # one BLAS / OpenMP thread per worker: spinning pools of several made each 2.4x slower
    for index in iter(tasks.get, None):
        log = RecordedLog()
        try:  # pickled here, so that a result that cannot be pickled is an error, not a lost message
            message = pickle.dumps((index, _WORK(index, log), log.lines, None))
        except SertkError as exc:
            message = pickle.dumps((index, None, log.lines, (True, str(exc))))
        except Exception:
            message = pickle.dumps((index, None, log.lines, (False, traceback.format_exc())))
        results.put(message)
    results.close()
    results.join_thread()


def _own_std_streams() -> None:
    """Fresh stdout and stderr objects: a parent thread (a progress bar) may have held the
    inherited ones' locks at the fork."""
    for name, fd in (("stdout", 1), ("stderr", 2)):
        try:
            setattr(sys, name, open(fd, "w", closefd=False))
        except OSError:
            pass


class ForkedPool:
    """``jobs`` worker processes forked on entering the ``with`` block, each calling
    ``work(i, log)`` for the indices given to :meth:`results`; stopped on leaving it
    early (an error or Ctrl-C), joined otherwise.  Fork before starting threads."""

    def __init__(self, work: Callable[[int, Any], Any], jobs: int) -> None:
        self.work, self.jobs = work, jobs
        self._context = multiprocessing.get_context("fork")
        self._tasks, self._results = self._context.SimpleQueue(), self._context.Queue()
        self._workers: list = []

    def __enter__(self) -> "ForkedPool":
        global _WORK
        _WORK = self.work
        try:
            for _ in range(self.jobs):
                # not daemonic, so that a fold may start processes of its own; the with block ends them
                worker = self._context.Process(target=_worker, args=(self._tasks, self._results))
                worker.start()
                self._workers.append(worker)
        finally:
            _WORK = None
        return self

    def __exit__(self, kind, *_) -> None:
        if kind is not None:
            for worker in self._workers:
                worker.terminate()
        else:
            for _ in self._workers:
                self._tasks.put(None)
        for worker in self._workers:
            worker.join()

    def results(self, count: int) -> Iterator[tuple[int, Any, list[str]]]:
        """Start ``work(i, log)`` for ``i`` in ``range(count)`` now; iterate to get
        ``(i, result, log lines)`` as each finishes."""
        for i in range(count):
            self._tasks.put(i)
        return self._collect(count)

    def _collect(self, count: int) -> Iterator[tuple[int, Any, list[str]]]:
        for _ in range(count):
            index, result, lines, error = _next(self._results, self._workers)
            if error is not None:
                user_error, message = error
                raise SertkError(message) if user_error else RuntimeError(f"in a worker process:\n{message}")
            yield index, result, lines


class InProcess:
    """:class:`ForkedPool`'s interface for one job: the work runs here, item after item, with
    ``progress`` (so its bars are drawn)."""

    def __init__(self, work: Callable[[int, Any], Any], progress: Any) -> None:
        self.work, self.progress = work, progress

    def __enter__(self) -> "InProcess":
        return self

    def __exit__(self, *_) -> None:
        pass

    def results(self, count: int) -> Iterator[tuple[int, Any, list[str]]]:
        return ((i, self.work(i, self.progress), []) for i in range(count))


def _next(results, workers) -> tuple:
    while True:
        try:
            return pickle.loads(results.get(timeout=0.5))
        except queue.Empty:
            dead = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
            if dead:
                raise SertkError(f"a worker process ended unexpectedly (exit code {dead[0]}; out of memory?); "
                                 f"with train.jobs above 1, run again with train.jobs: 1") from None

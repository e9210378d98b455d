"""Work in forked worker processes: folds trained at the same time (``train.jobs``), and a
run's figures drawn while its tables are computed (:class:`Drawing`).

The workers are forked before any of them starts work, so they share the
parent's extracted features and registry without copying or pickling them; each
runs one task at a time on one thread and sends back its result with the log
lines it wrote.  An error in a task stops the work with that task's message; the
workers ignore Ctrl-C, which the parent handles by stopping them.
"""
from __future__ import annotations

import contextlib
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
FOLD_ADVICE = "with train.jobs above 1, run again with train.jobs: 1"
FIGURE_ADVICE = "the figures were not drawn; the tables and metrics.json are written"


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

    def __init__(self, work: Callable[[int, Any], Any], jobs: int, advice: str = FOLD_ADVICE) -> None:
        self.work, self.jobs, self.advice = work, jobs, advice
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
        return map(_checked, self.messages(count))

    def messages(self, count: int) -> Iterator[tuple]:
        """:meth:`results` as ``(i, result, log lines, error)``, an error not raised here."""
        for i in range(count):
            self._tasks.put(i)
        return (_next(self._results, self._workers, self.advice) for _ in range(count))


def _checked(message: tuple) -> tuple[int, Any, list[str]]:
    """A worker's ``(index, result, lines)``, or its error raised here."""
    index, result, lines, error = message
    if error is not None:
        user_error, text = error
        raise SertkError(text) if user_error else RuntimeError(f"in a worker process:\n{text}")
    return index, result, lines


class Drawing:
    """A process forked on entering the ``with`` block that imports matplotlib at once, on a
    core the run leaves idle while it reads its data, and later draws the run's figures
    (:meth:`draw`), two at a time in processes of its own.  The run itself then never
    imports matplotlib.  Stopped on leaving the block."""

    def __init__(self) -> None:
        self._context = multiprocessing.get_context("fork")
        self._jobs, self._replies = self._context.SimpleQueue(), self._context.Queue()
        # not daemonic, so that it may fork the processes that draw; the with block ends it
        self._process = self._context.Process(target=_draw_figures, args=(self._jobs, self._replies))

    def __enter__(self) -> "Drawing":
        self._process.start()
        return self

    def __exit__(self, kind, *_) -> None:
        if kind is None and self._process.is_alive():
            self._jobs.put(None)
            self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()

    def draw(self, figures: list[Callable[[], Any]]) -> Callable[[], None]:
        """Start drawing ``figures`` (picklable calls); returns the call that waits for them
        and raises the first failure."""
        self._jobs.put(figures)
        return lambda: _checked(_next(self._replies, [self._process], FIGURE_ADVICE))


@contextlib.contextmanager
def drawing_process() -> Iterator[Optional[Drawing]]:
    """A :class:`Drawing` for the ``with`` block, or None where processes cannot be forked
    or under torchrun (whose rank 0 draws at the end)."""
    from . import distributed

    if distributed.launched() is not None or "fork" not in multiprocessing.get_all_start_methods():
        yield None
        return
    with Drawing() as drawing:
        yield drawing


def figure_pool(figures: list[Callable[[], Any]]) -> ForkedPool:
    """A :class:`ForkedPool` drawing ``figures`` two at a time; matplotlib is loaded and warmed
    up here first (:func:`~sertk.figures.warm_up`), so that no drawing process loads it again."""
    from ..figures import warm_up

    if figures:
        warm_up()
    return ForkedPool(lambda i, _: figures[i](), min(2, len(figures)), FIGURE_ADVICE)


def _draw_figures(jobs, replies) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _own_std_streams()
    from ..figures import warm_up

    warm_up()  # at once, on a core the run leaves idle
    for figures in iter(jobs.get, None):
        try:
            with figure_pool(figures) as pool:
                errors = [m[3] for m in pool.messages(len(figures)) if m[3] is not None]
            error = errors[0] if errors else None
        except SertkError as exc:  # a drawing process that died
            error = (True, str(exc))
        replies.put(pickle.dumps((0, None, [], error)))
    replies.close()
    replies.join_thread()


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


def _next(results, workers, advice: str = FOLD_ADVICE) -> tuple:
    while True:
        try:
            return pickle.loads(results.get(timeout=0.5))
        except queue.Empty:
            dead = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
            if dead:
                raise SertkError(f"a worker process ended unexpectedly (exit code {dead[0]}; out of memory?); "
                                 f"{advice}") from None

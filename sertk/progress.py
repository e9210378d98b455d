"""Progress reporting without knowing the terminal.

The engine reports through a :class:`Progress`; the CLI passes one that draws
rich progress bars, tests and libraries use the silent default.
"""
from __future__ import annotations

import contextlib
from typing import Iterator, Protocol


class Task(Protocol):
    def advance(self, n: int = 1) -> None: ...
    def update(self, **fields) -> None: ...


class Progress(Protocol):
    def task(self, description: str, total: int | None) -> contextlib.AbstractContextManager[Task]: ...
    def log(self, message: str) -> None: ...


class _SilentTask:
    def advance(self, n: int = 1) -> None:
        pass

    def update(self, **fields) -> None:
        pass


class Silent:
    """Reports nothing."""

    @contextlib.contextmanager
    def task(self, description: str, total: int | None) -> Iterator[Task]:
        yield _SilentTask()

    def log(self, message: str) -> None:
        pass

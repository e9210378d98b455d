"""Atomic file writes: write beside the target, then rename over it.

An interrupted or failing run therefore never leaves a half-written result or
cache entry behind.  Also :func:`safe_name`, which keeps any name that becomes
a file name inside its folder.
"""
from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Iterator, Union

PathLike = Union[str, os.PathLike]
_UNSAFE = re.compile(r"[^A-Za-z0-9._@-]+")


def safe_name(name: str) -> str:
    """``name`` as one path component: characters outside ``[A-Za-z0-9._@-]``
    become ``_`` and leading dots are dropped, so no name can leave its folder."""
    cleaned = _UNSAFE.sub("_", str(name)).lstrip(".")
    return cleaned or "_"


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: PathLike) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it over ``path`` on success.

    The file gets the permissions a plain ``open`` would give it (0o666 less the
    umask), not the owner-only mode of a temporary file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = None
    try:  # an interrupt right after the temporary file is made still removes it
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent)
        os.close(fd)
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def write_text(path: PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_csv(path: PathLike, rows: list[dict]) -> None:
    """Dict rows as CSV, the first row's keys as the header."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def write_json(path: PathLike, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, sort_keys=False, default=_jsonable) + "\n")


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")

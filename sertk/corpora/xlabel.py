"""Reader for ``xlabel`` label files (ESPS/waves+), as EmoDB and other corpora ship them.

A file is a header of ``keyword value`` lines (``signal``, ``type``, ``color``,
``font``, ``separator``, ``nfields``, any number of ``comment`` lines) ended by a
line holding only ``#``, then one mark per line::

    signal wochenAO
    type 0
    comment created using xlabel Wed Apr 26 12:59:18 2000
    font -misc-*-bold-*-*-*-15-*-*-*-*-*-*-*
    separator ;
    nfields 1
    #
        0.080109   -1 _t
        0.119160   -1 !t	+asp

Each mark is a time in seconds, a colour number and the label: everything after
the single space (or tab) that follows the colour, kept as written (it may be empty and
may hold tabs).  A mark is a point in time; whether it opens or closes the
segment it names is the labeller's convention, not the file's: ESPS documents
the time as the end of the labelled segment, while corpora labelled after the
Kiel conventions (EmoDB among them) put it at the segment's start.
:func:`intervals` turns marks into timed segments under either convention.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional, Union

_MARK = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s+(-?\d+)(?:[ \t](.*))?$")


class XlabelError(ValueError):
    """A file that is not in xlabel format; the message names the line."""


@dataclass(frozen=True)
class Mark:
    """One labelled point: ``time`` in seconds, the ``color`` number and the raw ``label``."""

    time: float
    color: int
    label: str


@dataclass
class XlabelFile:
    """The header (keyword → values, in file order) and the marks of one file."""

    header: dict[str, list[str]] = field(default_factory=dict)
    marks: list[Mark] = field(default_factory=list)


def parse_xlabel(text: str, source: str = "<text>") -> XlabelFile:
    """Parse the text of an xlabel file; raises :class:`XlabelError` naming ``source:line``."""
    lines = text.splitlines()
    out = XlabelFile()
    try:
        end = next(i for i, line in enumerate(lines) if line.strip() == "#")
    except StopIteration:
        raise XlabelError(f"{source}: no '#' line ending the header") from None
    for line in lines[:end]:
        if line.strip():
            key, _, value = line.strip().partition(" ")
            out.header.setdefault(key, []).append(value.strip())
    for number, line in enumerate(lines[end + 1:], end + 2):
        if not line.strip():
            continue
        match = _MARK.match(line.rstrip("\r\n"))
        if not match:
            raise XlabelError(f"{source}:{number}: not a 'time color label' line: {line.strip()[:40]!r}")
        out.marks.append(Mark(float(match.group(1)), int(match.group(2)), match.group(3) or ""))
    return out


def read_xlabel(path: Union[str, Path], encoding: str = "latin-1") -> XlabelFile:
    """Read and parse one file.  The format predates Unicode; latin-1 never fails to decode."""
    path = Path(path)
    return parse_xlabel(path.read_text(encoding=encoding), source=path.name)


def intervals(marks: list[Mark], convention: Literal["start", "end"],
              start: Optional[float] = 0.0) -> list[tuple[float, float, str]]:
    """Segments ``(start, end, label)`` from point marks.

    ``convention="end"`` (ESPS): each mark closes its segment, which starts at the
    previous mark (the first at ``start``; ``start=None`` drops the first mark).
    ``convention="start"`` (Kiel): each mark opens its segment, which ends at the
    next mark; the last mark only closes the segment before it.
    """
    if convention == "end":
        out = []
        previous = start
        for mark in marks:
            if previous is not None:
                out.append((previous, mark.time, mark.label))
            previous = mark.time
        return out
    if convention == "start":
        return [(a.time, b.time, a.label) for a, b in zip(marks, marks[1:])]
    raise ValueError(f"convention must be 'start' or 'end', not {convention!r}")

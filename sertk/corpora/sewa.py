"""SEWA as distributed for the AVEC 2017 affect sub-challenge.

F. Ringeval et al., "AVEC 2017 - Real-life Depression, and Affect Recognition
Workshop and Challenge", AVEC 2017; J. Kossaifi et al., "SEWA DB: A Rich
Database for Audio-Visual Emotion and Sentiment Research in the Wild", IEEE
TPAMI 2019.  German video-chat recordings named ``Train_NN``, ``Devel_NN`` and
``Test_NN``, each with a label file of arousal, valence and liking every
100 ms (``instance;time;arousal;valence;liking``) and a turn-level
transcription (``start;end;text``, seconds; the text may be quoted,
``start;end;'text'``, as in the files Tzirakis et al. (ICASSP 2021) used).
Copies differ in layout, so every path is a pattern with ``{id}`` standing
for the recording name.

Word timings: from word-level files (``start;end;word``, e.g. written by a
forced aligner) when the ``words`` pattern is given; otherwise each turn is
split at white space into words whose durations are proportional to their
character counts (an approximation of a forced alignment).
"""
from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Optional

import numpy as np

from ..interfaces import Contour, Utterance, Word
from ._base import LocalCorpus
from ._contours import shift_back
from ._integrity import Integrity

DIMENSIONS = ("arousal", "valence", "liking")


class SEWA(LocalCorpus):
    """SEWA (AVEC 2017): arousal/valence/liking contours every 100 ms, turn transcriptions, train/devel/test."""

    name = "sewa"
    summary = "SEWA (AVEC 2017): video chats, arousal/valence/liking every 100 ms, transcribed turns"
    layout_hint = "the AVEC 2017 SEWA folder (or set corpus.params.audio/labels/transcriptions patterns)"

    def __init__(self, root: str, audio: str = "audio/{id}.wav", labels: str = "labels/{id}.csv",
                 transcriptions: Optional[str] = "transcriptions/{id}.csv", delimiter: str = ";",
                 dimensions: Optional[list[str]] = None, partitions: Optional[list[str]] = None,
                 delay_s: float = 0.0, words: Optional[str] = None):
        for key, pattern in (("audio", audio), ("labels", labels), ("transcriptions", transcriptions),
                             ("words", words)):
            if pattern is not None and "{id}" not in pattern:
                raise ValueError(f"{key} pattern {pattern!r} must contain {{id}}")
        if delay_s < 0:
            raise ValueError(f"delay_s must be >= 0, got {delay_s}")
        self.root = root
        self.audio, self.labels, self.transcriptions, self.words = audio, labels, transcriptions, words
        self.delimiter = delimiter
        self.dimensions = tuple(dimensions) if dimensions else DIMENSIONS
        self.partitions = tuple(p.lower() for p in partitions) if partitions else ("train", "devel")
        self.delay_s = float(delay_s)

    def _load(self, check: Integrity) -> list[Utterance]:
        root = self._root()
        pattern = str(root / self.audio)
        prefix, suffix = pattern.split("{id}", 1)
        paths = sorted(glob.glob(glob.escape(prefix) + "*" + glob.escape(suffix)))
        if not paths:
            check.fail(f"no audio matching {pattern.replace('{id}', '*')}; set corpus.params.root to "
                       f"{self.layout_hint}")
        out = []
        for path in paths:
            rec = path[len(prefix):len(path) - len(suffix)]
            partition = rec.split("_", 1)[0].lower()
            if partition not in self.partitions:
                check.dropped(f"{partition} recordings")
                continue
            contours = self._contours(root / self.labels.format(id=rec), check)
            if contours is None:
                continue
            turns = self._turns(root / self.transcriptions.format(id=rec), check) if self.transcriptions else []
            if self.words:
                words = self._timed(root / self.words.format(id=rec), check, "recordings without word timings",
                                    "unparsable word timing lines")
            else:
                words = [w for turn in turns for w in split_turn(turn)]
            out.append(Utterance(
                id=rec, speaker=rec, path=path, partition=partition, corpus=self.name, contours=contours,
                transcript=" ".join(t.text for t in turns) if turns else None, words=words,
                meta={"turns": turns, "delay_s": self.delay_s}))
        return out

    def _contours(self, path: Path, check: Integrity) -> Optional[dict[str, Contour]]:
        rows = _rows(path, self.delimiter, check, "recordings without label file")
        if rows is None:
            return None
        times, values = [], []
        for number, row in rows:
            try:
                time, dims = float(row[1]), [float(v) for v in row[2:2 + len(self.dimensions)]]
            except (ValueError, IndexError):
                if number > 1 or len(row) < 2:  # a first line that does not parse is a header
                    check.problem("unparsable label lines", f"{path.name}:{number}")
                continue
            if len(dims) < len(self.dimensions):
                check.problem("label lines with missing dimensions", f"{path.name}:{number}")
                continue
            times.append(time)
            values.append(dims)
        if not times:
            check.problem("empty label files", str(path))
            return None
        times_arr, values_arr = np.asarray(times), np.asarray(values, dtype=np.float32)
        return {dim: shift_back(Contour(times_arr, values_arr[:, i]), self.delay_s)
                for i, dim in enumerate(self.dimensions)}

    def _turns(self, path: Path, check: Integrity) -> list[Word]:
        return self._timed(path, check, "recordings without transcription", "unparsable transcription lines")

    def _timed(self, path: Path, check: Integrity, missing: str, unparsable: str) -> list[Word]:
        """``start;end;text`` lines (a header line is skipped; quotes around the text are dropped)."""
        rows = _rows(path, self.delimiter, check, missing, maxsplit=2)
        out = []
        for number, row in rows or []:
            try:
                start, end = float(row[0]), float(row[1])
            except (ValueError, IndexError):
                if number > 1:
                    check.problem(unparsable, f"{path.name}:{number}")
                continue
            text = _unquote(row[2].strip()) if len(row) > 2 else ""
            if text:
                out.append(Word(start, end, text))
        return out


def split_turn(turn: Word) -> list[Word]:
    """A turn's white-space separated words, its time shared out in proportion to their
    character counts (an approximation of forced alignment)."""
    tokens = turn.text.split()
    edges = np.concatenate([[0], np.cumsum([len(t) for t in tokens])]) / max(sum(len(t) for t in tokens), 1)
    times = turn.start + edges * (turn.end - turn.start)
    return [Word(float(times[i]), float(times[i + 1]), t) for i, t in enumerate(tokens)]


def _unquote(text: str) -> str:
    """The text without one pair of surrounding single or double quotes."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1].strip()
    return text


def _rows(path: Path, delimiter: str, check: Integrity, missing: str, maxsplit: int = -1):
    """(line number, fields) of a delimited text file, or None when it is absent."""
    if not os.path.isfile(path):
        check.problem(missing, str(path))
        return None
    with open(path, encoding="utf-8", errors="replace") as handle:
        return [(n, line.rstrip("\r\n").split(delimiter, maxsplit)) for n, line in enumerate(handle, 1)
                if line.strip()]

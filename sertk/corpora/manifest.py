"""The user's own data, listed in a CSV manifest.

Columns: ``path`` (relative to the CSV's folder, or absolute) and ``speaker``
are required; the categorical label column is named by ``label_column``;
``group``, ``partition`` and ``id`` are used when present; numeric columns
named in ``dimensions`` become dimensional labels; ``text_column`` gives a
transcript.
"""
from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path
from typing import ClassVar, Optional

from ..errors import SertkError
from ..interfaces import Utterance
from ._base import LocalCorpus
from ._integrity import Integrity

DEFAULT_FILE = "manifest.csv"


class Manifest(LocalCorpus):
    """Utterances listed in a CSV file: path, speaker, label, optional group/partition/dimension columns."""

    name = "manifest"
    summary = "your own data from a CSV: path, speaker, label (+ group, partition, dimensions, text)"
    layout_hint = f"the CSV file (or the folder holding {DEFAULT_FILE})"
    speaker_required: ClassVar[bool] = True

    def __init__(self, root: str, label_column: Optional[str] = "emotion", dimensions: Optional[list[str]] = None,
                 text_column: Optional[str] = None, vocabulary: Optional[dict[str, str]] = None):
        self.root = root
        self.label_column = label_column
        self.dimensions = tuple(dimensions or ())
        self.text_column = text_column
        self.vocabulary = dict(vocabulary or {})

    def _csv(self) -> Path:
        path = Path(os.path.expanduser(self.root))
        path = path / DEFAULT_FILE if path.is_dir() else path
        if not path.is_file():
            raise SertkError(f"{self.name}: no manifest at {path}; set corpus.params.root to {self.layout_hint}")
        return path

    def _load(self, check: Integrity) -> list[Utterance]:
        path = self._csv()
        try:
            with open(path, newline="", encoding="utf-8-sig") as handle:
                text = handle.read()
        except UnicodeDecodeError as exc:
            check.fail(f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8")
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:  # one column, or nothing to tell the delimiter by
            dialect = csv.excel
        try:
            rows = list(csv.DictReader(io.StringIO(text), dialect=dialect))
        except csv.Error as exc:
            check.fail(f"{path} is not a readable CSV ({exc})")
        required = ["path", *(["speaker"] if self.speaker_required else []),
                    *[c for c in (self.label_column, self.text_column) if c], *self.dimensions]
        header = list(rows[0]) if rows else []
        missing = [c for c in required if c not in header]
        if not rows or missing:
            check.fail(f"{path} has no rows or lacks the columns {missing or required} (it has {header})")
        out, seen = [], set()
        for number, row in enumerate(rows, 2):
            utterance = self._row(row, path, f"{path.name}:{number}", check)
            if utterance is None:
                continue
            if utterance.id in seen:
                check.problem("duplicate ids", utterance.id)
                continue
            seen.add(utterance.id)
            out.append(utterance)
        return out

    def _row(self, row: dict, csv_path: Path, where: str, check: Integrity) -> Optional[Utterance]:
        relative = (row.get("path") or "").strip()
        audio = (csv_path.parent / relative).resolve() if relative else None
        if audio is None or not audio.is_file():
            check.problem("rows without audio", f"{where} {relative!r}")
            return None
        speaker = (row.get("speaker") or "").strip() or ("" if self.speaker_required else "unknown")
        if not speaker:
            check.problem("rows without speaker", where)
            return None
        labels: dict = {}
        if self.label_column:
            value = (row.get(self.label_column) or "").strip()
            if not value:
                check.problem("rows without label", where)
                return None
            labels["emotion"] = self.vocabulary.get(value, value)
        try:
            values = {dim: float(row[dim]) for dim in self.dimensions}
        except (ValueError, TypeError):
            values = None
        if values is None or not all(math.isfinite(v) for v in values.values()):
            check.problem("rows with missing, non-numeric or non-finite dimensions", where)
            return None
        labels.update(values)
        text = (row.get(self.text_column) or "").strip() if self.text_column else None
        if self.text_column and not text:
            check.problem("rows without text", where)
            return None
        return Utterance(
            id=(row.get("id") or "").strip() or os.path.splitext(relative)[0], speaker=speaker, path=str(audio),
            group=(row.get("group") or "").strip() or None, partition=(row.get("partition") or "").strip() or None,
            corpus=self.name, labels=labels, transcript=text or None)

    def _where(self) -> str:
        return str(self._csv())


class TranscribedManifest(Manifest):
    """Transcribed audio listed in a CSV file (path, text; optional speaker), e.g. for ASR training."""

    name = "transcribed_manifest"
    summary = "transcribed audio from a CSV (path, text; optional speaker, group, partition), e.g. for ASR"
    speaker_required = False

    def __init__(self, root: str, text_column: str = "text", label_column: Optional[str] = None,
                 dimensions: Optional[list[str]] = None, vocabulary: Optional[dict[str, str]] = None):
        super().__init__(root, label_column=label_column, dimensions=dimensions, text_column=text_column,
                         vocabulary=vocabulary)

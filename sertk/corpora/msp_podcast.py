"""MSP-Podcast: natural emotional speech from podcast recordings.

R. Lotfian, C. Busso, "Building naturalistic emotionally balanced speech
corpus by retrieving emotional speech from existing podcast recordings",
IEEE Trans. Affective Computing 10(4), 2019.  Layout of the release:
``Audios/*.wav``, ``Labels/labels_consensus.csv`` with columns FileName,
EmoClass (A S H U F D C N O, X = no agreement), EmoAct, EmoVal, EmoDom (1-7),
SpkrID, Gender, Split_Set (Train, Development, Test1, Test2, ...), and
optionally ``Transcripts/<name>.txt``.
"""
from __future__ import annotations

import csv
import os
from typing import Optional

from ..interfaces import Utterance
from ._base import LocalCorpus
from ._integrity import Integrity

COLUMNS = ("FileName", "EmoClass", "EmoAct", "EmoVal", "EmoDom", "SpkrID", "Gender", "Split_Set")
DIMENSIONS = {"EmoAct": "arousal", "EmoVal": "valence", "EmoDom": "dominance"}


class MSPPodcast(LocalCorpus):
    """MSP-Podcast (Lotfian & Busso, IEEE TAC 2019): consensus categories, arousal/valence/dominance 1-7, splits."""

    name = "msp_podcast"
    summary = "MSP-Podcast: podcast speech, consensus categories and A/V/D (1-7), official splits"
    layout_hint = "the MSP-Podcast folder holding Audios/ and Labels/labels_consensus.csv"
    vocabulary = {"A": "anger", "S": "sadness", "H": "happiness", "U": "surprise", "F": "fear", "D": "disgust",
                  "C": "contempt", "N": "neutral", "O": "other"}

    def __init__(self, root: str, labels_file: str = "Labels/labels_consensus.csv",
                 splits: Optional[list[str]] = None, keep_no_agreement: bool = False, transcripts: bool = False):
        self.root = root
        self.labels_file = labels_file
        self.splits = {s.lower() for s in splits} if splits else None
        self.keep_no_agreement = keep_no_agreement
        self.transcripts = transcripts

    def _load(self, check: Integrity) -> list[Utterance]:
        root = self._root()
        audio = self._root("Audios")
        labels = root / self.labels_file
        if not labels.is_file():
            check.fail(f"no label file {labels}; set corpus.params.root to {self.layout_hint} "
                       f"(or corpus.params.labels_file)")
        index = {name: os.path.join(folder, name)
                 for folder, _, names in os.walk(audio) for name in names if name.lower().endswith(".wav")}
        with open(labels, newline="", encoding="utf-8", errors="replace") as handle:
            rows = list(csv.DictReader(handle))
        missing = [c for c in COLUMNS if rows and c not in rows[0]]
        if not rows or missing:
            check.fail(f"{labels} has no rows or lacks the columns {missing or list(COLUMNS)}")
        out = []
        for number, row in enumerate(rows, 2):
            utterance = self._row(row, f"{labels.name}:{number}", index, check)
            if utterance is not None:
                out.append(utterance)
        return out

    def _row(self, row: dict, where: str, index: dict, check: Integrity) -> Optional[Utterance]:
        split = row["Split_Set"].strip().lower()
        if self.splits is not None and split not in self.splits:
            check.dropped(f"{split} segments")
            return None
        code = row["EmoClass"].strip()
        if code == "X" and not self.keep_no_agreement:
            check.dropped("segments without agreement (X)")
            return None
        if code not in self.vocabulary and code != "X":
            check.problem("unknown EmoClass codes", f"{where} {code!r}")
            return None
        try:
            labels = {name: float(row[column]) for column, name in DIMENSIONS.items()}
        except ValueError:
            check.problem("unparsable label rows", where)
            return None
        if code != "X":
            labels["emotion"] = self.vocabulary[code]
        name = row["FileName"].strip()
        if name not in index:
            check.problem("label rows without audio", name)
            return None
        speaker = row["SpkrID"].strip()
        return Utterance(
            id=os.path.splitext(name)[0], speaker="unknown" if speaker.lower() == "unknown" else speaker,
            path=index[name], partition=split, corpus=self.name, labels=labels,
            transcript=self._transcript(name, check) if self.transcripts else None,
            meta={"gender": row["Gender"].strip().lower() or None})

    def _transcript(self, name: str, check: Integrity) -> Optional[str]:
        path = os.path.join(os.path.expanduser(self.root), "Transcripts", os.path.splitext(name)[0] + ".txt")
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                return handle.read().strip()
        except OSError:
            check.problem("segments without transcript", name)
            return None

"""CREMA-D, the Crowd-sourced Emotional Multimodal Actors Dataset.

H. Cao, D. G. Cooper, M. K. Keutmann, R. C. Gur, A. Nenkova, R. Verma,
"CREMA-D: Crowd-sourced Emotional Multimodal Actors Dataset", IEEE Trans.
Affective Computing 5(4), 2014: 91 actors, 12 sentences, 6 emotions, 7442
clips ``AudioWAV/AAAA_SSS_EMO_LVL.wav`` (actor, sentence, emotion, intensity
LO/MD/HI or XX unspecified).  Labels are the acted (intended) emotions;
``VideoDemographics.csv`` (ActorID, Age, Sex, Race, Ethnicity), when present,
gives each actor's sex.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Optional

from ..interfaces import Utterance
from ._base import LocalCorpus
from ._integrity import Integrity

_NAME = re.compile(r"^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})$")
SENTENCES = {
    "IEO": "It's eleven o'clock", "TIE": "That is exactly what happened", "IOM": "I'm on my way to the meeting",
    "IWW": "I wonder what this is about", "TAI": "The airplane is almost full",
    "MTI": "Maybe tomorrow it will be cold", "IWL": "I would like a new alarm clock",
    "ITH": "I think I have a doctor's appointment", "DFA": "Don't forget a jacket",
    "ITS": "I think I've seen this before", "TSI": "The surface is slick", "WSI": "We'll stop in a couple of minutes",
}
LEVELS = ("LO", "MD", "HI", "XX")
FULL_SIZE = 7442


class CremaD(LocalCorpus):
    """CREMA-D (Cao et al., IEEE TAC 2014): 91 actors, 6 acted emotions, 7442 clips."""

    name = "crema_d"
    summary = "CREMA-D: 7442 clips of 91 actors, 6 acted emotions"
    layout_hint = "the CREMA-D folder holding AudioWAV/"
    vocabulary = {"ANG": "anger", "DIS": "disgust", "FEA": "fear", "HAP": "happiness", "NEU": "neutral",
                  "SAD": "sadness"}

    def __init__(self, root: str, levels: Optional[list[str]] = None):
        self.root = root
        bad = [lvl for lvl in levels or () if lvl not in LEVELS]
        if bad:
            raise ValueError(f"levels must be among {', '.join(LEVELS)}; got {bad}")
        self.levels = tuple(levels) if levels else LEVELS

    def _load(self, check: Integrity) -> list[Utterance]:
        audio = self._root("AudioWAV")
        files = sorted(p for p in audio.iterdir() if p.suffix.lower() == ".wav")
        if not files:
            check.fail(f"no wav files under {audio}; set corpus.params.root to {self.layout_hint}")
        sexes = _sexes(audio.parent / "VideoDemographics.csv", check)
        out = []
        for path in files:
            match = _NAME.match(path.stem)
            if not match or match.group(3) not in self.vocabulary:
                check.problem("wav files not named AAAA_SSS_EMO_LVL", path.name)
                continue
            actor, sentence, emotion, level = match.groups()
            if level not in self.levels:
                check.dropped(f"{level}-level clips")
                continue
            out.append(Utterance(
                id=path.stem, speaker=actor, path=str(path), corpus=self.name,
                labels={"emotion": self.vocabulary[emotion]}, transcript=SENTENCES.get(sentence),
                meta={"gender": sexes.get(actor), "sentence": sentence, "level": level}))
        if self.levels == LEVELS:
            check.expect(len(out), FULL_SIZE, "clips")
        return out


def _sexes(path: Path, check: Integrity) -> dict[str, str]:
    if not path.is_file():
        return {}
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        rows = list(csv.DictReader(handle))
    if rows and not {"ActorID", "Sex"} <= set(rows[0]):
        check.problem("demographics files without ActorID/Sex columns", str(path))
        return {}
    return {row["ActorID"].strip(): row["Sex"].strip().lower() for row in rows}

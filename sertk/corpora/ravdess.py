"""RAVDESS, the Ryerson Audio-Visual Database of Emotional Speech and Song.

S. R. Livingstone, F. A. Russo, "The Ryerson Audio-Visual Database of
Emotional Speech and Song (RAVDESS)", PLoS ONE 13(5), 2018: 24 actors
(odd numbers male), two statements, 8 emotions (neutral and calm at normal
intensity only), files ``Actor_XX/MM-VV-EE-II-SS-RR-AA.wav`` (modality,
vocal channel 01 speech / 02 song, emotion, intensity 01 normal / 02 strong,
statement, repetition, actor).  The speech zip holds 1440 files, the song
zip 1012.
"""
from __future__ import annotations

import re
from typing import Literal

from ..interfaces import Utterance
from ._base import LocalCorpus
from ._integrity import Integrity

_NAME = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")
CHANNELS = {"01": "speech", "02": "song"}
INTENSITIES = {"01": "normal", "02": "strong"}
STATEMENTS = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}
FULL_SIZE = {"speech": 1440, "song": 1012}


class RAVDESS(LocalCorpus):
    """RAVDESS (Livingstone & Russo, PLoS ONE 2018): 24 North-American actors, 8 emotions, speech and song."""

    name = "ravdess"
    summary = "RAVDESS: 24 actors, 8 emotions, speech (1440 files) and song (1012)"
    layout_hint = "the folder holding the Actor_01..Actor_24 folders"
    vocabulary = {"01": "neutral", "02": "calm", "03": "happiness", "04": "sadness", "05": "anger", "06": "fear",
                  "07": "disgust", "08": "surprise"}

    def __init__(self, root: str, channel: Literal["speech", "song", "both"] = "speech",
                 intensity: Literal["all", "normal", "strong"] = "all"):
        self.root = root
        self.channel = channel
        self.intensity = intensity

    def _load(self, check: Integrity) -> list[Utterance]:
        root = self._root()
        files = sorted(p for p in root.rglob("*.wav") if p.parent.name.startswith("Actor_"))
        if not files:
            check.fail(f"no Actor_XX/*.wav files under {root}; set corpus.params.root to {self.layout_hint}")
        seen: set[str] = set()
        out = []
        for path in files:
            match = _NAME.match(path.stem)
            if not match or match.group(3) not in self.vocabulary or match.group(2) not in CHANNELS:
                check.problem("wav files not named MM-VV-EE-II-SS-RR-AA", path.name)
                continue
            _modality, channel, emotion, intensity, statement, repetition, actor = match.groups()
            channel, intensity = CHANNELS[channel], INTENSITIES.get(intensity, intensity)
            if self.channel != "both" and channel != self.channel:
                check.dropped(f"{channel} files")
                continue
            if self.intensity != "all" and intensity != self.intensity:
                check.dropped(f"{intensity}-intensity files")
                continue
            if path.stem in seen:
                check.problem("duplicate files", str(path))
                continue
            seen.add(path.stem)
            out.append(Utterance(
                id=path.stem, speaker=f"Actor_{actor}", path=str(path), corpus=self.name,
                labels={"emotion": self.vocabulary[emotion]}, transcript=STATEMENTS.get(statement),
                meta={"gender": "male" if int(actor) % 2 else "female", "channel": channel,
                      "intensity": intensity, "statement": statement, "repetition": repetition}))
        if self.intensity == "all" and self.channel in FULL_SIZE:
            check.expect(len(out), FULL_SIZE[self.channel], f"{self.channel} files")
        return out

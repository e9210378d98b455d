"""EMOVO, the Italian emotional speech corpus.

G. Costantini, I. Iaderola, A. Paoloni, M. Todisco, "EMOVO Corpus: an Italian
Emotional Speech Database", LREC 2014: 6 actors (f1-f3, m1-m3), 14 sentences,
7 emotions, 588 files ``<speaker>/<emo>-<speaker>-<sentence>.wav`` with the
Italian emotion codes dis (disgusto), gio (gioia), neu, pau (paura), rab
(rabbia), sor (sorpresa), tri (tristezza).
"""
from __future__ import annotations

import re

from ..interfaces import Utterance
from ._base import LocalCorpus
from ._integrity import Integrity

_NAME = re.compile(r"^([a-z]{3})-([fm]\d)-(\w+)$")
SPEAKERS = ("f1", "f2", "f3", "m1", "m2", "m3")
FULL_SIZE = 588


class EMOVO(LocalCorpus):
    """EMOVO (Costantini et al., LREC 2014): 588 Italian acted utterances, 7 emotions, 6 speakers."""

    name = "emovo"
    summary = "EMOVO: 588 acted Italian utterances, 7 emotions, 6 speakers"
    layout_hint = "the EMOVO folder holding the speaker folders f1 f2 f3 m1 m2 m3"
    vocabulary = {"dis": "disgust", "gio": "happiness", "neu": "neutral", "pau": "fear", "rab": "anger",
                  "sor": "surprise", "tri": "sadness"}

    def __init__(self, root: str):
        self.root = root

    def _load(self, check: Integrity) -> list[Utterance]:
        root = self._root()
        folders = [p for p in sorted(root.iterdir()) if p.is_dir() and p.name.lower() in SPEAKERS]
        files = [p for folder in folders for p in sorted(folder.iterdir()) if p.suffix.lower() == ".wav"]
        if not files:
            check.fail(f"no <speaker>/*.wav files under {root}; set corpus.params.root to {self.layout_hint}")
        out = []
        for path in files:
            match = _NAME.match(path.stem.lower())
            if not match or match.group(1) not in self.vocabulary:
                check.problem("wav files not named emo-speaker-sentence", path.name)
                continue
            emotion, speaker, sentence = match.groups()
            if speaker != path.parent.name.lower():
                check.problem("files in another speaker's folder", str(path))
            out.append(Utterance(
                id=path.stem, speaker=speaker, path=str(path), corpus=self.name,
                labels={"emotion": self.vocabulary[emotion]},
                meta={"gender": "female" if speaker.startswith("f") else "male", "sentence": sentence}))
        check.expect(len(out), FULL_SIZE, "files")
        return out

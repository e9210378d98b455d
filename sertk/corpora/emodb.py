"""EmoDB, the Berlin Database of Emotional Speech, in its distribution layout.

F. Burkhardt, A. Paeschke, M. Rolfes, W. Sendlmeier, B. Weiss, "A Database of
German Emotional Speech", Interspeech 2005: 10 actors (5 female, 5 male),
10 sentences, 7 emotions, 535 utterances in ``wav/`` named ``SSTTTEV.wav``
(speaker, text, emotion letter, version).
"""
from __future__ import annotations

import re

from ..interfaces import Utterance
from ._base import LocalCorpus
from ._integrity import Integrity

_NAME = re.compile(r"^(\d\d)([ab]\d\d)([A-Z])([a-z])$")

FEMALE = frozenset({"08", "09", "13", "14", "16"})
MALE = frozenset({"03", "10", "11", "12", "15"})

# The ten sentences, by text code (Burkhardt et al. 2005).
TEXTS = {
    "a01": "Der Lappen liegt auf dem Eisschrank.",
    "a02": "Das will sie am Mittwoch abgeben.",
    "a04": "Heute abend könnte ich es ihm sagen.",
    "a05": "Das schwarze Blatt Papier befindet sich da oben neben dem Holzstück.",
    "a07": "In sieben Stunden wird es soweit sein.",
    "b01": "Was sind denn das für Tüten, die da unter dem Tisch stehen?",
    "b02": "Sie haben es gerade hochgetragen und jetzt gehen sie wieder runter.",
    "b03": "An den Wochenenden bin ich jetzt immer nach Hause gefahren und habe Agnes besucht.",
    "b09": "Ich will das eben wegbringen und dann mit Karl was trinken gehen.",
    "b10": "Die wird auf dem Platz sein, wo wir sie immer hinlegen.",
}

FULL_SIZE = 535


class EmoDB(LocalCorpus):
    """EmoDB (Burkhardt et al., Interspeech 2005): 535 German acted utterances, 7 emotions, 10 speakers."""

    name = "emodb"
    summary = "EmoDB (Berlin): 535 acted German utterances, 7 emotions, 10 speakers"
    layout_hint = "the EmoDB folder holding wav/"
    # German emotion initials: Wut, Langeweile, Ekel, Angst, Freude, Trauer, Neutral.
    vocabulary = {"W": "anger", "L": "boredom", "E": "disgust", "A": "fear", "F": "happiness", "T": "sadness",
                  "N": "neutral"}

    def __init__(self, root: str):
        self.root = root

    def _load(self, check: Integrity) -> list[Utterance]:
        wav = self._root("wav")
        files = sorted(p for p in wav.iterdir() if p.suffix.lower() == ".wav")
        if not files:
            check.fail(f"no wav files under {wav}; set corpus.params.root to {self.layout_hint}")
        out = []
        for path in files:
            match = _NAME.match(path.stem)
            if not match:
                check.problem("wav files not named SSTTTEV", path.name)
                continue
            speaker, text, letter, version = match.groups()
            if letter not in self.vocabulary:
                check.problem("unknown emotion letters", path.name)
                continue
            if speaker not in FEMALE | MALE:
                check.problem("unknown speakers", path.name)
            out.append(Utterance(
                id=path.stem, speaker=speaker, path=str(path), corpus=self.name,
                labels={"emotion": self.vocabulary[letter]}, transcript=TEXTS.get(text),
                meta={"gender": "female" if speaker in FEMALE else "male" if speaker in MALE else None,
                      "text": text, "version": version}))
        check.expect(len(out), FULL_SIZE, "utterances")
        return out

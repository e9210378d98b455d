"""IEMOCAP in the layout of its full release.

C. Busso et al., "IEMOCAP: interactive emotional dyadic motion capture
database", Language Resources and Evaluation 42(4), 2008: 5 sessions of one
female and one male actor, 10039 turns rated by three external evaluators
(categories and valence/activation/dominance on 1-5) plus the actor's own
self-assessment.

Label subsets used in the literature:

* ``classes="4class"`` with the default merge of excitement into happiness:
  neutral, anger, sadness, happiness+excited on the majority label (5531
  turns), the common 4-class setup.
* ``classes="6class_zhao", agreement="all", improvised_only=True``: J. Zhao,
  X. Mao, L. Chen, "Speech emotion recognition using deep 1D & 2D CNN LSTM
  networks", Biomedical Signal Processing and Control 47 (2019), Sec. 3.5:
  improvised turns on which all evaluators agree, six classes anger,
  excitement, frustration, happiness, neutral, sadness.
* ``classes=None, dimensions_from="E2"``: I. Wieser, P. Barros, S. Heinrich,
  S. Wermter, "Understanding auditory representations of emotional
  expressions with neural networks", Neural Computing and Applications 32
  (2020): valence, arousal and dominance (1-5) of evaluator E-2 only.
"""
from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path
from typing import Literal, Optional, Union

from ..errors import unknown
from ..interfaces import Utterance, Word
from ..labels import SHARED
from ._base import LocalCorpus
from ._integrity import Integrity
from .iemocap_files import CODES, Turn, parse_evaluation, parse_transcriptions, parse_wdseg

PRESETS: dict[str, Optional[tuple[str, ...]]] = {
    "4class": ("anger", "happiness", "neutral", "sadness"),
    "6class_zhao": ("anger", "excitement", "frustration", "happiness", "neutral", "sadness"),
    "all": None,  # every category that passes the agreement rule
}
FULL_TURNS = 10039
SESSIONS = (1, 2, 3, 4, 5)
_EVALUATOR = re.compile(r"^[EFM]\d+$")


class IEMOCAP(LocalCorpus):
    """IEMOCAP (Busso et al., LRE 2008), five sessions of dyadic acted speech.

    Agreement rules for the categorical label, over the external evaluators
    (E1..E6; the actor's self-assessment F1/M1 is not counted):

    * ``majority``: the header label of the EmoEvaluation file (the release's
      own majority vote); ``xxx`` turns (no majority) are left out.
    * ``two``: the category named by the most external evaluators, if at
      least two name it and no other category is named as often.  Categories
      are compared as written, before any merge.
    * ``all`` (prototypical): every external evaluator (at least two) names
      the same single category; a turn where the evaluators share more than
      one category is ambiguous and left out.

    Dimensions are the evaluators' mean from the header (``"mean"``) or one
    evaluator's ``A-`` line (e.g. ``"E2"``); turns that evaluator did not rate
    are left out and counted.
    """

    name = "iemocap"
    summary = "IEMOCAP: 10039 dyadic acted turns, 10 speakers; categories, V/A/D, transcripts"
    layout_hint = "the IEMOCAP_full_release folder holding Session1..Session5"
    vocabulary = {code: name for code, name in CODES.items() if name}

    def __init__(self, root: str,
                 classes: Union[Literal["4class", "6class_zhao", "all"], list[str], None] = "4class",
                 merge_excitement: Optional[bool] = None,
                 agreement: Literal["majority", "two", "all"] = "majority",
                 improvised_only: bool = False,
                 dimensions_from: Optional[str] = "mean",
                 transcripts: bool = True,
                 word_timings: bool = False,
                 sessions: Optional[list[int]] = None):
        self.root = root
        self.categorical = classes is not None
        self.classes = _class_set(classes)  # None: every category
        if merge_excitement is None:
            merge_excitement = self.categorical and self.classes is not None and "excitement" not in self.classes
        if merge_excitement and self.classes and "excitement" in self.classes:
            raise ValueError("merge_excitement cannot be true when the classes include excitement")
        self.merge_excitement = merge_excitement
        self.agreement = agreement
        self.improvised_only = improvised_only
        if dimensions_from is not None and dimensions_from != "mean" and not _EVALUATOR.match(dimensions_from):
            raise ValueError(f"dimensions_from must be 'mean', an evaluator id such as 'E2', or null; "
                             f"got {dimensions_from!r}")
        self.dimensions_from = dimensions_from
        self.transcripts = transcripts
        self.word_timings = word_timings
        self.sessions = tuple(sessions) if sessions else SESSIONS
        bad = [s for s in self.sessions if s not in SESSIONS]
        if bad:
            raise ValueError(f"sessions must be among 1..5, got {bad}")

    # ------------------------------------------------------------------ loading
    def _load(self, check: Integrity) -> list[Utterance]:
        root = self._root()
        out: list[Utterance] = []
        parsed = 0
        for session in self.sessions:
            folder = root / f"Session{session}"
            evaluation = folder / "dialog" / "EmoEvaluation"
            if not evaluation.is_dir():
                check.problem("sessions without dialog/EmoEvaluation", str(evaluation))
                continue
            for path in sorted(evaluation.glob("Ses*.txt")):
                dialog = path.stem
                turns = parse_evaluation(path.read_text(encoding="utf-8", errors="replace"), path.name, check)
                parsed += len(turns)
                out.extend(self._dialog(folder, session, dialog, turns, check))
        if parsed == 0:
            check.fail(f"no EmoEvaluation turns under {root}/Session*/dialog/EmoEvaluation; "
                       f"set corpus.params.root to {self.layout_hint}")
        if self.sessions == SESSIONS:
            check.expect(parsed, FULL_TURNS, "turns")
        return out

    def _dialog(self, folder: Path, session: int, dialog: str, turns: list[Turn],
                check: Integrity) -> list[Utterance]:
        improvised = "_impro" in dialog
        if self.improvised_only and not improvised:
            check.dropped("scripted turns", len(turns))
            return []
        wav_dir = folder / "sentences" / "wav" / dialog
        present = set(os.listdir(wav_dir)) if wav_dir.is_dir() else set()
        texts = self._transcripts(folder, dialog, check) if self.transcripts else {}
        out = []
        for turn in turns:
            labels = self._labels(turn, check)
            if labels is None:
                continue
            if f"{turn.id}.wav" not in present:
                check.problem("turns without audio", turn.id)
                continue
            if self.transcripts and turn.id not in texts:
                check.problem("turns without transcript", turn.id)
            gender = turn.id.rsplit("_", 1)[-1][:1]
            out.append(Utterance(
                id=turn.id, speaker=f"Ses0{session}{gender}", path=str(wav_dir / f"{turn.id}.wav"),
                group=f"Ses0{session}", corpus=self.name, labels=labels, transcript=texts.get(turn.id),
                words=self._words(folder, dialog, turn.id, check) if self.word_timings else [],
                meta={"dialog": dialog, "improvised": improvised, "gender": "female" if gender == "F" else "male",
                      "start": turn.start, "end": turn.end}))
        return out

    def _labels(self, turn: Turn, check: Integrity) -> Optional[dict]:
        labels: dict = {}
        if self.categorical:
            emotion = agreed(turn, self.agreement)
            if emotion is None:
                check.dropped(f"turns without {self.agreement} agreement")
                return None
            if self.merge_excitement and emotion == "excitement":
                emotion = "happiness"
            if self.classes is not None and emotion not in self.classes:
                check.dropped("turns outside the classes")
                return None
            labels["emotion"] = emotion
        if self.dimensions_from == "mean":
            labels.update(turn.mean)
        elif self.dimensions_from:
            rated = turn.dimensions.get(self.dimensions_from)
            if rated is None:
                check.dropped(f"turns not rated by {self.dimensions_from}")
                return None
            labels.update(rated)
        return labels

    def _transcripts(self, folder: Path, dialog: str, check: Integrity) -> dict[str, str]:
        path = folder / "dialog" / "transcriptions" / f"{dialog}.txt"
        if not path.is_file():
            check.problem("dialogs without transcription file", str(path))
            return {}
        return parse_transcriptions(path.read_text(encoding="utf-8", errors="replace"))

    def _words(self, folder: Path, dialog: str, utt: str, check: Integrity) -> list[Word]:
        path = folder / "sentences" / "ForcedAlignment" / dialog / f"{utt}.wdseg"
        if not path.is_file():
            check.problem("turns without word alignment", utt)
            return []
        return parse_wdseg(path.read_text(encoding="utf-8", errors="replace"))


def agreed(turn: Turn, rule: str) -> Optional[str]:
    """The categorical label of ``turn`` under an agreement rule, or None."""
    if rule == "majority":
        return turn.majority
    ratings = [set(names) for evaluator, names in turn.categories.items() if evaluator.startswith("E")]
    if rule == "two":
        counts = Counter(name for names in ratings for name in names)
        if not counts:
            return None
        (best, n), *rest = counts.most_common()
        return best if n >= 2 and not (rest and rest[0][1] == n) else None
    if rule == "all":
        if len(ratings) < 2:
            return None
        common = set.intersection(*ratings)
        return common.pop() if len(common) == 1 else None
    raise ValueError(unknown("agreement rule", rule, ["majority", "two", "all"]))


def _class_set(classes) -> Optional[tuple[str, ...]]:
    """The classes a preset or list names; None for every category (or no categories)."""
    if classes is None:
        return None
    if isinstance(classes, str):
        if classes not in PRESETS:
            raise ValueError(unknown("class preset", classes, PRESETS))
        return PRESETS[classes]
    for name in classes:
        if name not in SHARED:
            raise ValueError(unknown("shared emotion name", name, SHARED))
    return tuple(classes)

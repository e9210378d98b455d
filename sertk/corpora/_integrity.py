"""What a corpus loader found wrong, collected while parsing and told in one line."""
from __future__ import annotations

from collections import Counter
from typing import NoReturn, Sequence

from ..errors import SertkError
from ..interfaces import Utterance


class Integrity:
    """Counts problems by kind (keeping the first example of each) and notes.

    ``problem("turns without audio", "Ses01F_impro01_F000")`` counts one
    occurrence; :meth:`summary` turns everything into one line such as
    ``iemocap: 7 utterances, 3 speakers; emotion: anger 1, ...; left out:
    1 turns without majority agreement; problems: 1 turns without audio
    (first: Ses01F_impro01_F000)``.
    """

    def __init__(self, corpus: str) -> None:
        self.corpus = corpus
        self._counts: Counter[str] = Counter()
        self._first: dict[str, str] = {}
        self._dropped: Counter[str] = Counter()
        self._notes: list[str] = []

    def problem(self, kind: str, example: str) -> None:
        """Something that looks wrong in the data (missing file, unparsable line)."""
        self._counts[kind] += 1
        self._first.setdefault(kind, str(example))

    def dropped(self, reason: str, n: int = 1) -> None:
        """Data left out on purpose by the loader's options (not a problem)."""
        self._dropped[reason] += n

    def note(self, text: str) -> None:
        self._notes.append(text)

    def expect(self, found: int, expected: int, what: str) -> None:
        """Note a count that differs from the full corpus's documented size."""
        if found != expected:
            self.note(f"found {found} {what} where the full corpus has {expected}")

    def count(self, kind: str) -> int:
        return self._counts[kind]

    def fail(self, message: str) -> NoReturn:
        raise SertkError(f"{self.corpus}: {message}")

    def problems_text(self) -> str:
        return ", ".join(f"{n} {kind} (first: {self._first[kind]})" for kind, n in self._counts.items())

    def details(self) -> str:
        """What was left out, what looked wrong, and the notes."""
        parts = []
        if self._dropped:
            parts.append("left out: " + ", ".join(f"{n} {why}" for why, n in self._dropped.items()))
        parts.append(f"problems: {self.problems_text()}" if self._counts else "no problems found")
        parts.extend(self._notes)
        return "; ".join(parts)

    def summary(self, utterances: Sequence[Utterance], key: str = "emotion") -> str:
        speakers = len({u.speaker for u in utterances})
        parts = [f"{self.corpus}: {len(utterances)} utterances, {speakers} speakers"]
        classes = Counter(u.labels[key] for u in utterances if isinstance(u.labels.get(key), str))
        if classes:
            parts.append(f"{key}: " + ", ".join(f"{c} {n}" for c, n in sorted(classes.items())))
        parts.append(self.details())
        return "; ".join(parts)

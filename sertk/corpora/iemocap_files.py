"""Parsers for the IEMOCAP release's text files.

``dialog/EmoEvaluation/<dialog>.txt``: one block per turn, a header line
``[START - END]<TAB>UTT_ID<TAB>EMO<TAB>[V, A, D]`` followed by one line per
evaluator for categories (``C-E2:<TAB>Neutral;<TAB>()``) and for dimensions
(``A-E2:<TAB>val 3; act 2; dom  2;<TAB>()``).
``dialog/transcriptions/<dialog>.txt``: ``UTT_ID [START-END]: text``.
``sentences/ForcedAlignment/<dialog>/<utt>.wdseg``: Sphinx word segmentation,
frames of 10 ms.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from ..interfaces import Word
from ._integrity import Integrity

_HEADER = re.compile(r"^\[\s*([\d.]+)\s*-\s*([\d.]+)\s*\]\s+(\S+)\s+(\w+)\s+\[\s*([\d.]+),\s*([\d.]+),\s*([\d.]+)\s*\]")
_RATING = re.compile(r"^([CA])-([A-Z]+\d*):\s*(.*)$")
_DIMENSION = {"valence": re.compile(r"\bval\s+([\d.]+)"), "arousal": re.compile(r"\bact\s+([\d.]+)"),
              "dominance": re.compile(r"\bdom\s+([\d.]+)")}
_TRANSCRIPT = re.compile(r"^(\S+)\s+\[[\d.]+-[\d.]+\]:\s?(.*)$")

# Header codes (the majority label) and evaluator category names, in the shared vocabulary.
CODES = {"neu": "neutral", "fru": "frustration", "ang": "anger", "sad": "sadness", "hap": "happiness",
         "exc": "excitement", "sur": "surprise", "fea": "fear", "dis": "disgust", "oth": "other", "xxx": None}
CATEGORIES = {"neutral": "neutral", "neutral state": "neutral", "frustration": "frustration", "anger": "anger",
              "sadness": "sadness", "happiness": "happiness", "excited": "excitement", "surprise": "surprise",
              "fear": "fear", "disgust": "disgust", "other": "other"}
WDSEG_FRAME_S = 0.01


@dataclass
class Turn:
    """One rated turn of an EmoEvaluation file."""

    id: str
    start: float
    end: float
    majority: Optional[str]                      # shared name, None for "xxx" (no majority)
    mean: dict[str, float]                       # evaluators' mean valence/arousal/dominance
    categories: dict[str, list[str]] = field(default_factory=dict)        # evaluator -> shared names
    dimensions: dict[str, dict[str, float]] = field(default_factory=dict)  # evaluator -> dimension values


def parse_evaluation(text: str, source: str, check: Integrity) -> list[Turn]:
    """The turns of one EmoEvaluation file; bad lines are reported to ``check``."""
    turns: list[Turn] = []
    current: Optional[Turn] = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        where = f"{source}:{number}"
        rating = _RATING.match(line)
        if line.startswith("["):
            current = _header(line)
            if current is None:
                check.problem("unparsable turn lines", where)
            else:
                turns.append(current)
        elif rating:
            kind, evaluator, body = rating.groups()
            if current is None:
                check.problem("rating lines without a turn", where)
            elif kind == "C":
                _categories(current, evaluator, body, where, check)
            else:
                _dimensions(current, evaluator, body, where, check)
    return turns


def _header(line: str) -> Optional[Turn]:
    match = _HEADER.match(line)
    if not match or match.group(4) not in CODES:
        return None
    start, end, utt, code, v, a, d = match.groups()
    return Turn(utt, float(start), float(end), CODES[code],
                {"valence": float(v), "arousal": float(a), "dominance": float(d)})


def _categories(turn: Turn, evaluator: str, body: str, where: str, check: Integrity) -> None:
    names = []
    for token in body.split("\t")[0].split(";"):
        token = token.strip().lower()
        if not token:
            continue
        name = CATEGORIES.get(token) or ("other" if token.startswith("other") else None)
        if name is None:
            check.problem("unknown evaluator categories", f"{where} {token!r}")
            name = "other"
        if name not in names:
            names.append(name)
    if names:
        turn.categories[evaluator] = names
    else:
        check.problem("empty category ratings", where)


def _dimensions(turn: Turn, evaluator: str, body: str, where: str, check: Integrity) -> None:
    values = {}
    for dim, pattern in _DIMENSION.items():
        match = pattern.search(body)
        if match is None:
            check.problem("incomplete dimension ratings", where)
            return
        values[dim] = float(match.group(1))
    turn.dimensions[evaluator] = values


def parse_transcriptions(text: str) -> dict[str, str]:
    """Utterance id -> transcript; lines of unlabelled segments are kept too (harmless)."""
    out = {}
    for line in text.splitlines():
        match = _TRANSCRIPT.match(line.strip())
        if match:
            out[match.group(1)] = match.group(2).strip()
    return out


def parse_wdseg(text: str) -> list[Word]:
    """Word timings from a Sphinx ``.wdseg`` file, without silences and noise tokens."""
    words = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 4 or not parts[0].isdigit() or not parts[1].isdigit():
            continue
        token = re.sub(r"\(\d+\)$", "", parts[3])
        if token.startswith(("<", "+")):
            continue
        words.append(Word(int(parts[0]) * WDSEG_FRAME_S, (int(parts[1]) + 1) * WDSEG_FRAME_S, token))
    return words

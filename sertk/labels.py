"""The shared emotion vocabulary and label harmonisation across corpora.

Every corpus names its categorical ``emotion`` labels with the shared English
names below and declares, in its ``vocabulary``, how its native codes map onto
them (e.g. EmoDB ``W`` -> ``anger``).  :func:`harmonise` brings the
utterances of any corpus onto one label set, so that a recipe can train on one
corpus and test on another with e.g. the four classes common to most corpora.
"""
from __future__ import annotations

import dataclasses
from typing import Iterable, Mapping, Optional, Sequence, Union

from .errors import unknown
from .interfaces import Utterance

SHARED: tuple[str, ...] = ("anger", "happiness", "sadness", "neutral", "fear", "disgust", "surprise", "boredom",
                           "calm", "frustration", "excitement", "contempt", "other")

LABEL_SETS: dict[str, tuple[str, ...]] = {
    # The four classes most SER corpora share (IEMOCAP's common set, with excitement merged into happiness).
    "common4": ("anger", "happiness", "sadness", "neutral"),
    # Ekman's six basic emotions.
    "basic6": ("anger", "disgust", "fear", "happiness", "sadness", "surprise"),
    # The seven EmoDB classes.
    "emodb7": ("anger", "boredom", "disgust", "fear", "happiness", "neutral", "sadness"),
    # The eight RAVDESS classes.
    "ravdess8": ("neutral", "calm", "happiness", "sadness", "anger", "fear", "disgust", "surprise"),
}

# Merges the literature applies when a label set lacks the source class
# (IEMOCAP 4-class work counts "excited" as happiness).
DEFAULT_MERGES: dict[str, str] = {"excitement": "happiness"}

LabelSet = Union[str, Sequence[str]]


def resolve_label_set(label_set: LabelSet) -> tuple[str, ...]:
    """The classes of a named label set, or a validated list of shared names."""
    if isinstance(label_set, str):
        if label_set not in LABEL_SETS:
            raise ValueError(unknown("label set", label_set, LABEL_SETS))
        return LABEL_SETS[label_set]
    classes = tuple(label_set)
    if not classes:
        raise ValueError("a label set needs at least one class")
    for name in classes:
        if name not in SHARED:
            raise ValueError(unknown("shared emotion name", name, SHARED))
    if len(set(classes)) != len(classes):
        raise ValueError(f"label set {list(classes)} names a class twice")
    return classes


def to_shared(value: str, vocabulary: Mapping[str, str]) -> str:
    """A corpus label in the shared vocabulary (shared names pass through)."""
    return vocabulary.get(value, value)


def harmonise(utterances: Iterable[Utterance], vocabulary: Mapping[str, str], label_set: LabelSet,
              merge: Optional[Mapping[str, str]] = None, key: str = "emotion") -> list[Utterance]:
    """Map each utterance's ``key`` label onto ``label_set``; drop the rest.

    A label is first mapped through the corpus ``vocabulary`` (native code to
    shared name), then through ``merge`` (default :data:`DEFAULT_MERGES`) when
    the label set does not contain it itself.  Utterances whose label is still
    outside the set, or that have no such label, are left out.  The input
    records are not modified; the kept ones are copies with the new label.
    """
    classes = resolve_label_set(label_set)
    merge = DEFAULT_MERGES if merge is None else merge
    kept = []
    for utt in utterances:
        value = utt.labels.get(key)
        if not isinstance(value, str):
            continue
        name = to_shared(value, vocabulary)
        if name not in classes:
            name = merge.get(name, name)
        if name in classes:
            kept.append(dataclasses.replace(utt, labels={**utt.labels, key: name}))
    return kept

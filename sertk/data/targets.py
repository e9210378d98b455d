"""Training targets of one segment for one head: labels, contours at their own
frame rate, and token sequences (transcript characters or alignment units).

Time-aligned targets are cut to the segment's audio: a contour keeps the
frames whose time lies inside the segment, a token sequence the units whose
midpoint does (so on audio cut at 2.0 s, units after 2.0 s are dropped).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..interfaces import TRANSCRIPT, Head, Utterance

MISSING_CLASS = -1
"""The class index of a label an utterance lacks (``data.missing_labels: mask``); a missing
value is NaN and a missing contour has no frames."""

_NON_TEXT = re.compile(r"[^\w' ]+|_|\d")
_SPACES = re.compile(r"\s+")


@dataclass
class FrameTarget:
    """A contour cut to one segment: ``values`` at ``times`` (seconds from the
    segment start), ``rate`` label frames per second."""

    times: np.ndarray
    values: np.ndarray
    rate: float

    def stretched(self, factor: float) -> "FrameTarget":
        """The same labels on audio made ``factor`` times longer (tempo augmentation)."""
        return FrameTarget(self.times * factor, self.values, self.rate / factor)


def normalize_text(text: str) -> str:
    """Lower-case letters, apostrophes and single spaces (NFC); punctuation and digits dropped."""
    text = _NON_TEXT.sub(" ", unicodedata.normalize("NFC", text).lower())
    return _SPACES.sub(" ", text).strip()


def has_target(utt: Utterance, head: Head) -> bool:
    """Whether ``utt`` carries what ``head`` is trained on."""
    key = head.label_key
    if head.kind == "sequence":
        return bool(utt.transcript) if key == TRANSCRIPT else bool(utt.alignments.get(key))
    if head.level == "frame":
        return key in utt.contours and bool(np.isfinite(utt.contours[key].values).any())
    value = utt.labels.get(key)
    return value is not None and (isinstance(value, str) or bool(np.isfinite(float(value))))


def maskable(head: Head) -> bool:
    """Whether ``data.missing_labels: mask`` may leave this head's label out (classification and
    regression heads; a sequence head's target stays required: an empty one is a valid target)."""
    return head.kind != "sequence"


def missing_target(head: Head) -> Any:
    """The placeholder target of a label an utterance lacks: class ``MISSING_CLASS``, NaN, or a
    contour without frames."""
    if head.level == "frame":
        dtype = np.int64 if head.kind == "classification" else np.float32
        return FrameTarget(np.zeros(0, dtype=np.float32), np.zeros(0, dtype=dtype), float("nan"))
    return MISSING_CLASS if head.kind == "classification" else float("nan")


def present(head: Head, values: Any) -> Any:
    """Which encoded utterance-level targets (a numpy array or tensor) carry a label: False at
    ``MISSING_CLASS`` and NaN."""
    if not maskable(head):
        raise ValueError(f"sequence head {head.name!r} has no missing-label placeholder")
    return values >= 0 if head.kind == "classification" else values == values


def sequence_tokens(utt: Utterance, key: str, start_s: float = 0.0, end_s: float = float("inf")) -> list[str]:
    """The tokens of ``key`` inside the window: transcript characters (from the
    timed words inside it when the utterance has word timings) or the units of
    alignment tier ``key`` whose midpoint lies inside."""
    def inside(units) -> list:
        return [u for u in units if start_s <= (u.start + u.end) / 2 < end_s]

    if key == TRANSCRIPT:
        text = " ".join(w.text for w in inside(utt.words)) if utt.words else (utt.transcript or "")
        return list(normalize_text(text))
    return [u.text for u in inside(utt.alignments.get(key, []))]


def sequence_vocabularies(utterances: Sequence[Utterance]) -> dict[str, tuple[str, ...]]:
    """Sorted token sets: transcript characters (when any utterance has a
    transcript) and the units of every alignment tier."""
    found: dict[str, set] = {}
    for u in utterances:
        if u.transcript:
            found.setdefault(TRANSCRIPT, set()).update(sequence_tokens(u, TRANSCRIPT))
        for tier, units in u.alignments.items():
            found.setdefault(tier, set()).update(w.text for w in units)
    return {k: tuple(sorted(v)) for k, v in sorted(found.items()) if v}


def contour_target(utt: Utterance, head: Head, start_s: float, end_s: float) -> FrameTarget:
    """The contour frames inside the segment (the nearest one, interpolated at
    the segment's middle, when none falls inside)."""
    contour = utt.contours[head.label_key]
    finite = np.isfinite(np.asarray(contour.values, dtype=np.float64))  # unrated frames are left out
    contour = type(contour)(np.asarray(contour.times)[finite], np.asarray(contour.values)[finite])
    times = np.asarray(contour.times, dtype=np.float64)
    rate = 1.0 / float(np.median(np.diff(times))) if len(times) > 1 else 1.0 / max(end_s - start_s, 1e-3)
    keep = (times >= start_s) & (times < end_s)
    if keep.any():
        at, values = times[keep], np.asarray(contour.values)[keep]
    else:
        at = np.array([(start_s + min(end_s, times[-1] if len(times) else end_s)) / 2])
        values = np.interp(at, times, contour.values)
    encoded = np.asarray([head.encode(v) for v in values]) if head.kind == "classification" else values
    return FrameTarget((at - start_s).astype(np.float32), np.asarray(encoded, dtype=np.float32
                       if head.kind == "regression" else np.int64), rate)


def segment_target(utt: Utterance, head: Head, start_s: float, end_s: float) -> Any:
    """The encoded target of ``head`` for the segment ``start_s``..``end_s`` of ``utt``:
    a class index or float (utterance heads), a :class:`FrameTarget` (contours)
    or token indices (sequence heads); :func:`missing_target` where ``utt`` lacks the label."""
    if head.kind == "sequence":
        return head.encode(sequence_tokens(utt, head.label_key, start_s, end_s))
    if not has_target(utt, head):
        return missing_target(head)
    if head.level == "frame":
        return contour_target(utt, head, start_s, end_s)
    return head.encode(utt.labels[head.label_key])


def balanced_weights(targets: np.ndarray, n_classes: int) -> np.ndarray:
    """Per class, n / (k · n_c) over the k classes present in the encoded ``targets``
    (scikit-learn's ``class_weight="balanced"``); 0 for absent classes."""
    counts = np.bincount(np.asarray(targets, dtype=int), minlength=n_classes).astype(float)
    present = counts > 0
    weight = np.zeros(n_classes)
    weight[present] = counts.sum() / (present.sum() * counts[present])
    return weight

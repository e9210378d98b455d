"""Choosing a model's output head from the corpus's labels (no torch)."""
from __future__ import annotations

from typing import Optional

from .interfaces import Head, LabelSpace


def target_head(labels: LabelSpace, target: Optional[str], model: str, level: str = "utterance",
                rate: Optional[float] = None, name: Optional[str] = None) -> Head:
    """The head for label key ``target``.

    ``None`` picks the recipe's ``data.target`` when the corpus has it, else
    ``emotion``, else the corpus's only label.  Categorical labels and
    dimensions give utterance-level heads; contours and token sequences give
    frame-level heads with output ``rate`` (frames/s), which ``level="utterance"``
    (a model without frame outputs) refuses.  A key that is both a dimension and
    a contour (e.g. ``arousal``) is the contour for ``level="frame"`` models.
    """
    if target is None:
        for choice in (labels.default_target, "emotion"):
            if labels.has(choice):
                target = choice
                break
        else:
            keys = labels.keys
            if len(keys) != 1:
                raise ValueError(f"{model} needs params.target: the corpus offers labels {keys}")
            target = keys[0]
    head = labels.head_for(target, name=name, rate=rate, contour=level == "frame")
    if head.level == "frame" and level == "utterance":
        raise ValueError(f"{model} predicts utterance-level labels, but {target!r} is time-aligned "
                         f"(a contour or token sequence)")
    return head


# ----------------------------------------------------------------- masks and pooling

"""What fitting and predicting give back: pooled predictions, per-epoch history, the epoch callback's view (no torch)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Optional

import numpy as np

if TYPE_CHECKING:
    from ..model import Model
    from .trainer import Trainer


@dataclass
class Predictions:
    """A model's outputs pooled over a loader, in loader order.

    ``outputs[head]`` is (N, C) class probabilities (an estimator's own class
    scores) or (N,) values for utterance-level heads; frame-level heads are
    zero-padded to (N, T, C) / (N, T) — aligned to the label frames when the
    loader has targets — with ``masks[head]`` (N, T) marking valid frames.
    Sequence heads hold object arrays of token-index arrays (greedy CTC
    decodings; references in ``targets``).  ``targets[head]`` holds the encoded
    targets in the same layout when the loader has them.
    """

    ids: list[str]
    outputs: dict[str, np.ndarray]
    targets: dict[str, np.ndarray] = field(default_factory=dict)
    masks: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class EpochEnd:
    """What an epoch callback sees after each epoch; a callback returning True stops training."""

    epoch: int
    model: "Model"
    history: "History"
    trainer: "Trainer"


@dataclass
class History:
    """Per-epoch record of one fit.

    ``train_loss[e]`` is the mean training loss per head (without the L2
    penalty), ``val_score[e]`` the validation score (None without validation),
    ``lr[e]`` the learning rate used in that epoch. ``best_epoch`` (1-based) is
    the epoch whose weights the model holds after the fit.
    """

    train_loss: list[dict[str, float]] = field(default_factory=list)
    val_score: list[Optional[float]] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    best_epoch: Optional[int] = None
    stopped_early: bool = False

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    @property
    def best_score(self) -> Optional[float]:
        """The validation score of the kept epoch (None without validation)."""
        return self.val_score[self.best_epoch - 1] if self.best_epoch and self.val_score else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "History":
        return cls(**data)

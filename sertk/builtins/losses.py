"""Built-in training objectives for utterance-level, frame-level and sequence heads.

Frame-level heads pass ``mask`` (B, T), True on valid frames; padded frames
never contribute. Sequence (CTC) heads pass ``mask`` (B, L) over valid target
tokens and ``output_lengths`` (B,). A loss that needs training-set statistics defines
``prepare(head, targets)``, which the trainer calls before every fit with the
head and its 1-D encoded training targets.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F

from ..interfaces import Head, Loss
from ..nn import concordance


def _valid(output: torch.Tensor, target: torch.Tensor, mask: Optional[torch.Tensor], classes: bool
           ) -> tuple[torch.Tensor, torch.Tensor]:
    """Flatten to valid elements: (N, C) / (N,) outputs and (N,) targets."""
    expected = output.shape[:-1] if classes else output.shape
    if tuple(expected) != tuple(target.shape):
        raise ValueError(f"output shape {tuple(output.shape)} does not fit target shape {tuple(target.shape)}")
    if mask is not None:
        output, target = output[mask.bool()], target[mask.bool()]
    if classes:
        return output.reshape(-1, output.shape[-1]).float(), target.reshape(-1).long()
    return output.reshape(-1).float(), target.reshape(-1).float()


class CrossEntropy(Loss):
    """Softmax cross-entropy over logits (B, C) or (B, T, C), optionally class-weighted.

    ``weights`` gives one weight per class in head order; ``balanced`` sets
    them from the training targets as n / (k · n_c), scikit-learn's
    ``class_weight='balanced'`` (k classes present, n_c utterances of class c).
    """

    name = "cross_entropy"
    summary = "softmax cross-entropy, optionally class-weighted"
    kinds = ("classification",)

    def __init__(self, weights: Optional[list[float]] = None, balanced: bool = False) -> None:
        if weights is not None and balanced:
            raise ValueError("give either weights or balanced: true, not both")
        if weights is not None and (min(weights, default=-1) < 0 or sum(weights) <= 0):
            raise ValueError(f"weights must be non-negative with a positive sum, got {weights}")
        self.weights, self.balanced = weights, balanced
        self._weight = torch.tensor(weights, dtype=torch.float32) if weights is not None else None

    def prepare(self, head: Head, targets: np.ndarray) -> None:
        """Check ``weights`` against the head's classes; compute balanced weights."""
        n = len(head.classes)
        if self.weights is not None and len(self.weights) != n:
            raise ValueError(f"cross_entropy weights has {len(self.weights)} values but head '{head.name}' has "
                             f"{n} classes {list(head.classes)}")
        if self.balanced:
            counts = np.bincount(np.asarray(targets, dtype=int), minlength=n).astype(float)
            present = counts > 0
            weight = np.zeros(n)
            weight[present] = counts.sum() / (present.sum() * counts[present])
            self._weight = torch.tensor(weight, dtype=torch.float32)

    def __call__(self, output, target, mask=None):
        if self.balanced and self._weight is None:
            raise RuntimeError("cross_entropy with balanced: true needs prepare(head, targets) before use")
        logits, target = _valid(output, target, mask, classes=True)
        weight = self._weight.to(logits.device) if self._weight is not None else None
        return F.cross_entropy(logits, target, weight=weight)


class MeanSquaredError(Loss):
    """Mean squared error over utterances (B,) or valid frames (B, T)."""

    name = "mse"
    summary = "mean squared error"
    kinds = ("regression",)

    def __call__(self, output, target, mask=None):
        output, target = _valid(output, target, mask, classes=False)
        return F.mse_loss(output, target)


class ConcordanceLoss(Loss):
    """1 − CCC between outputs and targets over the batch's utterances or valid
    frames (population statistics), the objective of Trigeorgis et al., "Adieu
    features? End-to-end speech emotion recognition using a deep convolutional
    recurrent network", ICASSP 2016 (their training objective). Deviation: the CCC is computed over
    the whole batch rather than per sequence."""

    name = "ccc"
    summary = "1 - concordance correlation coefficient"
    kinds = ("regression",)

    def __call__(self, output, target, mask=None):
        return 1 - concordance(*_valid(output, target, mask, classes=False))


class CTC(Loss):
    """Connectionist temporal classification (Graves et al., "Connectionist temporal
    classification: labelling unsegmented sequence data with recurrent neural
    networks", ICML 2006, §3.1): −log p(target | output) summed over alignments,
    with the blank at index 0; torch's ``ctc_loss`` with ``reduction="mean"``
    (each sequence's loss divided by its target length, then averaged) and
    infeasible alignments (target longer than the output) zeroed."""

    name = "ctc"
    summary = "connectionist temporal classification over token sequences"
    kinds = ("sequence",)

    def __call__(self, output, target, mask=None, output_lengths=None):
        if output_lengths is None:
            raise ValueError("ctc needs output_lengths (B,), the valid output frames of each sequence")
        if output.ndim != 3 or target.ndim != 2 or output.shape[0] != target.shape[0]:
            raise ValueError(f"ctc needs output (B, T, C) and target (B, L), got {tuple(output.shape)} and "
                             f"{tuple(target.shape)}")
        target_lengths = (mask.long().sum(1) if mask is not None
                          else torch.full((target.shape[0],), target.shape[1], dtype=torch.long))
        return F.ctc_loss(output.transpose(0, 1).float(), target.long(), output_lengths.long(),
                          target_lengths.to(output_lengths.device), blank=0, reduction="mean",
                          zero_infinity=True)


COMPONENTS = [CrossEntropy, MeanSquaredError, ConcordanceLoss, CTC]

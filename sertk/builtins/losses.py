"""Built-in training objectives for utterance-level, frame-level and sequence heads.

Frame-level heads pass ``mask`` (B, T), True on valid frames; padded frames
never contribute. Sequence (CTC) heads pass ``mask`` (B, L) over valid target
tokens and ``output_lengths`` (B,). A loss that needs training-set statistics defines
``prepare(head, targets)``, which the trainer calls before every fit with the
head and its 1-D encoded training targets.
"""
from __future__ import annotations

from typing import Literal, Optional

import numpy as np
import torch
import torch.nn.functional as F

from ..data.targets import balanced_weights
from ..interfaces import Head, Loss


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
            self._weight = torch.tensor(balanced_weights(targets, n), dtype=torch.float32)

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


def _frames(output: torch.Tensor, target: torch.Tensor, mask: Optional[torch.Tensor]
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Outputs and targets as (B, T, D) float tensors with a (B, T, 1) float weight that is 1 on
    valid frames: (B,) is one sequence of B values, (B, T) B sequences of one dimension,
    (B, T, D) B sequences of D dimensions.  Padded frames are zeroed (NaN or inf there never
    reaches the loss or its gradient)."""
    if tuple(output.shape) != tuple(target.shape):
        raise ValueError(f"output shape {tuple(output.shape)} does not fit target shape {tuple(target.shape)}")
    if output.ndim == 1:
        output, target = output[None, :, None], target[None, :, None]
        mask = mask[None] if mask is not None else None
    elif output.ndim == 2:
        output, target = output[..., None], target[..., None]
    elif output.ndim != 3:
        raise ValueError(f"expected outputs (B,), (B, T) or (B, T, D), got {tuple(output.shape)}")
    if mask is None:
        mask = torch.ones(output.shape[:2], dtype=torch.bool, device=output.device)
    if tuple(mask.shape) != tuple(output.shape[:2]):
        raise ValueError(f"mask shape {tuple(mask.shape)} does not fit outputs {tuple(output.shape)}")
    valid = mask.bool()[..., None]
    dtype = torch.float64 if output.dtype == torch.float64 else torch.float32
    output = torch.where(valid, output.to(dtype), 0.0)
    target = torch.where(valid, target.to(dtype), 0.0)
    return output, target, valid.to(dtype)


def _ccc(output: torch.Tensor, target: torch.Tensor, weight: torch.Tensor, dim, eps: float = 1e-8) -> torch.Tensor:
    """Lin's CCC (population statistics) over the weighted frames along ``dim``."""
    n = weight.sum(dim, keepdim=True).clamp_min(1)
    mo, mt = (output * weight).sum(dim, keepdim=True) / n, (target * weight).sum(dim, keepdim=True) / n
    do, dt = (output - mo) * weight, (target - mt) * weight
    cov = (do * dt).sum(dim, keepdim=True) / n
    vo, vt = (do * do).sum(dim, keepdim=True) / n, (dt * dt).sum(dim, keepdim=True) / n
    return 2 * cov / (vo + vt + (mo - mt) ** 2 + eps)


class ConcordanceLoss(Loss):
    """1 − CCC between outputs and targets (population statistics), with padded frames masked.

    ``form`` follows Weninger et al., "Discriminatively trained recurrent neural
    networks for continuous dimensional emotion recognition from audio", IJCAI
    2016 (MixedEmotions D4.2, §4.3):

    * ``total``: one CCC over all valid frames of all sequences of the batch (or
      over the batch's utterances), loss 1 − CCC; the objective of Trigeorgis et
      al., "Adieu features?", ICASSP 2016.
    * ``sum``: ΣCCC, each sequence's own CCC over its valid frames, loss
      Σ_b (1 − CCC_b) (its gradient is that of −Σ_b CCC_b).
    * ``mean``: the same averaged over the batch's sequences, so that the learning
      rate does not depend on the batch size.

    Outputs (B, T, D) with targets (B, T, D) are D target dimensions: the loss is
    summed over dimensions (as separate heads' losses are).  The per-sequence forms
    need frame-level outputs (B, T) or (B, T, D); sequences without valid frames
    are left out.
    """

    name = "ccc"
    summary = "1 - concordance correlation coefficient (over the batch, or per sequence: ΣCCC)"
    kinds = ("regression",)

    def __init__(self, form: Literal["total", "sum", "mean"] = "total") -> None:
        if form not in ("total", "sum", "mean"):
            raise ValueError(f"form must be 'total', 'sum' or 'mean', got {form!r}")
        self.form = form

    def __call__(self, output, target, mask=None):
        if self.form != "total" and output.ndim < 2:
            raise ValueError(f"ccc form {self.form!r} (per sequence) needs frame-level outputs (B, T) or (B, T, D), "
                             f"got {tuple(output.shape)}; use form: total for utterance-level heads")
        output, target, weight = _frames(output, target, mask)
        if self.form == "total":
            return (1 - _ccc(output, target, weight, (0, 1))).sum()
        per_sequence = (1 - _ccc(output, target, weight, 1)).sum((1, 2))  # (B,)
        present = weight.sum((1, 2)) > 0
        losses = per_sequence[present]
        return losses.sum() if self.form == "sum" else losses.mean()


class SumSquaredError(Loss):
    """Sum of squared errors over all valid frames (and dimensions) of the batch, or over
    its utterances: the SSE baseline objective of Weninger et al., IJCAI 2016
    (MixedEmotions D4.2, §4.3).  Unlike ``mse`` it is not divided by the number of
    frames, so learning rates are correspondingly smaller (D4.2 searches 1e-2 … 1e-7)."""

    name = "sse"
    summary = "sum of squared errors over valid frames (not averaged)"
    kinds = ("regression",)

    def __call__(self, output, target, mask=None):
        output, target, weight = _frames(output, target, mask)
        return (((output - target) * weight) ** 2).sum()


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

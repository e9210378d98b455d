"""Model interfaces: gradient-trained torch networks and fitted estimators."""
from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np
import torch

from .estimator import EstimatorModel
from .interfaces import Component, FeatureInfo, Head, LabelSpace
from .nn import frame_output


@dataclass
class Batch:
    """A padded mini-batch.

    ``inputs[key]`` is (B, T, D) for frame-level features (zero-padded, true
    lengths in ``lengths[key]``) or (B, D) for utterance-level ones.
    ``targets[head]`` is (B,) class indices / floats, (B, L) contour values at
    label frame times ``target_times[head]`` (seconds from the segment start,
    ``target_rates[head]`` label frames/s), or (B, L) token indices of sequence
    heads; ``target_masks[head]`` marks valid frames / tokens.  ``durations``
    (B,) are the segments' audio lengths in seconds.
    """

    ids: list[str]
    inputs: dict[str, torch.Tensor]
    lengths: dict[str, torch.Tensor] = field(default_factory=dict)
    targets: dict[str, torch.Tensor] = field(default_factory=dict)
    target_masks: dict[str, torch.Tensor] = field(default_factory=dict)
    target_times: dict[str, torch.Tensor] = field(default_factory=dict)
    target_rates: dict[str, float] = field(default_factory=dict)
    durations: Optional[torch.Tensor] = None

    def to(self, device) -> "Batch":
        move = lambda d: {k: v.to(device, non_blocking=True) for k, v in d.items()}  # noqa: E731
        return Batch(self.ids, move(self.inputs), move(self.lengths), move(self.targets), move(self.target_masks),
                     move(self.target_times), dict(self.target_rates),
                     self.durations.to(device) if self.durations is not None else None)


class Model(Component, torch.nn.Module):
    """A torch network with named output heads.

    Subclasses set ``self.heads`` in ``__init__`` and return ``{head.name:
    tensor}`` from ``forward``: (B, C) logits for classification, (B,) values
    for regression, (B, T, C) / (B, T) for frame-level heads at ``head.rate``
    frames/s (log-probabilities for sequence heads).  The engine aligns frame
    outputs to the label frames.  The engine
    passes the derived constructor arguments ``inputs`` (feature key →
    :class:`FeatureInfo`) and ``labels`` (:class:`LabelSpace`) when the
    constructor accepts them.

    ``training_step`` is the default update (sum of head losses, one optimiser
    step); a paper that needs another update rule overrides it.
    """

    heads: list[Head]

    def __init__(self) -> None:
        torch.nn.Module.__init__(self)
        self.heads = []

    @abc.abstractmethod
    def forward(self, inputs: dict[str, torch.Tensor], lengths: Optional[dict[str, torch.Tensor]] = None) -> dict[str, torch.Tensor]:
        """Outputs per head."""

    def head_losses(self, outputs: dict[str, torch.Tensor], batch: Batch, losses: dict[str, Any]) -> dict[str, torch.Tensor]:
        """Loss per head for one batch (frame outputs aligned to the label frames,
        sequence losses given the valid output lengths)."""
        per_head = {}
        for h in self.heads:
            output, extra = outputs[h.name], {}
            if h.level == "frame":
                output, lengths = frame_output(h, output, batch)
                if h.kind == "sequence":
                    extra["output_lengths"] = lengths
            per_head[h.name] = losses[h.name](output, batch.targets[h.name], batch.target_masks.get(h.name), **extra)
        return per_head

    def training_step(self, batch: Batch, losses: dict[str, Any], step) -> dict[str, float]:
        """One update: ``step(loss_tensor)`` backpropagates, clips and steps the
        optimiser (mixed precision included). Returns per-head loss values."""
        per_head = self.head_losses(self(batch.inputs, batch.lengths), batch, losses)
        step(sum(per_head.values()))
        return {k: float(v.detach()) for k, v in per_head.items()}

    def penalized_parameters(self):
        """Parameters the L2 weight penalty applies to (trainable weights, not biases, norms or frozen parts)."""
        return [p for n, p in self.named_parameters() if p.ndim > 1 and p.requires_grad]


def model_inputs_summary(inputs: dict[str, FeatureInfo]) -> str:
    """A short human description of the input streams (for errors and logs)."""
    return ", ".join(f"{k}: {i.level} dim {i.dim}" for k, i in inputs.items())


__all__ = ["Batch", "Model", "EstimatorModel", "FeatureInfo", "Head", "LabelSpace", "frame_output",
           "model_inputs_summary"]

"""Built-in network models: a pooled multilayer perceptron and a stacked BLSTM sequence model."""
from __future__ import annotations

from typing import Literal, Optional

import torch

from ..interfaces import FeatureInfo, LabelSpace
from ..model import Model
from ..nn import mean_std_pool, target_head
from .blstm import BLSTM

_ACTIVATIONS = {"relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh}


class MLP(Model):
    """A multilayer perceptron on all input streams: frame-level streams are
    pooled to mean and standard deviation over valid frames, then every stream
    is concatenated; hidden layers are Linear → activation → dropout."""

    name = "mlp"
    summary = "multilayer perceptron on pooled, concatenated features"

    def __init__(self, inputs: dict[str, FeatureInfo], labels: LabelSpace, hidden: list[int] = [256],
                 dropout: float = 0.3, activation: Literal["relu", "sigmoid", "tanh"] = "relu",
                 target: Optional[str] = None) -> None:
        super().__init__()
        if not inputs:
            raise ValueError("mlp needs at least one feature stream")
        if any(h < 1 for h in hidden):
            raise ValueError(f"hidden sizes must be positive, got {hidden}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
        self.heads = [target_head(labels, target, self.name)]
        self.keys = list(inputs)
        self.frame_keys = {k for k, info in inputs.items() if info.level == "frame"}
        width = sum(2 * info.dim if k in self.frame_keys else info.dim for k, info in inputs.items())
        layers: list[torch.nn.Module] = []
        for size in hidden:
            layers += [torch.nn.Linear(width, size), _ACTIVATIONS[activation](), torch.nn.Dropout(dropout)]
            width = size
        head = self.heads[0]
        layers.append(torch.nn.Linear(width, len(head.classes) if head.kind == "classification" else 1))
        self.net = torch.nn.Sequential(*layers)

    def forward(self, inputs, lengths=None):
        lengths = lengths or {}
        parts = [mean_std_pool(inputs[k], lengths.get(k)) if k in self.frame_keys else inputs[k] for k in self.keys]
        out = self.net(torch.cat(parts, dim=-1))
        head = self.heads[0]
        return {head.name: out if head.kind == "classification" else out.squeeze(-1)}

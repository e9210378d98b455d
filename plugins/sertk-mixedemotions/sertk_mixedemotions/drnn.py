"""Frame-level regressors on feature streams: the (B)LSTM-DRNNs of MixedEmotions D4.2
(§4.5.2, §5.3; Weninger et al., IJCAI 2016) and a per-frame linear model for the
linear-kernel SVR baseline (§5.3)."""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from sertk import FeatureInfo, Head, LabelSpace, Model
from sertk.nn import RecurrentEncoder, input_of, target_head


def contour_heads(labels: LabelSpace, targets: Optional[list[str]], model: str, rate: Optional[float]) -> list[Head]:
    """One frame-level regression head per target (default: the recipe's ``data.target``)."""
    if targets is not None and (not targets or len(set(targets)) != len(targets)):
        raise ValueError(f"targets must list different contours (or be left out for the default), got {targets}")
    heads = [target_head(labels, t, model, level="frame", rate=rate) for t in (targets or [None])]
    wrong = [h.name for h in heads if h.kind != "regression" or h.level != "frame"]
    if wrong:
        raise ValueError(f"{model} predicts contours (frame-level regression); {wrong} are not contours of this "
                         f"corpus (contours: {list(labels.contours)})")
    return heads


def _frame_input(inputs: dict[str, FeatureInfo], feature: Optional[str], model: str) -> FeatureInfo:
    info = input_of(inputs, feature, model, "frame")
    if not info.frame_rate:
        raise ValueError(f"{model} needs a feature with a frame rate; {info.key!r} has none")
    return info


class LSTMDRNN(Model):
    """Deep (B)LSTM recurrent regressor on frame features: ``layers`` × ``hidden`` LSTM
    cells, Gaussian input noise while training, a linear output per target and frame.

    MixedEmotions D4.2: the LSTM-DRNN of §4.5.2 (3 layers × 128, unidirectional;
    SGD with momentum 0.9, learning rate from 1e-2 … 1e-7 on development), the
    BLSTM-DRNN of §5.3 (3 layers × 64, bidirectional, input noise σ = 0.1, SGD,
    5 sequences per batch) and the MediaEval LSTM of §4.5.1 (2 layers × 192 or
    256, input noise σ = 0.6, 25 sequences per batch): set ``hidden``, ``layers``,
    ``bidirectional`` and ``input_noise``.  ``dropout`` (not in D4.2; default 0)
    applies between layers and before the output.  Outputs run at the feature's
    frame rate; the engine aligns them to the label frames.  Sub-networks:
    ``encoder``, ``outputs``.
    """

    name = "lstm_drnn"
    summary = "deep (B)LSTM regressor with input noise on frame features (MixedEmotions D4.2 §4.5, §5.3)"

    def __init__(self, inputs: dict[str, FeatureInfo], labels: LabelSpace, feature: Optional[str] = None,
                 targets: Optional[list[str]] = None, hidden: int = 128, layers: int = 3,
                 bidirectional: bool = False, input_noise: float = 0.0, dropout: float = 0.0):
        super().__init__()
        if input_noise < 0:
            raise ValueError(f"input_noise must be >= 0, got {input_noise}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        info = _frame_input(inputs, feature, self.name)
        self.feature, self.input_noise = info.key, float(input_noise)
        self.heads = contour_heads(labels, targets, self.name, info.frame_rate)
        self.encoder = RecurrentEncoder(info.dim, hidden, layers, bidirectional=bidirectional, cell="lstm",
                                        dropout=dropout)
        self.dropout = nn.Dropout(dropout)
        self.outputs = nn.ModuleList(nn.Linear(self.encoder.output_size, 1) for _ in self.heads)

    def forward(self, inputs, lengths=None):
        x = inputs[self.feature]
        if self.training and self.input_noise:
            x = x + self.input_noise * torch.randn_like(x)
        hidden = self.dropout(self.encoder(x, (lengths or {}).get(self.feature)))
        return {h.name: layer(hidden).squeeze(-1) for h, layer in zip(self.heads, self.outputs)}


class FrameLinear(Model):
    """A linear function of each feature frame per target, w·x + b: the model of the
    linear-kernel SVR baseline (MixedEmotions D4.2 §5.3, §4.5.2), whose weights the
    ``svr_grid`` strategy fits; with the default strategy it trains by gradient descent
    like any network.  ``complexity`` (a buffer, saved with the weights) holds the SVR
    complexity chosen per target (0 when trained otherwise)."""

    name = "frame_linear"
    summary = "per-frame linear regressor (the linear SVR of MixedEmotions D4.2 §5.3 with svr_grid)"

    def __init__(self, inputs: dict[str, FeatureInfo], labels: LabelSpace, feature: Optional[str] = None,
                 targets: Optional[list[str]] = None):
        super().__init__()
        info = _frame_input(inputs, feature, self.name)
        self.feature, self.rate = info.key, float(info.frame_rate)
        self.heads = contour_heads(labels, targets, self.name, info.frame_rate)
        self.linear = nn.Linear(info.dim, len(self.heads))
        self.register_buffer("complexity", torch.zeros(len(self.heads)))

    def forward(self, inputs, lengths=None):
        y = self.linear(inputs[self.feature])
        return {h.name: y[..., k] for k, h in enumerate(self.heads)}

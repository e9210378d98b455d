"""Built-in sequence model: a stacked bidirectional LSTM (or GRU) over one frame-level stream."""
from __future__ import annotations

from typing import Literal, Optional

import torch

from ..interfaces import FeatureInfo, Head, LabelSpace
from ..model import Model
from ..nn import RecurrentEncoder, input_of, masked_mean, target_head


class BLSTM(Model):
    """A generic sequence model: stacked bidirectional recurrent layers over one
    frame-level feature stream, with one linear output layer per target.

    Contours get a frame regression (B, T), token sequences frame
    log-probabilities (B, T, C) for CTC, both at the input frame rate;
    categorical labels and dimensions are predicted from the mean over valid
    frames, (B, C) logits and (B,) values.  Dropout applies between recurrent
    layers and before the output layers; padded frames are packed away.  The
    frame regressor is the kind of recurrent model used for time-continuous
    emotion (the BLSTM baseline style of Ringeval et al., AVEC 2015; the
    recurrent part of Trigeorgis et al., ICASSP 2016); it is sertk's built-in,
    not a reproduction of either paper.
    """

    name = "blstm"
    summary = "stacked bidirectional LSTM/GRU over frame features: frame contours, CTC tokens or utterance labels"

    def __init__(self, inputs: dict[str, FeatureInfo], labels: LabelSpace, feature: Optional[str] = None,
                 hidden: int = 64, layers: int = 2, dropout: float = 0.0, cell: Literal["lstm", "gru"] = "lstm",
                 targets: Optional[list[str]] = None) -> None:
        super().__init__()
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        if targets is not None and (not targets or len(set(targets)) != len(targets)):
            raise ValueError(f"targets must list different label keys (or be left out for the default), got {targets}")
        info = input_of(inputs, feature, self.name, level="frame")
        self.heads = [target_head(labels, t, self.name, level="frame", rate=info.frame_rate)
                      for t in (targets or [None])]
        frame_heads = [h.name for h in self.heads if h.level == "frame"]
        if frame_heads and info.frame_rate is None:
            raise ValueError(f"blstm: frame-level targets {frame_heads} need a feature with a frame rate, but "
                             f"{info.key!r} has none (a word sequence); set params.feature to a framed feature")
        self.feature = info.key
        # RecurrentEncoder checks hidden, layers and cell
        self.encoder = RecurrentEncoder(info.dim, hidden, layers, bidirectional=True, cell=cell, dropout=dropout)
        self.dropout = torch.nn.Dropout(dropout)
        self.outputs = torch.nn.ModuleList(torch.nn.Linear(self.encoder.output_size, _width(h)) for h in self.heads)

    def forward(self, inputs, lengths=None):
        length = (lengths or {}).get(self.feature)
        frames = self.dropout(self.encoder(inputs[self.feature], length))
        pooled = masked_mean(frames, length) if any(h.level == "utterance" for h in self.heads) else None
        out = {}
        for head, layer in zip(self.heads, self.outputs):
            y = layer(frames if head.level == "frame" else pooled)
            out[head.name] = (y.squeeze(-1) if head.kind == "regression" else
                              y.log_softmax(-1) if head.kind == "sequence" else y)
        return out


def _width(head: Head) -> int:
    """Output units of a head: one value for regression, one per class otherwise."""
    return 1 if head.kind == "regression" else len(head.classes)

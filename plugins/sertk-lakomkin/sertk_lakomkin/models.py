"""The recogniser and the four emotion models of Lakomkin et al. (2017), §3.1, Fig. 3.

* ``ds2_asr`` — the Deep Speech 2 recogniser, trained with CTC (§3.1.1, Fig. 2);
* ``lakomkin_baseline`` — a two-layer bidirectional GRU over MFCCs and pitch (§3.1.2, Table 1);
* ``lakomkin_mp`` — MP-x: the recogniser's layer x, mean-pooled, softmax (§3.1.3, Fig. 3b);
* ``lakomkin_rnn`` — RNN-x: a new GRU on the recogniser's layer x (§3.1.3, Fig. 3c);
* ``lakomkin_progressive`` — progressive net-x: the pooled layer x next to a
  baseline branch trained from scratch (§3.1.4, Fig. 3d).

Every model holding the recogniser calls it ``asr`` (a
:class:`~sertk_lakomkin.ds2.DS2Encoder`), so the recipes load a trained
recogniser into it (``train.pretrained: [{module: asr, prefix: asr, ...}]``)
and keep it fixed (``train.freeze: [asr]``).  Emotion models run the recogniser
only up to layer x, without gradients when it is frozen.

``representations(inputs, lengths)`` gives every model's hidden layers as
``{name: (h (B, T, D), n (B,) valid frames)}``: ``conv``, ``gru1`` … for the
recogniser's layers (as far as the model runs it), ``gru1``, ``gru2`` for the
baseline's.  Classification outputs are logits; the softmax is in the
cross-entropy loss.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Optional

import torch
from torch import nn

from sertk import TRANSCRIPT, FeatureInfo, Head, LabelSpace, Model
from sertk.nn import RecurrentEncoder, input_of, masked_mean, target_head

from .ds2 import TIME_STRIDE, DS2Encoder, SequenceOutput, layer_names

Representations = "OrderedDict[str, tuple[torch.Tensor, torch.Tensor]]"
PAPER_ASR_HIDDEN = 800
PAPER_ASR_LAYERS = 5
PAPER_CHANNELS = (32, 32)
DROPOUT = 0.25  # §3.1.2 (baseline), §3.1.3 (MP-x)


def _lengths(lengths: Optional[dict[str, torch.Tensor]], key: str, x: torch.Tensor) -> torch.Tensor:
    """The valid frames of input ``key`` (all frames when the batch gives none)."""
    found = (lengths or {}).get(key)
    if found is None:
        return torch.full((x.shape[0],), x.shape[1], dtype=torch.long, device=x.device)
    return found.to(x.device).long()


def _classification_head(labels: LabelSpace, target: Optional[str], model: str) -> Head:
    head = target_head(labels, target, model)
    if head.kind != "classification":
        raise ValueError(f"{model} classifies categorical labels; target {head.label_key!r} is {head.kind} "
                         f"(categorical labels: {sorted(labels.classes)})")
    return head


def _check_dropout(dropout: float) -> None:
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")


# ----------------------------------------------------------------- the recogniser
class DS2ASR(Model):
    """Deep Speech 2 speech recogniser: 2 conv + bidirectional GRU layers + per-frame
    softmax over characters (or phones), trained with CTC (Lakomkin et al. 2017,
    §3.1.1, Fig. 2; Amodei et al. 2016).

    Reads the ``power_spectrogram`` (``feature``); predicts the token sequence
    ``target`` (default ``transcript``: characters; ``phones`` on EmoDB) as
    (B, T, C) log-probabilities at half the input frame rate, blank first.
    ``channels`` are the two convolutions' filter counts (Deep Speech 2: 32,
    32), ``layers`` the bidirectional GRU layers (paper: 5), ``hidden`` their
    size per direction (default 800: the paper text does not give it; 800 is
    the size of the LibriSpeech model of the PyTorch Deep Speech 2 code,
    deepspeech.pytorch — a chosen value).  Sub-networks: ``asr`` (conv + GRUs) and ``output``.
    """

    name = "ds2_asr"
    summary = "Deep Speech 2 recogniser: 2 conv + 5 BiGRU + CTC softmax (Lakomkin et al. 2017, §3.1.1, Fig. 2)"

    def __init__(self, inputs: dict[str, FeatureInfo], labels: LabelSpace, feature: str = "power_spectrogram",
                 target: str = TRANSCRIPT, channels: list[int] = PAPER_CHANNELS, hidden: int = PAPER_ASR_HIDDEN,
                 layers: int = PAPER_ASR_LAYERS):
        super().__init__()
        info = input_of(inputs, feature, self.name, "frame")
        rate = info.frame_rate / TIME_STRIDE if info.frame_rate else None
        head = target_head(labels, target, self.name, level="frame", rate=rate)
        if head.kind != "sequence":
            raise ValueError(f"{self.name} recognises token sequences (a transcript or an alignment tier such as "
                             f"phones); target {target!r} is {head.kind}")
        self.heads = [head]
        self.feature = info.key
        self.asr = DS2Encoder(info.dim, channels, hidden, layers)
        self.output = SequenceOutput(hidden, len(head.classes))

    def representations(self, inputs: dict[str, torch.Tensor],
                        lengths: Optional[dict[str, torch.Tensor]] = None) -> Representations:
        """Every layer: ``conv``, ``gru1`` … ``gru<layers>``."""
        x = inputs[self.feature]
        return self.asr(x, _lengths(lengths, self.feature, x))

    def forward(self, inputs, lengths=None):
        h, n = self.representations(inputs, lengths)[f"gru{self.asr.layers}"]
        return {self.heads[0].name: self.output(h, n)}


# ----------------------------------------------------------------- the baseline
class BaselineEncoder(nn.Module):
    """Two bidirectional GRU layers (forward and backward outputs concatenated), each
    kept as its own layer so that both are inspectable (Lakomkin et al. 2017, §3.1.2)."""

    def __init__(self, input_size: int, units: int, layers: int = 2):
        super().__init__()
        if units < 1:
            raise ValueError(f"units must be at least 1, got {units}")
        self.layers = nn.ModuleList(
            RecurrentEncoder(input_size if i == 0 else 2 * units, units, 1, bidirectional=True, cell="gru")
            for i in range(layers))
        self.output_size = 2 * units

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> Representations:
        out: "OrderedDict[str, tuple[torch.Tensor, torch.Tensor]]" = OrderedDict()
        for i, layer in enumerate(self.layers, 1):
            x = layer(x, lengths)
            out[f"gru{i}"] = (x, lengths)
        return out


class LakomkinBaseline(Model):
    """Emotion baseline: two-layer bidirectional GRU over MFCCs + pitch, the second
    layer's states averaged over the valid frames, dropout, softmax (Lakomkin et al.
    2017, §3.1.2, Table 1).

    ``units``: Table 1 compares 64, 96 and 128 units (read here as units per
    direction; default 128); ``dropout`` 0.25 before the softmax layer.  Reads ``mfcc_pitch``
    (``feature``).  Sub-networks: ``encoder`` (``encoder.layers.0``,
    ``encoder.layers.1``) and ``classifier``.
    """

    name = "lakomkin_baseline"
    summary = "emotion baseline: 2-layer BiGRU on MFCC + pitch, mean-pooled (Lakomkin et al. 2017, §3.1.2, Table 1)"

    def __init__(self, inputs: dict[str, FeatureInfo], labels: LabelSpace, feature: str = "mfcc_pitch",
                 target: Optional[str] = None, units: int = 128, dropout: float = DROPOUT):
        super().__init__()
        _check_dropout(dropout)
        info = input_of(inputs, feature, self.name, "frame")
        self.heads = [_classification_head(labels, target, self.name)]
        self.feature = info.key
        self.encoder = BaselineEncoder(info.dim, units)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(self.encoder.output_size, len(self.heads[0].classes))

    def representations(self, inputs, lengths=None) -> Representations:
        """``gru1`` and ``gru2``, (B, T, 2·units) at the input frame rate."""
        x = inputs[self.feature]
        return self.encoder(x, _lengths(lengths, self.feature, x))

    def forward(self, inputs, lengths=None):
        h, n = self.representations(inputs, lengths)["gru2"]
        return {self.heads[0].name: self.classifier(self.dropout(masked_mean(h, n)))}


# ----------------------------------------------------------------- on the recogniser
class _OnRecogniser(Model):
    """An emotion model holding the recogniser (``asr``), run up to layer ``layer``.

    ``asr_channels``, ``asr_hidden`` and ``asr_layers`` must match the trained
    recogniser whose weights the recipe loads (its ``channels``, ``hidden`` and
    ``layers``): all its layers are held, so its weights load strictly, but only
    the first ``layer`` recurrent layers run.  ``layer`` counts the recurrent
    layers, 1 = the first GRU; 0 = the output of the convolutions.
    """

    def __init__(self, inputs: dict[str, FeatureInfo], labels: LabelSpace, layer: int, target: Optional[str],
                 asr_feature: str, asr_channels: list[int], asr_hidden: int, asr_layers: int, dropout: float):
        super().__init__()
        _check_dropout(dropout)
        if not 0 <= layer <= asr_layers:
            raise ValueError(f"layer must be in 0..{asr_layers} (0: the convolutions, 1..{asr_layers}: the "
                             f"recogniser's GRU layers), got {layer}")
        info = input_of(inputs, asr_feature, self.name, "frame", param="asr_feature")
        self.heads = [_classification_head(labels, target, self.name)]
        self.asr_feature = info.key
        self.asr = DS2Encoder(info.dim, asr_channels, asr_hidden, asr_layers)
        self.layer = layer
        self.layer_name = layer_names(asr_layers)[layer]
        self.dropout = nn.Dropout(dropout)

    @property
    def asr_size(self) -> int:
        """Values per frame of the recogniser's layer x."""
        return self.asr.output_size(self.layer_name)

    def representations(self, inputs, lengths=None) -> Representations:
        """The recogniser's layers up to x: ``conv``, ``gru1`` … ``gru<x>`` (50 frames/s
        for 10-ms spectrogram frames)."""
        x = inputs[self.asr_feature]
        n = _lengths(lengths, self.asr_feature, x)
        if any(p.requires_grad for p in self.asr.parameters()):
            return self.asr(x, n, upto=self.layer)
        with torch.no_grad():  # frozen (train.freeze: [asr]): nothing to backpropagate into
            return self.asr(x, n, upto=self.layer)

    def pooled_asr(self, inputs, lengths) -> torch.Tensor:
        """(B, D) mean of layer x over each utterance's valid frames."""
        h, n = self.representations(inputs, lengths)[self.layer_name]
        return masked_mean(h, n)


class LakomkinMP(_OnRecogniser):
    """MP-x: the recogniser's layer x averaged over time (mean pooling), dropout,
    softmax (Lakomkin et al. 2017, §3.1.3, Fig. 3b).

    The recogniser (``asr``) is loaded from a trained ``ds2_asr`` run and frozen
    by the recipe; only ``classifier`` learns.  ``layer`` = x (1 = first GRU;
    0 = the convolutions' output, not among the paper's variants).
    """

    name = "lakomkin_mp"
    summary = "MP-x: mean-pooled layer x of a frozen Deep Speech 2 recogniser + softmax (Lakomkin et al. 2017, §3.1.3)"

    def __init__(self, inputs: dict[str, FeatureInfo], labels: LabelSpace, layer: int, target: Optional[str] = None,
                 asr_feature: str = "power_spectrogram", asr_channels: list[int] = PAPER_CHANNELS,
                 asr_hidden: int = PAPER_ASR_HIDDEN, asr_layers: int = PAPER_ASR_LAYERS, dropout: float = DROPOUT):
        super().__init__(inputs, labels, layer, target, asr_feature, asr_channels, asr_hidden, asr_layers, dropout)
        self.classifier = nn.Linear(self.asr_size, len(self.heads[0].classes))

    def forward(self, inputs, lengths=None):
        return {self.heads[0].name: self.classifier(self.dropout(self.pooled_asr(inputs, lengths)))}


class LakomkinRNN(_OnRecogniser):
    """RNN-x: a new, randomly initialised bidirectional GRU over the frozen
    recogniser's layer x, its states averaged over time, dropout, softmax
    (Lakomkin et al. 2017, §3.1.3, Fig. 3c).

    ``units`` per direction (default 128, the baseline's largest size; a
    chosen value).  Sub-networks: ``asr``, ``rnn``, ``classifier``.
    """

    name = "lakomkin_rnn"
    summary = "RNN-x: new BiGRU on layer x of a frozen Deep Speech 2 recogniser (Lakomkin et al. 2017, §3.1.3)"

    def __init__(self, inputs: dict[str, FeatureInfo], labels: LabelSpace, layer: int, target: Optional[str] = None,
                 units: int = 128, asr_feature: str = "power_spectrogram", asr_channels: list[int] = PAPER_CHANNELS,
                 asr_hidden: int = PAPER_ASR_HIDDEN, asr_layers: int = PAPER_ASR_LAYERS, dropout: float = DROPOUT):
        super().__init__(inputs, labels, layer, target, asr_feature, asr_channels, asr_hidden, asr_layers, dropout)
        if units < 1:
            raise ValueError(f"units must be at least 1, got {units}")
        self.rnn = RecurrentEncoder(self.asr_size, units, 1, bidirectional=True, cell="gru")
        self.classifier = nn.Linear(self.rnn.output_size, len(self.heads[0].classes))

    def forward(self, inputs, lengths=None):
        h, n = self.representations(inputs, lengths)[self.layer_name]
        pooled = masked_mean(self.rnn(h, n), n)
        return {self.heads[0].name: self.classifier(self.dropout(pooled))}


class LakomkinProgressive(_OnRecogniser):
    """Progressive net-x: the frozen recogniser's layer x, mean-pooled, concatenated
    with a baseline branch (two-layer BiGRU over MFCCs + pitch, mean-pooled) trained
    from scratch; dropout and softmax on the concatenation (Lakomkin et al. 2017,
    §3.1.4, Fig. 3d).

    The two columns meet only at the softmax layer, as in Fig. 3d (Rusu et al.'s
    progressive networks also connect the columns laterally at every layer).
    Reads ``power_spectrogram`` (``asr_feature``) and ``mfcc_pitch``
    (``feature``).  Sub-networks: ``asr``, ``encoder`` (the baseline branch,
    named as in ``lakomkin_baseline``), ``classifier``; ``representations``
    gives the recogniser's layers.
    """

    name = "lakomkin_progressive"
    summary = "progressive net-x: frozen recogniser layer x + baseline BiGRU branch (Lakomkin et al. 2017, §3.1.4)"

    def __init__(self, inputs: dict[str, FeatureInfo], labels: LabelSpace, layer: int, target: Optional[str] = None,
                 feature: str = "mfcc_pitch", units: int = 128, asr_feature: str = "power_spectrogram",
                 asr_channels: list[int] = PAPER_CHANNELS, asr_hidden: int = PAPER_ASR_HIDDEN,
                 asr_layers: int = PAPER_ASR_LAYERS, dropout: float = DROPOUT):
        super().__init__(inputs, labels, layer, target, asr_feature, asr_channels, asr_hidden, asr_layers, dropout)
        info = input_of(inputs, feature, self.name, "frame")
        if info.key == self.asr_feature:
            raise ValueError(f"{self.name}: feature and asr_feature are both {info.key!r}; the baseline branch reads "
                             f"MFCCs + pitch (mfcc_pitch), the recogniser the spectrogram")
        self.feature = info.key
        self.encoder = BaselineEncoder(info.dim, units)
        self.classifier = nn.Linear(self.asr_size + self.encoder.output_size, len(self.heads[0].classes))

    def forward(self, inputs, lengths=None):
        x = inputs[self.feature]
        h, n = self.encoder(x, _lengths(lengths, self.feature, x))["gru2"]
        joined = torch.cat([self.pooled_asr(inputs, lengths), masked_mean(h, n)], dim=-1)
        return {self.heads[0].name: self.classifier(self.dropout(joined))}


COMPONENTS = [DS2ASR, LakomkinBaseline, LakomkinMP, LakomkinRNN, LakomkinProgressive]

"""The four networks of Wieser et al. (2020), §2.1–2.2 and Tables 1–4.

All four share the split output: one :class:`~sertk_wieser.blocks.SplitMLP` per
emotional dimension (valence and arousal, five classes each, from the 1–5
ratings of one IEMOCAP evaluator), trained by the alternating update of §2.1.1.
``targets`` may instead name a categorical label (e.g. ``[emotion]``), which
gives one head over that label's classes.

Defaults: Tables 1–4 give each network's training values (in the IEMOCAP
recipes); the layer sizes start from Trigeorgis et al. (2016): a first convolution of 40 filters over 5 ms (80 samples at 16 kHz),
pooling 2, a second convolution of 40 filters over 500 ms (4000 samples at the
pooled 8 kHz rate), and max-pooling across channels (``channel_pool``).  Every
value is a recipe parameter and a tuning dimension.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from sertk import Batch, FeatureInfo, Head, LabelSpace, Model
from sertk.nn import input_of

from .blocks import ConvStack, SplitMLP

RATINGS = ["1", "2", "3", "4", "5"]
DIMENSIONS = ["valence", "arousal"]


def build_heads(labels: LabelSpace, targets: list[str], classes: list[str]) -> list[Head]:
    """One classification head per target: a numeric dimension becomes the
    rating classes ``classes``; a categorical label keeps its own classes."""
    if not targets:
        raise ValueError("targets must name at least one label")
    if len(set(classes)) < 2:
        raise ValueError(f"classes must hold at least two distinct names, got {classes}")
    heads = []
    for t in targets:
        if t in labels.classes:
            heads.append(labels.head_for(t))
        elif t in labels.dimensions:
            heads.append(Head(t, "classification", tuple(classes), target=t))
        else:
            known = sorted([*labels.classes, *labels.dimensions])
            raise ValueError(f"target {t!r} is not a label of this corpus; it has {known}")
    return heads


class SplitHeadModel(Model):
    """A shared representation followed by one MLP per head, trained by
    alternating per-head updates (§2.1.1)."""

    def _init_heads(self, labels: LabelSpace, targets: list[str], classes: list[str], in_dim: int,
                    hidden: list[int], dropout: float) -> None:
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        if any(h < 1 for h in hidden):
            raise ValueError(f"hidden sizes must be >= 1, got {hidden}")
        self.heads = build_heads(labels, targets, classes)
        self.mlps = nn.ModuleDict({h.name: SplitMLP(in_dim, hidden, len(h.classes), dropout) for h in self.heads})

    def representation(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """The shared (B, D) input of the heads."""
        raise NotImplementedError

    def forward(self, inputs: dict[str, torch.Tensor],
                lengths: Optional[dict[str, torch.Tensor]] = None) -> dict[str, torch.Tensor]:
        z = self.representation(inputs)
        return {name: mlp(z) for name, mlp in self.mlps.items()}

    def head_parameters(self, name: str) -> list[nn.Parameter]:
        """The parameters of one head's MLP."""
        return list(self.mlps[name].parameters())

    def training_step(self, batch: Batch, losses: dict, step) -> dict[str, float]:
        from .training import alternating_update

        return alternating_update(self, batch, losses, step)

    def penalized_parameters(self):
        """Weights that take part in the current (half) step: the inactive
        head is frozen during the other head's update, so its weights are left
        out of the L2 penalty as well."""
        return [p for p in super().penalized_parameters() if p.requires_grad]


def _waveform(x: torch.Tensor) -> torch.Tensor:
    """(B, T, 1) frames of one sample, or (B, T), → (B, 1, T)."""
    return x.unsqueeze(1) if x.ndim == 2 else x.transpose(1, 2)


class ELoR(SplitHeadModel):
    """ELoR: a CNN on the raw 16 kHz waveform with split valence/arousal MLPs.

    Wieser et al. 2020, §2.1, Fig. 2, Table 1: three blocks of 1-D convolution
    (stride 1), batch normalisation, max-pooling and ReLU, He initialisation,
    then two hidden sigmoid layers with dropout per dimension.  Filter sizes and
    counts default to Trigeorgis et al. 2016 (see the module docstring); the
    CNN output is max-pooled to ``time_steps`` steps so that any input length
    gives the same MLP input (the paper uses fixed 6-s inputs).
    """

    name = "elor"
    summary = "Wieser et al. 2020 ELoR: raw-waveform CNN with split valence/arousal MLPs"

    def __init__(self, inputs: dict[str, FeatureInfo], labels: LabelSpace, raw_key: str = "raw",
                 filters: list[int] = [40, 40, 40], kernels: list[int] = [80, 4000, 40],
                 strides: list[int] = [1, 1, 1], pools: list[int] = [2, 10, 10], channel_pool: int = 1,
                 time_steps: int = 6, hidden: list[int] = [256, 128], dropout: float = 0.5,
                 targets: list[str] = DIMENSIONS, classes: list[str] = RATINGS) -> None:
        super().__init__()
        info = input_of(inputs, raw_key, self.name, "frame", "raw_key")
        self.raw_key = raw_key
        self.cnn = ConvStack(info.dim, filters, kernels, strides, pools, channel_pool, time_steps)
        self._init_heads(labels, targets, classes, self.cnn.out_dim, hidden, dropout)

    def representation(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.cnn(_waveform(inputs[self.raw_key]))


class LoM(SplitHeadModel):
    """LoM: 1-D convolutions over 26 MFCCs (as 26 input channels) with split MLPs.

    Wieser et al. 2020, §2.2, Table 2: 25-ms windows, 10-ms shift (599×26 for
    6 s), convolution and pooling only.  Default kernels mirror ELoR's
    receptive fields at the 100 Hz frame rate (the second spans 500 ms).
    """

    name = "lom"
    summary = "Wieser et al. 2020 LoM: CNN over 26 MFCC channels with split valence/arousal MLPs"

    def __init__(self, inputs: dict[str, FeatureInfo], labels: LabelSpace, mfcc_key: str = "mfcc",
                 filters: list[int] = [40, 40, 40], kernels: list[int] = [5, 50, 5],
                 strides: list[int] = [1, 1, 1], pools: list[int] = [2, 2, 2], channel_pool: int = 1,
                 time_steps: int = 6, hidden: list[int] = [256, 128], dropout: float = 0.5,
                 targets: list[str] = DIMENSIONS, classes: list[str] = RATINGS) -> None:
        super().__init__()
        info = input_of(inputs, mfcc_key, self.name, "frame", "mfcc_key")
        self.mfcc_key = mfcc_key
        self.cnn = ConvStack(info.dim, filters, kernels, strides, pools, channel_pool, time_steps)
        self._init_heads(labels, targets, classes, self.cnn.out_dim, hidden, dropout)

    def representation(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.cnn(inputs[self.mfcc_key].transpose(1, 2))


class FTR(SplitHeadModel):
    """FTR: the INTERSPEECH 2010 paralinguistic functionals (1582) straight
    into the split MLPs (Wieser et al. 2020, §2.2, Table 3)."""

    name = "ftr"
    summary = "Wieser et al. 2020 FTR: IS10 functionals into split valence/arousal MLPs"

    def __init__(self, inputs: dict[str, FeatureInfo], labels: LabelSpace, functionals_key: str = "opensmile",
                 hidden: list[int] = [256, 128], dropout: float = 0.5,
                 targets: list[str] = DIMENSIONS, classes: list[str] = RATINGS) -> None:
        super().__init__()
        info = input_of(inputs, functionals_key, self.name, "utterance", "functionals_key")
        self.functionals_key = functionals_key
        self._init_heads(labels, targets, classes, info.dim, hidden, dropout)

    def representation(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        return inputs[self.functionals_key]


class ELoRFTR(SplitHeadModel):
    """ELoR+FTR: ELoR's CNN representation concatenated with the IS10
    functionals into the split MLPs (Wieser et al. 2020, §2.2, Table 4)."""

    name = "elor_ftr"
    summary = "Wieser et al. 2020 ELoR+FTR: raw-waveform CNN plus IS10 functionals, split MLPs"

    def __init__(self, inputs: dict[str, FeatureInfo], labels: LabelSpace, raw_key: str = "raw",
                 functionals_key: str = "opensmile",
                 filters: list[int] = [40, 40, 40], kernels: list[int] = [80, 4000, 40],
                 strides: list[int] = [1, 1, 1], pools: list[int] = [2, 10, 10], channel_pool: int = 1,
                 time_steps: int = 6, hidden: list[int] = [256, 128], dropout: float = 0.5,
                 targets: list[str] = DIMENSIONS, classes: list[str] = RATINGS) -> None:
        super().__init__()
        raw = input_of(inputs, raw_key, self.name, "frame", "raw_key")
        functionals = input_of(inputs, functionals_key, self.name, "utterance", "functionals_key")
        self.raw_key, self.functionals_key = raw_key, functionals_key
        self.cnn = ConvStack(raw.dim, filters, kernels, strides, pools, channel_pool, time_steps)
        self._init_heads(labels, targets, classes, self.cnn.out_dim + functionals.dim, hidden, dropout)

    def representation(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.cat([self.cnn(_waveform(inputs[self.raw_key])), inputs[self.functionals_key]], dim=1)


COMPONENTS = [ELoR, LoM, FTR, ELoRFTR]

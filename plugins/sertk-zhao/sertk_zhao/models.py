"""The 1-D and 2-D CNN-LSTM networks of Zhao et al. (2019), §3.1, Tables 1–2.

Both stack four local feature learning blocks (:class:`~sertk_zhao.lflb.LFLB`),
feed the block output as a time sequence to one LSTM layer and classify its
last hidden state with a fully connected softmax layer (the softmax itself is
in the cross-entropy loss; ``forward`` returns logits).

Regularisation (§3.3, "penalties on layer parameters and layer activity"):
the weight penalty is the trainer's ``train.l2``; ``activity_l2`` adds
α·Σa²/B over the outputs a of every LFLB (Keras's ``activity_regularizer=l2(α)``,
which sums the squares and divides by the batch size B).  Which layers the
paper penalises is not said; the LFLB outputs are this reading.
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import nn

from sertk import Batch, FeatureInfo, Head, LabelSpace, Model
from sertk.nn import input_of, target_head

from .lflb import LFLB, SequenceLFLB, pool_window, pooled_sizes

PAPER_FILTERS = (64, 64, 128, 128)


class CNNLSTM(Model):
    """LFLB stack → LSTM → last hidden state → dropout → linear (shared by both networks)."""

    def __init__(self, inputs: dict[str, FeatureInfo], labels: LabelSpace, feature: str, target: str,
                 filters: Sequence[int], kernel: int, pools: Sequence[int], lstm_units: int, dropout: float,
                 activity_l2: float = 0.0):
        super().__init__()
        _check_layers(filters, kernel, pools, lstm_units, dropout)
        if activity_l2 < 0:
            raise ValueError(f"activity_l2 must be >= 0, got {activity_l2}")
        self.activity_l2 = activity_l2
        self.activity = torch.zeros(())  # α-free activity penalty of the last forward pass
        self.info = input_of(inputs, feature, self.name, "frame")
        self.feature = feature
        head = _classification_head(labels, target, self.name)
        self.heads = [head]
        self.time_pools = tuple(pools)
        self.blocks = nn.Sequential()
        self.lstm: nn.LSTM
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(lstm_units, len(head.classes))

    def sequence(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, D) input → (B, T', D') sequence for the LSTM."""
        raise NotImplementedError

    def run_blocks(self, x: torch.Tensor) -> torch.Tensor:
        """The LFLB stack; keeps Σa²/B over the block outputs in ``activity`` while training."""
        penalty = torch.zeros((), device=x.device)
        for block in self.blocks:
            x = block(x)
            if self.training and self.activity_l2:
                penalty = penalty + x.float().pow(2).sum() / x.shape[0]
        self.activity = penalty
        return x

    def training_step(self, batch: Batch, losses: dict, step) -> dict[str, float]:
        """The core's step plus ``activity_l2`` times the activity penalty of this batch."""
        per_head = self.head_losses(self(batch.inputs, batch.lengths), batch, losses)
        step(sum(per_head.values()) + self.activity_l2 * self.activity)
        return {k: float(v.detach()) for k, v in per_head.items()}

    def forward(self, inputs: dict[str, torch.Tensor],
                lengths: Optional[dict[str, torch.Tensor]] = None) -> dict[str, torch.Tensor]:
        x = inputs[self.feature]
        outputs, _ = self.lstm(self.sequence(x))
        steps = self.sequence_lengths(x.shape[1], (lengths or {}).get(self.feature), x.shape[0])
        last = outputs[torch.arange(outputs.shape[0], device=outputs.device), steps.to(outputs.device) - 1]
        return {self.heads[0].name: self.classifier(self.dropout(last))}

    def sequence_lengths(self, frames: int, lengths: Optional[torch.Tensor], batch: int) -> torch.Tensor:
        """Valid LSTM steps per utterance: each true length pooled like the padded time axis (floor, ≥ 1)."""
        steps = lengths.long().cpu() if lengths is not None else torch.full((batch,), frames, dtype=torch.long)
        for pool in self.time_pools:
            window = pool_window(frames, pool)
            frames = max(1, frames // window)
            steps = torch.clamp(steps // window, min=1, max=frames)
        return steps


class CNN1DLSTM(CNNLSTM):
    """1-D CNN-LSTM on the raw waveform (Zhao et al. 2019, §3.1, Table 1).

    Four 1-D LFLBs (kernel 3, stride 1, same padding; 64, 64, 128, 128 filters;
    max-pooling 4 with stride 4), so an input of L samples leaves L/4, L/16,
    L/64 and L/256 steps (odd sizes floored); an LSTM of 256 units over the
    L/256 steps; a softmax layer on its last hidden state.  The paper feeds 8-s
    clips at 16 kHz (L = 128000 → 500 steps).  ``dropout`` (before the softmax
    layer) is 0 because Table 1 lists none.  The input is the ``raw`` feature,
    (B, T, 1), read as one channel of T samples.
    """

    name = "cnn1d_lstm"
    summary = "1-D CNN-LSTM on the raw waveform: four LFLBs + LSTM (Zhao et al. 2019, Table 1)"

    def __init__(self, inputs: dict[str, FeatureInfo], labels: LabelSpace, feature: str = "raw",
                 target: str = "emotion", filters: list[int] = PAPER_FILTERS, kernel: int = 3,
                 pools: list[int] = (4, 4, 4, 4), lstm_units: int = 256, dropout: float = 0.0,
                 activity_l2: float = 0.0):
        super().__init__(inputs, labels, feature, target, filters, kernel, pools, lstm_units, dropout, activity_l2)
        channels = [self.info.dim, *filters]
        self.blocks = nn.Sequential(*(SequenceLFLB(channels[i], channels[i + 1], kernel, pools[i])
                                      for i in range(len(filters))))
        self.lstm = nn.LSTM(filters[-1], lstm_units, batch_first=True)

    def sequence(self, x: torch.Tensor) -> torch.Tensor:
        return self.run_blocks(x)


class CNN2DLSTM(CNNLSTM):
    """2-D CNN-LSTM on the log-mel spectrogram (Zhao et al. 2019, §3.1, Table 2).

    Four 2-D LFLBs (3×3 kernels, stride 1, same padding; 64, 64, 128, 128
    filters; max-pooling 2×2, then 4×4, 4×4, 4×4), so an M×N (mel × frames)
    input leaves M/2×N/2, M/8×N/8, M/32×N/32 and M/128×N/128 (odd sizes
    floored); an LSTM of 256 units; a softmax layer on its last hidden state.
    The LSTM runs along time: the final map (C × M' × N') is read as N' steps
    of C·M' values.  With the paper's 128×251 input (8 s at 16 kHz, FFT 2048,
    hop 512) the last map is 1×1, so the LSTM sees a single step; and since
    flooring drops each level's remainder, that cell covers frames 0–127
    only (0–170 with the 3×3 margins).  Pooling windows wider than what is
    left of an axis are narrowed to it, so short inputs also end at one step.
    ``time_pools`` (default: ``pools``) sets the pooling along time
    separately: ``[2, 2, 2, 1]`` turns a 2-s input (63 frames) into 7 LSTM
    steps covering frames 0–55.  ``dropout`` (before the softmax layer) is 0
    because Table 2 lists none.  The input is the ``logmel`` feature, (B, T, M).
    """

    name = "cnn2d_lstm"
    summary = "2-D CNN-LSTM on the log-mel spectrogram: four LFLBs + LSTM (Zhao et al. 2019, Table 2)"

    def __init__(self, inputs: dict[str, FeatureInfo], labels: LabelSpace, feature: str = "logmel",
                 target: str = "emotion", filters: list[int] = PAPER_FILTERS, kernel: int = 3,
                 pools: list[int] = (2, 4, 4, 4), time_pools: Optional[list[int]] = None,
                 lstm_units: int = 256, dropout: float = 0.0, activity_l2: float = 0.0):
        time_pools = pools if time_pools is None else time_pools
        if len(time_pools) != len(pools):
            raise ValueError(f"time_pools needs one window per block ({len(pools)}), got {list(time_pools)}")
        super().__init__(inputs, labels, feature, target, filters, kernel, time_pools, lstm_units, dropout,
                         activity_l2)
        channels = [1, *filters]
        self.blocks = nn.Sequential(*(LFLB(2, channels[i], channels[i + 1], kernel, (pools[i], time_pools[i]))
                                      for i in range(len(filters))))
        # channels-last maps: faster convolution, batch norm and pooling on CPU (same values up to rounding)
        self.blocks.to(memory_format=torch.channels_last)
        mel_left = pooled_sizes(self.info.dim, pools)[-1]
        self.lstm = nn.LSTM(filters[-1] * mel_left, lstm_units, batch_first=True)

    def sequence(self, x: torch.Tensor) -> torch.Tensor:
        maps = self.run_blocks(x.transpose(1, 2).unsqueeze(1))  # (B, C, M', N')
        return maps.permute(0, 3, 1, 2).flatten(2)  # (B, N', C·M')


def _check_layers(filters: Sequence[int], kernel: int, pools: Sequence[int], lstm_units: int, dropout: float) -> None:
    if not filters or any(f < 1 for f in filters):
        raise ValueError(f"filters must be a non-empty list of positive counts, got {list(filters)}")
    if len(pools) != len(filters) or any(p < 1 for p in pools):
        raise ValueError(f"pools needs one positive window per block ({len(filters)}), got {list(pools)}")
    if kernel < 1:
        raise ValueError(f"kernel must be at least 1, got {kernel}")
    if lstm_units < 1:
        raise ValueError(f"lstm_units must be at least 1, got {lstm_units}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")


def _classification_head(labels: LabelSpace, target: str, model: str) -> Head:
    """The utterance-level head for ``target``, which must be a categorical label."""
    head = target_head(labels, target, model)
    if head.kind != "classification":
        raise ValueError(f"{model} classifies categorical labels; target '{target}' is {head.kind} "
                         f"(categorical labels: {sorted(labels.classes)})")
    return head

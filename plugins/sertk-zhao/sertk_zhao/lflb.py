"""The local feature learning block (LFLB) of Zhao et al. (2019), §3.1.1.

One LFLB is convolution (stride 1, "same" padding) → batch normalisation →
ELU → max-pooling, in a 1-D form (raw waveform) and a 2-D form (log-mel
spectrogram).  It is computed as max-pooling before ELU, which gives the same
values and gradients (ELU is increasing) for a fraction of the work.

Pooling uses non-overlapping windows (stride = window) and floors odd sizes,
as max-pooling does: an axis of ``size`` becomes ``size // window``.  A
window wider than what is left of an axis is narrowed to that axis, so a
short input ends at size 1 instead of 0 (e.g. 7 time steps under a window of
4 give 1; 1 step stays 1).
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .sequence_ops import as_map, as_sequence, batch_normalised_weights, same_conv


def pool_window(size: int, pool: int) -> int:
    """The pooling window actually used on an axis of ``size``: ``pool``, narrowed to the axis."""
    return max(1, min(pool, size))


def pooled_size(size: int, pool: int) -> int:
    """The axis size after one pooling step: ``floor(size / window)``, at least 1."""
    return max(1, size // pool_window(size, pool))


def pooled_sizes(size: int, pools: Sequence[int]) -> list[int]:
    """The axis size after each pooling step of a stack of blocks."""
    sizes = []
    for pool in pools:
        size = pooled_size(size, pool)
        sizes.append(size)
    return sizes


class LFLB(nn.Module):
    """Conv → BatchNorm → ELU → MaxPool (Zhao et al. 2019, §3.1.1, Fig. 2).

    ``dims`` is 1 (input (B, C, T)) or 2 (input (B, C, H, W)); ``pool`` gives
    one pooling window per spatial axis.
    """

    def __init__(self, dims: int, in_channels: int, out_channels: int, kernel: int, pool: Sequence[int]):
        super().__init__()
        if dims not in (1, 2) or len(pool) != dims:
            raise ValueError(f"an LFLB is 1-D or 2-D with one pooling window per axis, got dims={dims}, pool={pool}")
        conv, norm = (nn.Conv1d, nn.BatchNorm1d) if dims == 1 else (nn.Conv2d, nn.BatchNorm2d)
        self.conv = conv(in_channels, out_channels, kernel, stride=1, padding="same")
        self.norm = norm(out_channels)
        self.pool = tuple(pool)
        self._max_pool = F.max_pool1d if dims == 1 else F.max_pool2d

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(self.conv(x))
        window = tuple(pool_window(size, p) for size, p in zip(x.shape[2:], self.pool))
        # ELU is increasing, so ELU∘max-pool = max-pool∘ELU (values and gradients);
        # pooling first applies ELU to 1/window of the values.
        return F.elu(self._max_pool(x, window))


class SequenceLFLB(LFLB):
    """A 1-D LFLB on (B, T, C) sequences, computed on channels-last maps (same values as :class:`LFLB`).

    The sequence is viewed, without copying, as a channels-last (B, C, 1, T) map, on which
    torch's CPU convolution, batch normalisation and max-pooling are about twice as fast
    as the (B, C, T) 1-D kernels for the raw waveform's long sequences; the output
    (B, T', C) feeds the LSTM without a transpose.  On a one-channel input (the waveform)
    batch normalisation is folded into the convolution's weights
    (:func:`~sertk_zhao.sequence_ops.batch_normalised_weights`).  Parameters are those of
    :class:`LFLB` (a ``Conv1d`` and a ``BatchNorm1d``), so saved models load in either.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel: int, pool: int):
        super().__init__(1, in_channels, out_channels, kernel, (pool,))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, steps, _ = x.shape
        window = pool_window(steps, self.pool[0])
        if self.conv.in_channels == 1:
            x = same_conv(x, *batch_normalised_weights(x, self.conv, self.norm))
        else:
            x = same_conv(x, self.conv.weight, self.conv.bias)
            x = self.norm(x.view(batch * steps, -1)).view(batch, steps, -1)
        return F.elu(as_sequence(F.max_pool2d(as_map(x), (1, window))))

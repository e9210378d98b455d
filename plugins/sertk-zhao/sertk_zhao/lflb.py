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

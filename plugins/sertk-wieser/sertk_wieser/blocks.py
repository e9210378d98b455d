"""Network building blocks shared by the Wieser et al. (2020) models.

* :class:`ConvBlock` — 1-D convolution, batch normalisation, max-pooling and
  ReLU with He initialisation (§2.1, Fig. 2 of the paper).
* :class:`ConvStack` — several such blocks, then max-pooling across channels
  (Trigeorgis et al. 2016) and to a fixed number of time steps, flattened.
* :class:`SplitMLP` — one emotional dimension's classifier: hidden sigmoid layers
  with dropout and Glorot initialisation (§2.1.1).
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn


class ConvBlock(nn.Module):
    """Conv1d → BatchNorm1d → MaxPool1d → ReLU, He-initialised.

    The order the paper's text implies (§2.1: each convolution is followed by
    batch normalisation, max-pooling and the ReLU); since max-pooling and ReLU
    commute, this is batch normalisation before the non-linearity.
    The ReLU is an ``nn.ReLU`` module so that analysis tools (guided
    backpropagation) can find and rewrite it.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int = 1, pool: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv1d(in_channels, out_channels, kernel, stride=stride, padding=(kernel - 1) // 2)
        self.relu = nn.ReLU()
        self.norm = nn.BatchNorm1d(out_channels)
        self.pool = nn.MaxPool1d(pool, ceil_mode=True) if pool > 1 else nn.Identity()
        nn.init.kaiming_normal_(self.conv.weight, nonlinearity="relu")
        nn.init.zeros_(self.conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.pool(self.norm(self.conv(x))))


class ChannelMaxPool(nn.Module):
    """Max over consecutive groups of ``size`` channels: (B, C, T) → (B, C/size, T)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t = x.shape
        return x.reshape(b, c // self.size, self.size, t).amax(dim=2)


class ConvStack(nn.Module):
    """Convolution blocks, optional channel max-pooling, then adaptive max-pooling
    to ``time_steps`` steps, flattened to a vector of ``out_dim`` values."""

    def __init__(self, in_channels: int, filters: Sequence[int], kernels: Sequence[int], strides: Sequence[int],
                 pools: Sequence[int], channel_pool: int = 1, time_steps: int = 1) -> None:
        super().__init__()
        lengths = {len(filters), len(kernels), len(strides), len(pools)}
        if len(lengths) != 1 or not filters:
            raise ValueError(f"filters, kernels, strides and pools need one value per convolution block and the "
                             f"same length, got {list(filters)}, {list(kernels)}, {list(strides)}, {list(pools)}")
        if min([*filters, *kernels, *strides, *pools, channel_pool, time_steps]) < 1:
            raise ValueError("filters, kernels, strides, pools, channel_pool and time_steps must all be >= 1")
        if filters[-1] % channel_pool:
            raise ValueError(f"channel_pool {channel_pool} must divide the last block's filters {filters[-1]}")
        blocks, channels = [], in_channels
        for f, k, s, p in zip(filters, kernels, strides, pools):
            blocks.append(ConvBlock(channels, f, k, s, p))
            channels = f
        self.blocks = nn.Sequential(*blocks)
        self.channel_pool = ChannelMaxPool(channel_pool) if channel_pool > 1 else nn.Identity()
        self.readout = nn.AdaptiveMaxPool1d(time_steps)
        self.out_dim = channels // channel_pool * time_steps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T) → (B, out_dim)."""
        return self.readout(self.channel_pool(self.blocks(x))).flatten(1)


class SplitMLP(nn.Module):
    """Hidden sigmoid layers with dropout, then a linear output (logits).

    Glorot (Xavier) uniform initialisation, zero biases (§2.1.1).
    """

    def __init__(self, in_dim: int, hidden: Sequence[int], out_dim: int, dropout: float) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = in_dim
        for h in hidden:
            layers += [nn.Linear(width, h), nn.Sigmoid(), nn.Dropout(dropout)]
            width = h
        layers.append(nn.Linear(width, out_dim))
        self.layers = nn.Sequential(*layers)
        for m in self.layers:
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)

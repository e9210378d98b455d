"""The paralinguistic feature extractor of Tzirakis et al., ICASSP 2021, §3.2, Table 1:
a CNN on the raw waveform at 22 050 Hz.

=========  ======  ======  =========
layer      kernel  stride  channels
=========  ======  ======  =========
conv+ReLU  8       1       50
max-pool   10      10
conv+ReLU  6       1       125
max-pool   5       5
conv+ReLU  6       1       125
max-pool   5       5
=========  ======  ======  =========

Padding (not given in the paper): the convolutions pad to keep the length ("same",
(K − 1) // 2 zeros on the left, as torch), and the pools keep a last partial window, so
N samples give ceil(N / 250) frames: 88.2 frames/s at 22 050 Hz, frame k covering
samples [250 k, 250 k + 250).  Samples past each row's length are zeroed before and
after every layer (after the ReLU, so a last partial pooling window takes the maximum of
its valid values), so a recording gives the same frames alone as padded in a batch.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sertk.nn import frame_mask

KERNELS, CHANNELS, POOLS = (8, 6, 6), (50, 125, 125), (10, 5, 5)  # Table 1


class Paralinguistic(nn.Module):
    """(B, N) samples with (B,) lengths → (B, ceil(N / 250), channels[-1]) frames (Table 1;
    ``channels`` (50, 125, 125) are the paper's widths)."""

    def __init__(self, channels=CHANNELS):
        super().__init__()
        if len(channels) != 3 or min(channels) < 1:
            raise ValueError(f"channels needs three positive widths (Table 1: 50, 125, 125), got {list(channels)}")
        self.convs = nn.ModuleList(nn.Conv1d(a, b, k) for a, b, k in zip((1, *channels), channels, KERNELS))
        self.pools = list(POOLS)
        self.hop = 1
        for pool in self.pools:
            self.hop *= pool
        self.output_size = channels[-1]

    def frames(self, lengths: torch.Tensor) -> torch.Tensor:
        """Valid output frames for ``lengths`` valid samples."""
        return torch.div(lengths + self.hop - 1, self.hop, rounding_mode="floor")

    def forward(self, signal: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        valid = lengths
        x = (signal * frame_mask(valid, signal.shape[-1], signal.shape[0], signal.device).to(signal.dtype))[:, None]
        for conv, pool in zip(self.convs, self.pools):
            k = conv.kernel_size[0]
            x = torch.relu(conv(F.pad(x, ((k - 1) // 2, k - 1 - (k - 1) // 2))))
            x = F.max_pool1d(x * frame_mask(valid, x.shape[-1], x.shape[0], x.device)[:, None].to(x.dtype),
                             pool, pool, ceil_mode=True)
            valid = torch.div(valid + pool - 1, pool, rounding_mode="floor")
        return x.transpose(1, 2)

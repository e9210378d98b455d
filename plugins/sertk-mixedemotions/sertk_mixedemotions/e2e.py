"""The end-to-end convolutional recurrent network of MixedEmotions D4.2, §5.2.1
(after Trigeorgis et al., "Adieu features? End-to-end speech emotion recognition
using a deep convolutional recurrent network", ICASSP 2016).

Raw 16-kHz segments, each normalised to zero mean and unit variance, go through

1. a convolution with 40 filters of 5 ms and half-wave rectification (ReLU),
2. max-pooling by 2 in time (to 8 kHz),
3. a convolution with 40 filters of 500 ms,
4. max-pooling across channels with size 20 (40 → 2 channels),
5. cutting into frames of 40 ms (the 6-s segments of D4.2 give 150 frames), each
   frame's 320 samples × 2 channels flattened to 640 values,
6. two bidirectional LSTM layers of 128 cells, and a linear output per target and
   frame (25 frames/s).

Dropout 0.5 applies to all but the recurrent layers (the frames entering the
LSTM and the LSTM output entering the linear layer).  Convolutions pad to keep
the length ("same", as Trigeorgis et al.'s TensorFlow code); the 500-ms
convolution runs through the FFT (exactly the same result as the direct
convolution, at a fraction of its cost on a CPU).
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from sertk import FeatureInfo, LabelSpace, Model
from sertk.nn import RecurrentEncoder, frame_mask, input_of, target_head

PAPER_FILTERS = (40, 40)        # D4.2 §5.2.1
PAPER_KERNEL_MS = (5.0, 500.0)  # D4.2 §5.2.1
PAPER_FRAME_MS = 40.0           # 150 frames of 40 ms per 6-s segment


def fast_length(n: int) -> int:
    """The smallest 2^a·3^b·5^c >= n (an FFT size pocketfft handles quickly)."""
    best = 1 << max(n - 1, 0).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            size = p35
            while size < n:
                size *= 2
            best = min(best, size)
            p35 *= 3
        p5 *= 5
    return best


def fft_conv1d_same(x: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor] = None) -> torch.Tensor:
    """``F.conv1d(x, weight, bias, padding="same")`` computed through the FFT.

    x (B, I, L), weight (O, I, K) → (B, O, L).  The input is padded as torch pads
    for "same" ((K − 1) // 2 on the left), convolved with the flipped kernel, and
    the valid part kept; the FFT length covers the padded input so circular
    wrap-around never reaches it.
    """
    length, k = x.shape[-1], weight.shape[-1]
    left = (k - 1) // 2
    padded = F.pad(x, (left, k - 1 - left))
    n = fast_length(padded.shape[-1])
    spectrum = torch.einsum("bif,oif->bof", torch.fft.rfft(padded, n), torch.fft.rfft(weight.flip(-1), n))
    y = torch.fft.irfft(spectrum, n)[..., k - 1:k - 1 + length]
    return y if bias is None else y + bias[None, :, None]


class SameConv1d(nn.Conv1d):
    """A stride-1 convolution with "same" padding ((K − 1) // 2 zeros on the left, as torch's
    ``padding="same"``); kernels longer than ``fft_above`` taps run through the FFT."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, fft_above: int = 256):
        super().__init__(in_channels, out_channels, kernel_size)
        self.fft_above = fft_above

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k = self.kernel_size[0]
        if k > self.fft_above:
            return fft_conv1d_same(x, self.weight, self.bias)
        return F.conv1d(F.pad(x, ((k - 1) // 2, k - 1 - (k - 1) // 2)), self.weight, self.bias)


def standardise(signal: torch.Tensor, lengths: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """(B, N) signals z-scored over each row's valid samples; padding stays zero."""
    mask = frame_mask(lengths, signal.shape[1], signal.shape[0], signal.device).to(signal.dtype)
    count = mask.sum(1, keepdim=True).clamp_min(1)
    mean = (signal * mask).sum(1, keepdim=True) / count
    var = (((signal - mean) * mask) ** 2).sum(1, keepdim=True) / count
    return (signal - mean) / (var + eps).sqrt() * mask


class ConvFrontEnd(nn.Module):
    """Steps 1–5 of the module docstring: (B, N) samples at ``sample_rate`` → (B, T, D) frames."""

    def __init__(self, sample_rate: float, filters: Sequence[int], kernel_ms: Sequence[float], pool: int,
                 channel_pool: int, frame_ms: float, fft_above: int = 256):
        super().__init__()
        if len(filters) != 2 or len(kernel_ms) != 2 or min(filters) < 1 or min(kernel_ms) <= 0:
            raise ValueError(f"filters and kernel_ms need two positive values each (two convolutions), got "
                             f"{list(filters)} and {list(kernel_ms)}")
        if pool < 1 or channel_pool < 1 or filters[1] % channel_pool:
            raise ValueError(f"pool and channel_pool must be >= 1 and channel_pool must divide filters[1] "
                             f"({filters[1]}), got {pool} and {channel_pool}")
        rate = sample_rate / pool
        self.frame = int(round(frame_ms * rate / 1000))
        if self.frame < 1 or abs(self.frame * 1000 / rate - frame_ms) > 1e-6 * frame_ms:
            raise ValueError(f"frame_ms {frame_ms} is not a whole number of samples at {rate:g} Hz after pooling")
        self.samples_per_frame = self.frame * pool
        self.conv1 = SameConv1d(1, filters[0], max(1, int(round(kernel_ms[0] * sample_rate / 1000))), fft_above)
        self.pool = nn.MaxPool1d(pool, ceil_mode=True) if pool > 1 else nn.Identity()
        self.pool_size = pool
        self.conv2 = SameConv1d(filters[0], filters[1], max(1, int(round(kernel_ms[1] * rate / 1000))), fft_above)
        self.channel_pool = channel_pool
        self.output_size = self.frame * filters[1] // channel_pool

    def frames(self, lengths: torch.Tensor) -> torch.Tensor:
        """Valid output frames for ``lengths`` valid input samples."""
        return torch.div(lengths + self.samples_per_frame - 1, self.samples_per_frame, rounding_mode="floor")

    def forward(self, signal: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(B, N) samples with (B,) valid lengths → (B, T, D) frames; values past each row's
        valid samples are zeroed after every layer, so a recording gives the same frames alone
        as padded in a batch."""
        x = standardise(signal, lengths)[:, None, :]
        pooled = -(-lengths // self.pool_size)
        x = self.pool(torch.relu(self.conv1(x)))
        x = x * frame_mask(pooled, x.shape[-1], x.shape[0], x.device)[:, None, :].to(x.dtype)
        x = self.conv2(x)
        b, c, t = x.shape
        x = x.view(b, c // self.channel_pool, self.channel_pool, t).amax(2)
        x = x * frame_mask(pooled, t, b, x.device)[:, None, :].to(x.dtype)
        steps = -(-t // self.frame)
        x = F.pad(x, (0, steps * self.frame - t))
        return x.view(b, x.shape[1], steps, self.frame).permute(0, 2, 1, 3).reshape(b, steps, -1)


class EndToEnd(Model):
    """End-to-end conv-recurrent network on raw audio (MixedEmotions D4.2 §5.2.1, Table 6.1;
    Trigeorgis et al., ICASSP 2016): conv 40 × 5 ms, ReLU, max-pool 2, conv 40 × 500 ms,
    channel max-pool 20, 40-ms frames, 2 BLSTM layers × 128, linear output per target.

    Reads the ``raw`` feature (``feature``; recipes set ``normalize: none``: each segment
    is z-scored here).  ``targets`` are contours (default the recipe's ``data.target``),
    predicted at 1000 / ``frame_ms`` frames/s.  Every size is a parameter, D4.2's values
    the defaults; ``fft_above`` (taps) picks FFT convolution for long kernels.
    Sub-networks: ``frontend`` (``frontend.conv1``, ``frontend.conv2``), ``encoder``,
    ``outputs``.
    """

    name = "e2e_crnn"
    summary = "end-to-end conv + BLSTM on raw audio, 40-ms contour frames (MixedEmotions D4.2 §5.2.1)"

    def __init__(self, inputs: dict[str, FeatureInfo], labels: LabelSpace, feature: str = "raw",
                 targets: Optional[list[str]] = None, filters: list[int] = list(PAPER_FILTERS),
                 kernel_ms: list[float] = list(PAPER_KERNEL_MS), pool: int = 2, channel_pool: int = 20,
                 frame_ms: float = PAPER_FRAME_MS, hidden: int = 128, layers: int = 2, dropout: float = 0.5,
                 fft_above: int = 256):
        super().__init__()
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        info = input_of(inputs, feature, self.name, "frame")
        if info.dim != 1 or not info.frame_rate:
            raise ValueError(f"{self.name} reads a raw waveform (samples, 1) with a sample rate; feature "
                             f"{info.key!r} has dim {info.dim} and frame rate {info.frame_rate}")
        self.feature = info.key
        self.frontend = ConvFrontEnd(info.frame_rate, filters, kernel_ms, pool, channel_pool, frame_ms, fft_above)
        rate = 1000.0 / frame_ms
        self.heads = [target_head(labels, t, self.name, level="frame", rate=rate) for t in (targets or [None])]
        wrong = [h.name for h in self.heads if h.kind != "regression" or h.level != "frame"]
        if wrong:
            raise ValueError(f"{self.name} predicts contours (frame-level regression); {wrong} are not")
        self.dropout = nn.Dropout(dropout)
        self.encoder = RecurrentEncoder(self.frontend.output_size, hidden, layers, bidirectional=True, cell="lstm")
        self.outputs = nn.ModuleList(nn.Linear(self.encoder.output_size, 1) for _ in self.heads)

    def forward(self, inputs, lengths=None):
        signal = inputs[self.feature][..., 0]
        n = (lengths or {}).get(self.feature)
        n = torch.full((signal.shape[0],), signal.shape[1], device=signal.device) if n is None else n.to(signal.device)
        frames = self.dropout(self.frontend(signal, n))
        hidden = self.dropout(self.encoder(frames, self.frontend.frames(n).clamp(1, frames.shape[1])))
        return {h.name: layer(hidden).squeeze(-1) for h, layer in zip(self.heads, self.outputs)}

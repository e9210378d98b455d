"""The Deep Speech 2 speech recogniser whose layers Lakomkin et al. (2017) reuse (§3.1.1, Fig. 2).

:class:`DS2Encoder` is the part the emotion models share with the recogniser,
under the same attribute name ``asr`` everywhere, so that a trained
recogniser's weights load into an emotion model with
``train.pretrained: [{module: asr, source: RUN_OR_FILE, prefix: asr}]``:

* ``asr.conv``: two 2-D convolutions over (frequency × time) of the
  spectrogram, each followed by batch normalisation and a clipped ReLU
  (``hardtanh`` 0…20).  Sizes are Deep Speech 2's "2-layer 2D" front end
  (Amodei et al. 2016, Table 4): 32 filters 41×11 (frequency × time)
  stride 2×2, then 32 filters 21×11 stride 2×1, zero-padded by half a kernel.
  Time is strided by 2 once, so the recurrent layers run at half the
  spectrogram's frame rate (50 frames/s for 10-ms frames).
* ``asr.rnn``: a ``ModuleList`` of bidirectional GRU layers (five in the
  paper); the two directions' outputs are summed, as in Deep Speech 1/2
  (Hannun et al. 2014), so every layer outputs ``hidden`` values per
  frame.  Layers 2… get sequence-wise batch normalisation of their input (Deep
  Speech 2's batch normalisation for deep RNNs), statistics over the valid frames of the batch only.

Padded frames are zeroed after every convolution and left out of every
batch-normalisation statistic, and packed away in the GRUs, so an utterance
gives the same layers alone as padded in a batch, and the statistics a batch
contributes do not depend on how much padding it holds.  (The PyTorch Deep
Speech 2 code zeroes padded frames too but counts them in the convolutions'
batch-norm statistics.)
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Optional, Sequence

import torch
from torch import nn

from sertk.nn import frame_mask

CONV_KERNELS = ((41, 11), (21, 11))  # (frequency, time): Deep Speech 2, Table 4, "2-layer 2D"
CONV_STRIDES = ((2, 2), (2, 1))
CONV_PADDING = ((20, 5), (10, 5))
CLIP = 20.0  # clipped ReLU: min(max(x, 0), 20), as in Deep Speech 2
TIME_STRIDE = CONV_STRIDES[0][1] * CONV_STRIDES[1][1]


def conv_size(size, kernel: int, stride: int, padding: int):
    """Output size of one convolution along an axis (an int, or a tensor of lengths)."""
    return (size + 2 * padding - kernel) // stride + 1


def layer_names(layers: int) -> list[str]:
    """Names of the representations: ``conv`` and ``gru1`` … ``gru<layers>``."""
    return ["conv", *(f"gru{i}" for i in range(1, layers + 1))]


def masked_apply(module: nn.Module, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """``module`` (e.g. BatchNorm1d) on the valid frames of (B, T, D) only; padded frames stay 0."""
    mask = frame_mask(lengths, x.shape[1], x.shape[0], x.device)
    out = module(x[mask])
    return out.new_zeros(*x.shape[:2], out.shape[-1]).masked_scatter(mask.unsqueeze(-1), out)


def _masked_norm2d(norm: nn.BatchNorm2d, h: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """BatchNorm2d over the valid time steps of (B, C, F, T) only (statistics from
    valid frames, as for an unpadded utterance); padded steps stay 0."""
    mask = frame_mask(lengths, h.shape[-1], h.shape[0], h.device)
    frames = h.permute(0, 3, 1, 2)  # (B, T, C, F)
    normed = norm(frames[mask].unsqueeze(-1)).squeeze(-1)  # (valid frames, C, F): one "image row" each
    return normed.new_zeros(frames.shape).masked_scatter(mask[:, :, None, None], normed).permute(0, 2, 3, 1)


class RecurrentLayer(nn.Module):
    """One Deep Speech 2 recurrent layer: (sequence-wise batch norm of the input →)
    bidirectional GRU, forward and backward outputs summed (Amodei et al. 2016)."""

    def __init__(self, input_size: int, hidden: int, norm: bool):
        super().__init__()
        self.norm = nn.BatchNorm1d(input_size) if norm else None
        self.gru = nn.GRU(input_size, hidden, batch_first=True, bidirectional=True)
        self.hidden = hidden

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        if self.norm is not None:
            x = masked_apply(self.norm, x, lengths)
        steps = x.shape[1]
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths.clamp(1, steps).cpu(), batch_first=True,
                                                   enforce_sorted=False)
        out, _ = self.gru(packed)
        out = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=steps)[0]
        return out.view(x.shape[0], steps, 2, self.hidden).sum(2)


class DS2Encoder(nn.Module):
    """Deep Speech 2's convolutional front end and recurrent stack (Lakomkin et al. 2017,
    §3.1.1, Fig. 2; Amodei et al. 2016, Table 4), without the character softmax.

    Input (B, T, bins) spectrogram frames with valid lengths (B,); ``forward``
    returns the representation of every layer it computes, ``{"conv": (h, n),
    "gru1": (h, n), ...}``: ``h`` (B, T', D) with zeros past each row's ``n``
    valid frames, T' = ceil(T / 2).  ``upto`` (0 … layers) stops after that
    many recurrent layers (0: the convolutions only).
    """

    def __init__(self, bins: int, channels: Sequence[int] = (32, 32), hidden: int = 800, layers: int = 5):
        super().__init__()
        if len(channels) != 2 or any(c < 1 for c in channels):
            raise ValueError(f"channels must give the two convolutions' filter counts, got {list(channels)}")
        if hidden < 1:
            raise ValueError(f"hidden must be at least 1, got {hidden}")
        if layers < 1:
            raise ValueError(f"layers must be at least 1, got {layers}")
        modules: list[nn.Module] = []
        size, previous = bins, 1
        for count, kernel, stride, padding in zip(channels, CONV_KERNELS, CONV_STRIDES, CONV_PADDING):
            modules += [nn.Conv2d(previous, count, kernel, stride, padding), nn.BatchNorm2d(count),
                        nn.Hardtanh(0.0, CLIP)]
            size, previous = conv_size(size, kernel[0], stride[0], padding[0]), count
        if size < 1:
            raise ValueError(f"a spectrogram of {bins} bins is too narrow for the convolutions")
        self.conv = nn.Sequential(*modules)
        self.conv_size = previous * size
        self.rnn = nn.ModuleList(RecurrentLayer(self.conv_size if i == 0 else hidden, hidden, norm=i > 0)
                                 for i in range(layers))
        self.hidden = hidden

    @property
    def layers(self) -> int:
        return len(self.rnn)

    def output_size(self, name: str) -> int:
        """Values per frame of representation ``name``."""
        return self.conv_size if name == "conv" else self.hidden

    @staticmethod
    def frames(lengths: torch.Tensor) -> torch.Tensor:
        """Valid output frames of the convolutions for ``lengths`` input frames (ceil(L / 2))."""
        for kernel, stride, padding in zip(CONV_KERNELS, CONV_STRIDES, CONV_PADDING):
            lengths = conv_size(lengths, kernel[1], stride[1], padding[1]).clamp_min(1)
        return lengths

    def forward(self, x: torch.Tensor, lengths: Optional[torch.Tensor] = None,
                upto: Optional[int] = None) -> "OrderedDict[str, tuple[torch.Tensor, torch.Tensor]]":
        upto = self.layers if upto is None else upto
        if not 0 <= upto <= self.layers:
            raise ValueError(f"upto must be in 0..{self.layers}, got {upto}")
        batch, steps = x.shape[0], x.shape[1]
        if lengths is None:
            lengths = torch.full((batch,), steps, dtype=torch.long, device=x.device)
        lengths = lengths.to(x.device).long().clamp(1, steps)
        valid = lengths
        x = x * frame_mask(valid, steps, batch, x.device).unsqueeze(-1).to(x.dtype)  # padding is zeros
        h = x.transpose(1, 2).unsqueeze(1)  # (B, 1, bins, T)
        for module in self.conv:
            if isinstance(module, nn.BatchNorm2d):
                h = _masked_norm2d(module, h, valid)
                continue
            h = module(h)
            if isinstance(module, nn.Conv2d):
                valid = conv_size(valid, module.kernel_size[1], module.stride[1], module.padding[1]).clamp_min(1)
                h = h * frame_mask(valid, h.shape[-1], batch, h.device)[:, None, None, :].to(h.dtype)
        h = h.flatten(1, 2).transpose(1, 2)  # (B, T', channels · frequency)
        out: "OrderedDict[str, tuple[torch.Tensor, torch.Tensor]]" = OrderedDict(conv=(h, valid))
        for i, layer in enumerate(self.rnn[:upto], 1):
            h = layer(h, valid)
            out[f"gru{i}"] = (h, valid)
        return out


class SequenceOutput(nn.Module):
    """The recogniser's per-frame softmax layer: sequence-wise batch norm → linear
    (no bias) → log-softmax, as in the PyTorch Deep Speech 2 code
    (deepspeech.pytorch)."""

    def __init__(self, hidden: int, classes: int):
        super().__init__()
        self.norm = nn.BatchNorm1d(hidden)
        self.linear = nn.Linear(hidden, classes, bias=False)

    def forward(self, h: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.linear(masked_apply(self.norm, h, lengths)).log_softmax(-1)

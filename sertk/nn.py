"""Torch building blocks shared by models of several papers: input lookup, heads,
masks, masked pooling, recurrent encoders, frame alignment, the CCC and a learned
weighting of self-supervised layers.

Part of the public plugin API (``from sertk.nn import ...``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Optional

import torch
from torch import nn

from .heads import target_head  # noqa: F401  (part of sertk.nn's public API)
from .interfaces import FeatureInfo, Head

if TYPE_CHECKING:
    from .model import Batch


# ----------------------------------------------------------------- recipe glue
def input_of(inputs: dict[str, FeatureInfo], key: Optional[str], model: str, level: Optional[str] = None,
             param: str = "feature") -> FeatureInfo:
    """The feature stream ``key`` a model reads (the only stream when ``key`` is
    None), checked for its level; errors name the recipe param to set."""
    if key is None:
        candidates = [k for k, i in inputs.items() if level is None or i.level == level]
        if len(candidates) != 1:
            raise ValueError(f"{model} needs params.{param} to name one of the recipe's "
                             f"{level + '-level ' if level else ''}features {candidates or sorted(inputs)}")
        key = candidates[0]
    if key not in inputs:
        raise ValueError(f"{model} needs the feature with key {key!r} (set `{param}` or add it to the recipe's "
                         f"features); the recipe has {sorted(inputs) or 'no features'}")
    info = inputs[key]
    if level is not None and info.level != level:
        raise ValueError(f"feature {key!r} is {info.level}-level but {model} needs a {level}-level feature")
    return info


def frame_mask(lengths: Optional[torch.Tensor], steps: int, batch: int = 1,
               device: Optional[torch.device] = None) -> torch.Tensor:
    """(B, steps) boolean mask of the first ``lengths[b]`` frames (all when None)."""
    if lengths is None:
        return torch.ones(batch, steps, dtype=torch.bool, device=device)
    lengths = lengths.to(device) if device is not None else lengths
    return torch.arange(steps, device=lengths.device)[None, :] < lengths[:, None]


def masked_mean(x: torch.Tensor, lengths: Optional[torch.Tensor] = None) -> torch.Tensor:
    """(B, T, D) → (B, D): the mean over each row's valid frames."""
    weight = frame_mask(lengths, x.shape[1], x.shape[0], x.device).to(x.dtype).unsqueeze(-1)
    return (x * weight).sum(1) / weight.sum(1).clamp_min(1)


def mean_std_pool(x: torch.Tensor, lengths: Optional[torch.Tensor] = None) -> torch.Tensor:
    """(B, T, D) → (B, 2D): mean and standard deviation over each row's valid frames."""
    weight = frame_mask(lengths, x.shape[1], x.shape[0], x.device).to(x.dtype).unsqueeze(-1)
    count = weight.sum(1).clamp_min(1)
    mean = (x * weight).sum(1) / count
    var = ((x - mean[:, None]) ** 2 * weight).sum(1) / count
    return torch.cat([mean, var.clamp_min(1e-10).sqrt()], dim=-1)


# ----------------------------------------------------------------- sequence models
class RecurrentEncoder(nn.Module):
    """Stacked (bi)directional LSTM or GRU over padded (B, T, D) frames.

    Padded frames are packed away, so they change neither the states of valid
    frames nor the backward pass; outputs at padded frames are zero.  ``dropout``
    applies between layers (torch's convention).  Output: (B, T, hidden × directions).
    """

    def __init__(self, input_size: int, hidden: int, layers: int = 2, bidirectional: bool = True,
                 cell: Literal["lstm", "gru"] = "lstm", dropout: float = 0.0) -> None:
        super().__init__()
        if hidden < 1:
            raise ValueError(f"hidden must be at least 1, got {hidden}")
        if layers < 1:
            raise ValueError(f"layers must be at least 1, got {layers}")
        if cell not in ("lstm", "gru"):
            raise ValueError(f"cell must be 'lstm' or 'gru', got {cell!r}")
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn = rnn(input_size, hidden, num_layers=layers, batch_first=True, bidirectional=bidirectional,
                       dropout=dropout if layers > 1 else 0.0)
        self.output_size = hidden * (2 if bidirectional else 1)

    def forward(self, x: torch.Tensor, lengths: Optional[torch.Tensor] = None) -> torch.Tensor:
        if lengths is None:
            return self.rnn(x)[0]
        lengths = lengths.clamp(1, x.shape[1]).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.rnn(packed)
        return nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])[0]


# ----------------------------------------------------------------- alignment
def output_lengths(durations: torch.Tensor, rate: float, steps: int) -> torch.Tensor:
    """Valid output frames of a frame-level head at ``rate`` frames/s for segments of
    ``durations`` seconds: ceil(duration × rate), at least 1, at most ``steps``."""
    return torch.ceil(durations.double() * rate - 1e-6).long().clamp(1, steps)


def align_frames(values: torch.Tensor, rate: float, lengths: torch.Tensor, times: torch.Tensor,
                 label_rate: Optional[float] = None) -> torch.Tensor:
    """Model outputs at ``rate`` frames/s, resampled at label frame ``times`` (s).

    ``values`` is (B, T) or (B, T, C), output frame k centred at (k + ½)/rate;
    ``lengths`` (B,) the valid output frames; ``times`` (B, L) the label frame
    times relative to the segment start.  With ``label_rate`` below ``rate``
    each label frame takes the mean of the output frames within ±½ label
    period (pooling); otherwise outputs are linearly interpolated.  Positions
    are clamped to each row's valid frames.  Returns (B, L) or (B, L, C);
    differentiable in ``values``.
    """
    squeeze = values.ndim == 2
    v = values.unsqueeze(-1) if squeeze else values
    b, t, c = v.shape
    last = (lengths.to(v.device).clamp(1, t) - 1).to(v.dtype)[:, None]
    times = times.to(v.device, v.dtype)
    if label_rate is not None and label_rate < rate:
        half = 0.5 * rate / label_rate
        centre = times * rate - 0.5
        lo = torch.minimum(torch.ceil(centre - half).clamp_min(0), last)
        hi = torch.maximum(torch.minimum(torch.floor(centre + half), last), lo)
        csum = torch.cat([torch.zeros(b, 1, c, device=v.device, dtype=v.dtype), v.cumsum(1)], dim=1)
        take = lambda idx: csum.gather(1, idx.long().unsqueeze(-1).expand(-1, -1, c))  # noqa: E731
        out = (take(hi + 1) - take(lo)) / (hi - lo + 1).unsqueeze(-1)
    else:
        pos = torch.minimum((times * rate - 0.5).clamp_min(0), last)
        lo = pos.floor()
        frac = (pos - lo).unsqueeze(-1)
        hi = torch.minimum(lo + 1, last)
        take = lambda idx: v.gather(1, idx.long().unsqueeze(-1).expand(-1, -1, c))  # noqa: E731
        out = take(lo) * (1 - frac) + take(hi) * frac
    return out.squeeze(-1) if squeeze else out


def frame_output(head: Head, output: torch.Tensor, batch: Batch) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
    """A frame-level head's output made comparable with its targets, and its valid output lengths.

    Output frames run at ``head.rate`` (when a model gives none: as many frames
    as span the longest segment).  With label frame times in the batch the
    output is aligned to them (:func:`align_frames`), so models never
    resample to the label rate themselves; sequence heads stay at their own
    rate and come with output lengths for CTC.
    """
    steps = output.shape[1]
    if batch.durations is None:
        return output, None
    rate = head.rate or steps / float(batch.durations.max().clamp_min(1e-6))
    lengths = output_lengths(batch.durations, rate, steps)
    times = batch.target_times.get(head.name)
    if head.kind == "sequence" or times is None:
        return output, lengths
    return align_frames(output, rate, lengths, times, batch.target_rates.get(head.name)), lengths


# ----------------------------------------------------------------- concordance
def concordance(output: torch.Tensor, target: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Lin's concordance correlation coefficient of two 1-D tensors (population statistics)."""
    mo, mt = output.mean(), target.mean()
    cov = ((output - mo) * (target - mt)).mean()
    return 2 * cov / (output.var(unbiased=False) + target.var(unbiased=False) + (mo - mt) ** 2 + eps)


class LayerWeightedSum(torch.nn.Module):
    """A learned, softmax-normalised weighted sum over layers, as in SUPERB (Yang et al., 2021).

    Input (..., n_layers * dim): the layers side by side, as the built-in ``ssl``
    feature gives them with ``layer: all``; output (..., dim).  The weights start equal,
    so an untrained module returns the mean of the layers.  ``layer_norm``
    normalises each layer (no learned scale) before weighting.
    """

    def __init__(self, n_layers: int, dim: int, layer_norm: bool = False):
        super().__init__()
        if n_layers < 1 or dim < 1:
            raise ValueError(f"need n_layers >= 1 and dim >= 1, got {n_layers} and {dim}")
        self.n_layers, self.dim, self.layer_norm = n_layers, dim, layer_norm
        self.weights = torch.nn.Parameter(torch.zeros(n_layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.n_layers * self.dim:
            raise ValueError(f"expected a last dimension of {self.n_layers} layers x {self.dim} = "
                             f"{self.n_layers * self.dim}, got {x.shape[-1]}")
        x = x.reshape(*x.shape[:-1], self.n_layers, self.dim)
        if self.layer_norm:
            x = torch.nn.functional.layer_norm(x, (self.dim,))
        return torch.einsum("...ld,l->...d", x, self.layer_weights)

    @property
    def layer_weights(self) -> torch.Tensor:
        """The normalised weights, one per layer (they sum to 1)."""
        return torch.softmax(self.weights, dim=0)

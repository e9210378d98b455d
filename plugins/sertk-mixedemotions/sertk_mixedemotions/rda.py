"""The recurrent denoising autoencoder (rDA) and its linear back end (MixedEmotions D4.2 §3.3,
§3.4.2, Table 4.1): corrupted MFCCs → two BLSTM layers → enhanced MFCCs → mean and variance
over 8-s windows every 40 ms (or over the utterance) → a linear SVR / SVM, whose weights the
``rda_enhance`` strategy fits."""
from __future__ import annotations

import math
from typing import Literal, Optional

import torch
from torch import nn

from sertk import FeatureInfo, LabelSpace, Model
from sertk.nn import RecurrentEncoder, frame_mask, input_of, target_head

from .drnn import contour_heads

BACKEND_INPUTS = ("clean", "noisy", "enhanced")


class DenoisingAutoencoder(nn.Module):
    """``layers`` bidirectional LSTM layers of ``hidden`` cells and a linear output back to
    the input dimension (D4.2 §3.4.2: 2 × 30 cells, 13 MFCCs in and out); every weight
    uniform in ±``init`` (D4.2: 0.1)."""

    def __init__(self, dim: int, hidden: int = 30, layers: int = 2, init: float = 0.1):
        super().__init__()
        self.encoder = RecurrentEncoder(dim, hidden, layers, bidirectional=True, cell="lstm")
        self.output = nn.Linear(self.encoder.output_size, dim)
        for p in self.parameters():
            nn.init.uniform_(p, -init, init)

    def forward(self, x: torch.Tensor, lengths: Optional[torch.Tensor] = None) -> torch.Tensor:
        if lengths is not None and bool((lengths >= x.shape[1]).all()):
            lengths = None  # nothing padded: skip packing, ten times slower on a CPU
        return self.output(self.encoder(x, lengths))


def window_moments(x: torch.Tensor, lengths: Optional[torch.Tensor], rate: float, window_s: float,
                   hop_s: float) -> torch.Tensor:
    """(B, T, D) frames at ``rate`` frames/s → (B, K, 2D): mean and variance of each dimension
    over the window of ``window_s`` centred at output frame k's centre (k + ½)·``hop_s``,
    K = ⌈T / rate / hop_s⌉.  Windows are shifted inside each row's valid frames (a row shorter
    than one window gets its whole-row moments)."""
    b, t, d = x.shape
    n = (torch.full((b,), t) if lengths is None else lengths.cpu().clamp(1, t)).double()[:, None]
    steps = max(1, math.ceil(t / rate / hop_s - 1e-9))
    width = torch.minimum(torch.full_like(n, round(window_s * rate)), n)
    centres = (torch.arange(steps, dtype=torch.float64) + 0.5) * hop_s * rate
    lo = torch.minimum(torch.clamp(torch.round(centres[None] - width / 2), min=0), n - width)
    hi = lo + width
    xd = x.double()
    zeros = xd.new_zeros(b, 1, d)
    sums = torch.cat([zeros, xd.cumsum(1)], 1), torch.cat([zeros, (xd * xd).cumsum(1)], 1)
    take = lambda c, idx: c.gather(1, idx.long().to(x.device)[..., None].expand(-1, -1, d))  # noqa: E731
    width = width.to(x.device)[..., None]
    mean = (take(sums[0], hi) - take(sums[0], lo)) / width
    var = ((take(sums[1], hi) - take(sums[1], lo)) / width - mean ** 2).clamp_min(0)
    return torch.cat([mean, var], -1).to(x.dtype)


def utterance_moments(x: torch.Tensor, lengths: Optional[torch.Tensor]) -> torch.Tensor:
    """(B, T, D) → (B, 2D): mean and variance of each dimension over the valid frames."""
    weight = frame_mask(lengths, x.shape[1], x.shape[0], x.device).to(x.dtype)[..., None]
    count = weight.sum(1).clamp_min(1)
    mean = (x * weight).sum(1) / count
    return torch.cat([mean, (((x - mean[:, None]) ** 2) * weight).sum(1) / count], -1)


class RDABackend(Model):
    """Corrupted MFCCs enhanced by a recurrent denoising autoencoder, summarised by their mean
    and variance, into a linear SVR or SVM (MixedEmotions D4.2 §3.3, §3.4.2, Table 4.1).

    Streams (feature keys): ``clean`` (MFCCs of the clean speech), ``train`` and ``devel`` (the
    corrupted streams for training and validation segments, one per condition: several for
    multi-condition training, in the same order) and ``test`` (the stream the model reads when
    it predicts: clean or corrupted with the test third of the noise).  ``backend``: what the
    SVR/SVM is trained on — ``clean`` MFCCs, ``noisy`` (corrupted) ones or ``enhanced`` ones
    (the rDA's outputs); at test time the model reads ``test`` and enhances it only for
    ``enhanced``.  Inputs are standardised with the statistics of what the back end was trained
    on (buffers ``input_mean``/``input_std``, set by the strategy); the rDA maps them to
    standardised clean MFCCs.  Contour targets (RECOLA) get frame outputs every ``hop_s`` from
    ``window_s`` windows (D4.2: 8 s every 0.04 s, 26 attributes); categorical labels (EmoDB)
    get utterance-level mean and variance (deviation: D4.2's windows are longer than EmoDB's
    utterances) into one linear SVM output per class.  Sub-networks: ``rda``, ``backend``.
    """

    name = "rda_backend"
    summary = "rDA-enhanced MFCCs, window mean/variance, linear SVR/SVM (MixedEmotions D4.2 §3.4.2)"

    def __init__(self, inputs: dict[str, FeatureInfo], labels: LabelSpace, clean: str = "mfcc",
                 train: list[str] = [], devel: list[str] = [], test: str = "mfcc",
                 backend: Literal["clean", "noisy", "enhanced"] = "enhanced", targets: Optional[list[str]] = None,
                 hidden: int = 30, layers: int = 2, init: float = 0.1, input_noise: float = 0.1,
                 window_s: float = 8.0, hop_s: float = 0.04):
        super().__init__()
        if backend not in BACKEND_INPUTS:
            raise ValueError(f"backend must be one of {', '.join(BACKEND_INPUTS)}, got {backend!r}")
        if backend != "clean" and (not train or len(train) != len(devel)):
            raise ValueError(f"backend {backend!r} needs `train` and `devel` to list the corrupted streams, one "
                             f"devel stream per train stream; got train={train}, devel={devel}")
        if hidden < 1 or layers < 1 or not init > 0 or input_noise < 0 or not window_s > 0 or not hop_s > 0:
            raise ValueError("need hidden, layers >= 1, init, window_s, hop_s > 0 and input_noise >= 0")
        info = input_of(inputs, clean, self.name, "frame", param="clean")
        for param, keys in (("train", train), ("devel", devel), ("test", [test])):
            for key in keys:
                other = input_of(inputs, key, self.name, "frame", param=param)
                if other.dim != info.dim or other.frame_rate != info.frame_rate:
                    raise ValueError(f"{self.name}: stream {key!r} ({param}) has dim {other.dim} at "
                                     f"{other.frame_rate} frames/s; the clean stream {clean!r} has {info.dim} at "
                                     f"{info.frame_rate}")
        self.clean, self.train_streams, self.devel_streams, self.test = clean, list(train), list(devel), test
        self.backend_input, self.rate = backend, float(info.frame_rate)
        self.input_noise, self.window_s, self.hop_s = float(input_noise), float(window_s), float(hop_s)
        first = target_head(labels, targets[0] if targets else None, self.name, level="frame", rate=1 / hop_s)
        if first.level == "frame":
            self.heads = contour_heads(labels, targets, self.name, 1 / hop_s)
            outputs = len(self.heads)
        elif targets is not None and len(targets) > 1:
            raise ValueError(f"{self.name} predicts one categorical label; targets lists {targets}")
        else:
            self.heads, outputs = [first], len(first.classes) if first.kind == "classification" else 1
        self.rda = DenoisingAutoencoder(info.dim, hidden, layers, init)
        self.backend = nn.Linear(2 * info.dim, outputs)
        self.register_buffer("input_mean", torch.zeros(info.dim))
        self.register_buffer("input_std", torch.ones(info.dim))
        self.register_buffer("moment_mean", torch.zeros(2 * info.dim))
        self.register_buffer("moment_std", torch.ones(2 * info.dim))
        self.register_buffer("complexity", torch.zeros(len(self.heads)))

    @property
    def frame_level(self) -> bool:
        return self.heads[0].level == "frame"

    def frontend(self, x: torch.Tensor, lengths: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Standardised (and, for ``backend: enhanced``, rDA-enhanced) MFCC frames."""
        x = (x - self.input_mean) / self.input_std
        return self.rda(x, lengths) if self.backend_input == "enhanced" else x

    def moments(self, x: torch.Tensor, lengths: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The back end's standardised attributes: (B, K, 2D) per window or (B, 2D) per utterance."""
        m = window_moments(x, lengths, self.rate, self.window_s, self.hop_s) if self.frame_level \
            else utterance_moments(x, lengths)
        return (m - self.moment_mean) / self.moment_std

    def forward(self, inputs, lengths=None):
        length = (lengths or {}).get(self.test)
        y = self.backend(self.moments(self.frontend(inputs[self.test], length), length))
        if self.frame_level:
            return {h.name: y[..., k] for k, h in enumerate(self.heads)}
        return {self.heads[0].name: y if self.heads[0].kind == "classification" else y[..., 0]}

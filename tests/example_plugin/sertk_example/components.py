"""A frame-energy feature and a linear model on pooled features."""
import numpy as np
import torch

from sertk import Feature, Model


class RMSEnergy(Feature):
    """Root-mean-square energy in dB per frame."""

    name = "rms_energy"

    def __init__(self, frame_ms: float = 25.0, hop_ms: float = 10.0):
        if frame_ms <= 0 or hop_ms <= 0:
            raise ValueError("frame_ms and hop_ms must be positive")
        self.frame_ms, self.hop_ms = frame_ms, hop_ms

    def __call__(self, signal, sample_rate):
        frame, hop = int(sample_rate * self.frame_ms / 1000), int(sample_rate * self.hop_ms / 1000)
        signal = np.pad(signal, (0, max(0, frame - len(signal))))
        starts = range(0, len(signal) - frame + 1, hop)
        rms = np.array([np.sqrt(np.mean(signal[s:s + frame] ** 2)) for s in starts])
        return (20 * np.log10(rms + 1e-8))[:, None].astype(np.float32)

    def frame_rate(self, sample_rate):
        return 1000.0 / self.hop_ms


class LinearProbe(Model):
    """Mean and standard deviation of every input over time, then one linear layer."""

    name = "linear_probe"

    def __init__(self, inputs, labels, target: str = "emotion"):
        super().__init__()
        self.heads = [labels.head_for(target)]
        width = sum(i.dim * (2 if i.level == "frame" else 1) for i in inputs.values())
        self.keys = list(inputs)
        self.out = torch.nn.Linear(width, len(self.heads[0].classes))

    def forward(self, inputs, lengths=None):
        parts = []
        for key in self.keys:
            x = inputs[key]
            if x.ndim == 3:
                mask = (torch.arange(x.shape[1])[None, :] < lengths[key][:, None]).unsqueeze(-1).float()
                n = mask.sum(1).clamp(min=1)
                mean = (x * mask).sum(1) / n
                std = (((x - mean[:, None]) ** 2 * mask).sum(1) / n).sqrt()
                parts += [mean, std]
            else:
                parts.append(x)
        return {self.heads[0].name: self.out(torch.cat(parts, dim=1))}

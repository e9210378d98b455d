"""Activation maximisation (Wieser et al. 2020, §2.3.1, eq. 4; Fig. 5, Table 6).

For an output unit c the generalised input is
x* = argmax_x a_c(x) − λ‖x‖², found by gradient ascent on the input, starting
from small random noise, from silence or from the mean input signal; a_c is the unit's logit
(pre-softmax) and the signal is kept in [-1, 1] after each step.

Plain stochastic gradient ascent (``optimizer: sgd``) is the paper's; it moves
each sample by lr times its gradient, which is small, so the signal stays
quiet and shaped by the network.  Adam (``optimizer: adam``) divides every
gradient by its running magnitude, so every sample moves by about lr per step
whatever the network: after a few hundred steps the signal is loud,
noise-like, and mostly a product of the step count.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

DEFAULT_FOLD = "speaker-Ses03F"  # IEMOCAP's Ses03 female speaker, the network analysed in §4.3

import numpy as np
import torch

from sertk import Analyzer, SertkError, pyplot, safe_name, save_figure, write_audio, write_csv

from .characterise import characterise


def maximize_activation(model: torch.nn.Module, head: str, unit: int, start: torch.Tensor, key: str,
                        fixed: Optional[dict[str, torch.Tensor]] = None, steps: int = 200, lr: float = 0.01,
                        lam: float = 1e-4, optimizer: Literal["sgd", "adam"] = "sgd"
                        ) -> tuple[torch.Tensor, float, float]:
    """Gradient ascent (plain SGD or Adam) on ``inputs[key]`` (one example,
    shaped like ``start``) for unit ``unit`` of ``head``; other inputs are held
    at ``fixed``.

    Returns (x*, activation at the start, activation at x*); the model is used
    as given (call ``.eval()`` first) and its parameters are not changed.
    """
    fixed = dict(fixed or {})
    x = start.detach().clone().requires_grad_(True)
    step = torch.optim.Adam([x], lr=lr) if optimizer == "adam" else torch.optim.SGD([x], lr=lr)

    def activation() -> torch.Tensor:
        return model({**fixed, key: x})[head][0, unit]

    with torch.no_grad():
        before = float(activation())
    for _ in range(steps):
        objective = activation() - lam * x.pow(2).sum()
        (grad,) = torch.autograd.grad(-objective, x)
        x.grad = grad
        step.step()
        with torch.no_grad():
            x.clamp_(-1.0, 1.0)
    with torch.no_grad():
        after = float(activation())
    return x.detach(), before, after


def plot_time_frequency(path: Path, signal: np.ndarray, sample_rate: int, title: str) -> None:
    """Fig. 5 layout: waveform above, spectrogram below."""
    plt = pyplot()
    t = np.arange(len(signal)) / sample_rate
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
    top.plot(t, signal, lw=0.4, color="black")
    top.set_ylabel("amplitude")
    top.set_title(title)
    bottom.specgram(signal, NFFT=512, Fs=sample_rate, noverlap=384, cmap="magma")
    bottom.set_ylabel("frequency [Hz]")
    bottom.set_xlabel("time [s]")
    fig.tight_layout()
    save_figure(fig, path)


class ActivationMaximization(Analyzer):
    """Generalised inputs of every output unit by activation maximisation
    (Wieser et al. 2020, §2.3.1, eq. 4): a WAV file and a waveform/spectrogram
    plot per unit (Fig. 5), and their Table 6-style characterisation.

    The default fold is the one tested on IEMOCAP speaker Ses03F, whose network
    §4.3 analyses (the first fold on other corpora)."""

    name = "activation_maximization"
    summary = "Activation maximisation per output unit: WAVs, Fig. 5 plots, Table 6 characterisation"

    def __init__(self, input_key: str = "raw", fold: Optional[str] = None, steps: int = 200, lr: float = 0.01,
                 lam: float = 1e-4, optimizer: Literal["sgd", "adam"] = "sgd",
                 start: Literal["random", "mean", "zeros"] = "random", seed: int = 0, silence_db: float = 40.0) -> None:
        if steps < 1 or lr <= 0 or lam < 0 or silence_db <= 0:
            raise ValueError("steps must be >= 1, lr > 0, lam >= 0 and silence_db > 0")
        if optimizer not in ("sgd", "adam"):
            raise ValueError(f"optimizer must be 'sgd' (the paper's plain gradient ascent) or 'adam', got {optimizer!r}")
        self.input_key, self.fold, self.steps, self.lr, self.lam = input_key, fold, steps, lr, lam
        self.optimizer, self.start, self.seed, self.silence_db = optimizer, start, seed, silence_db

    def analyze(self, run) -> dict:
        fold = self.fold or (DEFAULT_FOLD if DEFAULT_FOLD in run.folds else run.folds[0])
        if fold not in run.folds:
            raise SertkError(f"activation_maximization: no fold '{fold}' in {run.dir} (folds: {', '.join(run.folds)})")
        model = run.network(fold, self.name)
        start, fixed = self._start(run, fold)
        out = run.analysis_dir(self.name)
        rows = []
        for head in model.heads:
            for unit, cls in enumerate(head.classes):
                x, before, after = maximize_activation(model, head.name, unit, start, self.input_key, fixed,
                                                       self.steps, self.lr, self.lam, self.optimizer)
                signal = x.reshape(-1).numpy()
                stem = f"{safe_name(head.name)}_{safe_name(cls)}"
                write_audio(out / f"{stem}.wav", signal, run.sample_rate)
                plot_time_frequency(out / f"{stem}.png", signal, run.sample_rate, f"{head.name} = {cls}")
                rows.append({"head": head.name, "class": cls, "activation_start": before, "activation": after,
                             **characterise(signal, run.sample_rate, silence_db=self.silence_db).to_dict()})
        write_csv(out / "characterisation.csv", rows)
        return {"fold": fold, "start": self.start, "optimizer": self.optimizer, "steps": self.steps, "lr": self.lr,
                "lam": self.lam, "units": rows}

    def _start(self, run, fold: str) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The starting input (1, ...) and the other inputs held at their
        (normalised) mean, from the fold's test batches."""
        sums: dict[str, torch.Tensor] = {}
        count = 0
        for batch in run.batches(fold, "test"):
            if self.input_key not in batch.inputs:
                raise SertkError(f"activation_maximization: the run's model has no input '{self.input_key}' "
                                 f"(inputs: {', '.join(batch.inputs)}); set --param input_key=...")
            for k, v in batch.inputs.items():
                total = v.sum(0, keepdim=True)
                if k in sums and sums[k].shape[1:] != total.shape[1:]:
                    total = _fit_length(total, sums[k].shape[1])
                sums[k] = sums[k] + total if k in sums else total
            count += len(batch.ids)
        if not count:
            raise SertkError(f"activation_maximization: fold '{fold}' of {run.dir} has no test data")
        means = {k: v / count for k, v in sums.items()}
        x0 = means.pop(self.input_key)
        if self.start == "random":
            generator = torch.Generator().manual_seed(self.seed)
            x0 = 0.01 * torch.randn(x0.shape, generator=generator)
        elif self.start == "zeros":
            x0 = torch.zeros_like(x0)
        return x0, means


def _fit_length(x: torch.Tensor, length: int) -> torch.Tensor:
    """Crop or zero-pad dimension 1 to ``length``."""
    if x.shape[1] >= length:
        return x[:, :length]
    pad = torch.zeros((x.shape[0], length - x.shape[1], *x.shape[2:]), dtype=x.dtype)
    return torch.cat([x, pad], dim=1)

"""Guided-backpropagation saliency (Wieser et al. 2020, §2.3.2, Fig. 4).

Guided backpropagation (Springenberg et al. 2015) passes a gradient back
through a ReLU only where both the forward input and the incoming gradient are
positive.  The saliency map of a head is the guided gradient of its predicted
class's logit with respect to the input signal.  The paper reports the mean
Pearson correlation between the signal and its map (0.50 arousal, 0.53
valence) and between the valence and arousal maps (0.96).
"""
from __future__ import annotations

import contextlib
import itertools
from pathlib import Path
from typing import Iterator, Optional

import numpy as np
import torch
from torch import nn

from sertk import Analyzer, SertkError, pyplot, safe_name, save_figure, write_csv


PAPER = {"signal_arousal": 0.50, "signal_valence": 0.53, "valence_arousal": 0.96}


class _GuidedReLU(torch.autograd.Function):
    """ReLU forward; backward passes the gradient only where input and gradient are positive."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x > 0) * (grad > 0)


@contextlib.contextmanager
def guided_relus(model: nn.Module) -> Iterator[int]:
    """Within the block every ``nn.ReLU`` of ``model`` backpropagates by the
    guided rule; yields how many ReLUs were rewritten."""
    handles = [m.register_forward_hook(lambda _m, args, _out: _GuidedReLU.apply(args[0]))
               for m in model.modules() if isinstance(m, nn.ReLU)]
    try:
        yield len(handles)
    finally:
        for h in handles:
            h.remove()


def saliency_maps(model: nn.Module, inputs: dict[str, torch.Tensor], key: str,
                  guided: bool = True) -> dict[str, torch.Tensor]:
    """Per head, d logit[predicted class] / d inputs[key], shaped like the input.

    ``guided=False`` gives the plain gradient (for comparison).
    """
    x = inputs[key].detach().clone().requires_grad_(True)
    feed = {**inputs, key: x}
    with guided_relus(model) if guided else contextlib.nullcontext():
        outputs = model(feed)
        maps = {}
        for name, logits in outputs.items():
            score = logits.gather(1, logits.argmax(1, keepdim=True)).sum()
            (grad,) = torch.autograd.grad(score, x, retain_graph=True)
            maps[name] = grad.detach()
    return maps


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two 1-D arrays (nan when one is constant)."""
    a, b = np.asarray(a, float) - np.mean(a), np.asarray(b, float) - np.mean(b)
    denom = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denom) if denom > 0 else float("nan")


def correlations(signal: np.ndarray, maps: dict[str, np.ndarray]) -> dict[str, float]:
    """Signal–map correlations per head and map–map correlations per head pair,
    both of the signed values and of their magnitudes (amplitude envelopes)."""
    out = {}
    for name, m in maps.items():
        out[f"signal_{name}"] = pearson(signal, m)
        out[f"signal_{name}_magnitude"] = pearson(np.abs(signal), np.abs(m))
    names = list(maps)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            out[f"{a}_{b}"] = pearson(maps[a], maps[b])
            out[f"{a}_{b}_magnitude"] = pearson(np.abs(maps[a]), np.abs(maps[b]))
    return out


def plot_saliency(path: Path, signal: np.ndarray, maps: dict[str, np.ndarray], sample_rate: int,
                  title: str) -> None:
    """Fig. 4 layout: the waveform, then per head its positive saliency and the
    waveform coloured by that saliency."""
    from matplotlib.collections import LineCollection

    plt = pyplot()
    t = np.arange(len(signal)) / sample_rate
    rows = 1 + 2 * len(maps)
    fig, axes = plt.subplots(rows, 1, figsize=(10, 1.8 * rows), sharex=True)
    axes[0].plot(t, signal, lw=0.4, color="black")
    axes[0].set_ylabel("signal")
    axes[0].set_title(title)
    segments = np.stack([np.column_stack([t[:-1], signal[:-1]]), np.column_stack([t[1:], signal[1:]])], axis=1)
    for i, (name, m) in enumerate(maps.items()):
        positive = np.clip(m, 0, None)
        scale = positive.max() or 1.0
        axes[1 + 2 * i].plot(t, positive / scale, lw=0.4, color="tab:red")
        axes[1 + 2 * i].set_ylabel(f"{name}\nsaliency")
        lines = LineCollection(segments, cmap="inferno_r", linewidths=0.5)
        lines.set_array(positive[:-1] / scale)
        axes[2 + 2 * i].add_collection(lines)
        axes[2 + 2 * i].set_ylim(signal.min() - 1e-3, signal.max() + 1e-3)
        axes[2 + 2 * i].set_ylabel(f"{name}\ncoloured")
    axes[-1].set_xlim(t[0], t[-1])
    axes[-1].set_xlabel("time [s]")
    fig.tight_layout()
    save_figure(fig, path)


class Saliency(Analyzer):
    """Guided-backpropagation saliency maps of the predicted class per head
    (Wieser et al. 2020, §2.3.2, Fig. 4), with signal–saliency and
    between-head Pearson correlations averaged over every fold's test set."""

    name = "saliency"
    summary = "Guided-backprop saliency maps and their correlation with the signal (Wieser et al. 2020)"

    def __init__(self, input_key: str = "raw", plots: int = 3, utterances: list[str] = [],
                 max_utterances: Optional[int] = None, batch_size: int = 8) -> None:
        if plots < 0 or batch_size < 1 or (max_utterances is not None and max_utterances < 1):
            raise ValueError("plots must be >= 0, batch_size >= 1 and max_utterances >= 1")
        self.input_key, self.plots, self.utterances = input_key, plots, list(utterances)
        self.max_utterances, self.batch_size = max_utterances, batch_size

    def analyze(self, run) -> dict:
        out = run.analysis_dir(self.name)
        rows, plotted = [], []
        for fold, utt, signal, maps in itertools.islice(self._maps(run), self.max_utterances):
            rows.append({"fold": fold, "id": utt, **correlations(signal, maps)})
            if utt in self.utterances or (not self.utterances and len(plotted) < self.plots):
                path = out / f"{safe_name(utt)}.png"
                plot_saliency(path, signal, maps, run.sample_rate, utt)
                plotted.append(path.name)
        if not rows:
            raise SertkError(f"saliency: {run.dir} has no test utterances to analyse")
        write_csv(out / "correlations.csv", rows)
        keys = [k for k in rows[0] if k not in ("fold", "id")]
        means = {k: float(np.nanmean([r[k] for r in rows])) for k in keys}
        return {"utterances": len(rows), "mean_correlation": means, "paper": PAPER, "plots": plotted}

    def _maps(self, run) -> Iterator[tuple[str, str, np.ndarray, dict[str, np.ndarray]]]:
        """(fold, segment id, signal, saliency map per head) over every test set."""
        for fold in run.folds:
            model = run.network(fold, self.name)
            for batch in run.batches(fold, "test", self.batch_size):
                if self.input_key not in batch.inputs:
                    raise SertkError(f"saliency: the run's model has no input '{self.input_key}' (inputs: "
                                     f"{', '.join(batch.inputs)}); set --param input_key=...")
                maps = saliency_maps(model, batch.inputs, self.input_key)
                signals = batch.inputs[self.input_key].reshape(len(batch.ids), -1).numpy()
                for i, utt in enumerate(batch.ids):
                    yield fold, utt, signals[i], {h: m[i].reshape(-1).numpy() for h, m in maps.items()}

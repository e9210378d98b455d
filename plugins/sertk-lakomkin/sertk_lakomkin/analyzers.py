"""Analyses of the layer representations of Lakomkin et al. (2017).

Lakomkin, Weber, Magg, Wermter, "Reusing Neural Speech Representations for
Auditory Emotion Recognition", IJCNLP 2017 (arXiv:1803.11508):

* ``tsne`` (Fig. 4): every utterance's activations per layer, mean-pooled over
  its valid frames and embedded in 2-D by t-SNE, coloured by emotion; a
  separation score per layer quantifies the figure.
* ``loudness_correlation`` (§4, Fig. 6): the Pearson correlation of every
  unit's activation with frame loudness (the paper finds unit 840 of the
  second GRU layer at r > 0.64 on IEMOCAP).

Both read ``model.representations(inputs, lengths)`` -> ``{layer: ((B, T, D)
activations, (B,) valid frames)}``, which the sertk-lakomkin models provide.
Layer frames are aligned to time by relative position: frame ``j`` of ``n``
valid frames sits at ``(j + 0.5) / n`` of the model input's valid span.
"""
from __future__ import annotations

import math
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Literal, Optional, Union

import numpy as np

from sertk import Analyzer, SertkError, load_audio, pyplot, safe_name, save_figure, write_csv

PAPER_TSNE = "Fig. 4: t-SNE of utterance representations per layer, coloured by emotion (IEMOCAP)"
PAPER_LOUDNESS = {"corpus": "IEMOCAP", "layer": "gru2", "unit": 840, "r_above": 0.64}
LOUDNESS = "RMS energy in dBFS (25 ms windows, 10 ms hop, floor -80 dB), linearly interpolated to layer frames"
WINDOW_S, HOP_S, FLOOR_DB = 0.025, 0.010, -80.0
Split = Literal["train", "validation", "test"]


def _grid(plt, n: int, size: float = 4.0):
    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * 0.85 * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


# ----------------------------------------------------------------- representations of a run
@dataclass
class SegmentFrames:
    """One segment's valid frames per layer, with where it lies in its utterance."""

    utt_id: str
    utterance: Any  # sertk.Utterance
    start_s: float  # segment start within the utterance
    span_s: float  # seconds the model input's valid frames span
    label: str  # class of the first classification head ("" without one, "?" unlabelled)
    layers: dict[str, np.ndarray]  # (valid frames, units)


def representation_model(run, fold: str, who: str):
    """The fold's model, checked for a ``representations`` method."""
    model = run.model(fold)
    if not callable(getattr(model, "representations", None)):
        raise SertkError(f"{who}: the model of {run.dir} ({type(model).__name__}) exposes no layer representations; "
                         f"only the sertk-lakomkin models (ASR encoders and their baseline) support {who}")
    return model.eval()


def pick_fold(run, fold: Optional[Union[str, int]], who: str) -> str:
    chosen = run.folds[0] if fold is None else str(fold)
    if chosen not in run.folds:
        raise SertkError(f"{who}: no fold '{chosen}' in {run.dir} (folds: {', '.join(run.folds)})")
    return chosen


def class_head(model):
    """The model's first classification head, or None."""
    return next((h for h in getattr(model, "heads", []) if h.kind == "classification" and h.level == "utterance"),
                None)


def layer_frames(model, batch) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{layer: ((B, T, D) activations, (B,) valid frames)}`` as numpy."""
    import torch

    with torch.no_grad():
        out = model.representations(batch.inputs, batch.lengths)
    frames = {}
    for name, (x, n) in out.items():
        x = x.detach().float().cpu().numpy()
        n = np.full(len(x), x.shape[1]) if n is None else np.clip(n.detach().cpu().numpy().astype(int), 0, x.shape[1])
        frames[name] = (x, n)
    return frames


def input_spans(run, batch, who: str) -> np.ndarray:
    """(B,) seconds spanned by each segment's valid model input (zero-padding included)."""
    inputs = getattr(run, "inputs", {}) or {}
    for key, lengths in batch.lengths.items():
        info = inputs.get(key)
        if info is not None and info.level == "frame" and info.frame_rate:
            return lengths.cpu().numpy() / float(info.frame_rate)
    if batch.durations is not None:
        return batch.durations.cpu().numpy()
    raise SertkError(f"{who}: cannot tell the duration of {run.dir}'s segments (no frame-level input, no durations)")


def segment_frames(run, model, fold: str, part: str, batch_size: int, max_utterances: Optional[int],
                   who: str) -> Iterator[SegmentFrames]:
    """Every segment of the fold's ``part`` with its layers' valid frames, utterance by utterance,
    stopping before utterance ``max_utterances + 1``."""
    index = {s.id: s for s in run.data.extracted.segments}
    utterances = run.data.utterances
    head = class_head(model)
    seen: set[str] = set()
    for batch in run.batches(fold, part, batch_size):
        reps = layer_frames(model, batch)
        spans = input_spans(run, batch, who)
        labels = batch.targets.get(head.name) if head is not None else None
        for i, sid in enumerate(batch.ids):
            if sid not in index:
                raise SertkError(f"{who}: segment '{sid}' of {run.dir} is not among the run's data; rerun the run")
            seg = index[sid]
            utt = utterances[seg.utt_index]
            if utt.id not in seen:
                if max_utterances is not None and len(seen) >= max_utterances:
                    return
                seen.add(utt.id)
            label = ""
            if labels is not None:
                k = int(labels[i])
                label = head.classes[k] if 0 <= k < len(head.classes) else "?"
            yield SegmentFrames(utt.id, utt, float(seg.start_s), float(spans[i]), label,
                                {name: x[i, :n[i]] for name, (x, n) in reps.items()})


def pick_layers(available: list[str], wanted: Union[list[str], str, None], who: str) -> list[str]:
    if wanted is None or wanted == "all":
        return list(available)
    names = [w.strip() for w in wanted.split(",")] if isinstance(wanted, str) else list(wanted)
    unknown = [n for n in names if n not in available]
    if unknown:
        raise SertkError(f"{who}: the model has no layer {', '.join(map(repr, unknown))} (layers: "
                         f"{', '.join(available)})")
    return names


def _check(part: str, batch_size: int, max_utterances: Optional[int]) -> None:
    if part not in typing.get_args(Split):
        raise ValueError(f"part must be one of {', '.join(typing.get_args(Split))}, got {part!r}")
    if batch_size < 1 or (max_utterances is not None and max_utterances < 1):
        raise ValueError("batch_size and max_utterances must be >= 1")


# ----------------------------------------------------------------- t-SNE (Fig. 4)
def separation(x: np.ndarray, labels: list[str], k: int = 5) -> dict[str, Optional[float]]:
    """How well classes separate in ``x`` (N, D): the silhouette score (Rousseeuw 1987)
    and the leave-one-out accuracy of a k-nearest-neighbour vote (ties to the
    first class in sorted order), with the majority-class rate as its chance level."""
    from sklearn.metrics import silhouette_score
    from sklearn.neighbors import NearestNeighbors

    classes, codes = np.unique(np.asarray(labels, dtype=object).astype(str), return_inverse=True)
    n = len(codes)
    out: dict[str, Optional[float]] = {"silhouette": None, "knn_accuracy": None,
                                       "knn_chance": float(np.bincount(codes).max() / n) if n else None}
    if len(classes) < 2 or n < 3:
        return out
    if len(classes) < n:
        out["silhouette"] = float(silhouette_score(x, codes))
    k = min(k, n - 1)
    _, idx = NearestNeighbors(n_neighbors=k + 1).fit(x).kneighbors(x)
    hits = 0
    for i, row in enumerate(idx):
        neighbours = [j for j in row if j != i][:k]
        hits += int(np.bincount(codes[neighbours], minlength=len(classes)).argmax() == codes[i])
    out["knn_accuracy"] = hits / n
    return out


def embed(x: np.ndarray, perplexity: float, seed: int) -> tuple[np.ndarray, float]:
    """2-D t-SNE (van der Maaten & Hinton 2008) of (N, D), seeded; perplexity clipped to
    (unique rows - 1) / 3.  Identical rows are embedded once and share their position
    (coincident points crash scikit-learn's Barnes-Hut t-SNE).  Runs on one OpenMP
    thread: on a busy machine its threads contend (minutes instead of a second for 12 points)."""
    from sklearn.manifold import TSNE as SkTSNE
    from threadpoolctl import threadpool_limits

    unique, inverse = np.unique(np.asarray(x, np.float64), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    if len(unique) < 3:
        return np.zeros((len(x), 2)) + np.arange(len(unique))[inverse, None], 0.0
    used = float(min(perplexity, (len(unique) - 1) / 3))
    init = "pca" if unique.shape[1] >= 2 else "random"
    with threadpool_limits(limits=1, user_api="openmp"):
        xy = SkTSNE(n_components=2, perplexity=used, init=init, random_state=seed).fit_transform(unique)
    return xy[inverse], used


def _scatter(ax, xy: np.ndarray, labels: list[str], colours: dict[str, Any], title: str) -> None:
    labels = np.asarray(labels)
    for cls, colour in colours.items():
        mask = labels == cls
        if mask.any():
            ax.scatter(xy[mask, 0], xy[mask, 1], s=10, color=colour, label=cls or "all", alpha=0.8, linewidths=0)
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])


def _title(layer: str, score: dict) -> str:
    parts = [f"silhouette {score['silhouette']:.2f}"] if score["silhouette"] is not None else []
    parts += [f"5-NN {score['knn_accuracy']:.0%}"] if score["knn_accuracy"] is not None else []
    return f"{layer}: {', '.join(parts)}" if parts else layer


class TSNE(Analyzer):
    """t-SNE of mean-pooled layer representations, one scatter per layer coloured by
    emotion (Lakomkin et al., IJCNLP 2017, Fig. 4), with per-layer class separation
    (silhouette in the layer's space, leave-one-out 5-NN accuracy)."""

    name = "tsne"
    summary = "t-SNE of mean-pooled layer representations per layer, with class separation (Lakomkin et al. 2017)"

    def __init__(self, layers: Union[list[str], str, None] = None, fold: Optional[Union[str, int]] = None,
                 part: Split = "test", perplexity: float = 30.0, seed: int = 0,
                 max_utterances: Optional[int] = None, batch_size: int = 16) -> None:
        _check(part, batch_size, max_utterances)
        if perplexity <= 0:
            raise ValueError("perplexity must be > 0")
        self.layers, self.fold, self.part, self.perplexity, self.seed = layers, fold, part, perplexity, seed
        self.max_utterances, self.batch_size = max_utterances, batch_size

    def analyze(self, run) -> dict:
        fold = pick_fold(run, self.fold, self.name)
        model = representation_model(run, fold, self.name)
        sums: dict[str, dict[str, np.ndarray]] = {}
        counts: dict[str, dict[str, int]] = {}
        labels: dict[str, str] = {}
        layers: Optional[list[str]] = None
        for seg in segment_frames(run, model, fold, self.part, self.batch_size, self.max_utterances, self.name):
            layers = layers or pick_layers(list(seg.layers), self.layers, self.name)
            labels.setdefault(seg.utt_id, seg.label)
            for layer in layers:
                frames = seg.layers[layer].astype(np.float64)
                total, count = sums.setdefault(layer, {}), counts.setdefault(layer, {})
                total[seg.utt_id] = total.get(seg.utt_id, 0) + frames.sum(0)
                count[seg.utt_id] = count.get(seg.utt_id, 0) + len(frames)
        if layers is None or len(labels) < 3:
            raise SertkError(f"tsne: fold '{fold}' of {run.dir} has {len(labels)} {self.part} utterances; "
                             f"t-SNE needs at least 3")
        out = run.analysis_dir(self.name)
        palette = pyplot().get_cmap("tab10" if len(set(labels.values())) <= 10 else "tab20")
        colours = {c: palette(i % palette.N) for i, c in enumerate(sorted(set(labels.values())))}
        rows, scores, panels = [], {}, []
        for layer in layers:
            ids = [u for u, n in counts[layer].items() if n > 0]
            x = np.stack([sums[layer][u] / counts[layer][u] for u in ids])
            ys = [labels[u] for u in ids]
            xy, used = embed(x, self.perplexity, self.seed)
            known = [i for i, c in enumerate(ys) if c != "?"]  # unlabelled utterances are shown, not scored
            scores[layer] = {"utterances": len(ids), "units": int(x.shape[1]), "perplexity": used,
                             **separation(x[known], [ys[i] for i in known])}
            rows += [{"id": u, "layer": layer, "x": float(p[0]), "y": float(p[1]), "class": c}
                     for u, p, c in zip(ids, xy, ys)]
            title = _title(layer, scores[layer])
            panels.append((xy, ys, title))
            plt = pyplot()
            fig, ax = plt.subplots(figsize=(5.5, 4.5))
            _scatter(ax, xy, ys, colours, title)
            ax.legend(fontsize=8, markerscale=1.5, loc="best")
            fig.tight_layout()
            save_figure(fig, out / f"tsne_{safe_name(layer)}.png")
        write_csv(out / "tsne.csv", rows)
        plt = pyplot()
        fig, axes = _grid(plt, len(panels))
        for ax, (xy, ys, title) in zip(axes, panels):
            _scatter(ax, xy, ys, colours, title)
        handles, names = axes[0].get_legend_handles_labels()
        fig.legend(handles, names, loc="lower center", ncol=min(len(names), 8), fontsize=8, markerscale=1.5)
        fig.suptitle(f"t-SNE of mean-pooled layers\nfold {fold} ({self.part})", fontsize=10)
        fig.tight_layout(rect=(0, 0.07, 1, 1))
        save_figure(fig, out / "tsne_layers.png")
        plots = [f"tsne_{safe_name(layer)}.png" for layer in layers] + ["tsne_layers.png"]
        return {"fold": fold, "part": self.part, "utterances": len(labels), "perplexity": self.perplexity,
                "seed": self.seed, "separation": scores, "plots": plots, "paper": PAPER_TSNE}


# ----------------------------------------------------------------- loudness (§4, Fig. 6)
def rms_db(signal: np.ndarray, rate: int, window_s: float = WINDOW_S, hop_s: float = HOP_S,
           floor_db: float = FLOOR_DB) -> tuple[np.ndarray, np.ndarray]:
    """Frame loudness proxy: RMS energy in dBFS of ``window_s`` windows every ``hop_s``;
    returns (window centres in seconds, dB values). A signal shorter than a window is one frame."""
    signal = np.asarray(signal, dtype=np.float64)
    win, hop = max(1, round(window_s * rate)), max(1, round(hop_s * rate))
    if len(signal) <= win:
        frames = signal[None, :] if len(signal) else np.zeros((1, 1))
        centres = np.array([len(signal) / 2 / rate])
    else:
        frames = np.lib.stride_tricks.sliding_window_view(signal, win)[::hop]
        centres = (np.arange(len(frames)) * hop + win / 2) / rate
    rms = np.sqrt(np.mean(frames ** 2, axis=1))
    return centres, np.maximum(20 * np.log10(np.maximum(rms, 1e-12)), floor_db)


def loudness_at_frames(centres: np.ndarray, loudness: np.ndarray, span_s: float, n: int) -> np.ndarray:
    """The loudness curve linearly interpolated at the centres of ``n`` frames evenly spanning ``span_s``."""
    return np.interp((np.arange(n) + 0.5) * span_s / max(n, 1), centres, loudness)


def segment_signal(signal: np.ndarray, rate: int, start_s: float, span_s: float) -> np.ndarray:
    """``span_s`` seconds of ``signal`` from ``start_s``, zero-padded past its end (as the model input is)."""
    start, length = round(start_s * rate), max(1, round(span_s * rate))
    piece = signal[start:start + length]
    return np.pad(piece, (0, length - len(piece))) if len(piece) < length else piece


class StreamingPearson:
    """Pearson correlation of every column of x with y, accumulated chunk by chunk
    (pairwise co-moment updates: Chan, Golub & LeVeque 1979)."""

    def __init__(self, dim: int) -> None:
        self.n, self.my, self.syy = 0, 0.0, 0.0
        self.mx, self.sxx, self.sxy = np.zeros(dim), np.zeros(dim), np.zeros(dim)

    def update(self, x: np.ndarray, y: np.ndarray) -> None:
        m = len(y)
        if not m:
            return
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        bx, by = x.mean(0), y.mean()
        dx, dy = x - bx, y - by
        total = self.n + m
        ex, ey, w = bx - self.mx, by - self.my, self.n * m / total
        self.sxx += (dx * dx).sum(0) + ex * ex * w
        self.syy += float(dy @ dy) + ey * ey * w
        self.sxy += dy @ dx + ex * ey * w
        self.mx += ex * m / total
        self.my += ey * m / total
        self.n = total

    def r(self) -> np.ndarray:
        """(D,) correlations; nan where a unit (or the loudness) is constant."""
        denom = np.sqrt(self.sxx * self.syy)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(denom > 0, self.sxy / np.where(denom > 0, denom, 1), np.nan)


def _zscore(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, np.float64)
    return (v - v.mean()) / (v.std() or 1.0)


class LoudnessCorrelation(Analyzer):
    """Pearson correlation of every unit of every layer with frame loudness over the
    valid frames of a fold's utterances (Lakomkin et al., IJCNLP 2017, §4, Fig. 6:
    unit 840 of the second GRU layer reaches r > 0.64 on IEMOCAP)."""

    name = "loudness_correlation"
    summary = "Correlation of every unit with frame loudness, top units and Fig. 6 plot (Lakomkin et al. 2017)"

    def __init__(self, fold: Optional[Union[str, int]] = None, part: Split = "test", top: int = 10,
                 utterance: Optional[Union[str, int]] = None, max_utterances: Optional[int] = None,
                 batch_size: int = 16) -> None:
        _check(part, batch_size, max_utterances)
        if top < 1:
            raise ValueError("top must be >= 1")
        self.fold, self.part, self.top = fold, part, top
        self.utterance = None if utterance is None else str(utterance)
        self.max_utterances, self.batch_size = max_utterances, batch_size

    def analyze(self, run) -> dict:
        fold = pick_fold(run, self.fold, self.name)
        model = representation_model(run, fold, self.name)
        stats: dict[str, StreamingPearson] = {}
        audio: tuple[Optional[str], np.ndarray, int] = (None, np.zeros(0), 1)
        shown: list[tuple[SegmentFrames, np.ndarray, np.ndarray]] = []
        target, utterances = self.utterance, []
        for seg in segment_frames(run, model, fold, self.part, self.batch_size, self.max_utterances, self.name):
            if audio[0] != seg.utt_id:
                audio = (seg.utt_id, *self._signal(seg.utterance))
                utterances.append(seg.utt_id)
            centres, loud = rms_db(segment_signal(audio[1], audio[2], seg.start_s, seg.span_s), audio[2])
            for layer, frames in seg.layers.items():
                stats.setdefault(layer, StreamingPearson(frames.shape[1]))
                stats[layer].update(frames, loudness_at_frames(centres, loud, seg.span_s, len(frames)))
            target = target or seg.utt_id
            if seg.utt_id == target:
                shown.append((seg, centres, loud))
        if not utterances:
            raise SertkError(f"{self.name}: fold '{fold}' of {run.dir} has no {self.part} utterances")
        if not shown:
            raise SertkError(f"{self.name}: utterance '{self.utterance}' is not among the {len(utterances)} analysed "
                             f"{self.part} utterances of fold '{fold}' (e.g. {', '.join(utterances[:3])})")
        out = run.analysis_dir(self.name)
        table = [{"layer": layer, "unit": u, "r": float(r)} for layer, s in stats.items() for u, r in enumerate(s.r())]
        write_csv(out / "correlations.csv", table)
        ranked = sorted((row for row in table if not math.isnan(row["r"])), key=lambda row: -abs(row["r"]))
        if not ranked:
            raise SertkError(f"{self.name}: every unit (or the loudness) is constant over fold '{fold}'")
        top = [{"rank": i + 1, **row} for i, row in enumerate(ranked[:self.top])]
        write_csv(out / "top.csv", top)
        best = {}
        for layer, s in stats.items():
            r = s.r()
            if np.isfinite(r).any():
                u = int(np.nanargmax(np.abs(r)))
                best[layer] = {"unit": u, "r": float(r[u]), "frames": int(s.n)}
        plot = f"loudness_{safe_name(target)}.png"
        self._plot_figure6(out / plot, target, shown, top[0])
        self._plot_histograms(out / "r_histogram.png", stats)
        return {"fold": fold, "part": self.part, "utterances": len(utterances), "loudness": LOUDNESS, "best": best,
                "top": top, "plots": [plot, "r_histogram.png"], "paper": PAPER_LOUDNESS}

    def _signal(self, utt) -> tuple[np.ndarray, int]:
        """The utterance's mono signal at its own rate (loudness needs no resampling)."""
        if utt.audio is not None:
            if not utt.sample_rate:
                raise SertkError(f"{self.name}: utterance {utt.id} has audio but no sample_rate")
            audio = np.asarray(utt.audio, np.float32)
            return (audio.mean(axis=1) if audio.ndim > 1 else audio), int(utt.sample_rate)
        if utt.path is None:
            raise SertkError(f"{self.name}: utterance {utt.id} has neither a path nor audio")
        return load_audio(utt.path)

    def _plot_figure6(self, path: Path, utt: str, shown, best: dict) -> None:
        """Fig. 6 layout: z-scored loudness and the top unit's z-scored activation over time
        (sign-flipped when it correlates negatively, so that the curves overlay)."""
        layer, unit, r = best["layer"], best["unit"], best["r"]
        lt = np.concatenate([seg.start_s + c for seg, c, _ in shown])
        lv = np.concatenate([v for _, _, v in shown])
        at, av = [], []
        for seg, _, _ in shown:
            frames = seg.layers[layer]
            at.append(seg.start_s + (np.arange(len(frames)) + 0.5) * seg.span_s / max(len(frames), 1))
            av.append(frames[:, unit])
        at, av = np.concatenate(at), np.concatenate(av)
        plt = pyplot()
        fig, ax = plt.subplots(figsize=(10, 3.2))
        ax.plot(lt, _zscore(lv), color="black", lw=1.0, label="loudness (RMS dB)")
        sign = "" if r >= 0 else "−"
        ax.plot(at, _zscore(av) * (1 if r >= 0 else -1), color="tab:red", lw=1.0,
                label=f"{sign}{layer} unit {unit} (r = {r:.2f})")
        ax.set_xlabel("time [s]")
        ax.set_ylabel("z-score")
        ax.set_title(f"{utt}: loudness and the unit most correlated with it")
        ax.legend(fontsize=8, loc="upper right")
        fig.tight_layout()
        save_figure(fig, path)

    @staticmethod
    def _plot_histograms(path: Path, stats: dict[str, StreamingPearson]) -> None:
        plt = pyplot()
        fig, axes = _grid(plt, len(stats), size=3.6)
        for ax, (layer, s) in zip(axes, stats.items()):
            r = s.r()
            ax.hist(r[np.isfinite(r)], bins=np.linspace(-1, 1, 41), color="tab:blue")
            ax.set_title(f"{layer} ({len(r)} units)", fontsize=10)
            ax.set_xlabel("r with loudness")
        fig.tight_layout()
        save_figure(fig, path)


COMPONENTS = [TSNE, LoudnessCorrelation]

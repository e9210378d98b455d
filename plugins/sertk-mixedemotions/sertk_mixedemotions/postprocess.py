"""The development-tuned post-processing chain of MixedEmotions D4.2 (§4.5.2, §5.3), after the
AV+EC / AVEC baselines (Ringeval et al., AV+EC 2015; Valstar et al., AVEC 2016):

1. **median filter** of the predictions, window 0.4 … 20 s;
2. **centring**: add the bias between the gold standard and the predictions;
3. **scaling**: multiply the deviations from the predictions' mean by the ratio of the
   gold standard's and the predictions' standard deviations;
4. **time shift**: delay the predictions by 0.04 … 10 s (one label frame at a time),
   compensating the raters' reaction time.

Steps run in this order on the development (validation) predictions of each fold; a
step is kept only if it raises the development CCC (all development frames pooled,
the AV+EC convention), and its parameter (window, bias, ratio, shift) is the one that
raises it most.  The chosen chain is then applied unchanged to the test predictions.
Bias and ratio are computed on the development predictions (D4.2 does not say on
which set; the AVEC 2016 baseline code uses the development set as well).  Edges: the
median filter repeats the edge values (``mode="nearest"``), a shifted track repeats
its first prediction.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Optional, Union

import numpy as np

from sertk import Analyzer, SertkError, pyplot, safe_name, save_figure, write_csv, write_json

from .svr import ccc
from .tracks import Track, contour_heads, label_rate, predict_tracks

PAPER_WINDOWS_S = [0.4, 0.8, 1.2, 1.6, 2.0, 3.0, 4.0, 6.0, 8.0, 10.0, 12.0, 16.0, 20.0]
PAPER_MAX_SHIFT_S = 10.0
STEPS = ("median", "centre", "scale", "shift")


def median_filter(pred: np.ndarray, frames: int) -> np.ndarray:
    """Running median over ``frames`` (odd) frames, edge values repeated."""
    from scipy.ndimage import median_filter as filt

    return filt(np.asarray(pred, dtype=np.float64), size=frames, mode="nearest") if frames > 1 else np.asarray(pred)


def delayed(pred: np.ndarray, frames: int) -> np.ndarray:
    """The predictions ``frames`` label frames later (the first value repeated at the start)."""
    pred = np.asarray(pred, dtype=np.float64)
    if frames <= 0 or not len(pred):
        return pred
    if frames >= len(pred):
        return np.full_like(pred, pred[0])
    return np.concatenate([np.full(frames, pred[0]), pred[:-frames]])


def pooled_ccc(tracks: list[Track]) -> float:
    """CCC over all frames of all recordings concatenated (the AV+EC convention)."""
    return ccc(np.concatenate([t.gold for t in tracks]), np.concatenate([t.pred for t in tracks]))


def mean_ccc(tracks: list[Track]) -> float:
    """Mean per-recording CCC, E{CCC} (recordings of two frames or more)."""
    values = [ccc(t.gold, t.pred) for t in tracks if len(t.gold) > 1]
    return float(np.mean(values)) if values else float("nan")


@dataclass
class Chain:
    """A chosen post-processing configuration; a step left at None was not kept."""

    rate: float
    median_frames: Optional[int] = None
    bias: Optional[float] = None
    scale: Optional[float] = None
    scale_centre: Optional[float] = None
    shift_frames: Optional[int] = None

    def step(self, tracks: list[Track], name: str) -> list[Track]:
        """``tracks`` after one step of the chain (unchanged when the step is not kept)."""
        if name == "median" and self.median_frames:
            return [t.with_pred(median_filter(t.pred, self.median_frames)) for t in tracks]
        if name == "centre" and self.bias is not None:
            return [t.with_pred(t.pred + self.bias) for t in tracks]
        if name == "scale" and self.scale is not None:
            return [t.with_pred((t.pred - self.scale_centre) * self.scale + self.scale_centre) for t in tracks]
        if name == "shift" and self.shift_frames:
            return [t.with_pred(delayed(t.pred, self.shift_frames)) for t in tracks]
        return tracks

    def apply(self, tracks: list[Track]) -> list[Track]:
        for name in STEPS:
            tracks = self.step(tracks, name)
        return tracks

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["median_s"] = self.median_frames / self.rate if self.median_frames else None
        out["shift_s"] = self.shift_frames / self.rate if self.shift_frames else None
        out["kept"] = [step for step, value in zip(STEPS, (self.median_frames, self.bias, self.scale,
                                                            self.shift_frames)) if value is not None]
        return out


def odd_frames(seconds: float, rate: float) -> int:
    frames = max(1, int(round(seconds * rate)))
    return frames if frames % 2 else frames + 1


def shift_moments(golds: list[np.ndarray], preds: list[np.ndarray], shifts: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each shift k: the mean and variance of the predictions delayed by k frames (per
    recording, :func:`delayed`) and their covariance with the gold standard, over all
    frames of all recordings (prefix sums and one dot product per recording and shift)."""
    shifts = np.asarray(shifts, dtype=int)
    total = sum(len(g) for g in golds)
    gold_mean = sum(float(g.sum()) for g in golds) / total
    sp, spp, sgp = np.zeros(len(shifts)), np.zeros(len(shifts)), np.zeros(len(shifts))
    for g, p in zip(golds, preds):
        n = len(p)
        if not n:
            continue
        p1, p2 = np.concatenate([[0.0], np.cumsum(p)]), np.concatenate([[0.0], np.cumsum(p * p)])
        g1 = np.concatenate([[0.0], np.cumsum(g)])
        k = np.minimum(shifts, n)
        sp += k * p[0] + p1[n - k]
        spp += k * p[0] ** 2 + p2[n - k]
        sgp += p[0] * g1[k] + np.array([g[j:] @ p[:n - j] for j in k])
    mean = sp / total
    return mean, np.maximum(spp / total - mean ** 2, 0.0), sgp / total - gold_mean * mean


def tune_chain(dev: list[Track], rate: float, windows_s: list[float] = PAPER_WINDOWS_S,
               max_shift_s: float = PAPER_MAX_SHIFT_S, steps: tuple[str, ...] = STEPS
               ) -> tuple[Chain, list[dict[str, Any]]]:
    """The chain with the highest development CCC, and a log row per step.

    Every combination is scored: each median window (or none) × centring on/off × scaling
    on/off × each shift (or none), bias and ratio computed on the development predictions
    after the steps before them.  Scoring the steps jointly keeps a long, not yet
    compensated rating lag from favouring heavy smoothing (a greedy step-by-step choice
    picks a 6-s median filter on predictions 2.4 s early and then misses the lag).  Ties
    go to fewer steps, so a step is in the chain only if leaving it out lowers the
    development CCC; the chain with no step is a candidate, so development CCC never falls.
    The log gives, per step, its parameter and the development CCC of the chosen chain
    with and without the step (for a step left out: the best chain that adds it).
    """
    if not dev or not sum(len(t.gold) for t in dev):
        raise SertkError("post-processing needs development predictions with label frames; none were found")
    gold = np.concatenate([t.gold for t in dev]).astype(np.float64)
    gm, gv, gs = float(gold.mean()), float(gold.var()), float(gold.std())
    windows = [0] + (sorted({w for w in (odd_frames(x, rate) for x in windows_s) if w > 1}) if "median" in steps else [])
    shifts = [0] + (list(range(1, int(round(max_shift_s * rate)) + 1)) if "shift" in steps else [])
    centres = (False, True) if "centre" in steps else (False,)
    scales = (False, True) if "scale" in steps else (False,)
    scores: dict[tuple, float] = {}
    chains: dict[tuple, Chain] = {}
    for w in windows:
        smoothed = [median_filter(t.pred, w) if w else np.asarray(t.pred, dtype=np.float64) for t in dev]
        flat = np.concatenate(smoothed)
        bias = gm - float(flat.mean())
        ratio = gs / float(flat.std()) if flat.std() > 0 else None
        mean, var, cov = shift_moments([t.gold for t in dev], smoothed, np.array(shifts))
        for centre in centres:
            for scale in scales:
                if scale and ratio is None:
                    continue
                chain = Chain(rate, median_frames=w or None, bias=bias if centre else None)
                if scale:
                    chain.scale, chain.scale_centre = ratio, float(flat.mean()) + (bias if centre else 0.0)
                a = chain.scale if scale else 1.0
                d = (bias if centre else 0.0) * a + ((1 - a) * chain.scale_centre if scale else 0.0)
                # CCC of gold with a · (delayed prediction) + d, for every shift at once
                with np.errstate(invalid="ignore", divide="ignore"):
                    ccc_k = np.nan_to_num(2 * a * cov / (gv + a * a * var + (gm - a * mean - d) ** 2))
                for k, value in zip(shifts, ccc_k):
                    scores[(w, centre, scale, k)] = float(value)
                    chains[(w, centre, scale, k)] = chain
    steps_of = lambda key: sum(bool(v) for v in key)  # noqa: E731
    best = max(scores, key=lambda key: (round(scores[key], 12), -steps_of(key)))
    chain = Chain(**{**asdict(chains[best]), "shift_frames": best[3] or None})
    log = []
    for i, name in enumerate(STEPS):
        if name not in steps:
            continue
        kept = bool(best[i])
        if kept:
            off = tuple(False if j == i else v for j, v in enumerate(best))  # 0 == False: the step left out
            without, with_ = scores[off], scores[best]
        else:
            added = [k for k in scores if k[i] and all(k[j] == best[j] for j in range(4) if j != i)]
            without = scores[best]
            with_ = max((scores[k] for k in added), default=without)
        parameter = {"median": (chain.median_frames or 0) / rate or None, "centre": chain.bias, "scale": chain.scale,
                     "shift": (chain.shift_frames or 0) / rate or None}[name] if kept else None
        log.append({"step": name, "parameter": parameter, "dev_ccc_without": without, "dev_ccc_with": with_,
                    "kept": kept})
    return chain, log


class PostProcess(Analyzer):
    """Development-tuned post-processing of contour predictions: median filter (0.4–20 s),
    centring, scaling, time shift (0.04–10 s), each kept only if it raises development CCC,
    then applied unchanged to the test predictions (MixedEmotions D4.2 §4.5.2, §5.3).

    Runs on a finished run (``sertk analyze RUN postprocess``, or under the recipe's
    ``analyzers``): each fold model predicts its validation and test recordings again;
    the chain is tuned per fold and head.  Writes ``postprocess.json`` (the chosen chain
    per fold and head), ``steps.csv`` (every step's candidate and development CCC),
    ``frames.csv`` (test frames, raw and post-processed) and a contour plot.
    ``windows_s`` are the median windows tried, ``max_shift_s`` the longest shift,
    ``steps`` the steps tried.
    """

    name = "postprocess"
    summary = "dev-tuned median filter, centring, scaling, time shift of contours (MixedEmotions D4.2 §4.5.2, §5.3)"

    def __init__(self, heads: Optional[list[str]] = None, windows_s: list[float] = PAPER_WINDOWS_S,
                 max_shift_s: float = PAPER_MAX_SHIFT_S, steps: list[str] = list(STEPS), batch_size: int = 8):
        bad = [s for s in steps if s not in STEPS]
        if bad:
            raise ValueError(f"steps must be among {', '.join(STEPS)}, got {bad}")
        if not windows_s or min(windows_s) <= 0 or max_shift_s < 0 or batch_size < 1:
            raise ValueError("windows_s must be positive seconds, max_shift_s >= 0, batch_size >= 1")
        self.heads, self.windows_s, self.max_shift_s = heads, list(windows_s), float(max_shift_s)
        self.steps, self.batch_size = tuple(steps), batch_size

    def analyze(self, run) -> dict[str, Any]:
        heads = contour_heads(run, self.heads, self.name)
        out = run.analysis_dir(self.name)
        config: dict[str, dict[str, Any]] = {}
        folds: dict[str, dict[str, Any]] = {}
        steps_rows, frame_rows = [], []
        pooled: dict[str, dict[str, list[Track]]] = {h.name: {"raw": [], "post": []} for h in heads}
        for fold in run.folds:
            dev = predict_tracks(run, fold, "validation", heads, self.batch_size)
            test = predict_tracks(run, fold, "test", heads, self.batch_size)
            config[fold], folds[fold] = {}, {}
            for head in heads:
                if not dev[head.name]:
                    raise SertkError(f"{self.name}: fold '{fold}' of {run.dir} has no validation recordings; the "
                                     f"chain is tuned on development predictions (give the protocol a validation "
                                     f"part or set train.validation)")
                rate = label_rate(dev[head.name])
                chain, log = tune_chain(dev[head.name], rate, self.windows_s, self.max_shift_s, self.steps)
                post_dev, post_test = chain.apply(dev[head.name]), chain.apply(test[head.name])
                config[fold][head.name] = chain.to_dict()
                folds[fold][head.name] = {
                    "dev_ccc_raw": pooled_ccc(dev[head.name]), "dev_ccc": pooled_ccc(post_dev),
                    "test_ccc_raw": pooled_ccc(test[head.name]) if test[head.name] else None,
                    "test_ccc": pooled_ccc(post_test) if post_test else None,
                    "test_mean_ccc_raw": mean_ccc(test[head.name]), "test_mean_ccc": mean_ccc(post_test),
                    "kept": config[fold][head.name]["kept"]}
                steps_rows += [{"fold": fold, "head": head.name, **row} for row in log]
                for raw, post in zip(test[head.name], post_test):
                    frame_rows += [{"fold": fold, "id": raw.recording, "head": head.name, "time": f"{t:.3f}",
                                    "true": f"{g:.6g}", "pred_raw": f"{p:.6g}", "pred": f"{q:.6g}"}
                                   for t, g, p, q in zip(raw.times, raw.gold, raw.pred, post.pred)]
                pooled[head.name]["raw"] += test[head.name]
                pooled[head.name]["post"] += post_test
        write_json(out / "postprocess.json", config)
        write_csv(out / "steps.csv", steps_rows)
        write_csv(out / "frames.csv", frame_rows)
        overall = {h: {"test_ccc_raw": pooled_ccc(v["raw"]) if v["raw"] else None,
                       "test_ccc": pooled_ccc(v["post"]) if v["post"] else None,
                       "test_mean_ccc_raw": mean_ccc(v["raw"]), "test_mean_ccc": mean_ccc(v["post"])}
                   for h, v in pooled.items()}
        plots = self._plot(out, pooled)
        return {"config": "postprocess.json", "folds": folds, "pooled": overall, "plots": plots,
                "paper": "D4.2 §4.5.2, §5.3: median filter, centring, scaling, time shift, each kept if dev CCC rises"}

    @staticmethod
    def _plot(out, pooled: dict[str, dict[str, list[Track]]]) -> list[str]:
        names = []
        for head, tracks in pooled.items():
            if not tracks["raw"]:
                continue
            raw, post = tracks["raw"][0], tracks["post"][0]
            plt = pyplot()
            fig, ax = plt.subplots(figsize=(10, 3.2))
            ax.plot(raw.times, raw.gold, color="black", lw=1.2, label="gold")
            ax.plot(raw.times, raw.pred, color="tab:gray", lw=0.8, label=f"raw (CCC {ccc(raw.gold, raw.pred):.2f})")
            ax.plot(post.times, post.pred, color="tab:red", lw=1.0,
                    label=f"post-processed (CCC {ccc(post.gold, post.pred):.2f})")
            ax.set_xlabel("time [s]")
            ax.set_ylabel(head)
            ax.set_title(f"{raw.recording}: {head} before and after post-processing")
            ax.legend(fontsize=8, loc="upper right")
            fig.tight_layout()
            name = f"postprocess_{safe_name(head)}.png"
            save_figure(fig, out / name)
            names.append(name)
        return names


def _unused(fold: Optional[Union[str, int]] = None) -> None:  # pragma: no cover
    return None

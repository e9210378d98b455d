"""Predicting new recordings with fold models: whole recordings as in training, long ones
window by window with bounded memory; outputs are averaged over the fold models."""
from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

import numpy as np

from ..errors import AudioProblem, SertkError
from ..estimator import EstimatorModel
from ..interfaces import Head, Utterance
from ..progress import Progress
from .estimate import stack_inputs
from .windows import Window, default_window, duration_s, count_windows, read_windows

if TYPE_CHECKING:
    from .trained import FoldModels


@dataclass
class FileOutputs:
    """One recording's predictions.  ``utterance``: per utterance-level head, (C,) class
    scores or a value (for a windowed recording, the mean over its windows).  ``contours``:
    per frame-level head, frame times (s) and values (T,) or class scores (T, C).  Windowed
    recordings also hold window ``starts``/``ends`` (s) and per head ``windows`` outputs."""

    path: str
    duration_s: float
    utterance: dict[str, np.ndarray]
    contours: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    starts: Optional[np.ndarray] = None
    ends: Optional[np.ndarray] = None
    windows: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class _Pending:
    """Features of one window: per key one array per segment, and the segments' absolute times."""

    window: Window
    arrays: dict[str, list[np.ndarray]]
    spans: list[tuple[float, float]]


class FilePredictor:
    """Every fold model of ``models`` (loaded once) applied to recordings; ``device``
    overrides the recipe's ``train.device``; sequence heads are not predicted."""

    def __init__(self, models: "FoldModels", batch_size: int = 16, device: Optional[str] = None,
                 progress: Optional[Progress] = None):
        self.models, self.batch_size, self.device = models, max(1, int(batch_size)), device
        self.progress = progress or models.progress
        self.heads = [h for h in models.heads if h.kind != "sequence"]

    @functools.cached_property
    def trainer(self):
        """What runs networks (torch is imported only for them)."""
        from .trainer import Trainer

        train = self.models.recipe.train
        return Trainer(train if self.device is None else dataclasses.replace(train, device=self.device))

    @functools.cached_property
    def folds(self) -> list:
        """``(model, normalizer)`` of every fold."""
        return [(self.models.model(f), self.models.normalizer(f)) for f in self.models.folds]

    @functools.cached_property
    def features(self):
        from .experiment import build_features

        return build_features(self.models.recipe, self.models.registry)

    # ------------------------------------------------------------------ models
    def _outputs(self, arrays: dict[str, list[np.ndarray]], durations: Sequence[float],
                 speakers: Sequence[str]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Per head, outputs of the segments (in order) averaged over the folds, and frame masks."""
        ids = [str(i) for i in range(len(durations))]
        totals: dict[str, np.ndarray] = {}
        masks: dict[str, np.ndarray] = {}
        for model, normalizer in self.folds:
            normed = normalizer.transform(arrays, speakers=list(speakers))
            if isinstance(model, EstimatorModel):
                outputs, order = model.predict(stack_inputs(normed)), np.arange(len(ids))
            else:
                from ..data.batching import SegmentDataset, make_loader

                loader = make_loader(SegmentDataset(ids, normed, {}, list(durations)), self.batch_size, False, 0)
                predicted = self.trainer.predict(model, loader)
                outputs, order = predicted.outputs, np.argsort([int(i) for i in predicted.ids], kind="stable")
                if not masks:
                    masks = {k: np.asarray(v)[order] for k, v in predicted.masks.items()}
            for h in self.heads:
                totals[h.name] = totals.get(h.name, 0) + np.asarray(outputs[h.name])[order] / len(self.folds)
        return totals, masks

    def _summary(self, outputs: dict[str, np.ndarray], masks: dict[str, np.ndarray], idx: list[int],
                 spans: list[tuple[float, float]]) -> tuple[dict[str, np.ndarray], dict[str, tuple]]:
        """Utterance-level heads averaged over the segments ``idx``; frame-level heads as one
        contour over them (``spans`` are the segments' absolute start and end times)."""
        summary = {h.name: outputs[h.name][idx].mean(axis=0) for h in self.heads if h.level == "utterance"}
        contours = {}
        for h in self.heads:
            if h.level != "frame":
                continue
            times, values = [], []
            for i, (start, end) in zip(idx, spans):
                valid = outputs[h.name][i][masks[h.name][i]] if h.name in masks else outputs[h.name][i]
                rate = h.rate or len(valid) / max(end - start, 1e-6)
                times.append(start + np.arange(len(valid)) / rate)
                values.append(valid)
            contours[h.name] = (np.concatenate(times), np.concatenate(values))
        return summary, contours

    # ------------------------------------------------------------------ whole recordings
    def whole_files(self, paths: Sequence[str]) -> dict[str, FileOutputs]:
        """Recordings processed whole, exactly as in training (the run's segment policy);
        unusable ones are left out and reported in the progress log."""
        from .experiment import prepare_data

        utterances = [Utterance(id=str(p), speaker=str(p), path=str(p)) for p in paths]
        data = prepare_data(self.models.recipe, self.models.registry, self.progress, utterances=utterances,
                            features=self.features)
        segments = data.extracted.segments
        with self.progress.task("Predicting", total=len(self.folds)) as task:
            outputs, masks = self._outputs(data.extracted.arrays, [s.end_s - s.start_s for s in segments],
                                           [data.utterances[s.utt_index].speaker for s in segments])
            task.advance(len(self.folds))
        result = {}
        for u, utt in enumerate(data.utterances):
            idx = [i for i, s in enumerate(segments) if s.utt_index == u]
            summary, contours = self._summary(outputs, masks, idx, [(segments[i].start_s, segments[i].end_s)
                                                                    for i in idx])
            result[utt.id] = FileOutputs(utt.id, segments[idx[-1]].end_s, summary, contours)
        return result

    # ------------------------------------------------------------------ long recordings
    def long_file(self, path: str, window_s: float, hop_s: float) -> Optional[FileOutputs]:
        """``path`` in sliding windows of ``window_s`` every ``hop_s`` seconds, each cut by the
        run's segment policy; features of at most ``batch_size`` windows are held at a time
        (all of the file's, which are small, when a feature is speaker-normalised: the file's
        own statistics need them).  Silent or unusable windows are left out (and counted)."""
        speaker_norm = any(mode == "speaker" for _, n in self.folds for mode in n.modes.values())
        utt = Utterance(id=str(path), speaker=str(path), path=str(path))
        pending: list[_Pending] = []
        starts, ends, skipped = [], [], 0
        windows: dict[str, list] = {h.name: [] for h in self.heads if h.level == "utterance"}
        parts: dict[str, list] = {h.name: [] for h in self.heads if h.level == "frame"}

        def flush() -> None:
            for window, summary, contours in self._predict_windows(pending, str(path)):
                starts.append(window.start_s)
                ends.append(window.end_s)
                for name in windows:
                    windows[name].append(summary[name])
                for name in parts:
                    parts[name].append(contours[name])
            pending.clear()

        with self.progress.task(f"Windows of {Path(path).name}", total=count_windows(path, window_s, hop_s)) as task:
            for window in read_windows(path, self.models.sample_rate, window_s, hop_s):
                features = self._window_features(utt, window)
                task.advance()
                if features is None:
                    skipped += 1
                    continue
                pending.append(features)
                if len(pending) >= self.batch_size and not speaker_norm:
                    flush()
            flush()
        if skipped:
            self.progress.log(f"{path}: {skipped} silent or unusable windows left out")
        if not starts:
            self.progress.log(f"skipped {path}: no usable window")
            return None
        stacked = {name: np.stack(v) for name, v in windows.items()}
        return FileOutputs(str(path), duration_s(path), {name: v.mean(axis=0) for name, v in stacked.items()},
                           {name: _stitch(p, starts) for name, p in parts.items()},
                           np.asarray(starts), np.asarray(ends), stacked)

    def _window_features(self, utt: Utterance, window: Window) -> Optional[_Pending]:
        from ..audio import check_signal
        from ..data.extract import segment_context
        from ..data.segment import cut, segment_bounds

        rate, policy = self.models.sample_rate, self.models.recipe.data.segment
        try:
            check_signal(window.signal, rate, f"{utt.path} at {window.start_s:.2f} s")
        except AudioProblem:
            return None
        bounds = segment_bounds(len(window.signal), rate, policy)
        pieces = cut(window.signal, bounds)
        spans = [(window.start_s + s / rate, min(window.start_s + e / rate, window.end_s)) for s, e in bounds]
        arrays = {}
        for key, feature in self.features:
            arrays[key] = [np.asarray(feature.extract(p, rate, segment_context(utt, a, b)), dtype=np.float32)
                           for p, (a, b) in zip(pieces, spans)]
            if not all(np.isfinite(a).all() for a in arrays[key]):
                return None
        return _Pending(window, arrays, spans)

    def _predict_windows(self, pending: list[_Pending], speaker: str):
        """``(window, utterance-level summary, contours)`` of each pending window."""
        if not pending:
            return []
        arrays = {key: [a for p in pending for a in p.arrays[key]] for key in pending[0].arrays}
        spans = [s for p in pending for s in p.spans]
        outputs, masks = self._outputs(arrays, [b - a for a, b in spans], [speaker] * len(spans))
        out, first = [], 0
        for p in pending:
            idx = list(range(first, first + len(p.spans)))
            first += len(p.spans)
            out.append((p.window, *self._summary(outputs, masks, idx, p.spans)))
        return out


def _stitch(parts: list[tuple[np.ndarray, np.ndarray]], starts: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """One contour from overlapping windows: each window contributes its frames up to the next window's start."""
    times, values = [], []
    for k, (t, v) in enumerate(parts):
        keep = t < starts[k + 1] if k + 1 < len(parts) else np.ones(len(t), dtype=bool)
        times.append(t[keep])
        values.append(v[keep])
    return np.concatenate(times), np.concatenate(values)


def predict_files(models: "FoldModels", paths: Sequence[str], window_s: Optional[float] = None,
                  hop_s: Optional[float] = None, batch_size: int = 16, device: Optional[str] = None,
                  progress: Optional[Progress] = None) -> tuple[list[FileOutputs], float, float]:
    """Predictions for ``paths`` in order: recordings up to ``window_s`` whole, longer ones in
    windows (default: the run's training segment length, else 10 s; hop: half a window).
    Returns the outputs and the window and hop used; unreadable files are logged and left out."""
    window_s = float(window_s or default_window(models.recipe.data.segment))
    hop_s = float(hop_s or window_s / 2)
    if hop_s > window_s:
        raise SertkError(f"--hop {hop_s:g} is longer than --window {window_s:g}; windows would leave gaps")
    predictor = FilePredictor(models, batch_size, device, progress)
    lengths = {}
    for path in paths:
        try:
            lengths[path] = duration_s(path)
        except AudioProblem as problem:
            predictor.progress.log(f"skipped {problem}")
    short = [p for p, d in lengths.items() if d <= window_s]
    done = predictor.whole_files(short) if short else {}
    results = []
    for path in lengths:
        out = done.get(path) if path in done or lengths[path] <= window_s else predictor.long_file(path, window_s, hop_s)
        if out is not None:
            results.append(out)
    return results, window_s, hop_s


def score_columns(heads: Sequence[Head]) -> list[str]:
    """The class names of every classification head, once each (for CSV score columns)."""
    return list(dict.fromkeys(c for h in heads if h.kind == "classification" for c in h.classes))

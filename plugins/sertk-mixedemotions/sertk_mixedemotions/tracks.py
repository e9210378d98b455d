"""A finished run's frame-level predictions, recording by recording, recomputed from its fold
models (what the post-processing and the cell analysis read).

A recording cut into several segments (``data.segment: slices``) is put back together by
time: label frame times are relative to each segment's start, which is added back.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Optional, Union

import numpy as np

from sertk import SertkError

SPLITS = ("train", "validation", "test")


@dataclass
class Track:
    """One recording's label frames: times (s from the recording start), gold and predicted values."""

    recording: str
    times: np.ndarray
    gold: np.ndarray
    pred: np.ndarray

    def with_pred(self, pred: np.ndarray) -> "Track":
        return Track(self.recording, self.times, self.gold, np.asarray(pred, dtype=np.float64))


def pick_fold(run, fold: Optional[Union[str, int]], who: str) -> str:
    chosen = run.folds[0] if fold is None else str(fold)
    if chosen not in run.folds:
        raise SertkError(f"{who}: no fold '{chosen}' in {run.dir} (folds: {', '.join(run.folds)})")
    return chosen


def contour_heads(run, heads: Optional[list[str]], who: str) -> list:
    """The run's frame-level regression heads (those named in ``heads``, all when None)."""
    found = [h for h in run.heads if h.kind == "regression" and h.level == "frame"]
    if not found:
        raise SertkError(f"{who}: {run.dir} has no frame-level regression head (contours); heads: "
                         f"{', '.join(h.name for h in run.heads)}")
    if heads is None:
        return found
    unknown = [h for h in heads if h not in {f.name for f in found}]
    if unknown:
        raise SertkError(f"{who}: no contour head {', '.join(map(repr, unknown))} in {run.dir} (contour heads: "
                         f"{', '.join(h.name for h in found)})")
    return [h for h in found if h.name in heads]


def segment_index(run) -> dict:
    """Segment id → (segment, utterance) of the run's data."""
    return {s.id: (s, run.data.utterances[s.utt_index]) for s in run.data.extracted.segments}


def predict_tracks(run, fold: str, split: str, heads: list, batch_size: int = 8, model=None) -> dict[str, list[Track]]:
    """Per head, the fold's recordings of ``split`` with gold and predicted values at the
    label frames: the model's outputs aligned to the label times as the engine aligns them
    (``sertk.nn.frame_output``)."""
    import torch

    from sertk.nn import frame_output

    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    model = (model or run.network(fold, "time-continuous analysis")).eval()
    index = segment_index(run)
    parts: dict[str, dict[str, list]] = {h.name: defaultdict(list) for h in heads}
    for batch in run.batches(fold, split, batch_size):
        with torch.no_grad():
            outputs = model(batch.inputs, batch.lengths)
        if batch.durations is None:
            batch.durations = torch.tensor([index[i][0].end_s - index[i][0].start_s for i in batch.ids],
                                           dtype=torch.float32)
        for head in heads:
            aligned, _ = frame_output(head, outputs[head.name].float(), batch)
            mask = batch.target_masks[head.name].bool()
            for i, sid in enumerate(batch.ids):
                seg, utt = index[sid]
                m = mask[i]
                parts[head.name][utt.id].append((seg.start_s + batch.target_times[head.name][i][m].double().numpy(),
                                                 batch.targets[head.name][i][m].double().numpy(),
                                                 aligned[i][m].double().numpy()))
    tracks = {}
    for head in heads:
        tracks[head.name] = []
        for recording, pieces in parts[head.name].items():
            times, gold, pred = (np.concatenate(p) for p in zip(*pieces))
            order = np.argsort(times, kind="stable")
            tracks[head.name].append(Track(recording, times[order], gold[order], pred[order]))
    return tracks


def label_rate(tracks: list[Track]) -> float:
    """Label frames per second (the median frame step over the recordings)."""
    steps = np.concatenate([np.diff(t.times) for t in tracks if len(t.times) > 1] or [np.zeros(0)])
    steps = steps[steps > 0]
    if not len(steps):
        raise SertkError("cannot tell the label frame rate: no recording has two label frames")
    return float(1.0 / np.median(steps))

"""Results of a run: metrics.json, predictions.csv, frames.csv (frame-level heads),
confusion matrices (PNG and CSV), contour and learning-curve plots.

Frame-level heads are scored on all valid frames concatenated over recordings
(the AVEC convention) and, per recording, averaged over recordings; their
bootstrap CI resamples recordings, not frames.  Sequence heads are scored on
the greedy CTC decodings.
"""
from __future__ import annotations

import contextlib
import csv
import io
from typing import TYPE_CHECKING, Any, Iterator, Optional, Sequence

import numpy as np

from ..atomic import write_json, write_text
from ..data.targets import maskable, present
from ..interfaces import Head
from .layout import RunLayout

if TYPE_CHECKING:
    from .parallel import Drawing


def units(outcomes, head: Head) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per evaluation unit of every fold: the valid targets and outputs of one head."""
    ys, outs = [], []
    for o in outcomes:
        targets, outputs = o.targets[head.name], o.outputs[head.name]
        mask = o.masks.get(head.name)
        if mask is None:
            ys += [np.atleast_1d(t) for t in targets]
            outs += [np.asarray(v)[None] for v in outputs]
        else:
            ys += [np.asarray(t)[m] for t, m in zip(targets, mask)]
            outs += [np.asarray(v)[m] for v, m in zip(outputs, mask)]
    return ys, outs


def _pool(outcomes, head: Head) -> tuple[np.ndarray, np.ndarray]:
    """Test targets and outputs of every fold, concatenated (valid frames of frame-level heads)."""
    if head.kind == "sequence":
        return (np.concatenate([o.targets[head.name] for o in outcomes]),
                np.concatenate([o.outputs[head.name] for o in outcomes]))
    ys, outs = units(outcomes, head)
    return np.concatenate(ys), np.concatenate(outs)


def baselines(head: Head, outcomes, metrics: Sequence, seed: int) -> dict[str, dict[str, float]]:
    """Reference figures of a classification head.

    As Wieser et al. 2020 define them (Table 5): ``chance``, the expected score
    of a uniform random guess where a metric has a closed form (1/n for WA and
    UA), and ``most_frequent``, the label most frequent in the pooled test sets
    predicted for every unit.  Also ``random_guess`` (one draw of uniform
    random classes, every metric) and ``training_majority`` (each fold's most
    frequent training class predicted for its test set, which uses no test
    labels).
    """
    from .scoring import score

    y, _ = _pool(outcomes, head)
    n = len(head.classes)
    rng = np.random.default_rng(seed)
    guesses = np.eye(n)[rng.integers(0, n, size=len(y))]
    labelled = y[present(head, y)].astype(int)  # data.missing_labels: mask leaves missing labels out
    test_majority = np.eye(n)[np.full(len(y), int(np.argmax(np.bincount(labelled, minlength=n))))]
    train_majority = np.concatenate([np.eye(n)[np.full(len(o.unit_ids), int(np.argmax(o.train_counts[head.name])))]
                                     for o in outcomes])
    chance = {m.name: m.chance(n) for m in metrics if m.chance(n) is not None}
    return {"chance": chance, "most_frequent": score(head, y, test_majority, metrics),
            "random_guess": score(head, y, guesses, metrics),
            "training_majority": score(head, y, train_majority, metrics)}


def _recording_ci(head: Head, outcomes, metrics: Sequence, seed: int, n: int = 1000) -> dict[str, list[float]]:
    """Bootstrap 95% CI of frame-level scores, resampling whole recordings."""
    from .scoring import score

    ys, outs = units(outcomes, head)
    rng = np.random.default_rng(seed)
    draws = [rng.integers(0, len(ys), size=len(ys)) for _ in range(n)]
    values = {m.name: [] for m in metrics}
    for idx in draws:
        scores = score(head, np.concatenate([ys[i] for i in idx]), np.concatenate([outs[i] for i in idx]), metrics)
        for name, v in scores.items():
            values[name].append(v)
    return {k: [float(x) for x in np.nanpercentile(v, [2.5, 97.5])] for k, v in values.items()}


def per_recording(head: Head, outcomes, metrics: Sequence) -> dict[str, float]:
    """Each metric per recording, averaged over recordings (e.g. the mean per-sequence CCC)."""
    from .scoring import score

    rows = [score(head, y, out, metrics) for y, out in zip(*units(outcomes, head)) if len(y) > 1]
    return {m.name: float(np.mean([r[m.name] for r in rows])) for m in metrics if rows}


def pooled_confusion(head: Head, y: np.ndarray, outputs: np.ndarray) -> np.ndarray:
    """The confusion matrix of a classification head's pooled targets and scores."""
    from .scoring import confusion_matrix

    return confusion_matrix(y.astype(int), outputs.argmax(-1), len(head.classes))


def head_scores(head: Head, outcomes, metrics: Sequence) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """One head's test figures per fold and pooled over the folds."""
    from .scoring import score

    return {o.name: fold_score(o, head, metrics) for o in outcomes}, score(head, *_pool(outcomes, head), metrics)


def head_summary(head: Head, outcomes, metrics: Sequence, seed: int,
                 scores: Optional[tuple[dict, dict]] = None) -> dict[str, Any]:
    """Per fold, pooled with bootstrap 95% CI, mean ± std over folds (and over
    repeats), per recording for frame-level heads; ``scores`` are :func:`head_scores`
    when already computed."""
    from .scoring import bootstrap_ci, confusion_batch, decode, score, summarize

    per_fold, pooled = scores or head_scores(head, outcomes, metrics)
    y, out = _pool(outcomes, head)
    frame = head.level == "frame" and head.kind != "sequence"
    decoded = None if frame else decode(head, y, out)
    ci = _recording_ci(head, outcomes, metrics, seed) if frame else {
        m.name: list(bootstrap_ci(lambda a, b, _m=m: _m(a, b, head.classes), *decoded, seed=seed,
                                  batch=confusion_batch(m, len(head.classes)) if head.kind == "classification" else None)
                     if decoded is not None else (float("nan"), float("nan")))
        for m in metrics if m.kind == head.kind}
    summary = {"kind": head.kind, "level": head.level, "pooled": pooled, "ci95": ci, "folds": per_fold,
               "over_folds": summarize(list(per_fold.values())),
               "n": int(present(head, y).sum()) if maskable(head) and not frame else int(len(y))}
    if frame:
        summary["per_recording"] = per_recording(head, outcomes, metrics)
        summary["recordings"] = int(sum(len(o.unit_ids) for o in outcomes))
    repeats = sorted({o.repeat for o in outcomes})
    if len(repeats) > 1:
        by_repeat = [score(head, *_pool([o for o in outcomes if o.repeat == r], head), metrics) for r in repeats]
        summary["over_repeats"] = {m: {**v, "values": [s[m] for s in by_repeat]}
                                   for m, v in summarize(by_repeat).items()}
    if head.kind == "classification":
        summary["classes"] = list(head.classes)
        summary["confusion"] = pooled_confusion(head, y, out).tolist()
        if head.level == "utterance":
            summary["baselines"] = baselines(head, outcomes, metrics, seed)
    if head.kind == "sequence":
        summary["blank_only"] = score(head, y, _empty_like(y), metrics)
    return summary


def _empty_like(sequences: np.ndarray) -> np.ndarray:
    """One empty decoding per reference (what a network that emits only blanks outputs)."""
    out = np.empty(len(sequences), dtype=object)
    out[:] = [np.zeros(0, dtype=np.int64) for _ in sequences]
    return out


def fold_score(outcome, head: Head, metrics: Sequence) -> dict[str, float]:
    """One fold's test figures for one head."""
    from .scoring import score

    return score(head, *_pool([outcome], head), metrics)


def fold_line(outcome, heads: Sequence[Head], metrics_by_kind: dict) -> str:
    """One fold's test figures as a log line, e.g. ``fold 03: emotion ua 0.712 wa 0.730``."""
    parts = []
    for h in heads:
        values = fold_score(outcome, h, metrics_by_kind.get(h.kind, []))
        parts.append(f"{h.name} " + " ".join(f"{m} {v:.3f}" for m, v in values.items()))
    return f"fold {outcome.name}: " + "; ".join(parts)


def _tokens(head: Head, indices) -> str:
    return " ".join(head.classes[int(i)] for i in indices)


def write_predictions(path, heads: Sequence[Head], outcomes) -> None:
    """One row per fold, unit and utterance-level or sequence head: truth, prediction and class scores."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    max_classes = max((len(h.classes) for h in heads if h.kind == "classification"), default=0)
    writer.writerow(["fold", "id", "speaker", "head", "true", "pred", *[f"score_{i}" for i in range(max_classes)]])
    for o in outcomes:
        for h in heads:
            if h.level == "frame" and h.kind != "sequence":
                continue
            targets, outputs = o.targets[h.name], o.outputs[h.name]
            for i, uid in enumerate(o.unit_ids):
                if maskable(h) and not present(h, np.asarray(targets[i])):
                    continue  # no label for this head (data.missing_labels: mask)
                if h.kind == "sequence":
                    row = [_tokens(h, targets[i]), _tokens(h, outputs[i])]
                elif h.kind == "classification":
                    scores = np.asarray(outputs[i])
                    row = [h.classes[int(targets[i])], h.classes[int(scores.argmax())], *[f"{v:.6g}" for v in scores]]
                else:
                    row = [f"{float(targets[i]):.6g}", f"{float(outputs[i]):.6g}"]
                writer.writerow([o.name, uid, o.speakers[i], h.name, *row])
    write_text(path, buf.getvalue())


def write_frames(path, heads: Sequence[Head], outcomes) -> None:
    """Frame-level heads: one row per fold, recording, head and label frame (time in seconds)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["fold", "id", "speaker", "head", "time", "true", "pred"])
    for o in outcomes:
        for h in heads:
            if h.name not in o.times:
                continue
            for i, uid in enumerate(o.unit_ids):
                valid = o.masks[h.name][i]
                pred = np.asarray(o.outputs[h.name][i])[valid]
                if h.kind == "classification":
                    pred = [h.classes[int(k)] for k in pred.argmax(-1)]
                    true = [h.classes[int(k)] for k in np.asarray(o.targets[h.name][i])[valid]]
                else:
                    pred = [f"{v:.6g}" for v in pred]
                    true = [f"{v:.6g}" for v in np.asarray(o.targets[h.name][i])[valid]]
                for t, y, p in zip(o.times[h.name][i], true, pred):
                    writer.writerow([o.name, uid, o.speakers[i], h.name, f"{t:.3f}", y, p])
    write_text(path, buf.getvalue())


def write_confusion_csv(path, cm: np.ndarray, classes: Sequence[str]) -> None:
    """A confusion matrix in percent of each true class (rows = true, columns =
    predicted), the layout of Zhao et al. 2019, Tables 3–6; ``n`` counts each row."""
    from .scoring import row_percent

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["true (% per row)", *classes, "n"])
    for name, values, n in zip(classes, row_percent(cm), np.asarray(cm).sum(axis=1)):
        writer.writerow([name, *[f"{v:.2f}" for v in values], int(n)])
    write_text(path, buf.getvalue())


def write_reports(layout: RunLayout, heads: Sequence[Head], outcomes, metrics_by_kind: dict, seed: int,
                  protocol: Optional[dict] = None, drawing: Optional["Drawing"] = None) -> dict:
    """Every result file of a run; returns the metrics summary.  The figures are drawn in
    ``drawing`` (else in processes forked here) while the tables and bootstrap intervals are
    computed.  ``protocol`` (:func:`~sertk.engine.protocol_labels.protocol_labels`) goes into
    metrics.json."""
    scores = {h.name: head_scores(h, outcomes, metrics_by_kind.get(h.kind, [])) for h in heads}
    with _drawn(_figures(layout, heads, outcomes, scores), drawing):
        summary: dict[str, Any] = {"folds": [o.name for o in outcomes], "heads": {}}
        for h in heads:
            summary["heads"][h.name] = head_summary(h, outcomes, metrics_by_kind.get(h.kind, []), seed,
                                                    scores[h.name])
            if h.kind == "classification":
                write_confusion_csv(layout.confusion(h.name, len(heads) > 1, ".csv"),
                                    np.asarray(summary["heads"][h.name]["confusion"]), h.classes)
        vals = [o.validation_score for o in outcomes if o.validation_score is not None]
        summary["validation_score"] = float(np.mean(vals)) if vals else None
        histories = {o.name: o.history for o in outcomes if o.history}
        if histories:
            write_json(layout.history, histories)
        if protocol is not None:
            summary["protocol"] = protocol
        write_predictions(layout.predictions, heads, outcomes)
        if any(o.times for o in outcomes):
            write_frames(layout.frames, heads, outcomes)
        write_json(layout.metrics, summary)
    return summary


@contextlib.contextmanager
def _drawn(figures: list, drawing: Optional["Drawing"]) -> Iterator[None]:
    """Draw ``figures`` while the block runs (in ``drawing``, else in processes forked here,
    :func:`~sertk.engine.parallel.figure_pool`); wait for them at its end."""
    if drawing is not None:
        wait = drawing.draw(figures)
        yield
        wait()
        return
    from .parallel import figure_pool

    with figure_pool(figures) as pool:
        drawn = pool.results(len(figures))
        yield
        list(drawn)


def _figures(layout: RunLayout, heads: Sequence[Head], outcomes, scores: dict) -> list:
    """The run's figures as calls that draw them: test scores per fold (from :func:`head_scores`),
    confusion matrices, contours, learning curves."""
    from functools import partial

    from .plots import plot_confusion, plot_contours, plot_curves, plot_fold_scores

    per_fold = {"folds": [o.name for o in outcomes],
                "heads": {name: {"folds": folds, "pooled": pooled} for name, (folds, pooled) in scores.items()}}
    figures = [partial(plot_fold_scores, per_fold, layout.fold_scores)]
    for h in heads:
        if h.kind == "classification":
            figures.append(partial(plot_confusion, pooled_confusion(h, *_pool(outcomes, h)), h.classes,
                                   layout.confusion(h.name, len(heads) > 1, ".png"),
                                   title=f"{h.name}: pooled over {len(outcomes)} folds (% of true class)"))
        if h.level == "frame" and h.kind == "regression":
            figures.append(partial(plot_contours, outcomes, h.name, layout.contours_plot(h.name)))
    histories = {o.name: o.history for o in outcomes if o.history}
    if histories:
        figures.append(partial(plot_curves, list(histories.values()), layout.learning_curves, names=list(histories)))
    return figures

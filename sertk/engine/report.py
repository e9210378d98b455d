"""Results of a run: metrics.json, predictions.csv, confusion matrices (PNG and CSV)
and learning-curve plots."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..atomic import write_json, write_text
from ..interfaces import Head

METRICS_FILE = "metrics.json"
PREDICTIONS_FILE = "predictions.csv"


def _pool(outcomes, head: Head) -> tuple[np.ndarray, np.ndarray]:
    """Test targets and outputs of every fold, concatenated (frame-level heads flattened)."""
    y = np.concatenate([np.asarray(o.targets[head.name]).reshape(len(o.unit_ids), -1) for o in outcomes])
    out = np.concatenate([np.asarray(o.outputs[head.name]).reshape(len(o.unit_ids), -1) for o in outcomes])
    if head.kind == "classification":
        return y.reshape(-1), out
    return y.reshape(-1), out.reshape(-1)


def baselines(head: Head, outcomes, metrics: Sequence, seed: int) -> dict[str, dict[str, float]]:
    """Random-guess and most-frequent-label figures of a classification head
    (Wieser et al. 2020, Table 5): uniform random classes, and each fold's most
    frequent training class predicted for its whole test set."""
    from .scoring import score

    y, _ = _pool(outcomes, head)
    n = len(head.classes)
    rng = np.random.default_rng(seed)
    guesses = np.eye(n)[rng.integers(0, n, size=len(y))]
    majority = np.concatenate([np.eye(n)[np.full(len(o.unit_ids), int(np.argmax(o.train_counts[head.name])))]
                               for o in outcomes])
    return {"random_guess": score(head, y, guesses, metrics), "most_frequent": score(head, y, majority, metrics)}


def head_summary(head: Head, outcomes, metrics: Sequence, seed: int) -> dict[str, Any]:
    """Per fold, pooled with bootstrap 95% CI, and mean ± std over folds."""
    from .scoring import bootstrap_ci, confusion_matrix, score, summarize

    per_fold = {o.name: fold_score(o, head, metrics) for o in outcomes}
    y, out = _pool(outcomes, head)
    pooled = score(head, y, out, metrics)
    ci = {m.name: list(bootstrap_ci(lambda a, b, _m=m: score(head, a, b, [_m])[_m.name], y, out, seed=seed))
          for m in metrics}
    summary = {"kind": head.kind, "pooled": pooled, "ci95": ci, "folds": per_fold,
               "over_folds": summarize(list(per_fold.values())), "n": int(len(y))}
    if head.kind == "classification":
        summary["classes"] = list(head.classes)
        summary["confusion"] = confusion_matrix(y.astype(int), out.argmax(1), len(head.classes)).tolist()
        summary["baselines"] = baselines(head, outcomes, metrics, seed)
    return summary


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


def write_predictions(path: Path, heads: Sequence[Head], outcomes) -> None:
    """One row per fold, unit and head: truth, prediction and class scores."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    max_classes = max((len(h.classes) for h in heads), default=0)
    writer.writerow(["fold", "id", "speaker", "head", "true", "pred", *[f"score_{i}" for i in range(max_classes)]])
    for o in outcomes:
        for h in heads:
            targets, outputs = np.asarray(o.targets[h.name]), np.asarray(o.outputs[h.name])
            for i, uid in enumerate(o.unit_ids):
                if h.kind == "classification" and h.level == "utterance":
                    row = outputs[i]
                    writer.writerow([o.name, uid, o.speakers[i], h.name, h.classes[int(targets[i])],
                                     h.classes[int(row.argmax())], *[f"{v:.6g}" for v in row]])
                elif h.level == "utterance":
                    writer.writerow([o.name, uid, o.speakers[i], h.name, f"{float(targets[i]):.6g}",
                                     f"{float(outputs[i]):.6g}"])
                else:
                    writer.writerow([o.name, uid, o.speakers[i], h.name, "", f"mean {np.mean(outputs[i]):.6g}"])
    write_text(path, buf.getvalue())


def write_confusion_csv(path: Path, cm: np.ndarray, classes: Sequence[str]) -> None:
    """A confusion matrix in percent of each true class (rows = true, columns =
    predicted), the layout of Zhao et al. 2019, Tables 3–6; ``n`` counts each row."""
    from .scoring import row_percent

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["true (% per row)", *classes, "n"])
    for name, values, n in zip(classes, row_percent(cm), np.asarray(cm).sum(axis=1)):
        writer.writerow([name, *[f"{v:.2f}" for v in values], int(n)])
    write_text(path, buf.getvalue())


def write_reports(run_dir: Path, heads: Sequence[Head], outcomes, metrics_by_kind: dict, seed: int) -> dict:
    """Every result file of a run; returns the metrics summary."""
    from .plots import plot_confusion, plot_curves

    summary: dict[str, Any] = {"folds": [o.name for o in outcomes], "heads": {}}
    for h in heads:
        summary["heads"][h.name] = head_summary(h, outcomes, metrics_by_kind.get(h.kind, []), seed)
        if h.kind == "classification":
            cm, stem = np.asarray(summary["heads"][h.name]["confusion"]), (
                f"confusion_{h.name}" if len(heads) > 1 else "confusion")
            plot_confusion(cm, h.classes, run_dir / f"{stem}.png",
                           title=f"{h.name}: pooled over {len(outcomes)} folds (% of true class)")
            write_confusion_csv(run_dir / f"{stem}.csv", cm, h.classes)
    vals = [o.validation_score for o in outcomes if o.validation_score is not None]
    summary["validation_score"] = float(np.mean(vals)) if vals else None
    histories = {o.name: o.history for o in outcomes if o.history}
    if histories:
        plot_curves(list(histories.values()), run_dir / "learning_curves.png", names=list(histories))
        write_json(run_dir / "history.json", histories)
    write_predictions(run_dir / PREDICTIONS_FILE, heads, outcomes)
    write_json(run_dir / METRICS_FILE, summary)
    return summary

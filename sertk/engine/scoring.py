"""Scores from pooled predictions: metrics per head, confusion matrices,
bootstrap confidence intervals, fold summaries and segment aggregation."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Hashable, Optional, Sequence

import numpy as np

from ..data.targets import MISSING_CLASS, maskable, present
from ..interfaces import Head, Metric

if TYPE_CHECKING:
    from .outcomes import Predictions


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], n_classes: int) -> np.ndarray:
    """(n_classes, n_classes) counts; row = true class, column = predicted class.  Items
    whose true class is ``MISSING_CLASS`` (a missing label, ``data.missing_labels: mask``)
    are left out."""
    y_true, y_pred = np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} differ in shape")
    labelled = y_true != MISSING_CLASS
    y_true, y_pred = y_true[labelled], y_pred[labelled]
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.size and (y.min() < 0 or y.max() >= n_classes):
            raise ValueError(f"{name} holds class indices outside 0..{n_classes - 1}")
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def resampled_confusions(y_true: np.ndarray, y_pred: np.ndarray, draws: np.ndarray, n_classes: int) -> np.ndarray:
    """The confusion matrix of every resample: ``draws`` (R, N) indexes the items; (R, C, C)."""
    cells = y_true[draws] * n_classes + y_pred[draws] + (np.arange(len(draws)) * n_classes ** 2)[:, None]
    return np.bincount(cells.ravel(), minlength=len(draws) * n_classes ** 2).reshape(len(draws), n_classes, n_classes)


def confusion_batch(metric: Metric, n_classes: int) -> Optional[Callable[[np.ndarray, np.ndarray, np.ndarray],
                                                                       np.ndarray]]:
    """A ``batch`` for :func:`bootstrap_ci` when ``metric`` scores confusion matrices, else None."""
    if metric.kind != "classification" or type(metric).from_confusion is Metric.from_confusion:
        return None
    return lambda y_true, y_pred, draws: metric.from_confusion(resampled_confusions(y_true, y_pred, draws, n_classes))


def row_percent(cm: np.ndarray) -> np.ndarray:
    """A confusion matrix in percent of each true class (empty rows stay 0)."""
    cm = np.asarray(cm, dtype=float)
    rows = cm.sum(axis=1, keepdims=True)
    return np.divide(100 * cm, rows, out=np.zeros_like(cm), where=rows > 0)


def bootstrap_ci(metric_fn: Callable[[np.ndarray, np.ndarray], float], y_true: Sequence, y_pred: Sequence,
                 n: int = 1000, seed: int = 0, alpha: float = 0.05,
                 batch: Optional[Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = None
                 ) -> tuple[float, float]:
    """Percentile bootstrap (1 − alpha) confidence interval of ``metric_fn``,
    resampling utterances with replacement ``n`` times.  ``batch(y_true, y_pred, draws)``,
    when given, scores every resample (a row of ``draws``) at once instead; when it returns
    None (a metric's ``from_confusion`` may), the resamples are scored one at a time."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if len(y_true) != len(y_pred) or len(y_true) == 0:
        raise ValueError(f"need equally long, non-empty y_true and y_pred (got {len(y_true)} and {len(y_pred)})")
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(y_true), size=(n, len(y_true)))
    batched = batch(y_true, y_pred, draws) if batch is not None else None
    values = (np.asarray(batched, dtype=float) if batched is not None else
              np.array([metric_fn(y_true[i], y_pred[i]) for i in draws], dtype=float))
    low, high = np.nanpercentile(values, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(low), float(high)


def summarize(per_fold: Sequence[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Mean and (population) standard deviation of each metric over the folds that report it."""
    names = list(dict.fromkeys(name for fold in per_fold for name in fold))
    out = {}
    for name in names:
        values = np.array([fold[name] for fold in per_fold if name in fold], dtype=float)
        out[name] = {"mean": float(values.mean()), "std": float(values.std())}
    return out


def decode(head: Head, y_true: np.ndarray, outputs: np.ndarray,
           mask: Optional[np.ndarray] = None) -> Optional[tuple[np.ndarray, np.ndarray]]:
    """The (references, predictions) a head's metrics compare, or None when no item has the label.

    Classification outputs (N, C) are turned into predictions by argmax;
    ``mask`` (N, T) selects the valid frames of a frame-level head; sequence
    heads compare token arrays (references against decodings).  Items without
    the head's label (``data.missing_labels: mask``) are left out.
    """
    y_true, outputs = np.asarray(y_true), np.asarray(outputs)
    if mask is not None:
        y_true, outputs = y_true[mask], outputs[mask]
    if maskable(head):
        labelled = present(head, y_true)
        if (len(y_true) or mask is not None) and not labelled.any():  # no item (no frame) has the label
            return None
        y_true, outputs = y_true[labelled], outputs[labelled]
    if head.kind == "sequence":
        return y_true, outputs
    if head.kind == "classification":
        return y_true.astype(int), outputs.argmax(-1)
    return y_true.astype(float), outputs.astype(float)


def score(head: Head, y_true: np.ndarray, outputs: np.ndarray, metrics: Sequence[Metric],
          mask: Optional[np.ndarray] = None) -> dict[str, float]:
    """Every metric of the head's kind on one head's outputs (see :func:`decode`); with no
    labelled item, every metric is NaN."""
    decoded = decode(head, y_true, outputs, mask)
    if decoded is None:
        return {m.name: float("nan") for m in metrics if m.kind == head.kind}
    return {m.name: float(m(*decoded, head.classes)) for m in metrics if m.kind == head.kind}


def score_predictions(predictions: "Predictions", heads: Sequence[Head],
                      metrics: Sequence[Metric]) -> dict[str, dict[str, float]]:
    """``{head: {metric: value}}`` for every head with targets in ``predictions``."""
    return {h.name: score(h, predictions.targets[h.name], predictions.outputs[h.name], metrics,
                          predictions.masks.get(h.name))
            for h in heads if h.name in predictions.targets}


def selector(head: Head, metric: Metric) -> Callable[["Predictions"], float]:
    """The validation score function for early stopping: ``metric`` on ``head``."""
    if metric.kind != head.kind:
        raise ValueError(f"metric '{metric.name}' scores {metric.kind} heads, but head '{head.name}' is {head.kind}")

    def select(predictions: "Predictions") -> float:
        return score_predictions(predictions, [head], [metric])[head.name][metric.name]

    return select


def aggregate_segments(segment_utt_index: Sequence[Hashable], outputs: np.ndarray
                       ) -> tuple[list[Hashable], np.ndarray]:
    """Average segment outputs (posteriors or values) into utterance outputs.

    ``segment_utt_index[i]`` names the utterance of segment ``i`` (an index or
    an id). Returns the utterances in order of first appearance and their mean
    outputs, shaped (U, ...) like ``outputs``.
    """
    keys = list(segment_utt_index)
    outputs = np.asarray(outputs, dtype=float)
    if len(keys) != len(outputs):
        raise ValueError(f"{len(keys)} segment keys for {len(outputs)} segment outputs")
    order = list(dict.fromkeys(keys))
    position = {key: i for i, key in enumerate(order)}
    inverse = np.array([position[key] for key in keys], dtype=int)
    sums = np.zeros((len(order),) + outputs.shape[1:])
    np.add.at(sums, inverse, outputs)
    counts = np.bincount(inverse, minlength=len(order)).reshape((-1,) + (1,) * (outputs.ndim - 1))
    return order, sums / counts

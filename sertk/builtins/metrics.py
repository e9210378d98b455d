"""Built-in metrics: the standard SER scores for categorical and dimensional heads,
and token error rates for sequence (CTC) heads."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..interfaces import Metric
from ..sequences import error_rate, split_words


def _per_class_counts(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Labels seen in either array, with true positives, true counts and predicted counts per label."""
    labels, index = np.unique(np.concatenate([y_true.ravel(), y_pred.ravel()]), return_inverse=True)
    true, pred = index[:y_true.size], index[y_true.size:]
    counts = [np.bincount(v, minlength=len(labels)).astype(float) for v in (true[true == pred], true, pred)]
    return (labels, *counts)


def _confusion_counts(confusion: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True positives, true counts and predicted counts per class of stacked confusion matrices."""
    confusion = np.asarray(confusion, dtype=float)
    return np.diagonal(confusion, axis1=-2, axis2=-1), confusion.sum(axis=-1), confusion.sum(axis=-2)


def _mean_where(values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The mean over the last axis of the kept entries."""
    return np.where(keep, values, 0.0).sum(axis=-1) / keep.sum(axis=-1)


class UnweightedAverageRecall(Metric):
    """Unweighted average recall (UA): the mean per-class recall over the classes
    present in ``y_true`` (also called balanced accuracy)."""

    name = "ua"
    summary = "unweighted average recall: mean per-class recall"

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[str] = ()) -> float:
        _, tp, n_true, _ = _per_class_counts(np.asarray(y_true), np.asarray(y_pred))
        present = n_true > 0
        return float(np.mean(tp[present] / n_true[present]))

    def from_confusion(self, confusion: np.ndarray) -> np.ndarray:
        tp, n_true, _ = _confusion_counts(confusion)
        return _mean_where(tp / np.maximum(n_true, 1), n_true > 0)

    def chance(self, n_classes: int) -> float:
        return 1.0 / n_classes


class WeightedAccuracy(Metric):
    """Weighted accuracy (WA): the fraction of correctly classified utterances."""

    name = "wa"
    summary = "weighted accuracy: fraction of utterances classified correctly"

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[str] = ()) -> float:
        return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))

    def from_confusion(self, confusion: np.ndarray) -> np.ndarray:
        tp, n_true, _ = _confusion_counts(confusion)
        return tp.sum(axis=-1) / n_true.sum(axis=-1)

    def chance(self, n_classes: int) -> float:
        return 1.0 / n_classes


class MacroF1(Metric):
    """Macro F1: the mean F1 over classes present in ``y_true`` or ``y_pred``
    (a class never predicted or never true scores 0), as scikit-learn's
    ``f1_score(average='macro')``."""

    name = "f1"
    summary = "macro-averaged F1 over classes"

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[str] = ()) -> float:
        _, tp, n_true, n_pred = _per_class_counts(np.asarray(y_true), np.asarray(y_pred))
        return float(np.mean(2 * tp / (n_true + n_pred)))

    def from_confusion(self, confusion: np.ndarray) -> np.ndarray:
        tp, n_true, n_pred = _confusion_counts(confusion)
        seen = n_true + n_pred
        return _mean_where(2 * tp / np.maximum(seen, 1), seen > 0)


class ConcordanceCorrelation(Metric):
    """Lin's concordance correlation coefficient (Lin 1989, Biometrics 45(1)),
    2·cov / (var_t + var_p + (μ_t − μ_p)²) with population (co)variances;
    0 when both series are constant."""

    name = "ccc"
    kind = "regression"
    summary = "Lin's concordance correlation coefficient"

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[str] = ()) -> float:
        t, p = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
        cov = np.mean((t - t.mean()) * (p - p.mean()))
        denominator = t.var() + p.var() + (t.mean() - p.mean()) ** 2
        return float(2 * cov / denominator) if denominator > 0 else 0.0


class PearsonCorrelation(Metric):
    """Pearson's correlation coefficient; 0 when either series is constant."""

    name = "pearson"
    kind = "regression"
    summary = "Pearson correlation coefficient"

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[str] = ()) -> float:
        t, p = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
        spread = t.std() * p.std()
        return float(np.mean((t - t.mean()) * (p - p.mean())) / spread) if spread > 0 else 0.0


class RootMeanSquaredError(Metric):
    """Root mean squared error (lower is better)."""

    name = "rmse"
    kind = "regression"
    greater_is_better = False
    summary = "root mean squared error"

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[str] = ()) -> float:
        t, p = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
        return float(np.sqrt(np.mean((t - p) ** 2)))


class CharacterErrorRate(Metric):
    """Character error rate: Σ Levenshtein edits / Σ reference tokens over the
    test set's sequences (references vs greedy CTC decodings), the label error
    rate of Graves et al., ICML 2006, §2.1."""

    name = "cer"
    kind = "sequence"
    greater_is_better = False
    summary = "character error rate of decoded token sequences"

    def __call__(self, y_true, y_pred, classes: Sequence[str] = ()) -> float:
        return error_rate(y_true, y_pred)


class PhoneErrorRate(CharacterErrorRate):
    """Phone error rate: the same token error rate, named for phone targets (an
    alignment tier such as ``phones``), as in TIMIT phone recognition (Graves et
    al., "Speech recognition with deep recurrent neural networks", ICASSP 2013)."""

    name = "per"
    summary = "phone error rate of decoded token sequences"


class WordErrorRate(Metric):
    """Word error rate: the label error rate (Graves et al., ICML 2006, §2.1) over
    words, the character tokens split into words at the space token ``" "`` of
    the head's classes."""

    name = "wer"
    kind = "sequence"
    greater_is_better = False
    summary = "word error rate of decoded character sequences"

    def __call__(self, y_true, y_pred, classes: Sequence[str] = ()) -> float:
        if " " not in classes:
            raise ValueError("wer needs a space token ' ' in the head's classes to find words; use cer or per")
        return error_rate([split_words(t, classes) for t in y_true], [split_words(p, classes) for p in y_pred])



class KendallTau(Metric):
    """Kendall's rank correlation τ-b (Kendall 1945, with the tie correction of τ-b;
    ``scipy.stats.kendalltau``); 0 when either series is constant.

    On a frame-level head the report gives it pooled over all test frames and, in
    ``per_recording``, averaged over recordings: E{τ}, the mean per-sequence τ of the
    MediaEval 2013 "Emotion in Music" task (Weninger et al., IJCAI 2016; MixedEmotions
    D4.2, §4.5).  The mean per-sequence CCC, E{CCC}, is likewise ``per_recording.ccc``.
    """

    name = "kendall"
    kind = "regression"
    summary = "Kendall's rank correlation tau-b (per_recording: the mean per-sequence E{tau})"

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[str] = ()) -> float:
        from scipy.stats import kendalltau

        t, p = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
        if len(t) < 2 or np.ptp(t) == 0 or np.ptp(p) == 0:
            return 0.0
        tau = kendalltau(t, p).statistic
        return float(tau) if np.isfinite(tau) else 0.0

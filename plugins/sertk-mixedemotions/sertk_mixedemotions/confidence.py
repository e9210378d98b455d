"""Confidence measures for emotion predictions (MixedEmotions D4.2 §2.4, after J. Deng, W. Han,
B. Schuller, "Confidence measures for speech emotion recognition: a start", ITG Speech
Communication 2012): the recogniser's own posterior and margin, a regressor of the raters'
agreement (trained where a corpus gives the fraction of raters who agreed), and a learned-error
estimator (a second model trained to predict the recogniser's errors on held-out training folds)."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from sertk import SertkError

MEASURES = ("margin", "posterior", "learned_error", "agreement")


def posteriors(scores: np.ndarray) -> np.ndarray:
    """(N, C) class posteriors: the rows unchanged when they already are probabilities (a
    network's softmax), else the softmax of the scores (an estimator's decision values; a
    monotone, uncalibrated mapping — thresholds then act on that scale)."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.size and scores.min() >= 0 and np.allclose(scores.sum(axis=1), 1.0, atol=1e-4):
        return scores
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def max_posterior(p: np.ndarray) -> np.ndarray:
    """The winning class's posterior (D4.2 §2.4: the recogniser's own confidence)."""
    return np.asarray(p).max(axis=1)


def margin(p: np.ndarray) -> np.ndarray:
    """Best minus second-best posterior (the margin used for uncertainty sampling,
    T. Scheffer et al., "Active hidden Markov models for information extraction", IDA 2001)."""
    top = np.sort(np.asarray(p), axis=1)
    return top[:, -1] - top[:, -2]


OWN: dict[str, Callable[[np.ndarray], np.ndarray]] = {"margin": margin, "posterior": max_posterior}


def error_features(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    """An estimator's inputs: the acoustic features and the recogniser's sorted posteriors."""
    return np.hstack([np.asarray(x, dtype=np.float64), -np.sort(-np.asarray(p), axis=1)])


class ErrorEstimator:
    """Learned-error confidence (D4.2 §2.4; Deng et al. 2012): a balanced logistic regression (our
    choice of learner) trained on held-out predictions of the recogniser — features plus sorted
    posteriors → 1 where it erred.  Its confidence is 1 − P(error)."""

    def __init__(self, C: float = 0.1):
        self.C = C
        self._model = None
        self._constant = None

    def fit(self, x: np.ndarray, p: np.ndarray, errors: np.ndarray) -> "ErrorEstimator":
        from sklearn.linear_model import LogisticRegression

        errors = np.asarray(errors, dtype=int)
        if len(np.unique(errors)) < 2:  # never (or always) wrong on held-out data: a constant estimate
            self._constant = float(errors.mean()) if len(errors) else 0.0
            return self
        self._model = LogisticRegression(C=self.C, class_weight="balanced", max_iter=2000)
        self._model.fit(error_features(x, p), errors)
        return self

    def confidence(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        if self._model is None:
            return np.full(len(p), 1.0 - (self._constant or 0.0))
        return 1.0 - self._model.predict_proba(error_features(x, p))[:, 1]


class AgreementEstimator:
    """Agreement-based confidence (D4.2 §2.4; Deng et al. 2012): a
    ridge regressor (our choice) from the features to the fraction of raters who chose the
    final label, trained on the labelled utterances that carry it; its prediction, clipped to
    0…1, is the confidence."""

    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha
        self._model = None

    def fit(self, x: np.ndarray, agreement: np.ndarray) -> "AgreementEstimator":
        from sklearn.linear_model import Ridge

        self._model = Ridge(alpha=self.alpha).fit(np.asarray(x, dtype=np.float64), np.asarray(agreement, float))
        return self

    def confidence(self, x: np.ndarray, p: Any = None) -> np.ndarray:
        """``p`` (the posteriors) is not used: the agreement depends on the audio alone."""
        return np.clip(self._model.predict(np.asarray(x, dtype=np.float64)), 0.0, 1.0)


def feature_matrix(session: Any, part: Any) -> np.ndarray:
    """(N, D): a part's normalised features, streams concatenated in order (frame-level
    streams averaged over their frames)."""
    arrays = session.arrays(part)
    columns = [np.stack([np.asarray(a, dtype=np.float64).reshape(-1, np.shape(a)[-1]).mean(axis=0) for a in v])
               for v in arrays.values()]
    return np.hstack(columns) if len(part) else np.zeros((0, 0))


def agreement_values(session: Any, part: Any, key: str) -> np.ndarray:
    """The rater-agreement label ``key`` of each segment's utterance (NaN where absent)."""
    data = session.data
    return np.asarray([data.utterances[data.extracted.segments[s].utt_index].labels.get(key, np.nan)
                       for s in part.segments], dtype=np.float64)


def require_agreement(values: np.ndarray, key: str) -> None:
    """A user error when no labelled utterance carries the rater-agreement label."""
    if not np.isfinite(values).any():
        raise SertkError(f"confidence 'agreement' needs the fraction of raters who agreed as label {key!r}, which "
                         f"no training utterance has; sertk's corpus loaders do not provide it (IEMOCAP's loader reads "
                         f"each evaluator's categories but keeps only the agreed class); use a manifest corpus with "
                         f"that label or another confidence")


def speaker_groups(speakers: Sequence[str], k: int, seed: int) -> list[np.ndarray]:
    """Up to ``k`` held-out groups: whole speakers when there are at least two, else random items."""
    names = sorted(set(speakers))
    rng = np.random.default_rng(seed)
    if len(names) >= 2:
        order = rng.permutation(len(names))
        buckets = [set(names[j] for j in order[i::min(k, len(names))]) for i in range(min(k, len(names)))]
        return [np.asarray([i for i, s in enumerate(speakers) if s in b]) for b in buckets]
    order = rng.permutation(len(speakers))
    return [order[i::k] for i in range(k) if len(order[i::k])]


def heldout_posteriors(session: Any, part: Any, head: str, k: int = 3) -> np.ndarray:
    """(N, C) posteriors of ``part`` from models trained on its other speaker groups
    (held-out training folds, D4.2 §2.4), each fitted without a validation part."""
    speakers = [session.speakers[s] for s in part.segments]
    out = None
    for held in speaker_groups(speakers, k, session.config.seed):
        rest = np.setdiff1d(np.arange(len(part)), held)
        if not len(rest):
            continue
        model = session.new_model()
        session.fit(model, part.subset(rest.tolist()), part.subset([]), description="held-out errors")
        p = posteriors(session.predict(model, part.subset(held.tolist())).outputs[head])
        out = np.full((len(part), p.shape[1]), 1.0 / p.shape[1]) if out is None else out
        out[held] = p
    return out


def auroc(confidence: np.ndarray, correct: np.ndarray) -> float:
    """Area under the ROC curve of ``confidence`` separating correct from wrong predictions
    (0.5: chance; ties count half); NaN when one of the two is absent."""
    confidence, correct = np.asarray(confidence, float), np.asarray(correct, bool)
    pos, neg = confidence[correct], confidence[~correct]
    if not len(pos) or not len(neg):
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


class Confidence:
    """One of :data:`MEASURES` for a fold's recogniser: ``score(model, labelled, items)`` gives the
    items' confidences and posteriors; ``labelled`` (a part with targets) trains the learned-error
    and agreement estimators."""

    def __init__(self, session: Any, head: str, measure: str, agreement_key: str = "agreement", folds: int = 3):
        if measure not in MEASURES:
            raise SertkError(f"confidence must be one of {list(MEASURES)}, got {measure!r}")
        self.session, self.head, self.measure = session, head, measure
        self.agreement_key, self.folds = agreement_key, folds

    def posteriors(self, model: Any, part: Any) -> np.ndarray:
        return posteriors(self.session.predict(model, part).outputs[self.head])

    def score(self, model: Any, labelled: Any, items: Any) -> tuple[np.ndarray, np.ndarray]:
        p = self.posteriors(model, items)
        if self.measure in OWN:
            return OWN[self.measure](p), p
        return self.estimator(labelled).confidence(feature_matrix(self.session, items), p), p

    def estimator(self, labelled: Any):
        """The fitted learned-error or agreement estimator for this labelled set."""
        x = feature_matrix(self.session, labelled)
        if self.measure == "agreement":
            values = agreement_values(self.session, labelled, self.agreement_key)
            require_agreement(values, self.agreement_key)
            known = np.isfinite(values)
            return AgreementEstimator().fit(x[known], values[known])
        p = heldout_posteriors(self.session, labelled, self.head, self.folds)
        errors = p.argmax(axis=1) != np.asarray(labelled.targets[self.head], dtype=int)
        return ErrorEstimator().fit(x, p, errors)

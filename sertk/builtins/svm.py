"""The linear SVM baseline, solved in numpy (no scikit-learn, no torch)."""
from __future__ import annotations

from typing import Optional

import numpy as np

from ..data.targets import balanced_weights
from ..estimator import EstimatorModel
from ..heads import target_head
from ..interfaces import FeatureInfo, LabelSpace
from .smo import solve_pairs


class LinearSVM(EstimatorModel):
    """A linear-kernel support vector machine on utterance-level features (the
    classic functionals baseline of the INTERSPEECH challenges, e.g. Schuller et
    al., "The INTERSPEECH 2009 Emotion Challenge"): libsvm's one-vs-one C-SVC
    (its dual problem, solver and stopping rule, :mod:`sertk.builtins.smo`) on the
    Gram matrix, kept as plain arrays: one weight vector and bias per pair of
    classes, combined by libsvm's votes and bounded summed confidences.  Inputs are
    expected to be z-scored by the engine; outputs are these vote scores, not
    probabilities.  ``tol`` is libsvm's stopping tolerance (its default).

    Default ``C``: with z-scored ComParE 2016 functionals (6373) on EmoDB under
    leave-one-speaker-out, every C from 1e-3 to 1 gives the same (separable,
    hard-margin) solution, UA 75.8 % on the 2-s EmoDB copy; smaller C lowers UA."""

    name = "linear_svm"
    summary = "linear support vector machine on utterance-level features"

    def __init__(self, inputs: dict[str, FeatureInfo], labels: LabelSpace, C: float = 0.001,
                 balanced: bool = True, tol: float = 1e-3, target: Optional[str] = None) -> None:
        frame = [k for k, info in inputs.items() if info.level != "utterance"]
        if frame:
            raise ValueError(f"linear_svm needs utterance-level features (functionals), but {frame} are frame-level")
        if C <= 0:
            raise ValueError(f"C must be positive, got {C}")
        if not 0 < tol < 1:
            raise ValueError(f"tol (libsvm's stopping tolerance) must be in (0, 1), got {tol}")
        head = target_head(labels, target, self.name)
        if head.kind != "classification":
            raise ValueError(f"linear_svm classifies; {head.name!r} is a dimension (use a regression model)")
        self.heads = [head]
        self.C, self.balanced, self.tol = C, balanced, tol
        self.pairs: Optional[np.ndarray] = None
        self.coef: Optional[np.ndarray] = None
        self.intercept: Optional[np.ndarray] = None

    def fit(self, x: np.ndarray, targets: dict[str, np.ndarray]) -> None:
        """Every pair's dual problem on the linear kernel x·xᵀ at once, then its weight
        vector Σ αᵢyᵢxᵢ; the decision is positive for the pair's second class."""
        x = np.asarray(x)
        x = x if x.dtype in (np.float32, np.float64) else x.astype(np.float64)  # the engine gives float32
        y = np.asarray(targets[self.heads[0].name], dtype=int)
        classes, rank = np.unique(y, return_inverse=True)
        weight = balanced_weights(rank, len(classes)) if self.balanced else np.ones(len(classes))
        classes = classes.tolist()
        self.pairs = np.asarray([(a, b) for i, a in enumerate(classes) for b in classes[i + 1:]],
                                dtype=np.int64).reshape(-1, 2)
        members = [np.flatnonzero((y == a) | (y == b)) for a, b in self.pairs]
        width = max((len(m) for m in members), default=0)
        index = np.zeros((len(members), width), dtype=np.int64)
        signs = np.zeros((len(members), width))
        for p, (m, (_, b)) in enumerate(zip(members, self.pairs)):
            index[p, :len(m)] = m
            signs[p, :len(m)] = np.where(y[m] == b, 1.0, -1.0)
        upper = self.C * weight[rank[index]] * (signs != 0)
        gram = (x @ x.T).astype(np.float64)
        alpha, rho = solve_pairs(gram[index[:, :, None], index[:, None, :]], signs, upper, self.tol)
        dual = np.zeros((len(members), len(x)), dtype=x.dtype)
        np.add.at(dual, (np.arange(len(members))[:, None], index), alpha * signs)
        self.coef = (dual @ x).astype(np.float64)
        self.intercept = -rho

    def predict(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """libsvm's one-vs-one votes plus its bounded summed confidences."""
        if self.coef is None:
            raise RuntimeError("linear_svm must be fitted before predict")
        n_classes = len(self.heads[0].classes)
        decision = np.asarray(x, dtype=np.float64) @ self.coef.T + self.intercept
        votes, confidence = np.zeros((len(x), n_classes)), np.zeros((len(x), n_classes))
        for k, (a, b) in enumerate(self.pairs):
            votes[:, b] += decision[:, k] > 0
            votes[:, a] += decision[:, k] <= 0
            confidence[:, b] += decision[:, k]
            confidence[:, a] -= decision[:, k]
        scores = votes + confidence / (3 * (np.abs(confidence) + 1))
        absent = np.ones(n_classes, dtype=bool)  # (np.setdiff1d would import numpy.ma: 0.1 s per process)
        absent[self.pairs.ravel()] = False
        scores[:, absent] = scores.min(axis=1, keepdims=True) - 1.0  # classes absent from training never win
        return {self.heads[0].name: scores}

    def state(self) -> dict[str, np.ndarray]:
        if self.coef is None:
            raise RuntimeError("linear_svm must be fitted before it is saved")
        return {"pairs": self.pairs, "coef": self.coef, "intercept": self.intercept}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        self.pairs, self.coef, self.intercept = (np.asarray(state[k]) for k in ("pairs", "coef", "intercept"))

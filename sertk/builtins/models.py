"""Built-in models: a pooled multilayer perceptron, a linear SVM baseline and a stacked BLSTM sequence model."""
from __future__ import annotations

from typing import Literal, Optional

import numpy as np
import torch

from ..interfaces import FeatureInfo, LabelSpace
from ..model import EstimatorModel, Model
from ..nn import mean_std_pool, target_head
from .blstm import BLSTM

_ACTIVATIONS = {"relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh}


class MLP(Model):
    """A multilayer perceptron on all input streams: frame-level streams are
    pooled to mean and standard deviation over valid frames, then every stream
    is concatenated; hidden layers are Linear → activation → dropout."""

    name = "mlp"
    summary = "multilayer perceptron on pooled, concatenated features"

    def __init__(self, inputs: dict[str, FeatureInfo], labels: LabelSpace, hidden: list[int] = [256],
                 dropout: float = 0.3, activation: Literal["relu", "sigmoid", "tanh"] = "relu",
                 target: Optional[str] = None) -> None:
        super().__init__()
        if not inputs:
            raise ValueError("mlp needs at least one feature stream")
        if any(h < 1 for h in hidden):
            raise ValueError(f"hidden sizes must be positive, got {hidden}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
        self.heads = [target_head(labels, target, self.name)]
        self.keys = list(inputs)
        self.frame_keys = {k for k, info in inputs.items() if info.level == "frame"}
        width = sum(2 * info.dim if k in self.frame_keys else info.dim for k, info in inputs.items())
        layers: list[torch.nn.Module] = []
        for size in hidden:
            layers += [torch.nn.Linear(width, size), _ACTIVATIONS[activation](), torch.nn.Dropout(dropout)]
            width = size
        head = self.heads[0]
        layers.append(torch.nn.Linear(width, len(head.classes) if head.kind == "classification" else 1))
        self.net = torch.nn.Sequential(*layers)

    def forward(self, inputs, lengths=None):
        lengths = lengths or {}
        parts = [mean_std_pool(inputs[k], lengths.get(k)) if k in self.frame_keys else inputs[k] for k in self.keys]
        out = self.net(torch.cat(parts, dim=-1))
        head = self.heads[0]
        return {head.name: out if head.kind == "classification" else out.squeeze(-1)}


def pair_weights(dual_coef: np.ndarray, n_support: np.ndarray, support_vectors: np.ndarray) -> np.ndarray:
    """The weight vector of every one-vs-one pair (a, b), a < b, of a linear libsvm model:
    libsvm keeps, for each support vector of class a, its coefficients against the other
    classes in ``dual_coef`` rows (class b's at row b − 1 for a < b, at row b for a > b)."""
    starts = np.concatenate([[0], np.cumsum(n_support)])
    rows = []
    for a in range(len(n_support)):
        sv_a = support_vectors[starts[a]:starts[a + 1]]
        for b in range(a + 1, len(n_support)):
            sv_b = support_vectors[starts[b]:starts[b + 1]]
            rows.append(dual_coef[b - 1, starts[a]:starts[a + 1]] @ sv_a + dual_coef[a, starts[b]:starts[b + 1]] @ sv_b)
    return np.asarray(rows).reshape(-1, support_vectors.shape[1])


class LinearSVM(EstimatorModel):
    """A linear-kernel support vector machine on utterance-level features (the
    classic functionals baseline of the INTERSPEECH challenges, e.g. Schuller et
    al., "The INTERSPEECH 2009 Emotion Challenge"), fitted by libsvm (one-vs-one)
    and kept as plain arrays: one weight vector and bias per pair of classes,
    combined by libsvm's votes and bounded summed confidences.  Inputs are
    expected to be z-scored by the engine; outputs are these vote scores, not
    probabilities.

    Default ``C``: with z-scored ComParE 2016 functionals (6373) on EmoDB under
    leave-one-speaker-out, every C from 1e-3 to 1 gives the same (separable,
    hard-margin) solution, UA 75.8 % on the 2-s EmoDB copy; smaller C lowers UA."""

    name = "linear_svm"
    summary = "linear support vector machine on utterance-level features"

    def __init__(self, inputs: dict[str, FeatureInfo], labels: LabelSpace, C: float = 0.001,
                 balanced: bool = True, target: Optional[str] = None) -> None:
        frame = [k for k, info in inputs.items() if info.level != "utterance"]
        if frame:
            raise ValueError(f"linear_svm needs utterance-level features (functionals), but {frame} are frame-level")
        if C <= 0:
            raise ValueError(f"C must be positive, got {C}")
        head = target_head(labels, target, self.name)
        if head.kind != "classification":
            raise ValueError(f"linear_svm classifies; {head.name!r} is a dimension (use a regression model)")
        self.heads = [head]
        self.C, self.balanced = C, balanced
        self.pairs: Optional[np.ndarray] = None
        self.coef: Optional[np.ndarray] = None
        self.intercept: Optional[np.ndarray] = None

    def fit(self, x: np.ndarray, targets: dict[str, np.ndarray]) -> None:
        """libsvm on the Gram matrix x·xᵀ (the linear kernel, precomputed once: several
        times faster than letting libsvm evaluate it), then each pair's weight vector
        from its support vectors' dual coefficients."""
        from sklearn.svm import SVC

        x = np.asarray(x, dtype=np.float64)
        svm = SVC(kernel="precomputed", C=self.C, class_weight="balanced" if self.balanced else None)
        svm.fit(x @ x.T, np.asarray(targets[self.heads[0].name], dtype=int))
        classes = svm.classes_
        self.pairs = np.asarray([(classes[a], classes[b]) for a in range(len(classes))
                                 for b in range(a + 1, len(classes))], dtype=np.int64).reshape(-1, 2)
        # libsvm's pair decision is positive for the pair's first class (scikit-learn flips it
        # for two classes); stored positive for the second
        sign = 1.0 if len(classes) == 2 else -1.0
        self.coef = sign * pair_weights(svm.dual_coef_, svm.n_support_, x[svm.support_])
        self.intercept = sign * np.asarray(svm.intercept_, dtype=np.float64)

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
        absent = np.setdiff1d(np.arange(n_classes), self.pairs)
        scores[:, absent] = scores.min(axis=1, keepdims=True) - 1.0  # classes absent from training never win
        return {self.heads[0].name: scores}

    def state(self) -> dict[str, np.ndarray]:
        if self.coef is None:
            raise RuntimeError("linear_svm must be fitted before it is saved")
        return {"pairs": self.pairs, "coef": self.coef, "intercept": self.intercept}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        self.pairs, self.coef, self.intercept = (np.asarray(state[k]) for k in ("pairs", "coef", "intercept"))


COMPONENTS = [MLP, LinearSVM, BLSTM]

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


class LinearSVM(EstimatorModel):
    """A linear-kernel support vector machine on utterance-level features (the
    classic functionals baseline of the INTERSPEECH challenges, e.g. Schuller et
    al., "The INTERSPEECH 2009 Emotion Challenge"). Inputs are expected to be
    z-scored by the engine; outputs are one-vs-rest decision scores.

    Default ``C``: with z-scored ComParE 2016 functionals (6373) on EmoDB
    under leave-one-speaker-out, every C from 1e-3 to 1 gives the same
    (separable, hard-margin) solution, UA 75.1 % on the 2-s EmoDB test copy;
    smaller C lowers UA (70.9 % at 1e-4)."""

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
        self._svm = None

    def fit(self, x: np.ndarray, targets: dict[str, np.ndarray]) -> None:
        from sklearn.svm import SVC

        self._svm = SVC(kernel="linear", C=self.C, class_weight="balanced" if self.balanced else None)
        self._svm.fit(x, np.asarray(targets[self.heads[0].name], dtype=int))

    def predict(self, x: np.ndarray) -> dict[str, np.ndarray]:
        if self._svm is None:
            raise RuntimeError("linear_svm must be fitted before predict")
        scores = self._svm.decision_function(x)
        if scores.ndim == 1:
            scores = np.stack([-scores, scores], axis=1)
        head = self.heads[0]
        out = np.full((len(x), len(head.classes)), scores.min() - 1.0)
        out[:, self._svm.classes_] = scores
        return {head.name: out}


COMPONENTS = [MLP, LinearSVM, BLSTM]

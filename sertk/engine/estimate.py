"""Fitting and predicting with one-call estimator models on in-memory arrays (no torch,
so a run of such a model never imports it)."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..errors import SertkError
from ..estimator import EstimatorModel
from ..progress import Progress
from .outcomes import History, Predictions


def stack_inputs(arrays: dict[str, list[np.ndarray]]) -> np.ndarray:
    """(N, D) float32: each segment's utterance-level inputs concatenated in input order."""
    for key, rows in arrays.items():
        if rows and np.ndim(rows[0]) != 1:
            raise SertkError(f"estimator models need utterance-level features, but feature '{key}' is frame-level "
                             f"(shape {np.shape(rows[0])}); use functionals or a network model")
    columns = [np.asarray(rows, dtype=np.float32).reshape(len(rows), -1) for rows in arrays.values()]
    return np.concatenate(columns, axis=1)


def stacked_targets(model: EstimatorModel, targets: dict[str, list[Any]]) -> dict[str, np.ndarray]:
    """The part's encoded targets of the model's heads, as arrays."""
    return {h.name: np.asarray(targets[h.name]) for h in model.heads if h.name in targets}


def fit_estimator(model: EstimatorModel, arrays: dict[str, list[np.ndarray]], targets: dict[str, list[Any]],
                  progress: Progress, description: str) -> History:
    """Fit ``model`` in one call on the stacked inputs."""
    with progress.task(description, total=1) as task:
        model.fit(stack_inputs(arrays), stacked_targets(model, targets))
        task.advance()
    return History(best_epoch=None)


def predict_estimator(model: EstimatorModel, ids: Sequence[str], arrays: dict[str, list[np.ndarray]],
                      targets: dict[str, list[Any]]) -> Predictions:
    """The model's scores per head, in segment order, with the part's targets."""
    if not ids:
        raise SertkError("nothing to predict: the part is empty")
    outputs = model.predict(stack_inputs(arrays))
    return Predictions(list(ids), {h.name: np.asarray(outputs[h.name]) for h in model.heads},
                       stacked_targets(model, targets))

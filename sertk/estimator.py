"""The interface of models fitted in one call (no torch: a run of such a model never imports it)."""
from __future__ import annotations

import abc

import numpy as np

from .interfaces import Component, Head


class EstimatorModel(Component, abc.ABC):
    """A model fitted in one call (e.g. a linear SVM) rather than by gradient steps.

    Works on utterance-level features concatenated in the order of ``inputs``.
    """

    heads: list[Head]

    @abc.abstractmethod
    def fit(self, x: np.ndarray, targets: dict[str, np.ndarray]) -> None:
        """Fit on (N, D) features and encoded targets per head."""

    @abc.abstractmethod
    def predict(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """(N, C) class scores (or probabilities) for classification heads, (N,) for regression."""

    @abc.abstractmethod
    def state(self) -> dict[str, np.ndarray]:
        """The fitted parameters as named numeric arrays; a run saves them with
        numpy (never as a pickle, which could run code when loaded)."""

    @abc.abstractmethod
    def load_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore the parameters returned by :meth:`state` into a model built
        with the same recipe params."""

"""Built-in training strategies."""
from __future__ import annotations

from ..interfaces import Strategy


class Supervised(Strategy):
    """Plain supervised training: one fresh model fitted on the fold's labelled
    training part, selected on its validation part (the default)."""

    name = "supervised"
    summary = "train on the labelled training part (default)"

    def fit(self, session):
        model = session.new_model()
        session.fit(model)
        return model

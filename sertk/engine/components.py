"""Recipe components of a run built from the registry: the model, its losses
and the metric that selects epochs."""
from __future__ import annotations

from typing import Any, Sequence

from ..errors import ConfigError
from ..interfaces import FeatureInfo, Head, LabelSpace
from ..recipe import Recipe
from ..registry import Registry

DEFAULT_LOSS = {"classification": "cross_entropy", "regression": "ccc", "sequence": "ctc"}


def build_model(recipe: Recipe, registry: Registry, inputs: dict[str, FeatureInfo], labels: LabelSpace, seed: int):
    """A fresh model for the given input streams and label space, seeded (after its
    module is imported, so that a torch model's torch is seeded too)."""
    from .seeding import seed_everything

    registry.entry("models", recipe.model.get("name"), "model.name").cls  # imports its module
    seed_everything(seed)
    return registry.build("models", recipe.model, "model", inputs=inputs, labels=labels)


def build_losses(recipe: Recipe, registry: Registry, heads: Sequence[Head]) -> dict[str, Any]:
    """One loss per head: the recipe's ``loss`` for the heads it can train, else the
    default for the head's kind (cross-entropy, CCC, CTC)."""
    losses = {}
    for head in heads:
        loss = registry.build("losses", recipe.loss, "loss") if recipe.loss else None
        if loss is None or head.kind not in loss.kinds:
            if loss is not None and len({h.kind for h in heads}) == 1:
                raise ConfigError("loss.name", f"'{loss.name}' cannot train {head.kind} head '{head.name}'; "
                                               f"choose a loss for {head.kind}")
            loss = registry.build("losses", {"name": DEFAULT_LOSS[head.kind], "params": {}}, "loss")
        losses[head.name] = loss
    return losses


def selection_metric(recipe: Recipe, heads: Sequence[Head], metrics_by_kind: dict[str, list]):
    """The metric early stopping (and tuning) follows: ``train.early_stopping.metric``,
    else the recipe's first metric that applies to one of the heads."""
    name = recipe.train.early_stopping.metric
    kinds = {h.kind for h in heads}
    candidates = [m for ms in metrics_by_kind.values() for m in ms if m.kind in kinds]
    for m in candidates:
        if name is None or m.name == name:
            return m
    raise ConfigError("train.early_stopping.metric" if name else "metrics",
                      f"'{name}' does not apply to this model's {'/'.join(sorted(kinds))} heads" if name else
                      f"no metric applies to this model's {'/'.join(sorted(kinds))} heads; add one")


"""Every component of a recipe built once before long work, so that a bad value
(``C: -1``, ``hidden: [0]``, an unknown target) fails in seconds with one line,
not after the whole feature extraction."""
from __future__ import annotations

from typing import Sequence

from ..errors import SertkError
from ..estimator import EstimatorModel
from ..interfaces import Feature, Utterance
from ..progress import Silent
from ..recipe import Recipe, component_specs
from ..registry import Registry
from .components import build_losses, build_model
from .experiment import build_features, label_space, prepare_data

PROBES = 5
STANDALONE = ("protocols", "strategies", "augmentations", "metrics", "analyzers")  # built without data


def preflight(recipe: Recipe, registry: Registry, utterances: Sequence[Utterance]) -> list[tuple[str, Feature]]:
    """Build the recipe's features, protocol, strategy, augmentations, metrics and analyzers,
    and its model and losses on the features of the first usable utterance; returns the
    built features for the extraction to reuse."""
    for kind, spec, key in component_specs(recipe):
        if kind in STANDALONE:
            registry.build(kind, spec, key)
    features = build_features(recipe, registry)
    for utterance in utterances[:PROBES]:
        try:
            sample = prepare_data(recipe, registry, Silent(), [utterance], features)
        except SertkError:  # a bad first recording is reported (or stops the run) during extraction
            continue
        model = build_model(recipe, registry, sample.info, label_space(utterances, recipe.data.target),
                            recipe.train.seed)
        if not isinstance(model, EstimatorModel):  # an estimator takes no loss
            build_losses(recipe, registry, model.heads)
        break
    return features

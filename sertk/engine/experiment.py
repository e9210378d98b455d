"""Turn a recipe's corpus and feature sections into extracted, labelled segments."""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence


from ..data.cache import FeatureCache
from ..data.extract import Extracted, extract_features, skipped_report
from ..data.targets import has_target, maskable, sequence_vocabularies
from ..errors import SertkError
from ..interfaces import Deferred, Feature, FeatureInfo, Head, LabelSpace, Utterance
from ..progress import Progress, Silent
from ..recipe import Recipe
from ..registry import Registry


@dataclass
class Data:
    """The utterances of a run with their features, one array per segment."""

    utterances: list[Utterance]
    extracted: Extracted
    labels: LabelSpace
    normalize: dict[str, str]
    features: list[tuple[str, Feature]]
    sample_rate: int

    @property
    def info(self) -> dict[str, FeatureInfo]:
        return self.extracted.info

    def segments_of(self, utt_indices: Sequence[int]) -> list[int]:
        """Segment indices belonging to the given utterances, in order."""
        wanted = set(utt_indices)
        return [i for i, s in enumerate(self.extracted.segments) if s.utt_index in wanted]


def default_cache_dir() -> Path:
    """``$SERTK_CACHE`` or ``~/.cache/sertk``."""
    return Path(os.environ.get("SERTK_CACHE") or Path.home() / ".cache" / "sertk")


def load_utterances(recipe: Recipe, registry: Registry, progress: Progress = Silent()) -> list[Utterance]:
    """Every corpus of the recipe, harmonised to its label set when one is asked for."""
    from ..labels import harmonise

    utterances: list[Utterance] = []
    several = len(recipe.corpus) > 1
    for i, spec in enumerate(recipe.corpus):
        corpus = registry.build("corpora", spec, f"corpus.{i}" if several else "corpus")
        found = corpus.utterances()
        for u in found:
            u.corpus = u.corpus or corpus.name
            if several:  # keep speakers and ids of different corpora apart
                u.speaker, u.id = f"{u.corpus}/{u.speaker}", f"{u.corpus}/{u.id}"
        if corpus.report:
            progress.log(corpus.report)
        if recipe.data.label_set is not None:
            found = harmonise(found, corpus.vocabulary, recipe.data.label_set)
        if recipe.data.max_seconds is not None:
            found = short_enough(found, recipe.data.max_seconds, progress)
        utterances.extend(found)
    if not utterances:
        raise SertkError("the recipe's corpus yields no utterances (after label filtering); check corpus params "
                         "and data.label_set")
    return utterances


def short_enough(utterances: list[Utterance], max_seconds: float, progress: Progress = Silent()) -> list[Utterance]:
    """The utterances no longer than ``max_seconds`` (``data.max_seconds``); the others are counted in the log."""
    from ..audio import duration

    kept = [u for u in utterances if duration(u) <= max_seconds]
    if len(kept) < len(utterances):
        progress.log(f"{len(utterances) - len(kept)} recordings longer than {max_seconds:g} s left out "
                     f"(data.max_seconds)")
    return kept


def label_space(utterances: Sequence[Utterance], default_target: Optional[str] = None) -> LabelSpace:
    """Categorical classes (sorted), numeric dimensions, contours and token
    vocabularies found in the utterances; ``default_target`` is ``data.target``."""
    categorical: dict[str, set] = {}
    numeric: set[str] = set()
    contours: set[str] = set()
    for u in utterances:
        for k, v in u.labels.items():
            if isinstance(v, str):
                categorical.setdefault(k, set()).add(v)
            elif v is not None:
                numeric.add(k)
        contours.update(u.contours)
    return LabelSpace({k: tuple(sorted(v)) for k, v in sorted(categorical.items())},
                      tuple(sorted(numeric)), tuple(sorted(contours)),
                      Deferred(lambda: sequence_vocabularies(utterances)),  # reading them parses every timing file
                      default_target)


def feature_cache(recipe: Recipe) -> FeatureCache:
    """The recipe's feature cache (``data.cache_dir``, else the default; disabled by ``data.cache: false``)."""
    return FeatureCache(Path(recipe.data.cache_dir) if recipe.data.cache_dir else default_cache_dir() / "features"
                        if recipe.data.cache else None)


def build_features(recipe: Recipe, registry: Registry) -> list[tuple[str, Feature]]:
    """The recipe's features, built, with the input key each fills."""
    return [(spec.input_key, registry.build("features", {"name": spec.name, "params": spec.params}, f"features.{i}"))
            for i, spec in enumerate(recipe.features)]


def prepare_data(recipe: Recipe, registry: Registry, progress: Progress = Silent(),
                 utterances: Optional[list[Utterance]] = None,
                 features: Optional[list[tuple[str, Feature]]] = None) -> Data:
    """Load corpora (unless given), extract every feature (cached) and collect the label space;
    ``features`` are the recipe's features when already built (:func:`build_features`)."""
    if utterances is None:
        utterances = load_utterances(recipe, registry, progress)
    features = features if features is not None else build_features(recipe, registry)
    normalize = {key: spec.normalize or feature.normalize for spec, (key, feature) in zip(recipe.features, features)}
    extracted = extract_features(utterances, features, recipe.data.sample_rate, recipe.data.segment,
                                 feature_cache(recipe), workers=recipe.data.workers, progress=progress,
                                 bad_audio=recipe.data.bad_audio)
    for line in skipped_report(extracted.skipped):
        progress.log(line)
    utterances = [utterances[i] for i in extracted.kept]
    if not utterances:
        raise SertkError("no usable audio: every recording was skipped (see the lines above)")
    return Data(utterances, extracted, label_space(utterances, recipe.data.target), normalize, features,
                recipe.data.sample_rate)


def usable(utterances: Sequence[Utterance], heads: Sequence[Head], missing: str = "drop") -> list[int]:
    """Indices of the utterances a model can be trained and scored on (``data.missing_labels``):
    with ``drop``, those that carry a target for every head; with ``mask``, those that carry at
    least one head's target (and every sequence head's, see :func:`~sertk.data.targets.maskable`)."""
    if missing == "drop":
        return [i for i, u in enumerate(utterances) if all(has_target(u, h) for h in heads)]
    return [i for i, u in enumerate(utterances) if any(has_target(u, h) for h in heads)
            and all(has_target(u, h) for h in heads if not maskable(h))]


def label_counts(utterances: Sequence[Utterance], heads: Sequence[Head]) -> dict[str, int]:
    """How many of the utterances carry each head's target."""
    return {h.name: sum(has_target(u, h) for u in utterances) for h in heads}


def expected_counts(expect: dict[str, int], found: dict[str, int]) -> dict[str, dict]:
    """Each count a recipe expects (``data.expect``) next to the one found, and whether it held."""
    return {k: {"expected": n, "found": found[k], "held": found[k] == n} for k, n in expect.items()}


def class_counts(utterances: Sequence[Utterance], head: Head) -> dict[str, int]:
    """Utterances per class of a classification head."""
    counts = Counter(head.classes[head.encode(u.labels[head.label_key])] for u in utterances
                     if head.label_key in u.labels)
    return {c: counts.get(c, 0) for c in head.classes}

"""One fold's training session: what a :class:`sertk.Strategy` works with.

A :class:`FitSession` holds the fold's labelled training part, its validation
part and the unlabelled audio a strategy may use (utterances without labels
for the model's heads, never of a test speaker), and offers fresh models,
fitting and prediction with the recipe's settings: per-fold normalisation,
on-the-fly augmentation of training audio, SortaGrad, transfer learning.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

import numpy as np

from ..data.extract import segment_context
from ..data.segment import cut
from ..data.normalize import Normalizer
from ..data.targets import FrameTarget, maskable, present, segment_target
from ..interfaces import Fold, Head
from ..estimator import EstimatorModel
from ..progress import Progress
from ..recipe import Recipe
from ..registry import Registry
from ..settings import TrainConfig
from .components import build_losses, build_model, selection_metric
from .experiment import Data, label_counts, usable
from .estimate import fit_estimator, predict_estimator
from .outcomes import History, Predictions
from .scoring import score_predictions


@dataclass
class Part:
    """Segments of a fold part (indices into the run's extracted segments) and their
    encoded targets per head; unlabelled parts have no targets."""

    segments: list[int]
    targets: dict[str, list[Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.segments)

    def subset(self, positions: Sequence[int]) -> "Part":
        """The segments at ``positions`` of this part."""
        return Part([self.segments[i] for i in positions], {h: [v[i] for i in positions]
                                                            for h, v in self.targets.items()})

    def labelled(self, targets: dict[str, list[Any]]) -> "Part":
        """The same segments with the given targets (e.g. pseudo-labels)."""
        return Part(list(self.segments), targets)

    def __add__(self, other: "Part") -> "Part":
        heads = self.targets.keys() & other.targets.keys()
        return Part(self.segments + other.segments, {h: self.targets[h] + other.targets[h] for h in heads})


def encode_part(data: Data, segments: Sequence[int], heads: Sequence[Head]) -> Part:
    """A part with every head's target for each segment."""
    targets: dict[str, list] = {h.name: [] for h in heads}
    for s in segments:
        seg = data.extracted.segments[s]
        utt = data.utterances[seg.utt_index]
        for h in heads:
            targets[h.name].append(segment_target(utt, h, seg.start_s, seg.end_s))
    return Part(list(segments), targets)


def unlabelled_utterances(data: Data, heads: Sequence[Head], fold: Fold, missing: str = "drop") -> list[int]:
    """Utterances without targets for the heads (``missing``: ``data.missing_labels``), of
    speakers outside the fold's test part."""
    labelled = set(usable(data.utterances, heads, missing))
    test_speakers = {data.utterances[i].speaker for i in fold.test}
    return [i for i, u in enumerate(data.utterances) if i not in labelled and u.speaker not in test_speakers]


class FitSession:
    """A fold's parts, models and training under the recipe's settings."""

    def __init__(self, recipe: Recipe, registry: Registry, data: Data, fold: Fold, heads: Sequence[Head],
                 metrics_by_kind: dict[str, list], progress: Progress, train: Optional[TrainConfig] = None):
        self.recipe, self.registry, self.data, self.fold = recipe, registry, data, fold
        self.heads = list(heads)
        self.config = train or recipe.train
        self.progress = progress
        self.train = encode_part(data, data.segments_of(fold.train), heads)
        self.validation = encode_part(data, data.segments_of(fold.validation), heads)
        self.test = encode_part(data, data.segments_of(fold.test), heads)
        self.masked = recipe.data.missing_labels == "mask"
        self.unlabelled = Part(data.segments_of(unlabelled_utterances(data, heads, fold, recipe.data.missing_labels)))
        if self.masked:
            progress.log(f"fold {fold.name}, utterances labelled per head (data.missing_labels: mask): " + "; ".join(
                f"{h}: " + ", ".join(f"{part} {n[h]}/{len(ids)}" for part, ids, n in self._label_counts(fold))
                for h in (h.name for h in self.heads)))
        self.speakers = [data.utterances[s.utt_index].speaker for s in data.extracted.segments]
        self.normalizer = Normalizer(data.normalize)
        self.normalizer.fit(self._raw(self.train.segments))
        self.metric = selection_metric(recipe, heads, metrics_by_kind)
        self._trainer = None
        self.augmentations = [registry.build("augmentations", spec, f"augment.{i}")
                              for i, spec in enumerate(recipe.augment)]
        self.history: Optional[History] = None
        self.signals: dict[int, np.ndarray] = {}

    @property
    def trainer(self):
        """The :class:`~sertk.engine.trainer.Trainer` of network models (built, and torch
        imported, on first use)."""
        if self._trainer is None:
            from .trainer import Trainer

            self._trainer = Trainer(self.config, self.progress)
        return self._trainer

    # ------------------------------------------------------------ models
    def new_model(self):
        """A fresh model seeded with the session's seed, pretrained weights loaded."""
        model = build_model(self.recipe, self.registry, self.data.info, self.data.labels, self.config.seed)
        if self.config.pretrained:
            from .transfer import load_pretrained

            load_pretrained(model, self.config.pretrained, self.fold.name)
        return model

    def losses(self) -> dict[str, Any]:
        """A fresh loss per head (with ``data.missing_labels: mask``, over the segments that
        carry the head's label)."""
        from .trainer import SkipMissing

        losses = build_losses(self.recipe, self.registry, self.heads)
        return {h: SkipMissing(loss) for h, loss in losses.items()} if self.masked else losses

    def _label_counts(self, fold: Fold) -> list[tuple[str, list[int], dict[str, int]]]:
        """Per fold part: its utterances and how many carry each head's label."""
        return [(part, ids, label_counts([self.data.utterances[i] for i in ids], self.heads))
                for part, ids in (("train", fold.train), ("validation", fold.validation), ("test", fold.test))]

    # ------------------------------------------------------------ data
    def _raw(self, segments: Sequence[int]) -> dict[str, list[np.ndarray]]:
        return {k: [v[i] for i in segments] for k, v in self.data.extracted.arrays.items()}

    def arrays(self, part: Part) -> dict[str, list[np.ndarray]]:
        """The part's feature arrays, normalised as the fold's model sees them."""
        return self.normalizer.transform(self._raw(part.segments), speakers=[self.speakers[i] for i in part.segments])

    def durations(self, part: Part) -> list[float]:
        segs = self.data.extracted.segments
        return [segs[i].end_s - segs[i].start_s for i in part.segments]

    def dataset(self, part: Part):
        """A part's normalised arrays, targets (when it has them) and durations."""
        from ..data.batching import SegmentDataset

        ids = [self.data.extracted.segments[i].id for i in part.segments]
        return SegmentDataset(ids, self.arrays(part), part.targets, self.durations(part))

    def loader(self, part: Part, shuffle: bool = False):
        """Batches of a part."""
        from ..data.batching import make_loader

        return make_loader(self.dataset(part), self.config.batch_size, shuffle, self.config.seed)

    def training_loader(self, part: Part):
        """The training batches: shuffled, the first epoch by duration with SortaGrad,
        and augmented afresh each epoch when the recipe has ``augment``."""
        if not self.augmentations and not self.config.sortagrad:
            return self.loader(part, shuffle=True)
        from ..data.batching import EpochLoader, make_loader

        plain = None if self.augmentations else self.dataset(part)
        order = list(np.argsort(self.durations(part), kind="stable"))

        def epoch_loader(epoch: int):
            dataset = plain if plain is not None else AugmentedSegments(self, part, epoch)
            if epoch == 1 and self.config.sortagrad:
                return make_loader(_Ordered(dataset, order), self.config.batch_size, False, self.config.seed)
            return make_loader(dataset, self.config.batch_size, True, self.config.seed + epoch)
        return EpochLoader(epoch_loader)

    # ------------------------------------------------------------ training
    def fit(self, model, train: Optional[Part] = None, validation: Optional[Part] = None,
            description: Optional[str] = None) -> History:
        """Train ``model`` on ``train`` (default: the fold's training part), selecting on
        ``validation`` (default: the fold's validation part; an empty part: none)."""
        train = self.train if train is None else train
        validation = self.validation if validation is None else validation
        description = description or f"Fold {self.fold.name}"
        if isinstance(model, EstimatorModel):
            self.history = fit_estimator(model, self.arrays(train), train.targets, self.progress, description)
            return self.history
        val_loader = self.loader(validation) if len(validation) else None
        train_targets = {h.name: _labelled(h, np.concatenate([np.atleast_1d(_flat(v)) for v in train.targets[h.name]]))
                         for h in self.heads if h.name in train.targets}
        self.history = self.trainer.fit(
            model, self.losses(), self.training_loader(train), val_loader, select=self.select,
            greater_is_better=self.metric.greater_is_better, description=description, train_targets=train_targets)
        return self.history

    def select(self, predictions: Predictions) -> float:
        """The selection metric, averaged over the heads it applies to."""
        heads = [h for h in self.heads if h.kind == self.metric.kind]
        scores = [s[self.metric.name] for s in score_predictions(predictions, heads, [self.metric]).values()]
        if self.masked:  # a head without validation labels scores NaN
            scores = [v for v in scores if np.isfinite(v)] or [float("nan")]
        return float(np.mean(scores))

    def predict(self, model, part: Part) -> Predictions:
        """Outputs of ``model`` on a part (with its targets, when it has them)."""
        if isinstance(model, EstimatorModel):
            ids = [self.data.extracted.segments[i].id for i in part.segments]
            return predict_estimator(model, ids, self.arrays(part), part.targets)
        return self.trainer.predict(model, self.loader(part))


def _flat(value: Any) -> Any:
    return value.values if isinstance(value, FrameTarget) else value


def _labelled(head: Head, targets: np.ndarray) -> np.ndarray:
    """The 1-D training targets of a head that carry its label."""
    return targets[present(head, targets)] if maskable(head) else targets


class _Ordered:
    """A dataset's items in a fixed order (SortaGrad's first epoch)."""

    def __init__(self, dataset, order: Sequence[int]):
        self.dataset, self.order = dataset, list(order)

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, i: int):
        return self.dataset[self.order[i]]


class AugmentedSegments:
    """Training segments re-extracted from augmented audio, one draw per epoch and
    segment (seeded by the run seed, epoch and segment), then normalised."""

    def __init__(self, session: FitSession, part: Part, epoch: int):
        self.session, self.part, self.epoch = session, part, epoch

    def __len__(self) -> int:
        return len(self.part)

    def __getitem__(self, i: int):
        from ..audio import utterance_signal

        s = self.session
        index = self.part.segments[i]
        seg = s.data.extracted.segments[index]
        utt = s.data.utterances[seg.utt_index]
        rate = s.data.sample_rate
        if seg.utt_index not in s.signals:
            s.signals[seg.utt_index] = utterance_signal(utt, rate)
        start = int(round(seg.start_s * rate))
        signal = s.signals[seg.utt_index][start:start + int(round((seg.end_s - seg.start_s) * rate))]
        length = len(signal)
        rng = np.random.default_rng([s.config.seed, self.epoch, index])
        for augmentation in s.augmentations:
            signal = np.asarray(augmentation(signal, rate, rng), dtype=np.float32)
        stretch = len(signal) / max(length, 1)
        policy = s.recipe.data.segment
        if policy.policy != "whole":  # fixed-length windows stay fixed: cut or zero-pad
            signal = cut(signal, [(0, int(round(policy.seconds * rate)))])[0]
        context = segment_context(utt, seg.start_s, seg.end_s)
        arrays = {key: [np.asarray(f.extract(signal, rate, context), dtype=np.float32)] for key, f in s.data.features}
        arrays = s.normalizer.transform(arrays, speakers=[utt.speaker])
        targets = {h: (v[i].stretched(stretch) if isinstance(v[i], FrameTarget) else v[i])
                   for h, v in self.part.targets.items()}
        return seg.id, {k: v[0] for k, v in arrays.items()}, targets, min(length * stretch, len(signal)) / rate



"""The abstract component interfaces every plugin implements.

Each component class carries its registry ``name`` and a one-line ``summary``;
its constructor parameters are its recipe ``params``.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, ClassVar, Optional, Sequence

import numpy as np


class Component:
    """Base of every registered component: a name and a one-line summary."""

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""

    @classmethod
    def describe(cls) -> str:
        """The summary, falling back to the first docstring line."""
        if cls.summary:
            return cls.summary
        doc = (cls.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""


# ----------------------------------------------------------------- data records
@dataclass
class Contour:
    """A time-continuous label: values at frame times (seconds)."""

    times: np.ndarray
    values: np.ndarray


@dataclass
class Word:
    """One word of a transcript with its timing in seconds."""

    start: float
    end: float
    text: str


@dataclass
class Utterance:
    """One utterance of a corpus.

    ``labels`` holds categorical labels (str, e.g. ``{"emotion": "anger"}``) and
    dimensional values (float, e.g. ``{"arousal": 3.5}``) under one key each;
    ``contours`` holds time-continuous labels.  Either ``path`` or ``audio``
    (mono float32 with ``sample_rate``) gives the signal.
    """

    id: str
    speaker: str
    path: Optional[str] = None
    audio: Optional[np.ndarray] = None
    sample_rate: Optional[int] = None
    group: Optional[str] = None
    partition: Optional[str] = None
    corpus: str = ""
    labels: dict[str, Any] = field(default_factory=dict)
    contours: dict[str, Contour] = field(default_factory=dict)
    transcript: Optional[str] = None
    words: list[Word] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Head:
    """One output of a model.

    ``kind`` is ``"classification"`` (over ``classes``) or ``"regression"``;
    ``level`` is ``"utterance"`` or ``"frame"``; ``target`` is the label key it
    predicts (defaults to the head name).  A classification head on a numeric
    label maps the value to the class named by its rounded integer (e.g. the
    1–5 ratings of one IEMOCAP evaluator become classes "1".."5").
    """

    name: str
    kind: str = "classification"
    classes: tuple[str, ...] = ()
    level: str = "utterance"
    target: Optional[str] = None

    @property
    def label_key(self) -> str:
        return self.target or self.name

    def encode(self, value: Any) -> Any:
        """Turn a label value into the training target (class index or float)."""
        if self.kind == "regression":
            return float(value)
        key = value if isinstance(value, str) else str(int(round(float(value))))
        try:
            return self.classes.index(key)
        except ValueError:
            raise ValueError(f"label {value!r} is not one of head {self.name!r} classes {list(self.classes)}") from None


@dataclass(frozen=True)
class LabelSpace:
    """What the (filtered) corpus offers to predict: categorical classes per key,
    numeric dimensions and time-continuous contours."""

    classes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    dimensions: tuple[str, ...] = ()
    contours: tuple[str, ...] = ()

    def head_for(self, target: str, level: str = "utterance") -> Head:
        """The natural head for a label key: classification for categorical
        labels, regression for dimensions and contours."""
        if target in self.classes:
            return Head(target, "classification", self.classes[target], level)
        if target in self.dimensions:
            return Head(target, "regression", (), level)
        if target in self.contours:
            return Head(target, "regression", (), "frame")
        known = sorted([*self.classes, *self.dimensions, *self.contours])
        raise ValueError(f"target {target!r} is not a label of this corpus; it has {known}")


@dataclass(frozen=True)
class FeatureInfo:
    """Shape facts about one extracted feature stream, given to models.

    ``level`` is ``"frame"`` (arrays of shape (frames, dim)) or ``"utterance"``
    (arrays of shape (dim,)); ``frame_rate`` is frames per second for frame level.
    """

    key: str
    dim: int
    level: str
    frame_rate: Optional[float] = None


# ----------------------------------------------------------------- components
class Corpus(Component, abc.ABC):
    """A speech corpus: yields utterance records.

    ``vocabulary`` maps the corpus's native categorical labels onto sertk's
    shared emotion vocabulary (see ``sertk.labels``) for cross-corpus work.
    """

    vocabulary: ClassVar[dict[str, str]] = {}

    @abc.abstractmethod
    def utterances(self) -> list[Utterance]:
        """All usable utterances, after the corpus's own filtering options."""


class Feature(Component, abc.ABC):
    """Maps a mono float32 signal to a feature array.

    ``level = "frame"`` returns (frames, dim); ``"utterance"`` returns (dim,).
    ``normalize`` is the default normalisation the engine applies per fold
    (``"standard"`` z-scores with training statistics, ``"none"`` leaves it).
    """

    level: ClassVar[str] = "frame"
    normalize: ClassVar[str] = "standard"

    @abc.abstractmethod
    def __call__(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        """Extract from one segment."""

    def frame_rate(self, sample_rate: int) -> Optional[float]:
        """Frames per second of the output (frame-level features)."""
        return None

    def cache_params(self) -> dict[str, Any]:
        """Everything that changes the output, for the cache key."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}


class Loss(Component, abc.ABC):
    """A training objective for one head: ``loss(output, target, mask=None)``."""

    kinds: ClassVar[tuple[str, ...]] = ("classification", "regression")

    @abc.abstractmethod
    def __call__(self, output, target, mask=None):
        """Scalar loss tensor. ``mask`` (B, T) marks valid frames for frame-level heads."""


class Metric(Component, abc.ABC):
    """A score over pooled predictions of one head.

    ``kind`` is the head kind it applies to; ``greater_is_better`` orients
    early stopping and tuning.
    """

    kind: ClassVar[str] = "classification"
    greater_is_better: ClassVar[bool] = True

    @abc.abstractmethod
    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[str] = ()) -> float:
        """Class indices for classification, floats for regression."""


class Analyzer(Component, abc.ABC):
    """Inspects a trained run and writes its findings into the run directory."""

    @abc.abstractmethod
    def analyze(self, run) -> dict[str, Any]:
        """``run`` is a :class:`sertk.engine.run.TrainedRun`; returns a summary dict."""


class Protocol(Component, abc.ABC):
    """Splits utterances into folds of (train, validation, test) index lists."""

    speaker_independent: ClassVar[bool] = False

    @abc.abstractmethod
    def folds(self, utterances: Sequence[Utterance]) -> list["Fold"]:
        """The folds; validation may be empty (the engine then applies the
        recipe's inner validation policy)."""


@dataclass
class Fold:
    """Indices into the utterance list for one fold."""

    name: str
    train: list[int]
    test: list[int]
    validation: list[int] = field(default_factory=list)

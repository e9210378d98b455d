"""The abstract component interfaces every plugin implements.

Each component class carries its registry ``name`` and a one-line ``summary``;
its constructor parameters are its recipe ``params``.
"""
from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Optional, Sequence

if TYPE_CHECKING:
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


class _Timings:
    """An :class:`Utterance` timing field (``words``, ``alignments``) that a corpus may
    fill on first read instead of while listing (see :meth:`Utterance.defer_timings`)."""

    def __init__(self, empty: type) -> None:
        self.empty = empty

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = "_" + name

    def __get__(self, obj: Any, owner: Optional[type] = None) -> Any:
        if obj is None:
            return None  # the dataclass default, stored as an empty list / dict
        pending = obj.__dict__.pop("_pending_timings", None)
        if pending is not None:
            pending(obj)
        return obj.__dict__[self.slot]

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__[self.slot] = self.empty() if value is None else value


@dataclass
class Utterance:
    """One utterance of a corpus.

    ``labels`` holds categorical labels (str, e.g. ``{"emotion": "anger"}``) and
    dimensional values (float, e.g. ``{"arousal": 3.5}``) under one key each;
    ``contours`` holds time-continuous labels.  ``words`` are the transcript's
    words with their times; ``alignments`` holds further time-aligned unit tiers
    by name (e.g. ``{"phones": [...]}``), each a list of timed tokens.  An
    utterance without labels is kept as unlabelled audio for training
    strategies.  Either ``path`` or ``audio`` (mono float32 with
    ``sample_rate``) gives the signal.
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
    words: list[Word] = _Timings(list)
    alignments: dict[str, list[Word]] = _Timings(dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def defer_timings(self, load: Callable[["Utterance"], None]) -> None:
        """Have ``load(utterance)`` set ``words`` / ``alignments`` when either is first read
        (a corpus whose timing files are slow to parse lists its utterances without them)."""
        self.__dict__["_pending_timings"] = load

    def __getstate__(self) -> dict[str, Any]:
        _ = self.words  # a copy for another process carries its timings, not their loader
        return dict(self.__dict__)


BLANK = "<blank>"
TRANSCRIPT = "transcript"


@dataclass(frozen=True)
class Head:
    """One output of a model.

    ``kind`` is ``"classification"`` (over ``classes``), ``"regression"`` or
    ``"sequence"`` (token sequences trained with CTC: ``classes`` is the token
    vocabulary with :data:`BLANK` first, the output is (B, T, C) log-probabilities);
    ``level`` is ``"utterance"`` or ``"frame"``; ``target`` is the label key it
    predicts (defaults to the head name): a label, a contour, ``"transcript"``
    (characters) or an alignment tier (e.g. ``"phones"``).  ``rate`` is the
    frame rate (frames per second) of a frame-level output; the engine aligns
    frame outputs to the label frames by time.  A classification head on a
    numeric label maps the value to the class named by its rounded integer
    (e.g. the 1–5 ratings of one IEMOCAP evaluator become classes "1".."5").
    """

    name: str
    kind: str = "classification"
    classes: tuple[str, ...] = ()
    level: str = "utterance"
    target: Optional[str] = None
    rate: Optional[float] = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS_OF_HEAD:
            raise ValueError(f"head {self.name!r}: kind must be one of {', '.join(KINDS_OF_HEAD)}, got {self.kind!r}")
        if self.kind == "sequence" and (self.level != "frame" or not self.classes or self.classes[0] != BLANK):
            raise ValueError(f"sequence head {self.name!r} must be frame-level with {BLANK!r} as its first class")

    @property
    def label_key(self) -> str:
        return self.target or self.name

    def encode(self, value: Any) -> Any:
        """Turn a label value into the training target (class index, float, or token indices)."""
        if self.kind == "regression":
            return float(value)
        if self.kind == "sequence":
            index = {c: i for i, c in enumerate(self.classes)}
            unknown = [t for t in value if t not in index]
            if unknown:
                raise ValueError(f"tokens {unknown[:5]} are not in head {self.name!r} vocabulary")
            import numpy as np

            return np.asarray([index[t] for t in value], dtype=np.int64)
        key = value if isinstance(value, str) else str(int(round(float(value))))
        try:
            return self.classes.index(key)
        except ValueError:
            raise ValueError(f"label {value!r} is not one of head {self.name!r} classes {list(self.classes)}") from None


KINDS_OF_HEAD = ("classification", "regression", "sequence")


class Deferred(Mapping):
    """A read-only mapping computed on first use (e.g. token vocabularies, which need
    every utterance's timings)."""

    def __init__(self, compute: Callable[[], Mapping]) -> None:
        self._compute: Optional[Callable[[], Mapping]] = compute
        self._value: Mapping = {}

    @property
    def computed(self) -> bool:
        return self._compute is None

    def _mapping(self) -> Mapping:
        if self._compute is not None:
            self._value, self._compute = dict(self._compute()), None
        return self._value

    def __getitem__(self, key: str) -> Any:
        return self._mapping()[key]

    def __iter__(self):
        return iter(self._mapping())

    def __len__(self) -> int:
        return len(self._mapping())

    def __reduce__(self):  # a copy (pickle, deepcopy) is the computed plain dict
        return dict, (dict(self._mapping()),)


@dataclass(frozen=True)
class LabelSpace:
    """What the (filtered) corpus offers to predict: categorical classes per key,
    numeric dimensions, time-continuous contours and token vocabularies of
    sequence targets (``"transcript"`` characters, alignment tiers).
    ``default_target`` (the recipe's ``data.target``) is the label a model
    predicts when its recipe names none."""

    classes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    dimensions: tuple[str, ...] = ()
    contours: tuple[str, ...] = ()
    sequences: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    default_target: Optional[str] = None

    @property
    def keys(self) -> list[str]:
        """Every label key, sorted."""
        return sorted({*self.classes, *self.dimensions, *self.contours, *self.sequences})

    def has(self, key: Optional[str]) -> bool:
        """Whether ``key`` is a label (token vocabularies looked at last: they may be deferred)."""
        return key in self.classes or key in self.dimensions or key in self.contours or key in self.sequences

    def plain(self) -> dict[str, Any]:
        """The label space as plain data; vocabularies never read (no head uses them) are left out."""
        sequences = self.sequences if not isinstance(self.sequences, Deferred) or self.sequences.computed else {}
        return {"classes": {k: list(v) for k, v in self.classes.items()}, "dimensions": list(self.dimensions),
                "contours": list(self.contours), "sequences": {k: list(v) for k, v in sequences.items()},
                "default_target": self.default_target}

    def head_for(self, target: str, level: str = "utterance", name: Optional[str] = None,
                 rate: Optional[float] = None, contour: bool = False) -> Head:
        """The natural head for a label key: classification for categorical
        labels, regression for dimensions and contours (frame level, at output
        ``rate``), CTC sequence for transcripts and alignment tiers.  A key that
        is also a contour (e.g. ``arousal`` rated per utterance and over time) is
        the utterance label, or the contour with ``contour=True`` (a model with
        frame outputs)."""
        name = name or target
        given = None if name == target else target
        if target in self.contours and (contour or (target not in self.classes and target not in self.dimensions)):
            return Head(name, "regression", (), "frame", given, rate)
        if target in self.classes:
            return Head(name, "classification", self.classes[target], level, given)
        if target in self.dimensions:
            return Head(name, "regression", (), level, given)
        if target in self.sequences:
            return Head(name, "sequence", (BLANK, *self.sequences[target]), "frame", given, rate)
        raise ValueError(f"target {target!r} is not a label of this corpus; it has {self.keys}")


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

    @property
    def report(self) -> str:
        """One line on what was loaded and what looked wrong (empty when nothing to say)."""
        return ""


@dataclass(frozen=True)
class SegmentContext:
    """What a feature may read besides the signal: the utterance's transcript and
    its timed words and alignment tiers, cut to the segment ``start_s``..``end_s``
    (seconds in the utterance) with times relative to the segment start."""

    utterance_id: str
    start_s: float
    end_s: float
    transcript: Optional[str] = None
    words: tuple[Word, ...] = ()
    alignments: dict[str, tuple[Word, ...]] = field(default_factory=dict)

    def digest_fields(self, uses: Sequence[str]) -> dict[str, Any]:
        """The fields named in ``uses`` as plain data (for cache keys)."""
        plain = {"transcript": self.transcript,
                 "words": [(w.start, w.end, w.text) for w in self.words],
                 "alignments": {k: [(w.start, w.end, w.text) for w in v] for k, v in self.alignments.items()}}
        return {k: plain[k] for k in uses}


class Feature(Component, abc.ABC):
    """Maps a mono float32 signal (and, if it ``uses`` them, the transcript and
    timings of the segment) to a feature array.

    ``level = "frame"`` returns (frames, dim); ``"utterance"`` returns (dim,).
    Frame-level features may also be word sequences, (words, dim), with
    ``frame_rate`` None.  ``normalize`` is the default normalisation the engine
    applies per fold (``"standard"`` z-scores with training statistics,
    ``"none"`` leaves it).  ``uses`` names the :class:`SegmentContext` fields
    the feature reads (``"transcript"``, ``"words"``, ``"alignments"``); they
    enter the cache key.  Signal-only features implement ``__call__``; features
    that read the context implement ``extract``.
    """

    level: ClassVar[str] = "frame"
    normalize: ClassVar[str] = "standard"
    uses: ClassVar[tuple[str, ...]] = ()

    def __call__(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        """Extract from one segment's signal."""
        raise NotImplementedError(f"feature {self.name!r} implements neither __call__ nor extract")

    def extract(self, signal: np.ndarray, sample_rate: int, context: SegmentContext) -> np.ndarray:
        """Extract from one segment with its context; by default ``self(signal, sample_rate)``."""
        return self(signal, sample_rate)

    def frame_rate(self, sample_rate: int) -> Optional[float]:
        """Frames per second of the output (frame-level features; None for word sequences)."""
        return None

    def cache_params(self) -> dict[str, Any]:
        """Everything that changes the output, for the cache key."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}


class Loss(Component, abc.ABC):
    """A training objective for one head: ``loss(output, target, mask=None)``.

    ``mask`` (B, T) marks valid target frames of frame-level heads, or valid
    tokens of sequence heads (so ``mask.sum(1)`` are the target lengths).
    Losses for ``sequence`` heads also receive ``output_lengths`` (B,), the
    valid output frames.  A loss that needs training-set statistics overrides
    :meth:`prepare`.
    """

    kinds: ClassVar[tuple[str, ...]] = ("classification", "regression")

    @abc.abstractmethod
    def __call__(self, output, target, mask=None, **lengths):
        """Scalar loss tensor."""

    def prepare(self, head: Head, targets: np.ndarray) -> None:
        """Called before every fit with the head and its 1-D encoded training targets."""


class Metric(Component, abc.ABC):
    """A score over pooled predictions of one head.

    ``kind`` is the head kind it applies to; ``greater_is_better`` orients
    model selection and tuning.  Sequence metrics receive lists of token-index
    arrays (references and greedy CTC decodings).
    """

    kind: ClassVar[str] = "classification"
    greater_is_better: ClassVar[bool] = True

    @abc.abstractmethod
    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[str] = ()) -> float:
        """Class indices for classification, floats for regression, token sequences for sequence heads."""

    def chance(self, n_classes: int) -> Optional[float]:
        """The expected score of guessing uniformly among ``n_classes`` classes,
        where it has a closed form (None otherwise)."""
        return None

    def from_confusion(self, confusion: np.ndarray) -> Optional[np.ndarray]:
        """The score of each confusion matrix in a stack ``(..., C, C)`` (rows: true class),
        for a classification metric that depends on the counts only; None (the default)
        otherwise.  Bootstrap intervals use it to score all resamples at once."""
        return None


class Augmentation(Component, abc.ABC):
    """A random transformation of a training signal (noise, gain, tempo, reverberation).

    Applied on the fly to training segments only, before feature extraction,
    with a generator seeded per run, epoch and segment.  ``changes_timing`` is
    True when the output's length differs from the input's (time-aligned
    targets are then stretched with it).
    """

    changes_timing: ClassVar[bool] = False

    @abc.abstractmethod
    def __call__(self, signal: np.ndarray, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
        """The transformed mono float32 signal."""


class Strategy(Component, abc.ABC):
    """How a fold's model is trained from its labelled, validation and unlabelled
    parts (supervised by default; self-training or active learning in plugins).

    ``fit`` receives a :class:`sertk.engine.session.FitSession` and returns the
    trained model (an instance from ``session.new_model()``).  A strategy that fits on
    the test speakers' or test corpus's unlabelled features sets ``transductive = True``;
    every report then labels its runs so.
    """

    transductive: ClassVar[bool] = False

    @abc.abstractmethod
    def fit(self, session) -> Any:
        """Train and return the fold's model."""


class Analyzer(Component, abc.ABC):
    """Inspects a trained run and writes its findings into the run directory."""

    @abc.abstractmethod
    def analyze(self, run) -> dict[str, Any]:
        """``run`` is a :class:`sertk.TrainedRun`; returns a summary dict."""


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

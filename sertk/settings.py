"""Every recipe setting section as a plain dataclass: ``data`` (with its
``segment`` policy), ``features`` entries, ``train`` (optimiser, schedule,
early stopping, validation, transfer), ``tune`` and ``output``.

One validation style: each class checks its values in ``__post_init__`` and
raises :class:`sertk.errors.ConfigError` naming the recipe key
(``train.optimizer.lr``); :func:`from_mapping` checks keys and simple types
before construction.
"""
from __future__ import annotations

import dataclasses
import re
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Mapping, Optional, Union, get_args, get_origin, get_type_hints

from .errors import ConfigError, unknown
from .registry import type_problem

MAX_SEGMENT_SECONDS = 600
_DEVICE = re.compile(r"^(auto|cpu|cuda(:\d+)?|mps)$")


def _device_available(device: str) -> bool:
    """Whether a named accelerator exists here (imports torch: only asked for cuda/mps)."""
    import torch

    if device == "mps":
        return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    index = int(device.split(":")[1]) if ":" in device else 0
    return torch.cuda.is_available() and index < torch.cuda.device_count()


def _require(ok: bool, key: str, message: str) -> None:
    if not ok:
        raise ConfigError(key, message)


def _check_literals(obj: Any) -> None:
    """Every ``Literal`` field holds one of its allowed values."""
    for name, hint in get_type_hints(type(obj)).items():
        allowed = get_args(hint) if get_origin(hint) is Literal else ()
        if allowed:
            value = getattr(obj, name)
            _require(value in allowed, f"{obj.KEY}.{name}",
                     f"expected one of {', '.join(map(repr, allowed))}, got {value!r}")


@dataclass(frozen=True)
class SegmentPolicy:
    """How utterances are cut (``data.segment``): ``whole`` keeps the utterance as
    one segment; ``fixed`` truncates or zero-pads it to ``seconds``; ``slices``
    cuts consecutive slices of ``seconds`` (see :mod:`sertk.data.segment`)."""

    KEY: ClassVar[str] = "data.segment"

    policy: Literal["whole", "fixed", "slices"] = "whole"
    seconds: float = 6.0
    min_last: float = 3.0

    def __post_init__(self) -> None:
        _check_literals(self)
        _require(0 < self.seconds <= MAX_SEGMENT_SECONDS, f"{self.KEY}.seconds",
                 f"must be above 0 and at most {MAX_SEGMENT_SECONDS} s, got {self.seconds}; use policy slices "
                 f"to cut longer recordings")
        if self.policy == "slices":
            _require(0 <= self.min_last <= self.seconds, f"{self.KEY}.min_last",
                     f"min_last must be between 0 and seconds ({self.seconds}), got {self.min_last}")

    def cache_params(self) -> dict[str, Any]:
        """Only the fields that change the segments (for cache keys)."""
        if self.policy == "whole":
            return {"policy": "whole"}
        if self.policy == "fixed":
            return {"policy": "fixed", "seconds": self.seconds}
        return {"policy": "slices", "seconds": self.seconds, "min_last": self.min_last}


EXPECTED_COUNTS = ("utterances", "segments")
MAX_WORKERS = 64
MAX_THREADS = 256


@dataclass
class DataConfig:
    """How audio becomes model input: sampling rate, segmentation, labels, workers.

    ``max_seconds`` leaves out recordings longer than that (read from the
    audio headers; e.g. 15 s for the ASR of Lakomkin et al. 2017, §3.1.1).
    ``target`` is the label a model predicts when its params name none;
    ``aggregate: mean`` averages a recording's segment outputs before scoring
    utterance-level heads, ``none`` scores every segment.  ``expect`` holds the
    counts a paper reports for its selection (``utterances``, ``segments``):
    the run logs and records in ``data.json`` whether the corpus gave them.
    ``missing_labels``: ``drop`` keeps only utterances labelled for every head;
    ``mask`` keeps those with at least one head's label and leaves a missing
    label out of that head's loss and scores (corpora with different label sets).
    ``bad_audio``: a recording that is unreadable, truncated, empty, silent,
    non-finite or of extreme amplitude, or whose features come out non-finite,
    is left out and reported (``skip``), or stops the run (``stop``).
    """

    KEY: ClassVar[str] = "data"

    sample_rate: int = 16000
    segment: SegmentPolicy = field(default_factory=SegmentPolicy)
    label_set: Union[str, list[str], None] = None
    max_seconds: Optional[float] = None
    target: str = "emotion"
    aggregate: Literal["mean", "none"] = "mean"
    expect: dict[str, int] = field(default_factory=dict)
    workers: int = 1
    cache: bool = True
    cache_dir: Optional[str] = None
    missing_labels: Literal["drop", "mask"] = "drop"
    bad_audio: Literal["skip", "stop"] = "skip"

    def __post_init__(self):
        _check_literals(self)
        _require(self.sample_rate > 0, "data.sample_rate", f"must be positive, got {self.sample_rate}")
        _require(1 <= self.workers <= MAX_WORKERS, "data.workers",
                 f"must be from 1 to {MAX_WORKERS} (runs use at most this machine's CPU count), got {self.workers}")
        _require(self.max_seconds is None or self.max_seconds > 0, "data.max_seconds",
                 f"must be a positive number of seconds or null, got {self.max_seconds}")
        for key, count in self.expect.items():
            _require(key in EXPECTED_COUNTS, f"data.expect.{key}", f"is not a count sertk checks; use "
                                                                   f"{' or '.join(EXPECTED_COUNTS)}")
            _require(isinstance(count, int) and count >= 0, f"data.expect.{key}",
                     f"must be a whole number >= 0, got {count!r}")
        if self.label_set is not None:
            from .labels import resolve_label_set

            try:
                resolve_label_set(self.label_set)
            except ValueError as exc:
                raise ConfigError("data.label_set", str(exc)) from None


@dataclass
class FeatureSpec:
    """One feature stream: a registered feature, its params, the input key models see."""

    KEY: ClassVar[str] = "features"

    name: str
    params: dict = field(default_factory=dict)
    key: Optional[str] = None
    normalize: Optional[Literal["standard", "speaker", "none"]] = None

    def __post_init__(self) -> None:
        _check_literals(self)

    @property
    def input_key(self) -> str:
        return self.key or self.name


@dataclass
class TuneConfig:
    """Hyperparameter search: trials of TPE over ``space`` (dotted recipe keys)."""

    KEY: ClassVar[str] = "tune"

    trials: int = 20
    metric: Optional[str] = None
    seed: int = 0
    space: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        _require(self.trials >= 1, "tune.trials", f"must be >= 1, got {self.trials}")
        _require(0 <= self.seed < 2 ** 32, "tune.seed", f"must be a whole number from 0 to 2**32 - 1, got {self.seed}")


@dataclass
class OutputConfig:
    """Where runs are written: ``dir/name`` (name defaults to recipe stem + time)."""

    KEY: ClassVar[str] = "output"

    dir: str = "runs"
    name: Optional[str] = None

    def __post_init__(self) -> None:
        from .atomic import safe_name

        _require(self.name is None or (self.name == safe_name(self.name) and self.name not in (".", "..")),
                 "output.name", f"must be a plain folder name (letters, digits, . _ @ -), got {self.name!r}; "
                                "put the parent folder in output.dir")


@dataclass
class OptimizerConfig:
    """Which optimiser updates the weights, its learning rate and momentum.

    ``momentum`` applies to sgd and rmsprop; ``nesterov`` (sgd only) needs a
    positive momentum.
    """

    KEY: ClassVar[str] = "train.optimizer"

    name: Literal["sgd", "adam", "adagrad", "rmsprop"] = "adam"
    lr: float = 1e-3
    momentum: float = 0.0
    nesterov: bool = False

    def __post_init__(self) -> None:
        _check_literals(self)
        _require(self.lr > 0, f"{self.KEY}.lr", f"must be positive, got {self.lr}")
        _require(0 <= self.momentum < 1, f"{self.KEY}.momentum", f"must be in [0, 1), got {self.momentum}")
        if self.nesterov:
            _require(self.name == "sgd", f"{self.KEY}.nesterov", f"applies to sgd only, not {self.name}")
            _require(self.momentum > 0, f"{self.KEY}.nesterov", "needs train.optimizer.momentum > 0")


@dataclass
class ScheduleConfig:
    """Per-epoch learning-rate schedule.

    ``exponential`` multiplies the rate by ``gamma`` after every epoch;
    ``plateau`` multiplies it by ``factor`` after ``patience`` epochs without
    improvement of the validation score. Neither goes below ``min_lr``.
    """

    KEY: ClassVar[str] = "train.schedule"

    name: Literal["none", "exponential", "plateau"] = "none"
    gamma: float = 0.95
    factor: float = 0.5
    patience: int = 3
    min_lr: float = 0.0

    def __post_init__(self) -> None:
        _check_literals(self)
        _require(0 < self.gamma <= 1, f"{self.KEY}.gamma", f"must be in (0, 1], got {self.gamma}")
        _require(0 < self.factor < 1, f"{self.KEY}.factor", f"must be in (0, 1), got {self.factor}")
        _require(self.patience >= 0, f"{self.KEY}.patience", f"must be >= 0, got {self.patience}")
        _require(self.min_lr >= 0, f"{self.KEY}.min_lr", f"must be >= 0, got {self.min_lr}")


@dataclass
class EarlyStoppingConfig:
    """Stop when the validation ``metric`` (default: the recipe's first metric)
    has not improved for ``patience`` epochs, but not before ``min_epochs``;
    the weights of the best epoch are restored."""

    KEY: ClassVar[str] = "train.early_stopping"

    metric: Optional[str] = None
    patience: int = 10
    min_epochs: int = 0

    def __post_init__(self) -> None:
        _require(self.patience >= 1, f"{self.KEY}.patience", f"must be >= 1, got {self.patience}")
        _require(self.min_epochs >= 0, f"{self.KEY}.min_epochs", f"must be >= 0, got {self.min_epochs}")


@dataclass
class ValidationConfig:
    """How a fold without its own validation set takes one from its training part:
    a random (stratified) ``fraction`` of utterances, ``speakers`` whole
    training speakers, ``group`` the training speakers of the test speakers'
    groups (IEMOCAP: the other speaker of the test session), or ``none`` (no
    early stopping)."""

    KEY: ClassVar[str] = "train.validation"

    policy: Literal["fraction", "speakers", "group", "none"] = "fraction"
    fraction: float = 0.2
    speakers: int = 1

    def __post_init__(self) -> None:
        _check_literals(self)
        _require(0 < self.fraction < 1, f"{self.KEY}.fraction", f"must be in (0, 1), got {self.fraction}")
        _require(self.speakers >= 1, f"{self.KEY}.speakers", f"must be >= 1, got {self.speakers}")


@dataclass
class PretrainedConfig:
    """Weights loaded into sub-network ``module`` of a fresh model before training:
    from a finished run (its ``fold``: a fold name, ``same`` for the fold being
    trained, or null when the run has one fold) or from a checkpoint file (a
    state dict; ``torch.load(weights_only=True)``).  ``prefix`` selects the
    source's keys (``encoder`` takes ``encoder.*``; empty: all keys)."""

    KEY: ClassVar[str] = "train.pretrained"

    module: str
    source: str
    prefix: str = ""
    fold: Optional[str] = None


@dataclass
class TrainConfig:
    """Everything about fitting a network.

    ``l2`` is the L2 weight penalty α: the trainer adds α·Σ‖w‖² over
    ``model.penalized_parameters()`` (weights, not biases) to every loss it
    steps on; ``l2_form: norm`` adds α·‖w‖₂ instead, the unsquared norm of
    all those weights as one vector (Wieser et al. 2020, eq. 3). ``clip_norm`` clips the global gradient norm. ``device: auto``
    picks CUDA when available; ``amp`` turns on mixed precision there (never
    on CPU). ``threads`` caps torch's CPU threads (null: torch's default); small
    networks train faster on one thread than on several.  ``jobs`` trains that many
    folds at the same time, each in its own forked process with one CPU thread (on
    CPU; a run on a GPU, or under torchrun, trains one fold at a time).

    Model selection (``select``): ``metric`` keeps the epoch with the best
    validation ``early_stopping.metric`` and stops early; ``loss`` does the same
    on the validation loss; ``last`` trains exactly ``epochs`` epochs and keeps
    the last weights (no early stopping).  ``stop_at_lr`` ends training once the
    learning rate has fallen to it.  ``sortagrad`` orders the first epoch by
    duration, shortest first (Amodei et al., Deep Speech 2, 2016, §3.1).
    ``repeats`` reruns every fold with seeds ``seed``, ``seed + 1``, ...

    Transfer: ``pretrained`` loads weights into named sub-networks, ``freeze``
    keeps named sub-networks fixed (no gradient, evaluation mode: dropout off,
    batch-norm statistics untouched), ``module_lr`` sets a learning rate per
    sub-network (optimiser parameter groups).
    """

    KEY: ClassVar[str] = "train"

    epochs: int = 30
    batch_size: int = 32
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    l2: float = 0.0
    l2_form: Literal["squared", "norm"] = "squared"
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    clip_norm: Optional[float] = None
    select: Literal["metric", "loss", "last"] = "metric"
    early_stopping: EarlyStoppingConfig = field(default_factory=EarlyStoppingConfig)
    validation: ValidationConfig = field(default_factory=ValidationConfig)
    stop_at_lr: Optional[float] = None
    sortagrad: bool = False
    repeats: int = 1
    pretrained: list[PretrainedConfig] = field(default_factory=list)
    freeze: list[str] = field(default_factory=list)
    module_lr: dict[str, float] = field(default_factory=dict)
    device: str = "auto"
    seed: int = 0
    amp: bool = True
    threads: Optional[int] = None
    jobs: int = 1

    def __post_init__(self) -> None:
        _check_literals(self)
        _require(1 <= self.jobs <= MAX_THREADS, "train.jobs",
                 f"must be from 1 to {MAX_THREADS} folds at a time, got {self.jobs}")
        _require(self.threads is None or 1 <= self.threads <= MAX_THREADS, "train.threads",
                 f"must be from 1 to {MAX_THREADS} CPU threads (runs use at most this machine's CPU count) or null, "
                 f"got {self.threads}")
        _require(0 <= self.seed < 2 ** 32, "train.seed", f"must be a whole number from 0 to 2**32 - 1, got {self.seed}")
        _require(self.epochs >= 1, "train.epochs", f"must be >= 1, got {self.epochs}")
        _require(self.batch_size >= 1, "train.batch_size", f"must be >= 1, got {self.batch_size}")
        _require(self.repeats >= 1, "train.repeats", f"must be >= 1, got {self.repeats}")
        _require(self.l2 >= 0, "train.l2", f"must be >= 0, got {self.l2}")
        _require(self.clip_norm is None or self.clip_norm > 0, "train.clip_norm",
                 f"must be positive or null, got {self.clip_norm}")
        _require(self.stop_at_lr is None or 0 < self.stop_at_lr < self.optimizer.lr, "train.stop_at_lr",
                 f"must be positive and below train.optimizer.lr {self.optimizer.lr}, got {self.stop_at_lr}")
        _require(bool(_DEVICE.match(str(self.device))), "train.device",
                 f"expected auto, cpu, cuda, cuda:N or mps, got {self.device!r}")
        if str(self.device).startswith(("cuda", "mps")):
            _require(_device_available(str(self.device)), "train.device",
                     f"{self.device} is not available on this machine; use auto or cpu")
        _require(self.schedule.min_lr <= self.optimizer.lr, "train.schedule.min_lr",
                 f"{self.schedule.min_lr} is above train.optimizer.lr {self.optimizer.lr}")
        for name, lr in self.module_lr.items():
            _require(isinstance(lr, (int, float)) and lr >= 0, f"train.module_lr.{name}",
                     f"must be a learning rate >= 0, got {lr!r}")


@dataclass
class FusionConfig:
    """Late fusion of several systems (``fusion``): each entry of ``systems`` is a recipe
    path or ``{recipe, set, name, <sections>}``; their test scores are fused per fold by
    ``method`` (``mean``, ``weighted`` with ``weights`` or weights chosen on the training
    folds, ``stack``: a classifier trained on the other folds' predictions)."""

    KEY: ClassVar[str] = "fusion"

    systems: list
    method: Literal["mean", "weighted", "stack"] = "mean"
    weights: Optional[list[float]] = None

    def __post_init__(self) -> None:
        _check_literals(self)
        _require(len(self.systems) >= 2, "fusion.systems", f"fuses at least two systems, got {len(self.systems)}")
        if self.weights is not None:
            _require(self.method == "weighted", "fusion.weights", f"apply to method weighted, not {self.method}")
            _require(len(self.weights) == len(self.systems) and min(self.weights) >= 0 and sum(self.weights) > 0,
                     "fusion.weights", f"need one weight >= 0 per system ({len(self.systems)}), not all 0, "
                                       f"got {self.weights}")


def from_mapping(cls: type, data: Any, key: str) -> Any:
    """Build a settings dataclass from a mapping, checking keys and simple types."""
    if dataclasses.is_dataclass(data):
        return data
    if isinstance(data, str) and cls is FeatureSpec:
        data = {"name": data}
    if not isinstance(data, Mapping):
        raise ConfigError(key, f"expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for name, value in data.items():
        if name not in fields:
            raise ConfigError(f"{key}.{name}", unknown("key", name, fields))
        ann = hints[name]
        if dataclasses.is_dataclass(ann):
            kwargs[name] = from_mapping(ann, value if value is not None else {}, f"{key}.{name}")
            continue
        inner = typing.get_args(ann)[0] if typing.get_origin(ann) is list else None
        if inner is not None and dataclasses.is_dataclass(inner):
            items = value if isinstance(value, list) else [value]
            kwargs[name] = [from_mapping(inner, v, f"{key}.{name}.{i}") for i, v in enumerate(items)]
            continue
        problem = type_problem(value, ann)
        if problem:
            raise ConfigError(f"{key}.{name}", problem)
        kwargs[name] = value
    missing = [n for n, f in fields.items() if n not in kwargs and f.default is dataclasses.MISSING
               and f.default_factory is dataclasses.MISSING]
    if missing:
        raise ConfigError(f"{key}.{missing[0]}", "is required")
    try:
        return cls(**kwargs)
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:
        raise ConfigError(key, str(exc)) from None



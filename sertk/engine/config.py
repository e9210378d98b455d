"""The ``train:`` section of a recipe as plain dataclasses.

Every class checks its values in ``__post_init__`` and raises
:class:`sertk.errors.ConfigError` naming the recipe key (``train.optimizer.lr``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Optional, get_args, get_origin, get_type_hints

from ..errors import ConfigError

_DEVICE = re.compile(r"^(auto|cpu|cuda(:\d+)?|mps)$")


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
    training speakers, or ``none`` (no early stopping)."""

    KEY: ClassVar[str] = "train.validation"

    policy: Literal["fraction", "speakers", "none"] = "fraction"
    fraction: float = 0.2
    speakers: int = 1

    def __post_init__(self) -> None:
        _check_literals(self)
        _require(0 < self.fraction < 1, f"{self.KEY}.fraction", f"must be in (0, 1), got {self.fraction}")
        _require(self.speakers >= 1, f"{self.KEY}.speakers", f"must be >= 1, got {self.speakers}")


@dataclass
class TrainConfig:
    """Everything about fitting a network.

    ``l2`` is the L2 weight penalty α: the trainer adds α·Σ‖w‖² over
    ``model.penalized_parameters()`` (weights, not biases) to every loss it
    steps on. ``clip_norm`` clips the global gradient norm. ``device: auto``
    picks CUDA when available; ``amp`` turns on mixed precision there (never
    on CPU). ``threads`` caps torch's CPU threads (null: torch's default); small
    networks train faster on one thread than on several.
    """

    KEY: ClassVar[str] = "train"

    epochs: int = 30
    batch_size: int = 32
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    l2: float = 0.0
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    clip_norm: Optional[float] = None
    early_stopping: EarlyStoppingConfig = field(default_factory=EarlyStoppingConfig)
    validation: ValidationConfig = field(default_factory=ValidationConfig)
    device: str = "auto"
    seed: int = 0
    amp: bool = True
    threads: Optional[int] = None

    def __post_init__(self) -> None:
        _require(self.threads is None or self.threads >= 1, "train.threads",
                 f"must be a positive number of CPU threads or null, got {self.threads}")
        _require(self.epochs >= 1, "train.epochs", f"must be >= 1, got {self.epochs}")
        _require(self.batch_size >= 1, "train.batch_size", f"must be >= 1, got {self.batch_size}")
        _require(self.l2 >= 0, "train.l2", f"must be >= 0, got {self.l2}")
        _require(self.clip_norm is None or self.clip_norm > 0, "train.clip_norm",
                 f"must be positive or null, got {self.clip_norm}")
        _require(bool(_DEVICE.match(str(self.device))), "train.device",
                 f"expected auto, cpu, cuda, cuda:N or mps, got {self.device!r}")
        _require(self.schedule.min_lr <= self.optimizer.lr, "train.schedule.min_lr",
                 f"{self.schedule.min_lr} is above train.optimizer.lr {self.optimizer.lr}")

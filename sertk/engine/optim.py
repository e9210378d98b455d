"""Optimisers and per-epoch learning-rate schedules from the recipe's ``train`` section."""
from __future__ import annotations

from typing import Iterable, Literal

import torch

from ..settings import OptimizerConfig, ScheduleConfig


def build_optimizer(parameters: Iterable, config: OptimizerConfig) -> torch.optim.Optimizer:
    """The torch optimiser named by ``config`` over trainable parameters or parameter
    groups (dicts with their own ``lr``); no weight decay: the trainer adds the L2 penalty itself."""
    params = [p for p in parameters if isinstance(p, dict) or p.requires_grad]
    if config.name == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, nesterov=config.nesterov)
    if config.name == "adam":
        return torch.optim.Adam(params, lr=config.lr)
    if config.name == "adagrad":
        return torch.optim.Adagrad(params, lr=config.lr)
    return torch.optim.RMSprop(params, lr=config.lr, momentum=config.momentum)


class EpochSchedule:
    """Adjusts the learning rate once per epoch.

    ``exponential``: lr_k = max(lr_0 · γ^k, min_lr) after k epochs.
    ``plateau``: torch's ReduceLROnPlateau on the monitored value, in ``mode``
    ``"max"`` (a score) or ``"min"`` (a loss), never below ``min_lr``.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, config: ScheduleConfig,
                 mode: Literal["max", "min"] = "max") -> None:
        self.optimizer = optimizer
        self._scheduler = None
        if config.name == "exponential":
            floors = [config.min_lr / g["lr"] for g in optimizer.param_groups]
            self._scheduler = torch.optim.lr_scheduler.LambdaLR(
                optimizer, [lambda k, f=f: max(config.gamma ** k, f) for f in floors])
        elif config.name == "plateau":
            self._scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
                optimizer, mode=mode, factor=config.factor, patience=config.patience, min_lr=config.min_lr)

    def step(self, monitored: float) -> None:
        """End of an epoch; ``monitored`` is the value ``plateau`` watches."""
        if isinstance(self._scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            self._scheduler.step(monitored)
        elif self._scheduler is not None:
            self._scheduler.step()

    @property
    def lr(self) -> float:
        """The current learning rate (the largest over parameter groups)."""
        return max(float(g["lr"]) for g in self.optimizer.param_groups)

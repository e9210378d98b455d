"""The alternating per-head update of Wieser et al. (2020), §2.1.1.

For each batch the heads are visited in a random order (drawn from torch's
global generator, so a seeded run repeats).  For each head its loss alone is
backpropagated and the optimiser steps, which moves the shared CNN and that
head; the next head's loss is then computed by a fresh forward pass through
the updated network.

While one head is updated every other head is frozen (``requires_grad`` off
and ``grad`` cleared): torch's optimisers skip parameters without a gradient,
so neither the gradient, the momentum buffer nor the L2 penalty (the model's
``penalized_parameters`` leaves frozen weights out) can move them.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

import torch

from sertk import Batch


@contextlib.contextmanager
def frozen(parameters: list[torch.nn.Parameter]) -> Iterator[None]:
    """Clear the gradients of ``parameters`` and keep them out of autograd."""
    saved = [p.requires_grad for p in parameters]
    for p in parameters:
        p.grad = None
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(parameters, saved):
            p.requires_grad_(flag)


def alternating_update(model, batch: Batch, losses: dict, step) -> dict[str, float]:
    """One batch: one optimiser ``step`` per head, in random order.

    ``model`` is a :class:`~sertk_wieser.models.SplitHeadModel`; returns each
    head's loss before its own update.
    """
    names = [h.name for h in model.heads]
    order = [names[i] for i in torch.randperm(len(names)).tolist()]
    values: dict[str, float] = {}
    for active in order:
        others = [p for name in names if name != active for p in model.head_parameters(name)]
        with frozen(others):
            outputs = model(batch.inputs, batch.lengths)
            loss = losses[active](outputs[active], batch.targets[active], batch.target_masks.get(active))
            step(loss)
        values[active] = float(loss.detach())
    return {name: values[name] for name in names}

"""Data-parallel training under ``torchrun`` (torch DistributedDataParallel).

``torchrun`` starts one process per device and sets ``WORLD_SIZE``, ``RANK`` and
``LOCAL_RANK``; :func:`init` then joins the process group (nccl on CUDA, gloo
on CPU).  Every rank runs the whole recipe on the same folds with the same
seeds; inside a fit each global batch (the single-process batch, same shuffle
on every rank) is split into disjoint per-rank shards and DDP averages the
gradients, so a step equals the single-process step.  Validation and test
predictions run on every rank (identical weights), rank 0's validation score
drives selection; only rank 0 extracts features first and writes the run folder.
Estimator models (SVM, ...) are not distributed: every rank fits the same one.
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Any, Iterator, Optional

from ..errors import ConfigError, SertkError


@dataclass(frozen=True)
class World:
    """This process's place among the ranks of a ``torchrun`` launch."""

    rank: int
    size: int
    local_rank: int

    @property
    def main(self) -> bool:
        return self.rank == 0


def launched() -> Optional[World]:
    """The launch described by torchrun's environment variables (None: a single process)."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return None
    return World(int(os.environ.get("RANK", "0")), size, int(os.environ.get("LOCAL_RANK", "0")))


def current() -> Optional[World]:
    """The joined process group's :class:`World`, None when not distributed."""
    world = launched()
    if world is None:
        return None
    import torch.distributed as dist

    return world if dist.is_available() and dist.is_initialized() else None


def is_main() -> bool:
    """Whether this process writes results (rank 0, or the only process)."""
    world = launched()
    return world is None or world.main


def init(device: str = "auto") -> Optional[World]:
    """Join the process group when started by torchrun (idempotent); None for a single process.

    CUDA ranks use nccl and the GPU ``LOCAL_RANK`` (``cuda`` then means that GPU); CPU ranks use gloo.
    """
    world = launched()
    if world is None:
        return None
    import torch
    import torch.distributed as dist

    if dist.is_initialized():
        return world
    cuda = device != "cpu" and torch.cuda.is_available()
    if cuda:
        torch.cuda.set_device(world.local_rank)
    dist.init_process_group("nccl" if cuda else "gloo", rank=world.rank, world_size=world.size)
    return world


def close() -> None:
    """Leave the process group (a no-op when none was joined)."""
    if current() is not None:
        import torch.distributed as dist

        dist.destroy_process_group()


def barrier() -> None:
    if current() is not None:
        import torch.distributed as dist

        dist.barrier()


@contextlib.contextmanager
def main_first() -> Iterator[None]:
    """Rank 0 runs the block first (e.g. filling the feature cache); the others wait, then run it."""
    main = is_main()
    if not main:
        barrier()
    yield
    if main:
        barrier()


def check_batch(world: World, batch_size: int) -> int:
    """The per-rank batch size; the global batch must divide among the ranks."""
    if batch_size % world.size:
        raise ConfigError("train.batch_size", f"{batch_size} does not divide among the {world.size} torchrun processes; "
                                              f"use a multiple of {world.size}")
    return batch_size // world.size


def wrap(model, device) -> Any:
    """``model`` inside DistributedDataParallel (parameters broadcast from rank 0).

    A model with its own ``training_step`` may update only some parameters per pass
    (e.g. one head at a time), so DDP then looks for unused parameters.
    """
    from torch.nn.parallel import DistributedDataParallel

    from ..model import Model

    ids = [device.index if device.index is not None else int(os.environ.get("LOCAL_RANK", "0"))] \
        if device.type == "cuda" else None
    custom = type(model).training_step is not Model.training_step
    return DistributedDataParallel(model, device_ids=ids, find_unused_parameters=custom)


@contextlib.contextmanager
def routed(model, ddp) -> Iterator[None]:
    """Send the model's own calls (``model(...)`` inside ``training_step``) through ``ddp``,
    so that DDP prepares the gradient all-reduce of every backward pass."""
    inner = model.forward
    inside = False

    def forward(*args, **kwargs):
        nonlocal inside
        if inside:  # DDP calling the module itself
            return inner(*args, **kwargs)
        inside = True
        try:
            return ddp(*args, **kwargs)
        finally:
            inside = False

    model.forward = forward
    try:
        yield
    finally:
        del model.forward


def shard(loader, world: World) -> Iterator[tuple[Any, float]]:
    """This rank's part of every batch of ``loader`` and its loss weight.

    A batch of n items gives rank r the items ``r, r + W, ...`` (n_r of them)
    with weight ``W · n_r / n``: DDP's mean of the weighted shard means is then
    the mean over the whole batch, also for a short last batch.  A rank left
    without items repeats the first one with weight 0 (it must still join the
    all-reduce).
    """
    from torch.utils.data import DataLoader

    if not isinstance(loader, DataLoader) or loader.batch_sampler is None:
        raise SertkError("distributed training needs sertk's data loaders (a torch DataLoader with a batch sampler); "
                         f"got {type(loader).__name__}")
    dataset = loader.dataset
    # the same batches as iterating ``loader`` (which also draws from the shared shuffle generator)
    positions = DataLoader(range(len(dataset)), batch_sampler=loader.batch_sampler, collate_fn=list,
                           generator=loader.generator)
    for indices in positions:
        mine = indices[world.rank::world.size]
        weight = world.size * len(mine) / len(indices)
        if not mine:
            mine, weight = indices[:1], 0.0
        yield loader.collate_fn([dataset[i] for i in mine]), weight


def seeded(batches: Iterator[tuple[Any, float]]) -> Iterator[tuple[Any, float]]:
    """``batches`` with torch's random state reset alike on every rank before each step (from a
    seed drawn on rank 0), so that dropout and random choices inside ``training_step`` (e.g.
    which head to update first) never drift apart, also after shards of unequal size."""
    import torch
    import torch.distributed as dist

    base = torch.randint(0, 2 ** 31 - 1, (1,), dtype=torch.int64).to(_device())
    dist.broadcast(base, src=0)
    for i, item in enumerate(batches):
        torch.manual_seed(int(base) + i)
        yield item


def pooled(sums: dict[str, float], count: int) -> tuple[dict[str, float], int]:
    """Per-head loss sums and item counts added over the ranks."""
    import torch
    import torch.distributed as dist

    names = sorted(sums)
    values = torch.tensor([sums[n] for n in names] + [float(count)], dtype=torch.float64, device=_device())
    dist.all_reduce(values)
    values = values.cpu()
    return {n: float(v) for n, v in zip(names, values[:-1])}, int(values[-1])


def agreed(value: Optional[float]) -> Optional[float]:
    """Rank 0's value on every rank (validation scores, so every rank selects and stops alike)."""
    import torch
    import torch.distributed as dist

    holder = torch.tensor([float("nan") if value is None else value, value is None], dtype=torch.float64,
                          device=_device())
    dist.broadcast(holder, src=0)
    return None if bool(holder[1]) else float(holder[0])


def _device():
    """Where collectives' tensors must live: the rank's GPU under nccl, else the CPU."""
    import torch
    import torch.distributed as dist

    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")

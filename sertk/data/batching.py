"""Datasets of extracted segments and their collation into padded :class:`~sertk.model.Batch` es."""
from __future__ import annotations

from typing import Any, Callable, Iterable, Optional, Sequence

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler

from ..model import Batch
from ..nn import frame_mask
from .targets import FrameTarget

Item = tuple[str, dict[str, np.ndarray], dict[str, Any], float]


class SegmentDataset(Dataset):
    """Segment ``i`` is ``(ids[i], {key: arrays[key][i]}, {head: targets[head][i]}, durations[i])``.

    Targets are encoded values: ``int`` class indices or ``float`` values per
    segment, :class:`~sertk.data.targets.FrameTarget` contours, or token-index
    arrays of sequence heads.  ``durations`` are the segments' audio lengths in
    seconds (unknown: 0).
    """

    def __init__(self, ids: list[str], arrays: dict[str, list[np.ndarray]], targets: dict[str, list[Any]],
                 durations: Optional[Sequence[float]] = None):
        durations = list(durations) if durations is not None else [0.0] * len(ids)
        for name, values in [*arrays.items(), *targets.items(), ("durations", durations)]:
            if len(values) != len(ids):
                raise ValueError(f"'{name}' has {len(values)} entries for {len(ids)} segments")
        self.ids, self.arrays, self.targets, self.durations = ids, arrays, targets, durations

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> Item:
        return (self.ids[i], {k: v[i] for k, v in self.arrays.items()},
                {k: v[i] for k, v in self.targets.items()}, float(self.durations[i]))


def _pad(arrays: list[np.ndarray], dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero-pad arrays of shape (T, ...) along T; returns (B, T_max, ...) and the lengths (B,)."""
    lengths = torch.tensor([len(a) for a in arrays], dtype=torch.long)
    out = torch.zeros((len(arrays), max(int(lengths.max()), 1), *arrays[0].shape[1:]), dtype=dtype)
    for i, a in enumerate(arrays):
        out[i, : len(a)] = torch.as_tensor(a, dtype=dtype)
    return out, lengths


def _target_dtype(values: list[Any]) -> torch.dtype:
    first = np.asarray(values[0])
    return torch.long if np.issubdtype(first.dtype, np.integer) else torch.float32


def collate(items: list[Item]) -> Batch:
    """Stack utterance-level features (D,) into (B, D); zero-pad frame-level ones (T, D)
    into (B, T_max, D) with ``lengths``; class indices become long, values float;
    contours and token sequences are padded with boolean ``target_masks``, contours
    with their frame times.  Utterance-level targets get a (B,) ``target_masks``
    entry only when some segment lacks the label (``data.missing_labels: mask``)."""
    ids = [item[0] for item in items]
    durations = [item[3] for item in items]
    batch = Batch(ids, {}, durations=torch.tensor(durations, dtype=torch.float32) if all(durations) else None)
    for key in items[0][1]:
        arrays = [item[1][key] for item in items]
        if arrays[0].ndim == 2:
            batch.inputs[key], batch.lengths[key] = _pad(arrays, torch.float32)
        else:
            batch.inputs[key] = torch.as_tensor(np.stack(arrays), dtype=torch.float32)
    for head in items[0][2]:
        values = [item[2][head] for item in items]
        if isinstance(values[0], FrameTarget):
            batch.targets[head], lengths = _pad([v.values for v in values], _target_dtype([values[0].values]))
            batch.target_times[head], _ = _pad([v.times for v in values], torch.float32)
            rates = [v.rate for v in values if len(v.times)]  # a missing contour has no frames and no rate
            batch.target_rates[head] = float(np.mean(rates)) if rates else 1.0
            batch.target_masks[head] = frame_mask(lengths, batch.targets[head].shape[1])
        elif np.ndim(values[0]) == 1:
            batch.targets[head], lengths = _pad(values, _target_dtype(values))
            batch.target_masks[head] = frame_mask(lengths, batch.targets[head].shape[1])
        else:
            batch.targets[head] = torch.as_tensor(np.asarray(values), dtype=_target_dtype(values))
            labelled = _labelled(batch.targets[head])
            if not bool(labelled.all()):
                batch.target_masks[head] = labelled
    return batch


def _labelled(targets: torch.Tensor) -> torch.Tensor:
    """Which utterance-level targets carry a label (not ``MISSING_CLASS``, not NaN)."""
    return targets >= 0 if not targets.is_floating_point() else ~torch.isnan(targets)


PADDING_BOUND = 8


def make_loader(dataset: Dataset, batch_size: int, shuffle: bool, seed: int, drop_last: bool = False) -> DataLoader:
    """A single-process loader whose shuffling is fixed by ``seed``; batches of a
    :class:`SegmentDataset` are kept within a padding bound (:class:`BoundedBatches`)."""
    generator = torch.Generator().manual_seed(seed)
    sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
    frames = _frame_counts(dataset)
    if frames is None:
        batches = BatchSampler(sampler, batch_size, drop_last)
    else:
        counts, dims = frames
        cap = PADDING_BOUND * batch_size * float(np.median(counts, axis=0) @ dims)
        batches = BoundedBatches(sampler, batch_size, drop_last, counts, dims, cap)
    return DataLoader(dataset, batch_sampler=batches, collate_fn=collate, num_workers=0, generator=generator)


def _frame_counts(dataset: Dataset) -> Optional[tuple[np.ndarray, np.ndarray]]:
    """Frames per segment and frame-level stream (N, S), and each stream's values per frame (S,)."""
    if not isinstance(dataset, SegmentDataset) or not len(dataset):
        return None
    streams = [v for v in dataset.arrays.values() if v and np.ndim(v[0]) >= 2]
    if not streams:
        return None
    counts = np.array([[len(a) for a in stream] for stream in streams], dtype=np.float64).T
    dims = np.array([int(np.prod(stream[0].shape[1:])) for stream in streams], dtype=np.float64)
    return counts, dims


class BoundedBatches(BatchSampler):
    """The sampler's order cut into batches of ``batch_size``, except that a batch is
    closed early when zero-padding it would pass ``cap`` values (8 × batch size ×
    the median segment): one very long recording then no longer pads a whole batch
    to its length (memory stays bounded).  Without such outliers the batches are
    exactly :class:`torch.utils.data.BatchSampler`'s."""

    def __init__(self, sampler, batch_size: int, drop_last: bool, counts: np.ndarray, dims: np.ndarray,
                 cap: float):
        super().__init__(sampler, batch_size, drop_last)
        self.counts, self.dims, self.cap = counts, dims, cap

    def __iter__(self):
        batch: list[int] = []
        longest = np.zeros_like(self.dims)
        for i in self.sampler:
            grown = np.maximum(longest, self.counts[i])
            if batch and (len(batch) + 1) * float(grown @ self.dims) > self.cap:
                yield batch
                batch, grown = [], self.counts[i]
            batch.append(i)
            longest = grown
            if len(batch) == self.batch_size:
                yield batch
                batch, longest = [], np.zeros_like(self.dims)
        if batch and not self.drop_last:
            yield batch


class EpochLoader:
    """Training batches that may differ per epoch (on-the-fly augmentation, SortaGrad):
    ``for_epoch(e)`` gives epoch ``e``'s (1-based) loader."""

    def __init__(self, make: Callable[[int], Iterable[Batch]]):
        self._make = make

    def for_epoch(self, epoch: int) -> Iterable[Batch]:
        return self._make(epoch)

    def __iter__(self):
        return iter(self._make(1))

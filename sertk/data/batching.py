"""Datasets of extracted segments and their collation into padded :class:`~sertk.model.Batch` es."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from ..model import Batch

Item = tuple[str, dict[str, np.ndarray], dict[str, Any]]


class SegmentDataset(Dataset):
    """Segment ``i`` is ``(ids[i], {key: arrays[key][i]}, {head: targets[head][i]})``.

    Targets are encoded values: ``int`` class indices or ``float`` values per
    segment, or arrays of shape (T,) for frame-level heads.
    """

    def __init__(self, ids: list[str], arrays: dict[str, list[np.ndarray]], targets: dict[str, list[Any]]):
        for name, values in [*arrays.items(), *targets.items()]:
            if len(values) != len(ids):
                raise ValueError(f"'{name}' has {len(values)} entries for {len(ids)} segments")
        self.ids, self.arrays, self.targets = ids, arrays, targets

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> Item:
        return (self.ids[i], {k: v[i] for k, v in self.arrays.items()},
                {k: v[i] for k, v in self.targets.items()})


def _pad(arrays: list[np.ndarray], dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero-pad arrays of shape (T, ...) along T; returns (B, T_max, ...) and the lengths (B,)."""
    lengths = torch.tensor([len(a) for a in arrays], dtype=torch.long)
    out = torch.zeros((len(arrays), int(lengths.max()), *arrays[0].shape[1:]), dtype=dtype)
    for i, a in enumerate(arrays):
        out[i, : len(a)] = torch.as_tensor(a, dtype=dtype)
    return out, lengths


def _target_dtype(values: list[Any]) -> torch.dtype:
    first = np.asarray(values[0])
    return torch.long if np.issubdtype(first.dtype, np.integer) else torch.float32


def collate(items: list[Item]) -> Batch:
    """Stack utterance-level features (D,) into (B, D); zero-pad frame-level ones (T, D)
    into (B, T_max, D) with ``lengths``; class indices become long, values float;
    frame-level targets (T,) are padded with boolean ``target_masks`` (B, T_max)."""
    ids = [item[0] for item in items]
    batch = Batch(ids, {})
    for key in items[0][1]:
        arrays = [item[1][key] for item in items]
        if arrays[0].ndim == 2:
            batch.inputs[key], batch.lengths[key] = _pad(arrays, torch.float32)
        else:
            batch.inputs[key] = torch.as_tensor(np.stack(arrays), dtype=torch.float32)
    for head in items[0][2]:
        values = [item[2][head] for item in items]
        dtype = _target_dtype(values)
        if np.ndim(values[0]) == 1:
            batch.targets[head], lengths = _pad(values, dtype)
            batch.target_masks[head] = torch.arange(batch.targets[head].shape[1]) < lengths[:, None]
        else:
            batch.targets[head] = torch.as_tensor(np.asarray(values), dtype=dtype)
    return batch


def make_loader(dataset: Dataset, batch_size: int, shuffle: bool, seed: int, drop_last: bool = False) -> DataLoader:
    """A single-process loader whose shuffling is fixed by ``seed``."""
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, collate_fn=collate, num_workers=0,
                      generator=torch.Generator().manual_seed(seed), drop_last=drop_last)

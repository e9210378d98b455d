"""Inner validation sets: carved out of a fold's training part for early stopping."""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from ..errors import ConfigError
from ..interfaces import Utterance
from ..settings import ValidationConfig


def stratified_split(indices: Sequence[int], labels: Optional[Sequence], fraction: float,
                     rng: np.random.Generator) -> tuple[list[int], list[int]]:
    """Split ``indices`` into (kept, held-out) with about ``fraction`` held out.

    With ``labels`` (one per index) each label contributes round(fraction · its
    count), so label proportions are kept; at least one index is held out and
    at least one kept.
    """
    indices = np.asarray(indices, dtype=int)
    if len(indices) < 2:
        raise ValueError(f"cannot split {len(indices)} utterance(s) into two non-empty parts")
    strata = np.asarray(labels, dtype=object) if labels is not None else np.zeros(len(indices), dtype=object)
    held: list[int] = []
    for value in sorted(set(strata.tolist()), key=str):
        members = rng.permutation(indices[strata == value])
        held.extend(members[: int(round(fraction * len(members)))].tolist())
    if not held:
        held = [int(rng.choice(indices))]
    if len(held) == len(indices):
        held = held[1:]
    chosen = set(held)
    return sorted(int(i) for i in indices if i not in chosen), sorted(held)


def categorical_labels(utterances: Sequence[Utterance], indices: Sequence[int], target: Optional[str]
                       ) -> Optional[list[str]]:
    """The ``target`` label of each indexed utterance when all are categorical (str), else None."""
    if not target:
        return None
    values = [utterances[i].labels.get(target) for i in indices]
    return values if all(isinstance(v, str) for v in values) else None


def inner_validation(utterances: Sequence[Utterance], train_idx: Sequence[int], config: ValidationConfig,
                     seed: int, target: Optional[str] = None, test_idx: Sequence[int] = ()
                     ) -> tuple[list[int], list[int]]:
    """(train, validation) indices taken from ``train_idx`` by ``config.policy``.

    ``fraction``: a random fraction, stratified on the categorical label
    ``target`` when given; ``speakers``: all utterances of ``config.speakers``
    randomly chosen training speakers (no speaker in both parts); ``group``:
    the training speakers of the test speakers' groups (IEMOCAP: the other
    speaker of the test speaker's session, Lakomkin et al. 2017, §3.2.1);
    ``none``: no validation.
    """
    train_idx = [int(i) for i in train_idx]
    rng = np.random.default_rng(seed)
    if config.policy == "none":
        return train_idx, []
    if config.policy == "fraction":
        return stratified_split(train_idx, categorical_labels(utterances, train_idx, target), config.fraction, rng)
    if config.policy == "group":
        groups = {utterances[i].group for i in test_idx}
        if None in groups:
            raise ConfigError("train.validation.policy", "group needs utterance groups (e.g. IEMOCAP sessions); "
                                                         "this corpus has none: use policy speakers")
        held = [i for i in train_idx if utterances[i].group in groups]
        if not held or len(held) == len(train_idx):
            raise ConfigError("train.validation.policy", f"group: the test speakers' groups {sorted(groups)} leave "
                                                         f"{'no' if not held else 'every'} training utterance for "
                                                         f"validation; use policy speakers")
        chosen = set(held)
        return [i for i in train_idx if i not in chosen], held
    speakers = sorted({utterances[i].speaker for i in train_idx})
    if config.speakers >= len(speakers):
        raise ConfigError("train.validation.speakers",
                          f"holds out {config.speakers} speaker(s), but the training part of this fold has only "
                          f"{len(speakers)} ({', '.join(speakers)}); lower it or use policy: fraction")
    held = set(rng.choice(speakers, size=config.speakers, replace=False).tolist())
    return ([i for i in train_idx if utterances[i].speaker not in held],
            [i for i in train_idx if utterances[i].speaker in held])

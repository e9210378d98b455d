"""Built-in evaluation protocols: how utterances split into train/validation/test folds.

Speaker-independent protocols never put a test speaker into training or
validation. Folds leave ``validation`` empty unless the protocol defines one;
the engine then applies the recipe's inner validation policy.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

import numpy as np

from ..engine.validation import categorical_labels, stratified_split
from ..errors import ConfigError, SertkError
from ..interfaces import Fold, Protocol, Utterance


def _speakers(utterances: Sequence[Utterance]) -> list[str]:
    return sorted({u.speaker for u in utterances})


def _where(utterances: Sequence[Utterance], keep: Callable[[Utterance], bool]) -> list[int]:
    return [i for i, u in enumerate(utterances) if keep(u)]


def _hold_out(name: str, utterances: Sequence[Utterance], is_test: Callable[[Utterance], bool]) -> Fold:
    """A fold testing on the utterances ``is_test`` picks and training on the rest."""
    return Fold(name, train=_where(utterances, lambda u: not is_test(u)), test=_where(utterances, is_test))


def _check_known(param: str, asked: Sequence[str], valid: Sequence[str], what: str) -> None:
    unknown = [s for s in asked if s not in valid]
    if unknown:
        raise ConfigError(f"protocol.params.{param}", f"unknown {what} {unknown}; this corpus has {sorted(valid)}")


class LeaveOneSpeakerOut(Protocol):
    """Leave-one-speaker-out cross-validation: one fold per speaker, tested on
    that speaker and trained on all others (the speaker-independent protocol
    for small acted corpora such as EmoDB in Schuller et al., "Acoustic emotion
    recognition: a benchmark comparison of performances", ASRU 2009)."""

    name = "loso"
    summary = "leave-one-speaker-out: one fold per speaker"
    speaker_independent = True

    def folds(self, utterances: Sequence[Utterance]) -> list[Fold]:
        speakers = _speakers(utterances)
        if len(speakers) < 2:
            raise SertkError(f"protocol loso needs at least two speakers, the corpus has {speakers}")
        return [_hold_out(f"speaker-{s}", utterances, lambda u, s=s: u.speaker == s) for s in speakers]


class LeaveOneGroupOut(Protocol):
    """Leave-one-group-out cross-validation on ``utterance.group`` (e.g. the five
    IEMOCAP sessions, two speakers each). Groups must not share speakers."""

    name = "logo"
    summary = "leave-one-group-out on utterance groups (e.g. IEMOCAP sessions)"
    speaker_independent = True

    def folds(self, utterances: Sequence[Utterance]) -> list[Fold]:
        ungrouped = [u.id for u in utterances if u.group is None]
        if ungrouped:
            raise SertkError(f"protocol logo needs a group on every utterance (e.g. IEMOCAP sessions), but "
                             f"{len(ungrouped)} have none (first: {ungrouped[0]}); use loso or speakers instead")
        groups = sorted({u.group for u in utterances})
        if len(groups) < 2:
            raise SertkError(f"protocol logo needs at least two groups, the corpus has {groups}")
        owner: dict[str, str] = {}
        for u in utterances:
            if owner.setdefault(u.speaker, u.group) != u.group:
                raise SertkError(f"protocol logo: speaker {u.speaker} appears in groups {owner[u.speaker]} and "
                                 f"{u.group}, so held-out groups would leak speakers; use loso instead")
        return [_hold_out(f"group-{g}", utterances, lambda u, g=g: u.group == g) for g in groups]


class ExplicitSpeakers(Protocol):
    """One fold testing on the named speakers, optionally validating on other named speakers."""

    name = "speakers"
    summary = "one fold: test (and optionally validation) on named speakers"
    speaker_independent = True

    def __init__(self, test_speakers: list[str], validation_speakers: list[str] = []) -> None:
        if not test_speakers:
            raise ValueError("test_speakers must name at least one speaker")
        both = sorted(set(test_speakers) & set(validation_speakers))
        if both:
            raise ValueError(f"speakers {both} are in both test_speakers and validation_speakers")
        self.test_speakers, self.validation_speakers = list(test_speakers), list(validation_speakers)

    def folds(self, utterances: Sequence[Utterance]) -> list[Fold]:
        valid = _speakers(utterances)
        _check_known("test_speakers", self.test_speakers, valid, "speakers")
        _check_known("validation_speakers", self.validation_speakers, valid, "speakers")
        held = set(self.test_speakers) | set(self.validation_speakers)
        if held.issuperset(valid):
            raise ConfigError("protocol.params.test_speakers", "leaves no speaker for training")
        return [Fold("speakers-" + "+".join(self.test_speakers),
                     train=_where(utterances, lambda u: u.speaker not in held),
                     test=_where(utterances, lambda u: u.speaker in self.test_speakers),
                     validation=_where(utterances, lambda u: u.speaker in self.validation_speakers))]


class CorpusPartition(Protocol):
    """One fold from the corpus's own partitions (``utterance.partition``), e.g.
    the train/devel/test sets of the INTERSPEECH ComParE challenges. Whether it
    is speaker independent depends on the corpus."""

    name = "partition"
    summary = "one fold from the corpus-defined train/validation/test partitions"

    def __init__(self, train: str = "train", validation: Optional[str] = "devel", test: str = "test") -> None:
        self.train, self.validation, self.test = train, validation, test

    def folds(self, utterances: Sequence[Utterance]) -> list[Fold]:
        present = sorted({str(u.partition) for u in utterances})
        for param in ("train", "validation", "test"):
            wanted = getattr(self, param)
            if wanted is not None and wanted not in present:
                raise ConfigError(f"protocol.params.{param}", f"partition {wanted!r} does not exist; the corpus has "
                                  f"{present}" + ("; set it to null for no validation set" if param == "validation"
                                                  else ""))
        return [Fold(f"partition-{self.test}", train=_where(utterances, lambda u: u.partition == self.train),
                     test=_where(utterances, lambda u: u.partition == self.test),
                     validation=_where(utterances, lambda u: self.validation is not None
                                       and u.partition == self.validation))]


class RandomSplit(Protocol):
    """A speaker-dependent random train/test split, stratified on the
    categorical label ``target`` when every utterance has one.  ``repeats`` > 1
    draws that many independent splits (repeated random sub-sampling), whose
    mean ± std over folds is steadier than one small test set; the first
    split is the one ``repeats: 1`` gives."""

    name = "random"
    summary = "random (stratified) speaker-dependent train/test split(s)"

    def __init__(self, test_fraction: float = 0.2, seed: int = 0, target: str = "emotion",
                 repeats: int = 1) -> None:
        if not 0 < test_fraction < 1:
            raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
        if repeats < 1:
            raise ValueError(f"repeats must be at least 1, got {repeats}")
        self.test_fraction, self.seed, self.target, self.repeats = test_fraction, seed, target, repeats

    def folds(self, utterances: Sequence[Utterance]) -> list[Fold]:
        everything = list(range(len(utterances)))
        labels = categorical_labels(utterances, everything, self.target)
        rng = np.random.default_rng(self.seed)
        folds = []
        for r in range(self.repeats):
            train, test = stratified_split(everything, labels, self.test_fraction, rng)
            folds.append(Fold("random" if self.repeats == 1 else f"random-{r + 1}", train=train, test=test))
        return folds


class KFold(Protocol):
    """Speaker-dependent k-fold cross-validation over utterances."""

    name = "kfold"
    summary = "speaker-dependent k-fold cross-validation"

    def __init__(self, k: int = 5, shuffle: bool = True, seed: int = 0) -> None:
        if k < 2:
            raise ValueError(f"k must be at least 2, got {k}")
        self.k, self.shuffle, self.seed = k, shuffle, seed

    def folds(self, utterances: Sequence[Utterance]) -> list[Fold]:
        if len(utterances) < self.k:
            raise ConfigError("protocol.params.k", f"{self.k} folds need at least {self.k} utterances, "
                              f"the corpus has {len(utterances)}")
        order = np.arange(len(utterances))
        if self.shuffle:
            order = np.random.default_rng(self.seed).permutation(order)
        chunks = np.array_split(order, self.k)
        return [Fold(f"fold-{j + 1}", train=sorted(np.concatenate(chunks[:j] + chunks[j + 1:]).tolist()),
                     test=sorted(chunks[j].tolist())) for j in range(self.k)]


class HoldoutSpeakers(Protocol):
    """One fold testing on ``n`` randomly chosen speakers and training on the
    rest (Zhao et al. 2019, "Speech emotion recognition using deep 1D & 2D CNN
    LSTM networks", §4.2, hold out two speakers)."""

    name = "holdout_speakers"
    summary = "one fold: n randomly chosen speakers held out for testing"
    speaker_independent = True

    def __init__(self, n: int = 2, seed: int = 0) -> None:
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        self.n, self.seed = n, seed

    def folds(self, utterances: Sequence[Utterance]) -> list[Fold]:
        speakers = _speakers(utterances)
        if self.n >= len(speakers):
            raise ConfigError("protocol.params.n", f"holds out {self.n} speakers, but the corpus has only "
                              f"{len(speakers)}")
        held = sorted(np.random.default_rng(self.seed).choice(speakers, size=self.n, replace=False).tolist())
        return [_hold_out("speakers-" + "+".join(held), utterances, lambda u: u.speaker in held)]


class CrossCorpus(Protocol):
    """Train on every corpus not named in ``test``; one fold per test corpus
    (speaker independent by construction: the corpora share no speakers)."""

    name = "cross_corpus"
    summary = "train on the other corpora, test on each named corpus"
    speaker_independent = True

    def __init__(self, test: list[str]) -> None:
        if not test:
            raise ValueError("test must name at least one corpus")
        self.test = list(test)

    def folds(self, utterances: Sequence[Utterance]) -> list[Fold]:
        corpora = sorted({u.corpus for u in utterances})
        _check_known("test", self.test, corpora, "corpora")
        train = _where(utterances, lambda u: u.corpus not in self.test)
        if not train:
            raise ConfigError("protocol.params.test", f"names every corpus {corpora}; leave one for training")
        return [Fold(f"test-{c}", train=train, test=_where(utterances, lambda u, c=c: u.corpus == c))
                for c in self.test]

"""Built-in protocols and inner validation: fold structure and no speaker leakage."""
import numpy as np
import pytest

from sertk.builtins.protocols import (CorpusPartition, CrossCorpus, ExplicitSpeakers, HoldoutSpeakers,
                                      KFold, LeaveOneGroupOut, LeaveOneSpeakerOut, RandomSplit)
from sertk.settings import ValidationConfig
from sertk.engine.validation import inner_validation, stratified_split
from sertk.errors import ConfigError, SertkError
from sertk.interfaces import Utterance
from sertk.plugins import load_plugins
from tests.fakes.builtins import builtin_classes
from sertk.registry import Registry

EMOTIONS = ["anger", "joy", "neutral", "sad"]


def corpus(seed, n_corpora=1, speakers=6, per_speaker=(3, 12), groups=True):
    """Random utterances; speakers nest inside groups (two per group) and corpora."""
    rng = np.random.default_rng(seed)
    utts = []
    for c in range(n_corpora):
        for s in range(speakers):
            for k in range(int(rng.integers(*per_speaker))):
                utts.append(Utterance(id=f"c{c}-s{s}-{k}", speaker=f"{s:02d}", corpus=f"corpus{c}",
                                      group=f"g{s // 2}" if groups else None,
                                      labels={"emotion": EMOTIONS[int(rng.integers(0, 4))]}))
    order = rng.permutation(len(utts))
    return [utts[i] for i in order]


def who(utts, indices):
    return {(utts[i].corpus, utts[i].speaker) for i in indices}


# Every registered protocol, built-in or from an installed plugin.
REGISTRY = Registry.from_plugins(load_plugins())
INDEPENDENT = [e for e in REGISTRY.entries("protocols") if e.cls.speaker_independent]

# Params that fit the utterances of ``corpus(seed, n_corpora=2)``: speakers "00".."05" in groups g0..g2, in
# corpora corpus0 and corpus1.  A newly registered speaker-independent protocol needs a row here: its leakage
# test fails until it has one.
LEAKAGE_PARAMS = {
    "loso": {},
    "logo": {},
    "speakers": {"test_speakers": ["01", "04"], "validation_speakers": ["02"]},
    "holdout_speakers": {"n": 2, "seed": 3},
    "cross_corpus": {"test": ["corpus1"]},
}


def test_leakage_params_name_only_speaker_independent_protocols():
    stale = sorted(set(LEAKAGE_PARAMS) - {e.name for e in INDEPENDENT})
    assert not stale, f"LEAKAGE_PARAMS has rows for {stale}, which are not registered speaker-independent protocols"


@pytest.mark.parametrize("entry", INDEPENDENT, ids=lambda e: e.name)
def test_speaker_independent_protocols_never_leak_test_speakers(entry):
    if entry.name not in LEAKAGE_PARAMS:
        pytest.fail(f"protocol '{entry.name}' (plugin '{entry.plugin}', {entry.cls.__module__}."
                    f"{entry.cls.__name__}) declares speaker_independent = True but has no row in LEAKAGE_PARAMS "
                    f"of {__file__}; add the params that build it on the generated utterances")
    protocol = REGISTRY.build("protocols", {"name": entry.name, "params": LEAKAGE_PARAMS[entry.name]})
    for seed in range(8):
        utts = corpus(seed, n_corpora=2)
        folds = protocol.folds(utts)
        assert folds, (entry.name, seed)
        for fold in folds:
            where = (entry.name, fold.name, seed)
            for policy in ("fraction", "speakers"):
                if fold.validation:
                    train, val = fold.train, fold.validation
                else:
                    train, val = inner_validation(utts, fold.train, ValidationConfig(policy=policy), seed, "emotion")
                assert fold.test and train, where
                assert not who(utts, fold.test) & who(utts, train), where
                assert not who(utts, fold.test) & who(utts, val), where
                assert not set(train) & set(val) and not set(train) & set(fold.test), where


def test_loso_has_one_fold_per_speaker_covering_every_utterance_once():
    utts = corpus(1)
    folds = LeaveOneSpeakerOut().folds(utts)
    assert [f.name for f in folds] == [f"speaker-{s:02d}" for s in range(6)]
    tested = sorted(i for f in folds for i in f.test)
    assert tested == list(range(len(utts)))
    for f in folds:
        assert sorted(f.train + f.test) == list(range(len(utts)))
        assert len({utts[i].speaker for i in f.test}) == 1


def test_logo_splits_on_groups_and_rejects_missing_or_shared_groups():
    utts = corpus(2)
    folds = LeaveOneGroupOut().folds(utts)
    assert [f.name for f in folds] == ["group-g0", "group-g1", "group-g2"]
    assert all({utts[i].group for i in f.test} == {f.name[6:]} for f in folds)
    with pytest.raises(SertkError, match="needs a group on every utterance"):
        LeaveOneGroupOut().folds(corpus(2, groups=False))
    utts[0].group = "g9" if utts[0].group != "g9" else "g0"
    with pytest.raises(SertkError, match="appears in groups"):
        LeaveOneGroupOut().folds(utts)


def test_explicit_speakers_fold_and_unknown_speaker_errors():
    utts = corpus(3)
    fold, = ExplicitSpeakers(["01", "04"], ["02"]).folds(utts)
    assert {utts[i].speaker for i in fold.test} == {"01", "04"}
    assert {utts[i].speaker for i in fold.validation} == {"02"}
    assert {utts[i].speaker for i in fold.train} == {"00", "03", "05"}
    with pytest.raises(ConfigError, match=r"unknown speakers \['7', '99'\]; this corpus has \['00',") as info:
        ExplicitSpeakers(["7", "01", "99"]).folds(utts)
    assert info.value.key == "protocol.params.test_speakers"
    with pytest.raises(ValueError, match="both test_speakers and validation_speakers"):
        ExplicitSpeakers(["01"], ["01"])


def test_partition_uses_corpus_partitions():
    utts = corpus(4)
    for i, u in enumerate(utts):
        u.partition = ["train", "train", "devel", "test"][i % 4]
    fold, = CorpusPartition().folds(utts)
    assert {utts[i].partition for i in fold.train} == {"train"}
    assert {utts[i].partition for i in fold.validation} == {"devel"}
    assert {utts[i].partition for i in fold.test} == {"test"}
    assert not CorpusPartition(validation=None).folds(utts)[0].validation
    with pytest.raises(ConfigError, match="partition 'dev' does not exist; the corpus has") as info:
        CorpusPartition(validation="dev").folds(utts)
    assert info.value.key == "protocol.params.validation"


def test_repeated_random_splits_differ_and_start_with_the_single_split():
    utts = corpus(5, speakers=10)
    single, = RandomSplit(seed=3).folds(utts)
    repeated = RandomSplit(seed=3, repeats=3).folds(utts)
    assert [f.name for f in repeated] == ["random-1", "random-2", "random-3"]
    assert repeated[0].test == single.test
    assert len({tuple(f.test) for f in repeated}) == 3
    for fold in repeated:
        assert not set(fold.train) & set(fold.test) and len(fold.train) + len(fold.test) == len(utts)
    with pytest.raises(ValueError, match="repeats"):
        RandomSplit(repeats=0)


def test_random_split_is_stratified_and_seeded():
    utts = corpus(5, speakers=10)
    fold, = RandomSplit(test_fraction=0.25, seed=1).folds(utts)
    assert sorted(fold.train + fold.test) == list(range(len(utts)))
    for emotion in EMOTIONS:
        n = sum(u.labels["emotion"] == emotion for u in utts)
        assert sum(utts[i].labels["emotion"] == emotion for i in fold.test) == round(0.25 * n)
    assert RandomSplit(seed=1).folds(utts)[0].test == RandomSplit(seed=1).folds(utts)[0].test
    assert RandomSplit(seed=1).folds(utts)[0].test != RandomSplit(seed=2).folds(utts)[0].test
    assert not RandomSplit.speaker_independent


def test_kfold_partitions_utterances():
    utts = corpus(6)
    folds = KFold(k=4, seed=0).folds(utts)
    assert len(folds) == 4
    assert sorted(i for f in folds for i in f.test) == list(range(len(utts)))
    assert max(len(f.test) for f in folds) - min(len(f.test) for f in folds) <= 1
    assert KFold(k=4, shuffle=False).folds(utts)[0].test == list(range(len(folds[0].test)))
    with pytest.raises(ConfigError, match="need at least 500 utterances"):
        KFold(k=500).folds(utts)


def test_holdout_speakers_holds_out_n_speakers():
    utts = corpus(7)
    fold, = HoldoutSpeakers(n=2, seed=0).folds(utts)
    assert len({utts[i].speaker for i in fold.test}) == 2
    assert sorted(fold.train + fold.test) == list(range(len(utts)))
    with pytest.raises(ConfigError, match="holds out 6 speakers, but the corpus has only 6"):
        HoldoutSpeakers(n=6).folds(utts)


def test_cross_corpus_one_fold_per_test_corpus():
    utts = corpus(8, n_corpora=3)
    folds = CrossCorpus(test=["corpus1", "corpus2"]).folds(utts)
    assert [f.name for f in folds] == ["test-corpus1", "test-corpus2"]
    for f, name in zip(folds, ["corpus1", "corpus2"]):
        assert {utts[i].corpus for i in f.train} == {"corpus0"}
        assert {utts[i].corpus for i in f.test} == {name}
    with pytest.raises(ConfigError, match=r"unknown corpora \['emodb'\]"):
        CrossCorpus(test=["emodb"]).folds(utts)
    with pytest.raises(ConfigError, match="leave one for training"):
        CrossCorpus(test=["corpus0", "corpus1", "corpus2"]).folds(utts)


def test_inner_validation_policies():
    utts = corpus(9, speakers=8)
    train_idx = [i for i, u in enumerate(utts) if u.speaker != "00"]
    train, val = inner_validation(utts, train_idx, ValidationConfig(policy="speakers", speakers=2), seed=0)
    assert len({utts[i].speaker for i in val}) == 2
    assert not {utts[i].speaker for i in val} & {utts[i].speaker for i in train}
    assert sorted(train + val) == sorted(train_idx)
    train, val = inner_validation(utts, train_idx, ValidationConfig(policy="fraction", fraction=0.2), 0, "emotion")
    assert sorted(train + val) == sorted(train_idx)
    for emotion in EMOTIONS:
        n = sum(utts[i].labels["emotion"] == emotion for i in train_idx)
        assert sum(utts[i].labels["emotion"] == emotion for i in val) == round(0.2 * n)
    assert inner_validation(utts, train_idx, ValidationConfig(policy="none"), 0) == (train_idx, [])
    with pytest.raises(ConfigError, match="training part of this fold has only 7"):
        inner_validation(utts, train_idx, ValidationConfig(policy="speakers", speakers=7), 0)


def test_group_validation_holds_out_the_test_speakers_session_partner():
    """Lakomkin et al. 2017, §3.2.1: the other speaker of the test speaker's IEMOCAP session validates."""
    utts = corpus(9, speakers=8)  # speakers 2k and 2k+1 share group g<k>
    test_idx = [i for i, u in enumerate(utts) if u.speaker == "02"]
    train_idx = [i for i, u in enumerate(utts) if u.speaker != "02"]
    train, val = inner_validation(utts, train_idx, ValidationConfig(policy="group"), 0, "emotion", test_idx)
    assert {utts[i].speaker for i in val} == {"03"} and "03" not in {utts[i].speaker for i in train}
    assert sorted(train + val) == sorted(train_idx)
    whole_group = [i for i, u in enumerate(utts) if u.group == "g1"]
    rest = [i for i, u in enumerate(utts) if u.group != "g1"]
    with pytest.raises(ConfigError, match="leave no training utterance for validation"):
        inner_validation(utts, rest, ValidationConfig(policy="group"), 0, None, whole_group)
    with pytest.raises(ConfigError, match="needs utterance groups"):
        ungrouped = corpus(9, groups=False)
        inner_validation(ungrouped, list(range(1, len(ungrouped))), ValidationConfig(policy="group"), 0, None, [0])


def test_stratified_split_keeps_both_parts_non_empty():
    rng = np.random.default_rng(0)
    assert stratified_split([4, 9], None, 0.1, rng) in (([4], [9]), ([9], [4]))
    kept, held = stratified_split([1, 2, 3], ["a", "b", "c"], 0.9, rng)
    assert len(kept) >= 1 and len(held) >= 1 and sorted(kept + held) == [1, 2, 3]


def test_every_protocol_is_registered_once():
    names = [p.name for p in builtin_classes("protocols")]
    assert sorted(names) == sorted(set(names)) == sorted(
        ["loso", "logo", "speakers", "partition", "random", "kfold", "holdout_speakers", "cross_corpus"])

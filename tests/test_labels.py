"""The shared emotion vocabulary and harmonisation of corpus labels."""
import pytest

from sertk.interfaces import Utterance
from sertk.labels import DEFAULT_MERGES, LABEL_SETS, SHARED, harmonise, resolve_label_set
from tests.fakes.builtins import builtin_classes


def utt(label, **labels):
    return Utterance(id=str(label), speaker="s", labels={"emotion": label, **labels} if label else labels)


def test_every_corpus_vocabulary_maps_into_the_shared_vocabulary():
    for cls in builtin_classes("corpora"):
        assert set(cls.vocabulary.values()) <= set(SHARED), cls.name
    for name, classes in LABEL_SETS.items():
        assert set(classes) <= set(SHARED), name


def test_common4_maps_native_codes_and_merges_excitement():
    vocabulary = {"W": "anger", "F": "happiness", "L": "boredom"}
    utts = [utt("W"), utt("F"), utt("L"), utt("excitement", arousal=3.0), utt("neutral"), utt(None, arousal=1.0)]
    kept = harmonise(utts, vocabulary, "common4")
    assert [(u.id, u.labels["emotion"]) for u in kept] == [("W", "anger"), ("F", "happiness"),
                                                          ("excitement", "happiness"), ("neutral", "neutral")]
    assert kept[2].labels["arousal"] == 3.0
    assert utts[0].labels["emotion"] == "W"  # the corpus's own records are not modified


def test_merges_are_configurable_and_skip_classes_in_the_set():
    utts = [utt("excitement"), utt("happiness")]
    assert [u.labels["emotion"] for u in harmonise(utts, {}, "common4", merge={})] == ["happiness"]
    kept = harmonise(utts, {}, ["happiness", "excitement"])
    assert [u.labels["emotion"] for u in kept] == ["excitement", "happiness"]
    assert DEFAULT_MERGES == {"excitement": "happiness"}


def test_label_set_lists_and_errors():
    assert resolve_label_set(["anger", "calm"]) == ("anger", "calm")
    with pytest.raises(ValueError, match=r"unknown label set 'common5'; did you mean 'common4'\? \(valid: basic6, "
                                         r"common4, emodb7, ravdess8\)"):
        resolve_label_set("common5")
    with pytest.raises(ValueError, match="unknown shared emotion name 'angry'; did you mean 'anger'"):
        resolve_label_set(["angry", "sadness"])
    with pytest.raises(ValueError, match="twice"):
        resolve_label_set(["anger", "anger"])
    with pytest.raises(ValueError, match="at least one"):
        resolve_label_set([])

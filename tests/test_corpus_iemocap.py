"""IEMOCAP loader on a fake release tree: every labelling option and the counts it keeps."""
from collections import Counter

import pytest

from sertk.corpora.iemocap import IEMOCAP
from sertk.corpora.iemocap_files import parse_evaluation, parse_wdseg
from sertk.corpora._integrity import Integrity
from sertk.errors import SertkError
from tests.fakes.iemocap import build_iemocap


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return build_iemocap(tmp_path_factory.mktemp("IEMOCAP_full_release"))


def emotions(corpus):
    return Counter(u.labels["emotion"] for u in corpus.utterances())


def test_majority_all_categories(root):
    corpus = IEMOCAP(str(root), classes="all")
    assert emotions(corpus) == {"neutral": 3, "anger": 1, "excitement": 1, "happiness": 1, "sadness": 1,
                                "frustration": 1, "surprise": 1}
    report = corpus.report
    assert "1 turns without majority agreement" in report
    assert "1 turns without audio (first: Ses02M_impro02_F001)" in report
    assert "1 unparsable turn lines" in report and "1 rating lines without a turn" in report


def test_agreement_two_counts(root):
    corpus = IEMOCAP(str(root), classes="all", agreement="two")
    # Ties (sadness/frustration) and a single external evaluator do not count as agreement.
    assert emotions(corpus) == {"neutral": 2, "anger": 1, "excitement": 1, "happiness": 1, "frustration": 1,
                                "surprise": 1}
    assert "3 turns without two agreement" in corpus.report


def test_agreement_all_is_prototypical(root):
    corpus = IEMOCAP(str(root), classes="all", agreement="all")
    assert emotions(corpus) == {"neutral": 1, "excitement": 1, "happiness": 1, "frustration": 1, "surprise": 1}
    assert "5 turns without all agreement" in corpus.report
    by_id = {u.id: u.labels["emotion"] for u in corpus.utterances()}
    assert by_id["Ses01F_impro01_F002"] == "happiness"  # the one category all three share


def test_common_four_classes_merge_excitement(root):
    corpus = IEMOCAP(str(root))
    assert emotions(corpus) == {"neutral": 3, "anger": 1, "happiness": 2, "sadness": 1}
    assert "2 turns outside the classes" in corpus.report
    assert "emotion: anger 1, happiness 2, neutral 3, sadness 1" in corpus.report
    unmerged = IEMOCAP(str(root), merge_excitement=False)
    assert emotions(unmerged) == {"neutral": 3, "anger": 1, "happiness": 1, "sadness": 1}


def test_zhao_six_classes_improvised_prototypical(root):
    corpus = IEMOCAP(str(root), classes="6class_zhao", agreement="all", improvised_only=True)
    assert emotions(corpus) == {"neutral": 1, "excitement": 1, "happiness": 1}
    assert all(u.meta["improvised"] for u in corpus.utterances())
    assert "2 scripted turns" in corpus.report


def test_class_list_and_invalid_options(root):
    corpus = IEMOCAP(str(root), classes=["anger", "neutral"])
    assert emotions(corpus) == {"neutral": 3, "anger": 1}
    with pytest.raises(ValueError, match="excitement"):
        IEMOCAP(str(root), classes="6class_zhao", merge_excitement=True)
    with pytest.raises(ValueError, match="did you mean '4class'"):
        IEMOCAP(str(root), classes="4clas")
    with pytest.raises(ValueError, match="dimensions_from"):
        IEMOCAP(str(root), dimensions_from="evaluator2")
    with pytest.raises(ValueError, match="sessions"):
        IEMOCAP(str(root), sessions=[6])


def test_dimensions_from_mean(root):
    utt = {u.id: u for u in IEMOCAP(str(root), classes="all").utterances()}["Ses01F_impro01_F000"]
    assert utt.labels == {"emotion": "neutral", "valence": 2.5, "arousal": 2.0, "dominance": 2.5}


def test_dimensions_from_one_evaluator_skips_unrated_turns(root):
    corpus = IEMOCAP(str(root), classes=None, dimensions_from="E2")
    utts = {u.id: u for u in corpus.utterances()}
    # No categorical filtering: the xxx turn stays; E2 did not (fully) rate three turns.
    assert sorted(utts) == ["Ses01F_impro01_F000", "Ses01F_impro01_F001", "Ses01F_impro01_F002",
                            "Ses01F_impro01_M000", "Ses01F_impro01_M001", "Ses01F_impro01_M002",
                            "Ses02M_impro02_F000"]
    assert utts["Ses01F_impro01_F000"].labels == {"valence": 3.0, "arousal": 2.0, "dominance": 2.0}
    assert utts["Ses01F_impro01_F002"].labels == {"valence": 5.0, "arousal": 3.0, "dominance": 3.0}
    assert "3 turns not rated by E2" in corpus.report
    assert "1 incomplete dimension ratings" in corpus.report
    no_dims = IEMOCAP(str(root), classes="all", dimensions_from=None).utterances()
    assert all(set(u.labels) == {"emotion"} for u in no_dims)


def test_speakers_groups_paths_and_meta(root):
    utts = IEMOCAP(str(root), classes=None).utterances()
    assert {u.speaker for u in utts} == {"Ses01F", "Ses01M", "Ses02F", "Ses02M"}
    by_id = {u.id: u for u in utts}
    scripted = by_id["Ses01F_script01_1_M000"]
    assert scripted.speaker == "Ses01M" and scripted.group == "Ses01" and scripted.meta["improvised"] is False
    assert scripted.meta["gender"] == "male" and scripted.corpus == "iemocap"
    assert scripted.path.endswith("Session1/sentences/wav/Ses01F_script01_1/Ses01F_script01_1_M000.wav")
    assert by_id["Ses02M_impro02_F000"].group == "Ses02"


def test_transcripts_and_word_timings(root):
    corpus = IEMOCAP(str(root), classes="all", word_timings=True)
    by_id = {u.id: u for u in corpus.utterances()}
    assert by_id["Ses01F_impro01_M000"].transcript == "words of Ses01F_impro01_M000."
    assert by_id["Ses01F_impro01_M002"].transcript is None
    assert "1 turns without transcript (first: Ses01F_impro01_M002)" in corpus.report
    words = by_id["Ses01F_impro01_F000"].words
    assert [(w.text, w.start, w.end) for w in words] == [("EXCUSE", 0.30, 0.61), ("ME", 0.61, 0.81)]
    assert "turns without word alignment" in corpus.report
    assert IEMOCAP(str(root), classes="all", transcripts=False).utterances()[0].transcript is None


def test_sessions_option(root):
    utts = IEMOCAP(str(root), classes=None, sessions=[2]).utterances()
    assert {u.id for u in utts} == {"Ses02M_impro02_F000", "Ses02M_impro02_M000"}


def test_parse_evaluation_reads_every_evaluator():
    text = ("[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]\n"
            "C-E2:\tNeutral;\t()\nC-E3:\tNeutral; Other:bored;\t(curious)\nC-F1:\tNeutral;\t()\n"
            "A-E3:\tval 3; act 2; dom  2;\t()\nA-F1:\tval 3; act 2; dom  1;\t()\n")
    check = Integrity("iemocap")
    (turn,) = parse_evaluation(text, "x.txt", check)
    assert (turn.id, turn.start, turn.end, turn.majority) == ("Ses01F_impro01_F000", 6.2901, 8.2357, "neutral")
    assert turn.categories == {"E2": ["neutral"], "E3": ["neutral", "other"], "F1": ["neutral"]}
    assert turn.dimensions["F1"] == {"valence": 3.0, "arousal": 2.0, "dominance": 1.0}
    assert check.problems_text() == ""


def test_parse_wdseg_frames_are_ten_ms():
    words = parse_wdseg(" SFrm  EFrm    SegAScr Word\n   10    19   -1 HELLO(3)\n Total score: -1\n")
    assert [(w.text, w.start, w.end) for w in words] == [("HELLO", 0.10, 0.20)]


def test_missing_or_empty_root_fails_clearly(tmp_path):
    with pytest.raises(SertkError, match="iemocap: root .*nope is not a folder; set corpus.params.root"):
        IEMOCAP(str(tmp_path / "nope")).utterances()
    with pytest.raises(SertkError, match="no EmoEvaluation turns under"):
        IEMOCAP(str(tmp_path)).utterances()


def test_loading_is_cached_per_instance(root):
    corpus = IEMOCAP(str(root))
    first = corpus.utterances()
    assert corpus.utterances() == first and corpus.utterances() is not first
    assert corpus.utterances()[0] is first[0]

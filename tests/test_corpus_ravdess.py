"""RAVDESS loader on a fake Actor_XX tree."""
from collections import Counter

import pytest

from sertk.corpora.ravdess import RAVDESS
from sertk.errors import SertkError
from tests.fakes.simple import build_ravdess

NAMES = ["03-01-01-01-01-01-01.wav",  # speech, neutral, normal, actor 1 (male)
         "03-01-05-02-02-01-02.wav",  # speech, angry, strong, actor 2 (female)
         "03-01-02-01-01-02-02.wav",  # speech, calm
         "03-02-03-02-01-01-01.wav",  # song, happy, strong
         "03-02-08-01-01-01-02.wav",  # song, surprised, normal, actor 2
         "03-01-09-01-01-01-01.wav"]  # unknown emotion code


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return build_ravdess(tmp_path_factory.mktemp("ravdess"), NAMES)


def test_speech_only_by_default(root):
    corpus = RAVDESS(str(root))
    utts = {u.id: u for u in corpus.utterances()}
    assert sorted(utts) == ["03-01-01-01-01-01-01", "03-01-02-01-01-02-02", "03-01-05-02-02-01-02"]
    angry = utts["03-01-05-02-02-01-02"]
    assert (angry.speaker, angry.labels["emotion"], angry.meta["gender"]) == ("Actor_02", "anger", "female")
    assert angry.meta["intensity"] == "strong" and angry.transcript == "Dogs are sitting by the door"
    assert utts["03-01-01-01-01-01-01"].meta["gender"] == "male"
    assert utts["03-01-02-01-01-02-02"].labels["emotion"] == "calm"
    assert "2 song files" in corpus.report and "1 wav files not named" in corpus.report
    assert "found 3 speech files where the full corpus has 1440" in corpus.report


def test_song_both_and_intensity(root):
    assert Counter(u.meta["channel"] for u in RAVDESS(str(root), channel="both").utterances()) == \
        {"speech": 3, "song": 2}
    assert {u.labels["emotion"] for u in RAVDESS(str(root), channel="song").utterances()} == {"happiness", "surprise"}
    strong = RAVDESS(str(root), channel="both", intensity="strong").utterances()
    assert sorted(u.labels["emotion"] for u in strong) == ["anger", "happiness"]


def test_empty_root_fails(tmp_path):
    with pytest.raises(SertkError, match="ravdess: no Actor_XX/\\*.wav files under"):
        RAVDESS(str(tmp_path)).utterances()

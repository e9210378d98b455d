"""LibriSpeech loader on a fake subset tree with flac audio and trans.txt transcripts."""
import pytest

from sertk.corpora.librispeech import LibriSpeech
from sertk.errors import SertkError
from tests.fakes.simple import build_librispeech

CHAPTERS = {"dev-clean/84/121123": [("0000", "GO DO YOU HEAR"), ("0001", "BUT IN LESS THAN FIVE MINUTES")],
            "dev-clean/174/50561": [("0000", "FORGOTTEN TOO THE NAME OF GILLIAN")],
            "test-clean/1089/134686": [("0000", "HE HOPED THERE WOULD BE STEW")]}


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return build_librispeech(tmp_path_factory.mktemp("LibriSpeech"), CHAPTERS, missing=("84-121123-0001",))


def test_transcripts_speakers_subsets(root):
    corpus = LibriSpeech(str(root))
    utts = {u.id: u for u in corpus.utterances()}
    assert sorted(utts) == ["1089-134686-0000", "174-50561-0000", "84-121123-0000"]
    first = utts["84-121123-0000"]
    assert (first.speaker, first.partition, first.transcript) == ("84", "dev-clean", "GO DO YOU HEAR")
    assert first.path.endswith("dev-clean/84/121123/84-121123-0000.flac") and first.labels == {}
    assert "1 transcript lines without audio (first: 84-121123-0001)" in corpus.report


def test_subsets_and_subset_root(root):
    assert {u.partition for u in LibriSpeech(str(root), subsets=["test-clean"]).utterances()} == {"test-clean"}
    one = LibriSpeech(str(root / "dev-clean")).utterances()
    assert {u.partition for u in one} == {"dev-clean"} and len(one) == 2


def test_no_transcripts(tmp_path):
    with pytest.raises(SertkError, match="librispeech: no <speaker>-<chapter>.trans.txt files"):
        LibriSpeech(str(tmp_path)).utterances()
    with pytest.raises(SertkError, match="train-other-500/ under"):
        LibriSpeech(str(tmp_path), subsets=["train-other-500"]).utterances()

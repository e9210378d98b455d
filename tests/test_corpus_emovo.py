"""EMOVO loader on a fake speaker-folder tree."""
import pytest

from sertk.corpora.emovo import EMOVO
from sertk.errors import SertkError
from tests.fakes.simple import build_emovo


def test_labels_and_speakers(tmp_path):
    root = build_emovo(tmp_path, ["dis-f1-b1.wav", "gio-f1-l2.wav", "pau-m2-n5.wav", "rab-m3-d1.wav",
                                  "sor-f3-b3.wav", "tri-m1-l4.wav", "neu-f2-n1.wav", "xyz-f2-n1.wav"])
    corpus = EMOVO(str(root))
    utts = {u.id: u for u in corpus.utterances()}
    assert {k: u.labels["emotion"] for k, u in utts.items()} == {
        "dis-f1-b1": "disgust", "gio-f1-l2": "happiness", "pau-m2-n5": "fear", "rab-m3-d1": "anger",
        "sor-f3-b3": "surprise", "tri-m1-l4": "sadness", "neu-f2-n1": "neutral"}
    assert utts["pau-m2-n5"].speaker == "m2" and utts["pau-m2-n5"].meta == {"gender": "male", "sentence": "n5"}
    assert "1 wav files not named emo-speaker-sentence (first: xyz-f2-n1.wav)" in corpus.report
    assert "found 7 files where the full corpus has 588" in corpus.report


def test_no_speaker_folders(tmp_path):
    with pytest.raises(SertkError, match="emovo: no <speaker>/\\*.wav files"):
        EMOVO(str(tmp_path)).utterances()

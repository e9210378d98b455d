"""SEWA (AVEC 2017 layout) loader: contours every 100 ms, turn transcriptions, path patterns."""
import numpy as np
import pytest

from sertk.corpora.sewa import SEWA
from sertk.errors import SertkError
from tests.fakes.avec import build_sewa

RECORDINGS = {"Train_01": 40, "Train_02": 30, "Devel_01": 25, "Test_01": 20}


def test_default_layout(tmp_path):
    written = build_sewa(tmp_path, RECORDINGS)
    corpus = SEWA(str(tmp_path))
    utts = {u.id: u for u in corpus.utterances()}
    assert sorted(utts) == ["Devel_01", "Train_01", "Train_02"]
    train = utts["Train_01"]
    assert train.partition == "train" and utts["Devel_01"].partition == "devel"
    assert sorted(train.contours) == ["arousal", "liking", "valence"]
    np.testing.assert_allclose(train.contours["arousal"].times, np.arange(40) * 0.1, atol=1e-9)
    for column, dim in enumerate(("arousal", "valence", "liking")):
        np.testing.assert_allclose(train.contours[dim].values, written["Train_01"][:, column], atol=1e-6)
    assert train.transcript == "Hallo Train_01 das ist; gut"
    assert [(t.start, t.end, t.text) for t in train.meta["turns"]] == [(0.0, 1.2, "Hallo Train_01"),
                                                                     (1.5, 2.4, "das ist; gut")]
    assert "1 test recordings" in corpus.report and "no problems found" in corpus.report


def test_custom_patterns_dimensions_and_delay(tmp_path):
    build_sewa(tmp_path, {"Train_DE_01": 30}, audio="wav/{id}_audio.wav", labels="gs/{id}.csv",
               transcriptions="text/{id}.csv")
    corpus = SEWA(str(tmp_path), audio="wav/{id}_audio.wav", labels="gs/{id}.csv", transcriptions=None,
                  dimensions=["arousal", "valence"], delay_s=0.5)
    (utt,) = corpus.utterances()
    assert utt.id == "Train_DE_01" and utt.transcript is None and sorted(utt.contours) == ["arousal", "valence"]
    plain = SEWA(str(tmp_path), audio="wav/{id}_audio.wav", labels="gs/{id}.csv", transcriptions=None)
    original = plain.utterances()[0].contours["arousal"].values
    np.testing.assert_allclose(utt.contours["arousal"].values[:-5], original[5:])


def test_problems_are_reported(tmp_path):
    build_sewa(tmp_path, {"Train_01": 10, "Train_02": 10})
    (tmp_path / "labels" / "Train_02.csv").unlink()
    with open(tmp_path / "labels" / "Train_01.csv", "a") as handle:
        handle.write("Train_01;x;1;2;3\nTrain_01;1.1;1\n")
    corpus = SEWA(str(tmp_path))
    assert [u.id for u in corpus.utterances()] == ["Train_01"]
    assert "1 recordings without label file" in corpus.report
    assert "1 unparsable label lines (first: Train_01.csv:11)" in corpus.report
    assert "1 label lines with missing dimensions (first: Train_01.csv:12)" in corpus.report


def test_patterns_need_id_and_audio_must_exist(tmp_path):
    with pytest.raises(ValueError, match="must contain \\{id\\}"):
        SEWA(str(tmp_path), labels="labels/all.csv")
    with pytest.raises(SertkError, match="sewa: no audio matching .*audio/\\*.wav"):
        SEWA(str(tmp_path)).utterances()


def test_words_split_from_turns_in_proportion_to_characters(tmp_path):
    build_sewa(tmp_path, {"Train_01": 30})
    (utt,) = SEWA(str(tmp_path)).utterances()
    # "Hallo Train_01" over 0.0-1.2 s: 5 and 8 characters; "das ist; gut" over 1.5-2.4 s: 3, 4 and 3
    expected = [(0.0, 1.2 * 5 / 13, "Hallo"), (1.2 * 5 / 13, 1.2, "Train_01"), (1.5, 1.5 + 0.9 * 0.3, "das"),
                (1.5 + 0.9 * 0.3, 1.5 + 0.9 * 0.7, "ist;"), (1.5 + 0.9 * 0.7, 2.4, "gut")]
    assert [w.text for w in utt.words] == [e[2] for e in expected]
    np.testing.assert_allclose([(w.start, w.end) for w in utt.words], [e[:2] for e in expected], atol=1e-9)


def test_quoted_turns_and_word_timing_files(tmp_path):
    build_sewa(tmp_path, {"Train_01": 30})
    (tmp_path / "transcriptions" / "Train_01.csv").write_text("0.5;1.5;'ja genau'\n2.0;3.0;\"so\"\n")
    (tmp_path / "words").mkdir()
    (tmp_path / "words" / "Train_01.csv").write_text("start;end;word\n0.52;0.8;ja\n0.9;1.4;genau\nx;1;2\n")
    (utt,) = SEWA(str(tmp_path)).utterances()
    assert [t.text for t in utt.meta["turns"]] == ["ja genau", "so"] and utt.transcript == "ja genau so"
    assert [w.text for w in utt.words] == ["ja", "genau", "so"]  # 2 and 5 characters over 0.5-1.5 s
    np.testing.assert_allclose([(w.start, w.end) for w in utt.words], [(0.5, 0.5 + 2 / 7), (0.5 + 2 / 7, 1.5),
                                                                       (2.0, 3.0)], atol=1e-9)
    corpus = SEWA(str(tmp_path), words="words/{id}.csv")
    (timed,) = corpus.utterances()
    assert [(w.start, w.end, w.text) for w in timed.words] == [(0.52, 0.8, "ja"), (0.9, 1.4, "genau")]
    assert "1 unparsable word timing lines (first: Train_01.csv:4)" in corpus.report
    with pytest.raises(ValueError, match="words pattern .* must contain"):
        SEWA(str(tmp_path), words="words.csv")

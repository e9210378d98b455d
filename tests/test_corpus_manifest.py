"""The manifest and transcribed_manifest corpora on generated CSV files."""
import pytest

from sertk.corpora.manifest import Manifest, TranscribedManifest
from sertk.errors import SertkError
from tests.fakes import write_text, write_tone


@pytest.fixture
def data(tmp_path):
    for name in ("a.wav", "b.wav", "sub/c.wav", "d.wav"):
        write_tone(tmp_path / "audio" / name, seconds=0.1)
    return tmp_path


def test_columns_paths_dimensions(data):
    write_text(data / "manifest.csv", "path,speaker,emotion,group,partition,arousal,text\n"
                                      "audio/a.wav,s1,angry,g1,train,0.8,hello there\n"
                                      "audio/sub/c.wav,s2,sad,,test,-0.5,bye\n"
                                      "audio/missing.wav,s2,sad,,test,0.1,x\n"
                                      "audio/b.wav,,sad,,,0.1,x\n"
                                      "audio/d.wav,s3,sad,,,high,x\n")
    corpus = Manifest(str(data), dimensions=["arousal"], text_column="text",
                      vocabulary={"angry": "anger", "sad": "sadness"})
    utts = {u.id: u for u in corpus.utterances()}
    assert sorted(utts) == ["audio/a", "audio/sub/c"]
    a = utts["audio/a"]
    assert (a.speaker, a.group, a.partition, a.transcript) == ("s1", "g1", "train", "hello there")
    assert a.labels == {"emotion": "anger", "arousal": 0.8} and a.path == str((data / "audio/a.wav").resolve())
    assert utts["audio/sub/c"].group is None and utts["audio/sub/c"].labels["emotion"] == "sadness"
    assert corpus.vocabulary == {"angry": "anger", "sad": "sadness"}
    report = corpus.report
    assert "1 rows without audio (first: manifest.csv:4 'audio/missing.wav')" in report
    assert "1 rows without speaker" in report and "1 rows with missing, non-numeric or non-finite dimensions" in report


def test_csv_path_semicolons_ids_and_unmapped_labels(data):
    path = write_text(data / "lists" / "mine.csv", "id;path;speaker;emotion\nx1;../audio/a.wav;s1;joy\n"
                                                  "x1;../audio/b.wav;s1;joy\n")
    corpus = Manifest(str(path))
    (utt,) = corpus.utterances()
    assert (utt.id, utt.labels) == ("x1", {"emotion": "joy"})
    assert "1 duplicate ids" in corpus.report


def test_missing_columns_and_files(data):
    write_text(data / "manifest.csv", "path,speaker\naudio/a.wav,s1\n")
    with pytest.raises(SertkError, match="lacks the columns \\['emotion'\\]"):
        Manifest(str(data)).utterances()
    assert len(Manifest(str(data), label_column=None).utterances()) == 1
    with pytest.raises(SertkError, match="manifest: no manifest at .*nothing.csv; set corpus.params.root"):
        Manifest(str(data / "nothing.csv")).utterances()


def test_transcribed_manifest(data):
    write_text(data / "asr.csv", "path,text\naudio/a.wav,HELLO WORLD\naudio/b.wav,\n")
    corpus = TranscribedManifest(str(data / "asr.csv"))
    (utt,) = corpus.utterances()
    assert (utt.transcript, utt.speaker, utt.labels) == ("HELLO WORLD", "unknown", {})
    assert "1 rows without text" in corpus.report

"""corpus_summary / format_summary on generated utterances."""
import numpy as np

from sertk.corpora.info import corpus_summary, format_summary, summary_rows
from sertk.interfaces import Contour, Utterance
from tests.fakes import write_tone


def test_counts_dimensions_and_durations(tmp_path):
    a = write_tone(tmp_path / "a.wav", seconds=0.5, sample_rate=8000)
    b = write_tone(tmp_path / "b.flac", seconds=0.25, sample_rate=16000)
    contour = Contour(np.arange(3) * 0.1, np.zeros(3))
    utts = [Utterance("a", "s1", path=str(a), partition="train",
                      labels={"emotion": "anger", "arousal": 1.0, "role": "caller"}),
            Utterance("b", "s2", path=str(b), partition="test", group="g",
                      labels={"emotion": "sadness", "arousal": 3.0}, contours={"valence": contour}, transcript="hi"),
            Utterance("c", "s2", audio=np.zeros(4000, np.float32), sample_rate=16000, labels={"emotion": "anger"}),
            Utterance("d", "s3", path=str(tmp_path / "missing.wav"))]
    summary = corpus_summary(utts)
    assert summary["utterances"] == 4 and summary["speakers"] == 3
    assert summary["classes"] == 2 and summary["per_class"] == {"anger": 2, "sadness": 1}
    assert summary["categorical"] == {"emotion": {"anger": 2, "sadness": 1}, "role": {"caller": 1}}
    assert corpus_summary(utts, key="role")["per_class"] == {"caller": 1}
    assert summary["dimensions"] == {"arousal": {"mean": 2.0, "min": 1.0, "max": 3.0}}
    assert summary["contours"] == ["valence"] and summary["transcribed"] == 1
    assert summary["per_speaker"] == {"s1": 1, "s2": 2, "s3": 1}
    assert summary["per_partition"] == {"test": 1, "train": 1} and summary["per_group"] == {"g": 1}
    assert abs(summary["duration_s"] - 1.0) < 1e-6 and summary["unreadable_audio"] == 1
    assert corpus_summary(utts, key="speaker_role")["classes"] == 0
    rows = dict(summary_rows(summary))
    assert rows["emotion (2 classes)"] == "anger 2, sadness 1"
    assert rows["duration"] == "1.0 s (0:00:01)" and rows["unreadable audio"] == "1"
    text = format_summary(summary)
    assert text.splitlines()[0] == "utterances           4"
    assert "per partition        test 1, train 1" in text


def test_deferred_timings_load_once_on_first_read_and_travel_with_a_copy():
    import pickle

    from sertk.interfaces import Word

    loads = []

    def load(utt):
        loads.append(utt.id)
        utt.words = [Word(0.0, 0.4, "hallo")]
        utt.alignments["phones"] = [Word(0.0, 0.1, "h")]

    utts = [Utterance(i, "s1") for i in "ab"]
    for u in utts:
        u.defer_timings(load)
    assert loads == []
    copy = pickle.loads(pickle.dumps(utts[1]))  # another process gets the timings, not the loader
    assert loads == ["b"] and copy.words == [Word(0.0, 0.4, "hallo")]
    summary = corpus_summary(utts)
    assert loads == ["b", "a"]
    assert summary["word_timed"] == 2 and summary["tiers"] == {"phones": 2}
    assert utts[0].alignments == {"phones": [Word(0.0, 0.1, "h")]} and loads == ["b", "a"]

"""EmoDB loader: a fake wav/ tree, and the real copy in ../shared/corpora/emodb."""
from collections import Counter
from pathlib import Path

import pytest

from sertk.corpora.emodb import EmoDB
from sertk.corpora.info import corpus_summary, format_summary
from sertk.errors import SertkError
from tests.fakes.simple import build_emodb

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "emodb"


def test_fake_tree_names_speakers_labels(tmp_path):
    root = build_emodb(tmp_path, ["03a01Wa.wav", "08b10Tc.wav", "16a05Lb.wav", "10a02Nd.wav",
                                  "11a01Xa.wav", "readme.wav", "notes.txt"])
    corpus = EmoDB(str(root))
    utts = {u.id: u for u in corpus.utterances()}
    assert sorted(utts) == ["03a01Wa", "08b10Tc", "10a02Nd", "16a05Lb"]
    anger = utts["03a01Wa"]
    assert (anger.speaker, anger.labels, anger.corpus) == ("03", {"emotion": "anger"}, "emodb")
    assert anger.meta == {"gender": "male", "text": "a01", "version": "a"}
    assert anger.transcript == "Der Lappen liegt auf dem Eisschrank."
    assert Path(anger.path) == root / "wav" / "03a01Wa.wav"
    assert utts["08b10Tc"].labels["emotion"] == "sadness" and utts["08b10Tc"].meta["gender"] == "female"
    assert utts["16a05Lb"].labels["emotion"] == "boredom"
    report = corpus.report
    assert "1 unknown emotion letters (first: 11a01Xa.wav)" in report
    assert "1 wav files not named SSTTTEV (first: readme.wav)" in report
    assert "found 4 utterances where the full corpus has 535" in report


def test_missing_wav_folder_fails_naming_root(tmp_path):
    with pytest.raises(SertkError, match=r"emodb: wav/ under .* is not a folder; set corpus.params.root to "
                                         r"the EmoDB folder holding wav/"):
        EmoDB(str(tmp_path)).utterances()
    (tmp_path / "wav").mkdir()
    with pytest.raises(SertkError, match=r"emodb: no wav files under .*wav; set corpus.params.root"):
        EmoDB(str(tmp_path)).utterances()


@pytest.mark.emodb
@pytest.mark.skipif(not (REAL / "wav").is_dir(), reason=f"the EmoDB copy is not at {REAL}")
def test_real_emodb_counts():
    corpus = EmoDB(str(REAL))
    utts = corpus.utterances()
    assert len(utts) == 535
    assert len({u.speaker for u in utts}) == 10
    assert Counter(u.labels["emotion"] for u in utts) == {"anger": 127, "boredom": 81, "disgust": 46, "fear": 69,
                                                          "happiness": 71, "neutral": 79, "sadness": 62}
    assert "no problems found" in corpus.report and "found" not in corpus.report.split("no problems found")[1]
    summary = corpus_summary(utts)
    assert summary["duration_s"] == pytest.approx(1070.0, abs=0.5)  # 535 files cut or padded to 2.0 s
    text = format_summary(summary)
    assert "utterances           535" in text and "emotion (7 classes)" in text

"""MSP-Podcast loader on a fake Audios/ + Labels/labels_consensus.csv tree."""
import pytest

from sertk.corpora.msp_podcast import MSPPodcast
from sertk.errors import SertkError
from tests.fakes.simple import build_msp_podcast

ROWS = ["MSP-PODCAST_0001_0008.wav,N,4.2,4.0,4.4,127,Female,Train",
        "MSP-PODCAST_0001_0019.wav,A,5.8,2.0,5.6,127,Female,Development",
        "MSP-PODCAST_0002_0001.wav,X,3.0,3.5,3.0,Unknown,Unknown,Test1",
        "MSP-PODCAST_0002_0002.wav,H,5.0,6.2,4.0,Unknown,Male,Test2",
        "MSP-PODCAST_0003_0001.wav,S,2.0,2.2,3.0,455,Male,Train",
        "MSP-PODCAST_0003_0002.wav,Q,2.0,2.2,3.0,455,Male,Train",
        "MSP-PODCAST_0003_0003.wav,S,n/a,2.2,3.0,455,Male,Train"]
AUDIO = ["MSP-PODCAST_0001_0008.wav", "MSP-PODCAST_0001_0019.wav", "MSP-PODCAST_0002_0001.wav",
         "MSP-PODCAST_0002_0002.wav", "MSP-PODCAST_0003_0002.wav", "MSP-PODCAST_0003_0003.wav"]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return build_msp_podcast(tmp_path_factory.mktemp("msp"), ROWS, AUDIO,
                             {"MSP-PODCAST_0001_0008": "so I said hello"})


def test_labels_partitions_and_problems(root):
    corpus = MSPPodcast(str(root))
    utts = {u.id: u for u in corpus.utterances()}
    assert sorted(utts) == ["MSP-PODCAST_0001_0008", "MSP-PODCAST_0001_0019", "MSP-PODCAST_0002_0002"]
    first = utts["MSP-PODCAST_0001_0008"]
    assert first.labels == {"arousal": 4.2, "valence": 4.0, "dominance": 4.4, "emotion": "neutral"}
    assert (first.speaker, first.partition, first.meta["gender"]) == ("127", "train", "female")
    assert utts["MSP-PODCAST_0002_0002"].speaker == "unknown"
    assert utts["MSP-PODCAST_0001_0019"].partition == "development"
    report = corpus.report
    assert "1 segments without agreement (X)" in report
    assert "1 label rows without audio (first: MSP-PODCAST_0003_0001.wav)" in report
    assert "1 unknown EmoClass codes" in report and "1 unparsable label rows" in report
    assert first.transcript is None


def test_splits_no_agreement_and_transcripts(root):
    corpus = MSPPodcast(str(root), splits=["Train"], keep_no_agreement=True, transcripts=True)
    (utt,) = corpus.utterances()
    assert utt.transcript == "so I said hello"
    kept = MSPPodcast(str(root), splits=["test1"], keep_no_agreement=True).utterances()
    assert [u.labels for u in kept] == [{"arousal": 3.0, "valence": 3.5, "dominance": 3.0}]


def test_missing_label_file(tmp_path):
    (tmp_path / "Audios").mkdir()
    with pytest.raises(SertkError, match="msp_podcast: no label file .*labels_consensus.csv"):
        MSPPodcast(str(tmp_path)).utterances()

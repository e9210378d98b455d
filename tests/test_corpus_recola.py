"""RECOLA (AVEC 2016 layout) loader: ARFF gold standard, partitions, annotation-delay shift."""
import numpy as np
import pytest

from sertk.corpora.arff import ArffError, read_arff
from sertk.corpora.recola import RECOLA
from sertk.errors import SertkError
from tests.fakes.avec import build_recola

RECORDINGS = {"train_1": 250, "train_2": 200, "dev_1": 150, "test_1": 100}


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("avec2016")
    written = build_recola(root, RECORDINGS, missing_gold=("test_1", "train_2"))
    return root, written


def test_contours_and_partitions(tree):
    root, written = tree
    corpus = RECOLA(str(root))
    utts = {u.id: u for u in corpus.utterances()}
    assert sorted(utts) == ["dev_1", "train_1"]
    train = utts["train_1"]
    assert (train.partition, train.speaker, train.labels) == ("train", "train_1", {})
    np.testing.assert_allclose(train.contours["arousal"].values, written[("arousal", "train_1")], atol=1e-6)
    np.testing.assert_allclose(train.contours["valence"].times, np.arange(250) * 0.04, atol=1e-9)
    assert utts["dev_1"].partition == "dev"
    assert "recordings without gold standard" in corpus.report  # train_2
    assert "found 2 train recordings where the full corpus has 9" in corpus.report


def test_delay_shift_moves_labels_back(tree):
    root, written = tree
    shifted = {u.id: u for u in RECOLA(str(root), delay_s=0.4).utterances()}["train_1"].contours["arousal"]
    original = written[("arousal", "train_1")]
    steps = 10  # 0.4 s at 40 ms
    np.testing.assert_allclose(shifted.times, np.arange(250) * 0.04, atol=1e-9)
    np.testing.assert_allclose(shifted.values[:-steps], original[steps:], atol=1e-6)
    np.testing.assert_allclose(shifted.values[-steps:], np.repeat(original[-1], steps), atol=1e-6)


def test_options_are_validated(tree):
    root, _ = tree
    with pytest.raises(ValueError, match="partitions"):
        RECOLA(str(root), partitions=["validation"])
    with pytest.raises(ValueError, match="delay_s"):
        RECOLA(str(root), delay_s=-1.0)
    only_dev = RECOLA(str(root), partitions=["dev"]).utterances()
    assert [u.id for u in only_dev] == ["dev_1"]


def test_missing_layout(tmp_path):
    with pytest.raises(SertkError, match="recola: recordings_audio/ under .* is not a folder"):
        RECOLA(str(tmp_path)).utterances()


def test_read_arff_columns_and_errors(tmp_path):
    path = tmp_path / "x.arff"
    path.write_text("@relation r\n@attribute name string\n@attribute frameTime numeric\n@attribute g numeric\n"
                    "@data\n'a b',0.0,1.5\n'a b',0.04,-2\n")
    columns = read_arff(path)
    assert list(columns["name"]) == ["a b", "a b"]
    np.testing.assert_array_equal(columns["g"], [1.5, -2.0])
    path.write_text("@relation r\n@attribute g numeric\n@data\n1,2\n")
    with pytest.raises(ArffError, match="2 values where 1 attributes"):
        read_arff(path)
    path.write_text("@relation r\n@attribute g numeric\n@data\nabc\n")
    with pytest.raises(ArffError, match="non-numeric"):
        read_arff(path)

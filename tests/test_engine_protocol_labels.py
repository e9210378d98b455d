"""Honest protocol labels: speaker-independent or not, and what is transductive, from the
resolved recipe; recorded in metrics.json and printed under the results table."""
import json
import pathlib

import pytest
from click.testing import CliRunner

from sertk.cli import _load, main
from sertk.engine.protocol_labels import fused_labels, label_line, protocol_labels, short_label

DEMO = str(pathlib.Path(__file__).resolve().parents[1] / "recipes" / "demo.yaml")
TINY = ["--set", "corpus.params.n_speakers=3", "--set", "corpus.params.n_per_class=3", "--set", "train.epochs=2",
        "--set", "data.workers=1", "--set", "features=[{name: mfcc}]"]


@pytest.fixture(scope="module")
def registry():
    return _load()[1]


def recipe(normalize=None, protocol="loso", strategy="supervised", feature="mfcc"):
    return {"protocol": {"name": protocol, "params": {}}, "strategy": {"name": strategy, "params": {}},
            "features": [{"name": "pitch", "params": {}, "key": None, "normalize": None},
                         {"name": feature, "params": {}, "key": None, "normalize": normalize}]}


def test_plain_loso_is_speaker_independent_and_inductive(registry):
    labels = protocol_labels(recipe(), registry)
    assert labels == {"name": "loso", "speaker_independent": True, "transductive": []}
    assert label_line(labels) == "protocol loso: speaker-independent; not transductive"
    assert short_label(labels) == "speaker-indep."


def test_speaker_normalisation_is_transductive(registry):
    labels = protocol_labels(recipe(normalize="speaker"), registry)
    assert labels["transductive"] == ["features.1 (mfcc): speaker-level normalisation uses each test speaker's "
                                      "unlabelled audio"]
    assert label_line(labels).startswith("protocol loso: speaker-independent; transductive (features.1 (mfcc)")
    assert short_label(labels) == "speaker-indep., transductive"
    assert protocol_labels(recipe(normalize="standard"), registry)["transductive"] == []


def test_random_split_is_not_speaker_independent(registry):
    labels = protocol_labels(recipe(protocol="random"), registry)
    assert labels["speaker_independent"] is False
    assert "NOT speaker-independent" in label_line(labels) and short_label(labels) == "speaker-dependent"


@pytest.mark.parametrize("strategy", ["cca_align", "sae_transfer"])
def test_strategies_fitted_on_test_features_are_transductive(registry, strategy):
    if strategy not in registry.names("strategies"):
        pytest.skip("the mixedemotions plugin is not installed")
    reasons = protocol_labels(recipe(strategy=strategy, protocol="cross_corpus"), registry)["transductive"]
    assert len(reasons) == 1 and reasons[0].startswith(f"strategy {strategy}: transductive")


def test_a_fusion_is_transductive_when_a_member_is():
    plain = {"name": "loso", "speaker_independent": True, "transductive": []}
    norm = {"name": "loso", "speaker_independent": True, "transductive": ["features.0 (mfcc): speaker-level"]}
    assert fused_labels([plain, plain], ["a", "b"]) == plain
    assert fused_labels([plain, norm], ["a", "b"]) == {"name": "loso", "speaker_independent": True,
                                                        "transductive": ["b: features.0 (mfcc): speaker-level"]}
    random = {"name": "random", "speaker_independent": False, "transductive": []}
    assert fused_labels([plain, random], ["a", "b"])["speaker_independent"] is False
    assert fused_labels([plain, None], ["a", "b"]) is None


def test_a_run_records_and_prints_its_labels(tmp_path, monkeypatch):
    monkeypatch.setenv("SERTK_CACHE", str(tmp_path / "cache"))
    result = CliRunner().invoke(main, ["run", DEMO, "--out", str(tmp_path), "--set", "output.name=norm", *TINY,
                                       "--set", "features.0.normalize=speaker"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "norm" / "metrics.json").read_text())
    assert metrics["protocol"] == {"name": "loso", "speaker_independent": True, "transductive": [
        "features.0 (mfcc): speaker-level normalisation uses each test speaker's unlabelled audio"]}
    assert "protocol loso: speaker-independent; transductive (features.0 (mfcc)" in result.output
    assert set(metrics) >= {"folds", "heads", "validation_score"}  # the existing keys stay
    assert "<b>transductive</b>" in (tmp_path / "norm" / "report.html").read_text()

"""The time-continuous path end to end on a generated corpus of varied-length
recordings whose contour is their loudness: masks through predictions, scores
and reports, label frames at their own rate, strategies with unlabelled audio,
repeats."""
import csv
import json

import numpy as np
import pytest

from sertk import Strategy, hookimpl
from sertk.engine.run import run_recipe
from sertk.plugins import load_plugins
from sertk.recipe import parse_recipe
from sertk.registry import Registry
from tests.fakes.loudness import Loudness, LoudnessPlugin

RATE = Loudness.rate  # label frames (25/s) are slower than the 100-Hz feature frames
SEEN = {}


class Recorder(Strategy):
    """Supervised training that records which unlabelled utterances it was offered."""

    name = "recorder"

    def fit(self, session):
        SEEN[session.fold.name] = {session.data.utterances[session.data.extracted.segments[i].utt_index].speaker
                                   for i in session.unlabelled.segments}
        model = session.new_model()
        session.fit(model)
        return model


class Plugin(LoudnessPlugin):
    @hookimpl
    def sertk_register_strategies(self, register):
        register(Recorder)


@pytest.fixture
def registry():
    loaded = load_plugins(entry_points=False)
    loaded.pm.register(Plugin(), name="loudness-test")
    return Registry.from_plugins(loaded)


def recipe(registry, augment=(), **train):
    return parse_recipe({"augment": list(augment),
        "corpus": "loudness", "data": {"sample_rate": RATE, "segment": {"policy": "whole"}, "cache": False},
        "features": [{"name": "frame_level", "normalize": "standard"}],
        "model": {"name": "blstm", "params": {"hidden": 16, "layers": 1, "targets": ["arousal"]}},
        "loss": "ccc", "strategy": "recorder",
        "train": {"epochs": 25, "batch_size": 8, "optimizer": {"name": "adam", "lr": 0.01}, "device": "cpu",
                  "threads": 1, "select": "last", **train},
        "protocol": {"name": "speakers", "params": {"test_speakers": ["s3"]}}, "metrics": ["ccc", "pearson", "rmse"],
    }, "loudness.yaml", registry)


def test_variable_length_contours_train_score_and_report(registry, tmp_path):
    result = run_recipe(recipe(registry), registry, out_dir=str(tmp_path))
    head = result.metrics["heads"]["arousal"]
    assert head["level"] == "frame" and head["recordings"] == 8
    assert head["pooled"]["ccc"] > 0.6, head["pooled"]
    assert set(head["per_recording"]) == {"ccc", "pearson", "rmse"}
    assert head["ci95"]["ccc"][0] <= head["pooled"]["ccc"] <= head["ci95"]["ccc"][1]
    with open(result.dir / "frames.csv") as f:
        rows = list(csv.DictReader(f))
    per_id = {}
    for row in rows:
        per_id.setdefault(row["id"], []).append(float(row["time"]))
    utts = {u.id: u for u in Loudness().utterances()}
    for uid, times in per_id.items():  # every label frame of the recording, at the label rate
        np.testing.assert_allclose(times, utts[uid].contours["arousal"].times, atol=1e-3)
    assert len(rows) == head["n"]
    assert (result.dir / "contours_arousal.png").stat().st_size > 0
    # unlabelled audio (speaker s4) reaches the strategy; the test speaker's never does
    assert SEEN == {"speakers-s3": {"s4"}}


def test_repeats_rerun_every_fold_with_new_seeds(registry, tmp_path):
    result = run_recipe(recipe(registry, repeats=2, epochs=2), registry, out_dir=str(tmp_path))
    assert result.metrics["folds"] == ["speakers-s3@r1", "speakers-s3@r2"]
    repeats = result.metrics["heads"]["arousal"]["over_repeats"]["ccc"]
    assert len(repeats["values"]) == 2 and repeats["values"][0] != repeats["values"][1]
    assert (result.dir / "folds" / "speakers-s3@r2" / "model.pt").is_file()
    saved = json.loads((result.dir / "metrics.json").read_text())
    assert saved["heads"]["arousal"]["over_repeats"]["ccc"]["mean"] == pytest.approx(np.mean(repeats["values"]))


def test_augmentation_changes_training_audio_only(registry, tmp_path, monkeypatch):
    from sertk.builtins.augmentations import Gain

    calls = []
    original = Gain.__call__

    def counted(self, signal, sample_rate, rng):
        calls.append(len(signal))
        return original(self, signal, sample_rate, rng)
    monkeypatch.setattr(Gain, "__call__", counted)
    result = run_recipe(recipe(registry, augment=[{"name": "gain", "params": {"db": [-12, 12]}}], epochs=2),
                        registry, out_dir=str(tmp_path))
    folds = json.loads((result.dir / "folds.json").read_text())["speakers-s3"]
    assert len(calls) == 2 * len(folds["train"])  # every training recording once per epoch, nothing else
    assert np.isfinite(result.metrics["heads"]["arousal"]["pooled"]["ccc"])

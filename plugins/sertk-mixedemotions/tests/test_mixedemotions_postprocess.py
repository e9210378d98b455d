"""The post-processing chain (D4.2 §4.5.2, §5.3): the steps by hand, recovery of a known label
delay, development CCC never lowered; and the analyzer on a finished run whose per-frame model
cannot know the raters' lag."""
import csv
import json

import numpy as np
import pytest

from sertk import SertkError
from sertk_mixedemotions.postprocess import (STEPS, Chain, PostProcess, delayed, median_filter, odd_frames,
                                             pooled_ccc, tune_chain)
from sertk_mixedemotions.svr import ccc
from sertk_mixedemotions.tracks import Track

RATE = 25.0


def smooth_curve(rng, n, knots=0.8):
    """A smooth random curve of n frames (knots every ``knots`` s at 25 frames/s)."""
    at = np.arange(0, n / RATE + knots, knots)
    return np.interp(np.arange(n) / RATE, at, rng.normal(size=len(at)))


def lagged_tracks(seed, delay, n_tracks=4, noise=0.3, offset=0.4, scale=0.5):
    """Gold = cue ``delay`` frames later; predictions = an offset, shrunken, noisy copy of the cue."""
    rng = np.random.default_rng(seed)
    tracks = []
    for r in range(n_tracks):
        n = int(rng.integers(300, 500))
        cue = smooth_curve(rng, n + delay)
        gold = cue[:n]
        pred = offset + scale * cue[delay:delay + n] + noise * rng.normal(size=n)
        tracks.append(Track(f"r{r}", np.arange(n) / RATE, gold, pred))
    return tracks


def test_steps_by_hand():
    assert median_filter(np.array([0.0, 9.0, 0.0, 1.0, 2.0]), 3).tolist() == [0.0, 0.0, 1.0, 1.0, 2.0]
    assert delayed(np.array([1.0, 2.0, 3.0, 4.0]), 2).tolist() == [1.0, 1.0, 1.0, 2.0]
    assert delayed(np.array([1.0, 2.0]), 5).tolist() == [1.0, 1.0] and odd_frames(0.4, RATE) == 11
    chain = Chain(RATE, bias=1.0, scale=2.0, scale_centre=0.0, shift_frames=1)
    track = Track("r", np.arange(3) / RATE, np.zeros(3), np.array([0.0, 1.0, 2.0]))
    assert chain.apply([track])[0].pred.tolist() == [2.0, 2.0, 4.0]
    assert chain.to_dict()["kept"] == ["centre", "scale", "shift"] and chain.to_dict()["shift_s"] == 0.04
    assert Chain(RATE, median_frames=11).to_dict() | {"rate": 0} == {
        "rate": 0, "median_frames": 11, "bias": None, "scale": None, "scale_centre": None, "shift_frames": None,
        "median_s": 0.44, "shift_s": None, "kept": ["median"]}


@pytest.mark.parametrize("delay", [0, 7, 25, 60])
def test_the_chain_recovers_a_known_label_delay(delay):
    dev, test = lagged_tracks(delay, delay), lagged_tracks(100 + delay, delay)
    chain, log = tune_chain(dev, RATE)
    assert abs((chain.shift_frames or 0) - delay) <= 1, (chain, log)
    assert pooled_ccc(chain.apply(dev)) >= pooled_ccc(dev)
    assert pooled_ccc(chain.apply(test)) > pooled_ccc(test)  # applied unchanged to unseen recordings
    assert chain.bias is not None and chain.scale is not None  # the offset and the shrinkage are corrected
    assert [row["step"] for row in log] == list(STEPS)
    assert [row["step"] for row in log if row["kept"]] == chain.to_dict()["kept"]


@pytest.mark.parametrize("seed", range(6))
def test_development_ccc_never_falls(seed):
    rng = np.random.default_rng(seed)
    dev = [Track(f"r{r}", np.arange(n) / RATE, rng.normal(size=n), rng.normal(size=n) * rng.uniform(0.1, 3))
           for r, n in enumerate(rng.integers(5, 200, size=3))]
    chain, log = tune_chain(dev, RATE)
    before, after = pooled_ccc(dev), pooled_ccc(chain.apply(dev))
    assert after >= before
    for row in log:  # a step is kept exactly when the chain without it scores lower
        assert row["kept"] == (row["dev_ccc_with"] > row["dev_ccc_without"] + 1e-12)
        if row["kept"]:  # the closed-form score is the CCC of the chain as applied
            assert row["dev_ccc_with"] == pytest.approx(after, abs=1e-9)
    # a perfect prediction is left alone
    perfect = [Track("p", np.arange(50) / RATE, np.sin(np.arange(50) / 5), np.sin(np.arange(50) / 5))]
    assert tune_chain(perfect, RATE)[0].to_dict()["kept"] == []


def test_no_development_frames_is_an_error():
    with pytest.raises(SertkError, match="development predictions"):
        tune_chain([], RATE)
    with pytest.raises(ValueError, match="steps must be among"):
        PostProcess(steps=["smooth"])


# ----------------------------------------------------------------- on a finished run
@pytest.fixture(scope="module")
def lagged_run(registry, tmp_path_factory):
    """A per-frame linear model (fitted as a linear SVR) on MFCCs of the synthetic corpus, rated
    with a 1-s lag: a model without memory predicts the cues, so the lag is left to post-processing."""
    from sertk import TrainedRun
    from sertk.engine.run import run_recipe
    from sertk.recipe import parse_recipe

    tmp = tmp_path_factory.mktemp("lagged")
    recipe = parse_recipe({
        "corpus": {"name": "synthetic_continuous", "params": {
            "n_speakers": 4, "n_per_speaker": 5, "min_seconds": 5.0, "max_seconds": 7.0, "lag_s": 1.0,
            "cache_dir": str(tmp / "corpus")}},
        "data": {"sample_rate": 16000, "cache": False},
        "features": [{"name": "mfcc", "params": {"n_mfcc": 13, "hop_ms": 40.0, "win_ms": 40.0},
                      "normalize": "speaker"}],
        "model": {"name": "frame_linear", "params": {"targets": ["arousal"]}},
        "strategy": {"name": "svr_grid", "params": {"complexities": [0.01, 1.0]}},
        "protocol": {"name": "partition", "params": {"train": "train", "validation": "dev", "test": "test"}},
        "metrics": ["ccc"], "train": {"device": "cpu", "threads": 1},
    }, "lagged.yaml", registry)
    return TrainedRun(run_recipe(recipe, registry, out_dir=str(tmp / "runs")).dir, registry)


def test_analyzer_finds_the_raters_lag_and_writes_its_configuration(lagged_run):
    summary = lagged_run.analyze({"name": "postprocess", "params": {"max_shift_s": 2.0}})
    out = lagged_run.dir / "analysis" / "postprocess"
    fold = lagged_run.folds[0]
    config = json.loads((out / "postprocess.json").read_text())[fold]["arousal"]
    assert "shift" in config["kept"] and abs(config["shift_s"] - 1.0) <= 0.04 + 1e-9, config
    result = summary["folds"][fold]["arousal"]
    assert result["dev_ccc"] >= result["dev_ccc_raw"]
    assert result["test_ccc"] > result["test_ccc_raw"]
    with open(out / "frames.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert set(rows[0]) == {"fold", "id", "head", "time", "true", "pred_raw", "pred"}
    assert pytest.approx(summary["pooled"]["arousal"]["test_ccc"], abs=1e-4) == ccc(
        np.array([float(r["true"]) for r in rows]), np.array([float(r["pred"]) for r in rows]))
    # the raw predictions are the run's own test predictions (frames.csv of the run)
    with open(lagged_run.dir / "frames.csv") as fh:
        engine = {(r["id"], r["time"]): float(r["pred"]) for r in csv.DictReader(fh)}
    assert all(engine[(r["id"], r["time"])] == pytest.approx(float(r["pred_raw"]), abs=1e-4) for r in rows)
    steps = list(csv.DictReader(open(out / "steps.csv")))
    assert [s["step"] for s in steps] == list(STEPS)
    assert (out / "postprocess_arousal.png").read_bytes()[:4] == b"\x89PNG"

"""Train a tiny recogniser with CTC through `sertk run`, then reuse it in an emotion model with
`train.pretrained` + `train.freeze` (Lakomkin et al. 2017, §3.1.1 and §3.1.3): the recogniser's
loss falls, its weights load into every emotion model, and they stay bit-identical (batch-norm
statistics included) while the emotion model trains."""
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml
from click.testing import CliRunner

from sertk import FeatureInfo, LabelSpace
from sertk.cli import main
from sertk_lakomkin.models import DS2ASR, LakomkinMP, LakomkinProgressive, LakomkinRNN

SR = 16000
TONES = {"a": 300.0, "b": 800.0, "c": 1800.0}  # one tone per character
EMOTIONS = {"calm": 0.1, "loud": 0.4}  # amplitude
ASR = {"channels": [2, 2], "hidden": 12, "layers": 5}
SAME_ASR = {"asr_channels": [2, 2], "asr_hidden": 12, "asr_layers": 5}


def write_corpus(root: Path) -> Path:
    """Three speakers, 14 utterances each: a random string of 2-4 characters, each a 120-ms tone
    (speaker-shifted) with 40-ms pauses; the emotion sets the loudness."""
    rng = np.random.default_rng(0)
    rows = ["path,speaker,emotion,text"]
    for s, shift in enumerate((1.0, 1.1, 0.92)):
        for i in range(14):
            text = "".join(rng.choice(list(TONES), size=int(rng.integers(2, 5))))
            emotion = list(EMOTIONS)[i % 2]
            parts = [np.zeros(int(0.05 * SR))]
            for ch in text:
                t = np.arange(int(0.12 * SR)) / SR
                parts += [EMOTIONS[emotion] * np.sin(2 * np.pi * TONES[ch] * shift * t), np.zeros(int(0.04 * SR))]
            audio = np.concatenate(parts) + 0.003 * rng.standard_normal(sum(len(p) for p in parts))
            name = f"s{s}_{i:02d}.wav"
            sf.write(root / name, audio.astype(np.float32), SR, subtype="PCM_16")
            rows.append(f"{name},s{s},{emotion},{text}")
    (root / "manifest.csv").write_text("\n".join(rows) + "\n")
    return root / "manifest.csv"


def run(tmp_path: Path, recipe: dict, name: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(recipe))
    result = CliRunner().invoke(main, ["run", str(path), "--out", str(tmp_path / "runs" / name)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (run_dir,) = (tmp_path / "runs" / name).iterdir()
    return run_dir


def common(manifest: Path, tmp_path: Path) -> dict:
    return {"corpus": {"name": "transcribed_manifest", "params": {"root": str(manifest), "label_column": "emotion"}},
            "data": {"sample_rate": SR, "cache_dir": str(tmp_path / "cache")},
            "protocol": {"name": "speakers", "params": {"test_speakers": ["s2"]}}}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished `ds2_asr` run on the generated corpus (fold speakers-s2)."""
    tmp_path = tmp_path_factory.mktemp("asr")
    manifest = write_corpus(tmp_path)
    recipe = {**common(manifest, tmp_path), "features": [{"name": "power_spectrogram"}],
              "model": {"name": "ds2_asr", "params": {"target": "transcript", **ASR}}, "loss": "ctc",
              "train": {"epochs": 8, "batch_size": 14, "optimizer": {"name": "adam", "lr": 0.01}, "clip_norm": 5.0,
                        "select": "last", "validation": {"policy": "none"}, "sortagrad": True,
                        "schedule": {"name": "exponential", "gamma": 0.9090909}, "threads": 1, "device": "cpu"},
              "metrics": ["cer"]}
    return tmp_path, manifest, run(tmp_path, recipe, "asr")


def test_ctc_recogniser_learns_the_generated_transcripts(trained):
    _, _, run_dir = trained
    history = json.loads((run_dir / "history.json").read_text())
    fold = history["speakers-s2"]
    losses = [epoch["transcript"] for epoch in fold["train_loss"]]
    assert len(losses) == 8
    assert losses[-1] < 0.6 * losses[0], losses
    lrs = fold["lr"]
    assert lrs[1] == pytest.approx(lrs[0] / 1.1, rel=1e-5)  # the paper's annealing, lr / 1.1 per epoch
    assert (run_dir / "folds" / "speakers-s2" / "model.pt").is_file()
    cer = json.loads((run_dir / "metrics.json").read_text())["heads"]["transcript"]["pooled"]["cer"]
    assert cer < 0.9  # an output of blanks only scores 1.0


@pytest.mark.parametrize("cls, extra", [(LakomkinMP, {}), (LakomkinRNN, {"units": 4}),
                                        (LakomkinProgressive, {"units": 4})], ids=lambda v: getattr(v, "name", ""))
def test_a_trained_recogniser_state_dict_loads_into_every_emotion_model(trained, cls, extra):
    _, _, run_dir = trained
    state = torch.load(run_dir / "folds" / "speakers-s2" / "model.pt", weights_only=True)
    asr = {k[len("asr."):]: v for k, v in state.items() if k.startswith("asr.")}
    assert any("running_mean" in k for k in asr) and any(k.startswith("rnn.4.") for k in asr)
    inputs = {"power_spectrogram": FeatureInfo("power_spectrogram", 161, "frame", 100.0),
              "mfcc_pitch": FeatureInfo("mfcc_pitch", 27, "frame", 100.0)}
    model = cls(inputs, LabelSpace(classes={"emotion": tuple(EMOTIONS)}), layer=3, **SAME_ASR, **extra)
    model.asr.load_state_dict(asr, strict=True)
    for key, value in model.asr.state_dict().items():
        assert torch.equal(value, asr[key]), key
    # the emotion model and the recogniser compute the same layers
    recogniser = DS2ASR(inputs, LabelSpace(sequences={"transcript": ("a", "b", "c")}), **ASR)
    recogniser.load_state_dict(state)
    x = {"power_spectrogram": torch.randn(2, 50, 161), "mfcc_pitch": torch.randn(2, 50, 27)}
    with torch.no_grad():
        ours = model.eval().representations(x)
        theirs = recogniser.eval().representations(x)
    assert list(ours) == ["conv", "gru1", "gru2", "gru3"]
    for name in ours:
        assert torch.equal(ours[name][0], theirs[name][0]), name


def test_frozen_recogniser_is_bit_identical_after_emotion_training(trained):
    tmp_path, manifest, asr_run = trained
    recipe = {**common(manifest, tmp_path), "features": [{"name": "power_spectrogram"}, {"name": "mfcc_pitch"}],
              "model": {"name": "lakomkin_progressive", "params": {"layer": 2, "units": 4, **SAME_ASR}},
              "augment": [{"name": "tempo", "params": {"factor": [0.85, 1.15]}},
                          {"name": "gain", "params": {"db": [-3.0, 6.0]}}],
              "train": {"epochs": 3, "batch_size": 8, "optimizer": {"name": "adam", "lr": 0.01}, "clip_norm": 15.0,
                        "select": "loss", "validation": {"policy": "speakers", "speakers": 1}, "sortagrad": True,
                        "pretrained": [{"module": "asr", "source": str(asr_run), "prefix": "asr", "fold": "same"}],
                        "freeze": ["asr"], "threads": 1, "device": "cpu"},
              "metrics": ["ua", "wa"]}
    emotion_run = run(tmp_path, recipe, "progressive")
    before = torch.load(asr_run / "folds" / "speakers-s2" / "model.pt", weights_only=True)
    after = torch.load(emotion_run / "folds" / "speakers-s2" / "model.pt", weights_only=True)
    asr_keys = [k for k in after if k.startswith("asr.")]
    assert len(asr_keys) == len([k for k in before if k.startswith("asr.")])
    assert any("running_var" in k for k in asr_keys) and any("num_batches_tracked" in k for k in asr_keys)
    for key in asr_keys:
        assert torch.equal(after[key], before[key]), key
    # the parts that were not frozen did learn: the branch trained from scratch differs from a fresh one
    torch.manual_seed(0)
    fresh = LakomkinProgressive({"power_spectrogram": FeatureInfo("power_spectrogram", 161, "frame", 100.0),
                                 "mfcc_pitch": FeatureInfo("mfcc_pitch", 27, "frame", 100.0)},
                                LabelSpace(classes={"emotion": tuple(EMOTIONS)}), layer=2, units=4, **SAME_ASR)
    assert fresh.classifier.weight.shape == after["classifier.weight"].shape
    assert not torch.equal(fresh.classifier.weight, after["classifier.weight"])
    metrics = json.loads((emotion_run / "metrics.json").read_text())["heads"]["emotion"]
    assert metrics["n"] == 14

"""`sertk run` of the four IEMOCAP recipes of Lakomkin et al. (2017) on a generated IEMOCAP-layout
tree, shrunk by `--set`: four classes with excitement merged into happiness, turns at least two
evaluators agree on (§3.2.1), all ten leave-one-speaker-out folds; the recogniser comes from a
checkpoint file (weights only) and stays frozen in every fold."""
import csv
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from click.testing import CliRunner

from sertk import FeatureInfo, LabelSpace
from sertk.cli import main
from sertk_lakomkin.models import DS2ASR

RECIPES = Path(__file__).resolve().parents[3] / "recipes"
SR = 16000
# header code, evaluator category, tone frequency; excitement becomes happiness
CLASSES = {"anger": ("ang", "Anger", 300), "happiness": ("hap", "Happiness", 420),
           "excitement": ("exc", "Excited", 480), "neutral": ("neu", "Neutral", 540),
           "sadness": ("sad", "Sadness", 600)}
TINY_ASR = ["model.params.asr_channels=[2,2]", "model.params.asr_hidden=8", "model.params.asr_layers=5"]
# Augmented audio is re-extracted every epoch (most of a run's time here): kept in the mp run only,
# the other three run without (test_lakomkin_transfer.py also trains with the recipes' augmentation).
SHRINK = {
    "baseline": ["model.params.units=4", "augment=[]"],
    "mp": TINY_ASR + ["model.params.layer=2"],
    "rnn": TINY_ASR + ["model.params.layer=1", "model.params.units=4", "augment=[]"],
    "progressive": TINY_ASR + ["model.params.layer=3", "model.params.units=4", "augment=[]"],
}


def turn(root: Path, session: int, dialog: str, utt: str, code: str, categories: list[str], freq: float) -> str:
    t = np.arange(int(0.6 * SR)) / SR
    wav = root / f"Session{session}" / "sentences" / "wav" / dialog / f"{utt}.wav"
    wav.parent.mkdir(parents=True, exist_ok=True)
    noise = 0.003 * np.random.default_rng(len(utt)).standard_normal(t.size)
    audio = 0.3 * np.sin(2 * np.pi * freq * (1 + 0.1 * t) * t) + noise
    sf.write(wav, audio.astype(np.float32), SR, subtype="PCM_16")
    lines = [f"[1.0000 - 1.6000]\t{utt}\t{code}\t[3.0000, 3.0000, 3.0000]"]
    lines += [f"C-E{i + 1}:\t{name};\t()" for i, name in enumerate(categories)]
    return "\n".join(lines) + "\n"


def build_release(root: Path) -> dict[str, int]:
    """Per session and actor: one turn per class on which two of three evaluators agree (kept),
    a turn without two agreeing evaluators and a frustration turn (both left out)."""
    kept = {"anger": 0, "happiness": 0, "neutral": 0, "sadness": 0}
    for session in range(1, 6):
        dialog = f"Ses0{session}F_impro01"
        blocks = []
        for actor in "FM":
            for i, (emotion, (code, name, freq)) in enumerate(CLASSES.items()):
                other = "Neutral" if name != "Neutral" else "Sadness"
                blocks.append(turn(root, session, dialog, f"{dialog}_{actor}{i:03d}", code, [name, other, name], freq))
                kept["happiness" if emotion == "excitement" else emotion] += 1
            blocks.append(turn(root, session, dialog, f"{dialog}_{actor}010", "xxx",
                               ["Anger", "Sadness", "Neutral"], 300))
            blocks.append(turn(root, session, dialog, f"{dialog}_{actor}011", "fru",
                               ["Frustration", "Frustration", "Anger"], 360))
        evaluation = root / f"Session{session}" / "dialog" / "EmoEvaluation" / f"{dialog}.txt"
        evaluation.parent.mkdir(parents=True, exist_ok=True)
        evaluation.write_text("% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n" + "\n".join(blocks))
    return kept


def recogniser_checkpoint(path: Path) -> dict[str, torch.Tensor]:
    """A tiny `ds2_asr` state dict with non-default batch-norm statistics, saved as a weights-only file."""
    torch.manual_seed(3)
    asr = DS2ASR({"power_spectrogram": FeatureInfo("power_spectrogram", 161, "frame", 100.0)},
                 LabelSpace(sequences={"transcript": tuple(" abc")}), channels=[2, 2], hidden=8, layers=5)
    asr.train()
    with torch.no_grad():
        for _ in range(3):
            asr({"power_spectrogram": torch.randn(4, 80, 161) * 2 + 1})
    state = asr.state_dict()
    torch.save(state, path)
    return state


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("iemocap")
    kept = build_release(tmp / "IEMOCAP_full_release")
    return tmp, kept, recogniser_checkpoint(tmp / "asr.pt")


@pytest.mark.slow
@pytest.mark.parametrize("variant", list(SHRINK))
def test_iemocap_recipe_runs_ten_folds_four_classes(release, variant):
    tmp, kept, asr_state = release
    overrides = [f"corpus.params.root={tmp / 'IEMOCAP_full_release'}", f"data.cache_dir={tmp / 'cache'}",
                 "train.repeats=1", "train.epochs=1", "train.threads=1", "train.device=cpu",
                 *SHRINK[variant]]
    if variant != "baseline":
        overrides.append(f"train.pretrained.0.source={tmp / 'asr.pt'}")
    args = ["run", str(RECIPES / f"iemocap_lakomkin_{variant}.yaml"), "--out", str(tmp / "runs" / variant)]
    for item in overrides:
        args += ["--set", item]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (run_dir,) = (tmp / "runs" / variant).iterdir()
    emotion = json.loads((run_dir / "metrics.json").read_text())["heads"]["emotion"]
    assert emotion["n"] == sum(kept.values()) == 50
    assert len(emotion["folds"]) == 10
    assert emotion["classes"] == ["anger", "happiness", "neutral", "sadness"]
    assert {"ua", "wa", "f1"} <= set(emotion["pooled"])
    rows = list(csv.reader((run_dir / "confusion.csv").open()))
    assert [int(r[-1]) for r in rows[1:]] == [kept[c] for c in emotion["classes"]] == [10, 20, 10, 10]
    folds = json.loads((run_dir / "folds.json").read_text())
    for name, parts in folds.items():  # leave one speaker out; the session partner validates (§3.2.1)
        speakers = {part: {u.split("_")[0][:5] + u.rsplit("_", 1)[1][0] for u in ids} for part, ids in parts.items()}
        (test,), (validation,) = speakers["test"], speakers["validation"]
        assert test != validation and test[:5] == validation[:5]
        assert not speakers["test"] & (speakers["train"] | speakers["validation"])
    if variant != "baseline":  # the recogniser is bit-identical in every fold's model
        for model_file in sorted((run_dir / "folds").glob("*/model.pt")):
            state = torch.load(model_file, weights_only=True)
            for key, value in asr_state.items():
                if key.startswith("asr."):
                    assert torch.equal(state[key], value), (model_file.parent.name, key)
    if variant == "mp":  # both analyzers through the command line on the finished run
        for analyzer, files in (("tsne", ["tsne.csv", "tsne_layers.png", "tsne_gru1.png"]),
                                ("loudness_correlation", ["correlations.csv", "top.csv", "r_histogram.png"])):
            result = CliRunner().invoke(main, ["analyze", str(run_dir), analyzer], catch_exceptions=False)
            assert result.exit_code == 0, result.output
            for name in files:
                assert (run_dir / "analysis" / analyzer / name).stat().st_size > 0, (analyzer, name)

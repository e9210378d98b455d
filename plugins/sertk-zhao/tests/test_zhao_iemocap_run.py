"""`sertk run recipes/iemocap_cnn{1,2}d_lstm.yaml` on a generated IEMOCAP-layout tree:
only improvised turns on which every evaluator agrees, in the six classes of
Zhao et al. 2019 §3.5, reach the ten leave-one-speaker-out folds."""
import csv
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from sertk.cli import main

RECIPES = Path(__file__).resolve().parents[3] / "recipes"
SR = 16000
# header code, evaluator category, tone frequency
CLASSES = {"anger": ("ang", "Anger", 300), "excitement": ("exc", "Excited", 360),
           "frustration": ("fru", "Frustration", 420), "happiness": ("hap", "Happiness", 480),
           "neutral": ("neu", "Neutral", 540), "sadness": ("sad", "Sadness", 600)}


def turn(root: Path, session: int, dialog: str, utt: str, code: str, categories: list[str], freq: float) -> str:
    t = np.arange(int(0.8 * SR)) / SR
    wav = root / f"Session{session}" / "sentences" / "wav" / dialog / f"{utt}.wav"
    wav.parent.mkdir(parents=True, exist_ok=True)
    sf.write(wav, (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), SR, subtype="PCM_16")
    lines = [f"[1.0000 - 1.8000]\t{utt}\t{code}\t[3.0000, 3.0000, 3.0000]"]
    lines += [f"C-E{i + 1}:\t{name};\t()" for i, name in enumerate(categories)]
    return "\n".join(lines) + "\n"


def build_release(root: Path) -> int:
    """Per session and actor: one agreed improvised turn per class (kept), one
    disagreed improvised turn and one scripted turn (both left out). Returns the
    number of turns kept."""
    kept = 0
    for session in range(1, 6):
        for dialog in (f"Ses0{session}F_impro01", f"Ses0{session}F_script01_1"):
            blocks = []
            for actor in "FM":
                if "impro" in dialog:
                    for i, (code, name, freq) in enumerate(CLASSES.values()):
                        blocks.append(turn(root, session, dialog, f"{dialog}_{actor}{i:03d}", code, [name] * 3, freq))
                        kept += 1
                    blocks.append(turn(root, session, dialog, f"{dialog}_{actor}010", "ang",
                                       ["Anger", "Anger", "Frustration"], 300))
                else:
                    blocks.append(turn(root, session, dialog, f"{dialog}_{actor}000", "sad", ["Sadness"] * 3, 600))
            evaluation = root / f"Session{session}" / "dialog" / "EmoEvaluation" / f"{dialog}.txt"
            evaluation.parent.mkdir(parents=True, exist_ok=True)
            evaluation.write_text("% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n" + "\n".join(blocks))
    return kept


@pytest.mark.slow
@pytest.mark.parametrize("network", ["cnn2d_lstm", "cnn1d_lstm"])
def test_iemocap_recipe_keeps_prototypical_improvised_six_classes(tmp_path, network):
    kept = build_release(tmp_path / "IEMOCAP_full_release")
    overrides = [f"corpus.params.root={tmp_path / 'IEMOCAP_full_release'}", f"data.cache_dir={tmp_path / 'cache'}",
                 "data.segment.seconds=1.0", "train.epochs=1", "train.batch_size=8",
                 "model.params.filters=[2,2,2,2]", "model.params.lstm_units=4"]
    args = ["run", str(RECIPES / f"iemocap_{network}.yaml"), "--out", str(tmp_path / "runs")]
    for item in overrides:
        args += ["--set", item]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (run_dir,) = (tmp_path / "runs").iterdir()
    emotion = json.loads((run_dir / "metrics.json").read_text())["heads"]["emotion"]
    assert emotion["n"] == kept == 60
    assert len(emotion["folds"]) == 10
    assert sorted(emotion["classes"]) == sorted(CLASSES)
    rows = list(csv.reader((run_dir / "confusion.csv").open()))
    assert rows[0][1:-1] == emotion["classes"] and [int(r[-1]) for r in rows[1:]] == [10] * 6
    # the selection's size is checked against the paper's 1144 turns (a partial tree here)
    counts = json.loads((run_dir / "data.json").read_text())["expected_counts"]
    assert counts == {"utterances": {"expected": 1144, "found": 60, "held": False}}
    assert f"name: {network}" in (run_dir / "recipe.yaml").read_text()

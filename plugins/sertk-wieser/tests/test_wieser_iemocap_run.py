"""`sertk run` of the four IEMOCAP recipes on a generated IEMOCAP-layout tree: all ten
leave-one-speaker-out folds, every 6-s slice scored, Table 5-style results and baselines
for valence and arousal."""
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from sertk.cli import main

RECIPES = Path(__file__).resolve().parents[3] / "recipes"
SR = 16000
# seconds per turn: a short one (zero-padded), one of 9.5 s (two 6-s slices: the 3.5-s rest is kept)
DURATIONS = (1.5, 9.5, 2.5)
SLICES = (1, 2, 1)


def build_release(root: Path) -> dict[str, list[str]]:
    """Five sessions, one dialog each, three turns per actor, E-2 ratings on every turn.
    Returns the rating of every 6-s slice per dimension."""
    rng = np.random.default_rng(0)
    ratings = {"valence": [], "arousal": []}
    for session in range(1, 6):
        dialog = f"Ses0{session}F_impro01"
        blocks = []
        for actor in "FM":
            for i, seconds in enumerate(DURATIONS):
                utt = f"{dialog}_{actor}{i:03d}"
                val, act = rng.integers(1, 6, size=2)
                ratings["valence"] += [str(val)] * SLICES[i]
                ratings["arousal"] += [str(act)] * SLICES[i]
                t = np.arange(int(seconds * SR)) / SR
                audio = (0.1 * act * np.sin(2 * np.pi * (100 + 40 * val) * t)).astype(np.float32)
                wav = root / f"Session{session}" / "sentences" / "wav" / dialog / f"{utt}.wav"
                wav.parent.mkdir(parents=True, exist_ok=True)
                sf.write(wav, audio, SR, subtype="PCM_16")
                blocks.append(f"[{i:.4f} - {i + seconds:.4f}]\t{utt}\tneu\t[{val:.4f}, {act:.4f}, 3.0000]\n"
                              f"C-E2:\tNeutral;\t()\nA-E2:\tval {val}; act {act}; dom  3;\t()\n")
        evaluation = root / f"Session{session}" / "dialog" / "EmoEvaluation" / f"{dialog}.txt"
        evaluation.parent.mkdir(parents=True, exist_ok=True)
        evaluation.write_text("% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n" + "\n".join(blocks))
    return ratings


SMALL_CNN = "{filters: [4, 4, 4], kernels: [16, 4, 4], strides: [16, 1, 1], pools: [4, 2, 2], time_steps: 2, hidden: [8, 8]}"
NETWORKS = {  # each recipe as shipped, with its network shrunk
    "elor": [f"model.params={SMALL_CNN}"],
    "lom": ["model.params={kernels: [3, 5, 3], hidden: [8, 8], filters: [4, 4, 4]}"],
    "ftr": ["model.params={hidden: [8, 8]}"],
    "elor_ftr": [f"model.params={SMALL_CNN}"],
}
# Tables 1-4: batch, epochs, lr, decay, momentum, L2
TABLES = {"elor": (15, 9, 0.006, 0.9, 0.65, 1e-9), "lom": (5, 14, 0.08, 0.75, 0.7, 0.001),
          "ftr": (30, 16, 0.00004, 0.99, 0.65, 3.4e-8), "elor_ftr": (15, 6, 0.005, 0.9, 0.65, 1e-9)}


@pytest.mark.parametrize("network", list(TABLES))
def test_iemocap_recipes_carry_their_tables_values(network):
    import yaml

    recipe = yaml.safe_load((RECIPES / f"iemocap_{network}.yaml").read_text())
    train = recipe["train"]
    assert (train["batch_size"], train["epochs"], train["optimizer"]["lr"], train["schedule"]["gamma"],
            train["optimizer"]["momentum"], train["l2"]) == TABLES[network]
    assert train["select"] == "last" and train["l2_form"] == "norm" and "early_stopping" not in train
    assert recipe["data"]["aggregate"] == "none" and recipe["data"]["expect"] == {"segments": 8522}
    assert recipe["tune"]["trials"] == (150 if network in ("lom", "ftr") else 70)
    assert {"train.batch_size", "train.epochs"} <= set(recipe["tune"]["space"])


@pytest.mark.slow
@pytest.mark.parametrize("network", list(NETWORKS))
def test_iemocap_recipe_runs_all_folds_and_reports_table5(tmp_path, network):
    root = tmp_path / "IEMOCAP_full_release"
    ratings = build_release(root)
    overrides = [f"corpus.params.root={root}", "corpus.params.transcripts=false",
                 f"data.cache_dir={tmp_path / 'cache'}", "data.sample_rate=8000", "train.epochs=1", "train.batch_size=8",
                 "train.validation.policy=none", *NETWORKS[network]]
    args = ["run", str(RECIPES / f"iemocap_{network}.yaml"), "--out", str(tmp_path / "runs")]
    for item in overrides:
        args += ["--set", item]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (run_dir,) = (tmp_path / "runs").iterdir()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert len(metrics["folds"]) == 10
    for head in ("valence", "arousal"):
        summary = metrics["heads"][head]
        assert summary["n"] == len(ratings[head]) == 40  # every 6-s slice is a sample
        base = summary["baselines"]
        assert base["chance"] == {"wa": pytest.approx(0.2), "ua": pytest.approx(0.2)}
        most = Counter(ratings[head]).most_common(1)[0][1] / 40
        assert base["most_frequent"]["wa"] == pytest.approx(most)
        assert set(base["random_guess"]) == set(base["training_majority"]) == {"wa", "ua"}
    counts = json.loads((run_dir / "data.json").read_text())["expected_counts"]
    assert counts == {"segments": {"expected": 8522, "found": 40, "held": False}}
    recipe = (run_dir / "recipe.yaml").read_text()
    assert f"name: {network}" in recipe
    if network == "elor":
        assert_analyzers_run(run_dir)


def assert_analyzers_run(run_dir):
    """`sertk analyze` with both analyzers on the finished run."""
    runner = CliRunner()
    result = runner.invoke(main, ["analyze", str(run_dir), "saliency", "--param", "plots=1",
                                  "--param", "max_utterances=5"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    saliency = json.loads((run_dir / "analysis" / "saliency" / "summary.json").read_text())
    assert saliency["utterances"] == 5 and len(saliency["plots"]) == 1
    assert set(saliency["mean_correlation"]) >= {"signal_valence", "signal_arousal", "valence_arousal"}
    result = runner.invoke(main, ["analyze", str(run_dir), "activation_maximization", "--param", "steps=2"],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = run_dir / "analysis" / "activation_maximization"
    assert len(list(out.glob("*.wav"))) == 10 and len(list(out.glob("*.png"))) == 10
    assert len((out / "characterisation.csv").read_text().splitlines()) == 11

"""Every paper recipe of sertk-mixedemotions runs end to end on a generated tree in its corpus's
layout (RECOLA as AVEC 2016 distributes it, MediaEval 2013 as emoMusic), at its own settings but
for one epoch with small layers; the synthetic-corpus recipes validate (tests/test_recipes.py
validates every shipped recipe too)."""
import json
from pathlib import Path

import pytest

from sertk.recipe import load_recipe

RECIPES = Path(__file__).resolve().parents[3] / "recipes"
PAPER = ["recola_e2e_ccc", "recola_e2e_mse", "recola_lstm_egemaps", "recola_blstm_compare", "recola_svr_egemaps",
         "mediaeval_lstm_ccc"]
SYNTHETIC = ["synthetic_e2e_ccc", "synthetic_e2e_mse", "synthetic_lstm_egemaps", "synthetic_blstm_compare",
             "synthetic_svr_egemaps", "synthetic_lstm_sccc"]
SMALL = {  # one epoch, small layers: what differs from the shipped recipe
    "e2e_crnn": ["model.params.filters=[4, 4]", "model.params.kernel_ms=[5.0, 50.0]", "model.params.channel_pool=2",
                 "model.params.hidden=8", "train.batch_size=4"],
    "lstm_drnn": ["model.params.hidden=8", "train.batch_size=2"],
    "frame_linear": ["strategy.params.complexities=[0.01, 1.0]"],
}


@pytest.fixture(scope="module")
def recola_tree(tmp_path_factory, trees):
    return trees["recola"](tmp_path_factory.mktemp("recola"), {"train_1": 5.0, "train_2": 4.0, "train_3": 4.5,
                                                              "dev_1": 4.0, "dev_2": 3.5})


@pytest.fixture(scope="module")
def mediaeval_tree(tmp_path_factory, trees):
    return trees["mediaeval"](tmp_path_factory.mktemp("emomusic"), {2: "development", 3: "development",
                                                                    4: "development", 5: "evaluation"})


@pytest.mark.parametrize("name", PAPER)
def test_paper_recipe_runs_on_a_generated_tree(name, registry, recola_tree, mediaeval_tree, trees, tmp_path):
    path = RECIPES / f"{name}.yaml"
    recipe = load_recipe(path, [f"corpus.params.root={mediaeval_tree if name.startswith('mediaeval') else recola_tree}"],
                         registry)
    overrides = [f"corpus.params.root={mediaeval_tree if name.startswith('mediaeval') else recola_tree}",
                 "train.epochs=1", "data.cache=false", *SMALL[recipe.model["name"]]]
    if name.startswith("recola"):
        overrides.append("train.validation.speakers=1")
    else:
        overrides += ["data.sample_rate=16000", "train.validation.policy=speakers", "train.validation.speakers=1"]
    result = trees["run"](path, registry, tmp_path, overrides)
    heads = result.metrics["heads"]
    assert set(heads) == set(recipe.model["params"]["targets"])
    for head in heads.values():
        assert head["level"] == "frame" and "ccc" in head["pooled"] and "ccc" in head["per_recording"]
    if "postprocess" in [a["name"] for a in recipe.analyzers]:
        config = json.loads((result.dir / "analysis" / "postprocess" / "postprocess.json").read_text())
        assert set(next(iter(config.values()))) == set(heads)
    if name.startswith("mediaeval"):
        assert heads["arousal"]["recordings"] == 1 and "kendall" in heads["arousal"]["per_recording"]
        assert heads["arousal"]["n"] == 5  # 15 ... 19.5 s at 2 Hz, averaged into 1-Hz frames


@pytest.mark.parametrize("name", PAPER + SYNTHETIC)
def test_recipes_validate_and_cite_d42(name, registry, tmp_path):
    path = RECIPES / f"{name}.yaml"
    text = path.read_text()
    assert "D4.2" in text and f"sertk run recipes/{name}.yaml" in text
    overrides = [f"corpus.params.root={tmp_path}"] if not name.startswith("synthetic") else []
    recipe = load_recipe(path, overrides, registry)
    assert recipe.train.threads == 1

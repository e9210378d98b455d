"""The rDA recipes (MixedEmotions D4.2 §3.4, Table 4.1): the RECOLA ones run end to end on a
generated RECOLA tree (short noise, a few rDA epochs), reproducing in the saved model the back
end the strategy fitted; the EmoDB one validates."""
from pathlib import Path

import pytest
import yaml

from sertk.recipe import load_recipe

RECIPES = Path(__file__).resolve().parents[3] / "recipes"
FAST = ["strategy.params.optimizer=adam", "strategy.params.lr=0.01", "strategy.params.max_epochs=2",
        "strategy.params.reduction=mean", "model.params.window_s=1.0",
        "strategy.params.complexities=[0.001, 0.1]", "train.validation.speakers=1", "data.cache=false"]


@pytest.fixture(scope="module")
def recola_tree(tmp_path_factory, trees):
    return trees["recola"](tmp_path_factory.mktemp("recola_rda"), {"train_1": 5.0, "train_2": 5.0, "train_3": 5.0,
                                                                  "dev_1": 5.0, "dev_2": 4.5})


def short_noise(recipe_path: Path) -> list[str]:
    """Overrides giving every corrupted stream (all features but the first) 3 s of generated noise."""
    count = len(yaml.safe_load(recipe_path.read_text())["features"])
    return [f"features.{i}.params.noise_seconds=3" for i in range(1, count)]


@pytest.mark.parametrize("name, backend", [("recola_rda_matched", "enhanced"), ("recola_rda_multi", "noisy")])
def test_recola_recipes_run_on_a_generated_tree(name, backend, registry, recola_tree, trees, tmp_path):
    path = RECIPES / f"{name}.yaml"
    overrides = [f"corpus.params.root={recola_tree}", f"model.params.backend={backend}", *FAST, *short_noise(path)]
    result = trees["run"](path, registry, tmp_path, overrides)
    heads = result.metrics["heads"]
    assert set(heads) == {"arousal", "valence"}
    for head in heads.values():
        assert head["level"] == "frame" and head["recordings"] == 2 and -1 <= head["pooled"]["ccc"] <= 1
    assert heads["arousal"]["pooled"]["ccc"] > 0.3  # arousal follows the loudness the MFCCs carry


@pytest.mark.parametrize("name", ["recola_rda_matched", "recola_rda_multi", "emodb_rda", "emodb_rda_multi"])
def test_recipes_validate_and_cite_d42(name, registry, tmp_path):
    path = RECIPES / f"{name}.yaml"
    text = path.read_text()
    assert "D4.2" in text and f"sertk run recipes/{name}.yaml" in text
    recipe = load_recipe(path, [f"corpus.params.root={tmp_path}"], registry)
    assert recipe.train.threads == 1 and recipe.model["name"] == "rda_backend"

"""Every SEWA recipe (the ablations of Tables 2-3 and Table 4) runs end to end on a generated
tree in the AVEC 2017 layout at tiny sizes, with the semantic parts trained on the training
part and saved in the model; the EmoDB recipe validates (tests/test_recipes.py validates every
shipped recipe too)."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from sertk.recipe import load_recipe

RECIPES = Path(__file__).resolve().parents[3] / "recipes"
SEWA = ["word2vec", "speech2vec", "aligned", "paralinguistic", "concat", "attention", "test"]
TINY = ["train.epochs=1", "train.batch_size=4", "data.segment.seconds=2.0",
        "model.params.hidden=8", "model.params.d_u=8", "model.params.vocabulary=50", "model.params.word_dim=8",
        "model.params.speech_dim=8", "strategy.params.min_count=1", "strategy.params.word2vec_epochs=1",
        "strategy.params.speech2vec_epochs=1", "strategy.params.align_k=10", "strategy.params.align_steps=20",
        "strategy.params.align_hidden=16"]


@pytest.mark.slow
@pytest.mark.parametrize("name", SEWA)
def test_sewa_recipe_runs_on_a_generated_tree(name, registry, sewa_tree, run_file, tmp_path):
    path = RECIPES / f"sewa_tzirakis_{name}.yaml"
    overrides = [f"corpus.params.root={sewa_tree}", f"data.cache_dir={sewa_tree / 'cache'}", *TINY]
    if name != "test":
        overrides.append("train.validation.speakers=1")
    result = run_file(path, registry, tmp_path, overrides)
    heads = result.metrics["heads"]
    assert sorted(heads) == ["arousal", "liking", "valence"]
    for head in heads.values():
        assert head["level"] == "frame" and "ccc" in head["pooled"]
    assert heads["arousal"]["recordings"] == 2  # one test recording (Devel_01 or Test_01) in two 2-s slices
    (model_file,) = result.dir.glob("folds/*/model.pt")
    state = torch.load(model_file, weights_only=True)
    params = load_recipe(path, [f"corpus.params.root={sewa_tree}"], registry).model["params"]
    if params["semantic"] == "word2vec":
        assert state["semantic.word_table"].abs().sum() > 0
    if params["semantic"] in ("speech2vec", "aligned"):
        assert state["semantic.speech2vec.std"].ne(1).any()  # fitted on the training word segments
    if params["semantic"] == "aligned":
        assert state["semantic.mapping"].abs().sum() > 0
    assert ("paralinguistic.convs.0.weight" in state) == params["paralinguistic"]
    assert any(k.startswith("fusion.") for k in state) == (params["fusion"] == "attention")


def test_emodb_recipe_validates(registry, tmp_path):
    recipe = load_recipe(RECIPES / "emodb_tzirakis.yaml", [f"corpus.params.root={tmp_path}"], registry)
    assert recipe.model["params"]["level"] == "utterance" and recipe.data.sample_rate == 22050
    assert "sertk run recipes/emodb_tzirakis.yaml" in (RECIPES / "emodb_tzirakis.yaml").read_text()

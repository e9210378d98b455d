"""Train on EmoDB, test on the synthetic corpus with the harmonised 4-class set."""
import json
import pathlib

import pytest

from sertk.engine.run import run_recipe
from sertk.plugins import load_plugins
from sertk.recipe import load_recipe
from sertk.registry import Registry

ROOT = pathlib.Path(__file__).resolve().parents[1]
EMODB = ROOT.parent / "shared" / "corpora" / "emodb"


@pytest.mark.emodb
@pytest.mark.skipif(not (EMODB / "wav").is_dir(), reason=f"EmoDB copy not found at {EMODB}")
def test_cross_corpus_recipe_runs_end_to_end(tmp_path, monkeypatch):
    monkeypatch.setenv("SERTK_CACHE", str(tmp_path / "cache"))
    registry = Registry.from_plugins(load_plugins(entry_points=False))
    recipe = load_recipe(ROOT / "recipes" / "cross_corpus_emodb_synthetic.yaml",
                         [f"corpus.0.params.root={EMODB}", "train.epochs=3", "data.workers=1"], registry)
    result = run_recipe(recipe, registry, out_dir=str(tmp_path / "runs"))
    emotion = result.metrics["heads"]["emotion"]
    assert result.metrics["folds"] == ["test-synthetic"]
    assert emotion["classes"] == ["anger", "happiness", "neutral", "sadness"]
    assert emotion["n"] == 4 * 4 * 10  # every synthetic utterance, none from EmoDB
    folds = json.loads((result.dir / "folds.json").read_text())["test-synthetic"]
    assert all(i.startswith("emodb/") for i in folds["train"] + folds["validation"])
    assert all(i.startswith("synthetic/") for i in folds["test"])
    assert len(folds["train"]) + len(folds["validation"]) == 127 + 71 + 62 + 79  # EmoDB's common4 utterances

"""Every shipped recipe validates against the full plugin registry.

Covers ``recipes/*.yaml`` and ``plugins/*/recipes/*.yaml``, so a recipe added
later is checked without touching this file.  Validation checks component
names and params only and never reads a corpus; a corpus whose ``root`` param
is required gets a temporary directory (``--set corpus.params.root=...``).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from sertk.plugins import load_plugins
from sertk.recipe import load_recipe, read_yaml
from sertk.registry import Registry, constructor_params

ROOT = Path(__file__).resolve().parents[1]
RECIPES = sorted([*ROOT.glob("recipes/*.yaml"), *ROOT.glob("plugins/*/recipes/*.yaml")])


@pytest.fixture(scope="module")
def registry():
    loaded = load_plugins()
    assert not loaded.failures, [f"{p.name}: {p.error}" for p in loaded.failures]
    return Registry.from_plugins(loaded)


def root_overrides(path: Path, registry: Registry, root: Path) -> list[str]:
    """``corpus[.i].params.root=<root>`` for each corpus whose constructor requires ``root``."""
    corpus = read_yaml(path).get("corpus")
    specs = corpus if isinstance(corpus, list) else [corpus]
    overrides = []
    for i, spec in enumerate(specs):
        name = spec.get("name") if isinstance(spec, dict) else spec
        if not isinstance(name, str) or name not in registry.names("corpora"):
            continue  # validation reports it
        if any(p.name == "root" and p.required for p in constructor_params(registry.get("corpora", name))):
            key = "corpus" if not isinstance(corpus, list) else f"corpus.{i}"
            overrides.append(f"{key}.params.root={root}")
    return overrides


def test_recipes_are_found():
    assert len(RECIPES) >= 5, RECIPES


@pytest.mark.parametrize("path", RECIPES, ids=[str(p.relative_to(ROOT)) for p in RECIPES])
def test_shipped_recipe_validates(path, registry, tmp_path):
    recipe = load_recipe(path, root_overrides(path, registry, tmp_path), registry)
    for _, system in recipe.members or [("", recipe)]:  # a fusion recipe: each of its systems
        assert system.model["name"] in registry.names("models")

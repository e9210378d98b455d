"""Recipe loading: sections, types, overrides, YAML errors, component checks."""
import pytest

from sertk.errors import ConfigError, SertkError
from sertk.plugins import load_plugins
from sertk.recipe import apply_overrides, load_recipe, parse_recipe, read_yaml, resolved
from sertk.registry import Registry

BASE = {
    "corpus": {"name": "synthetic", "params": {"n_speakers": 4}},
    "features": [{"name": "mfcc", "params": {"n_mfcc": 13}}],
    "model": {"name": "mlp", "params": {"hidden": [16]}},
    "train": {"epochs": 2, "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": True}},
    "metrics": ["ua", "wa"],
}


@pytest.fixture(scope="module")
def registry():
    return Registry.from_plugins(load_plugins(entry_points=False))


def error_of(raw, registry=None) -> str:
    with pytest.raises(ConfigError) as err:
        parse_recipe(raw, "r.yaml", registry)
    return str(err.value)


def test_valid_recipe_gets_typed_sections(registry):
    recipe = parse_recipe(BASE, "r.yaml", registry)
    assert recipe.train.optimizer.nesterov is True and recipe.train.epochs == 2
    assert recipe.features[0].input_key == "mfcc" and recipe.protocol["name"] == "loso"
    assert recipe.metrics == [{"name": "ua", "params": {}}, {"name": "wa", "params": {}}]
    assert resolved(recipe)["train"]["batch_size"] == recipe.train.batch_size


@pytest.mark.parametrize("change, start", [
    ({"trian": {}}, "r.yaml: trian: unknown section 'trian'; did you mean 'train'?"),
    ({"train": {"epoch": 3}}, "r.yaml: train.epoch: unknown key 'epoch'; did you mean 'epochs'?"),
    ({"train": {"epochs": "many"}}, "r.yaml: train.epochs: expected int, got str"),
    ({"train": {"optimizer": {"name": "adamw"}}}, "r.yaml: train.optimizer.name: expected one of"),
    ({"data": {"segment": {"policy": "chunks"}}}, "r.yaml: data.segment.policy:"),
    ({"model": None}, "r.yaml: model: missing required section"),
    ({"data": {"expect": {"turns": 3}}}, "r.yaml: data.expect.turns: is not a count sertk checks; use utterances or"),
    ({"data": {"expect": {"segments": -1}}}, "r.yaml: data.expect.segments: must be a whole number >= 0"),
    ({"train": {"l2_form": "l1"}}, "r.yaml: train.l2_form: expected one of"),
])
def test_structural_errors_name_the_key(change, start):
    assert error_of({**BASE, **change}).startswith(start)


@pytest.mark.parametrize("change, start", [
    ({"model": {"name": "nope"}}, "r.yaml: model.name: unknown model 'nope'; did you mean 'mlp'?"),
    ({"model": {"name": "mlp", "params": {"hiden": [3]}}}, "r.yaml: model.params.hiden: unknown parameter of mlp"),
    ({"corpus": {"name": "synthetic", "root": "/x"}}, "r.yaml: corpus.root: unknown key 'root'"),
    ({"metrics": ["ua", "uar"]}, "r.yaml: metrics.1.name: unknown metric 'uar'; did you mean 'ua'?"),
    ({"train": {"early_stopping": {"metric": "f1"}}}, "r.yaml: train.early_stopping.metric: unknown metric"),
])
def test_component_errors_name_the_key(change, start, registry):
    assert error_of({**BASE, **change}, registry).startswith(start)


def test_overrides_set_nested_values_and_list_items():
    raw = apply_overrides(BASE, ["train.epochs=5", "features.0.params.n_mfcc=20", "model.params.hidden=[8, 8]",
                                 "train.schedule.name=exponential"])
    assert raw["train"]["epochs"] == 5 and raw["features"][0]["params"]["n_mfcc"] == 20
    assert raw["model"]["params"]["hidden"] == [8, 8] and raw["train"]["schedule"] == {"name": "exponential"}
    assert BASE["train"]["epochs"] == 2


def test_override_without_equals_sign_is_a_user_error():
    with pytest.raises(SertkError, match="expected KEY=VALUE"):
        apply_overrides(BASE, ["train.epochs"])


def test_override_index_out_of_range():
    with pytest.raises(ConfigError, match="features.3.name"):
        apply_overrides(BASE, ["features.3.name=mfcc"])


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("corpus:\n  name: synthetic\nmodel: {name: mlp\n")
    with pytest.raises(SertkError) as err:
        read_yaml(path)
    assert str(err.value).startswith(f"{path}:4: YAML syntax error")


def test_missing_file(tmp_path):
    with pytest.raises(SertkError, match="cannot read recipe"):
        load_recipe(tmp_path / "none.yaml")


def test_duplicate_feature_keys_fail():
    raw = {**BASE, "features": [{"name": "mfcc"}, {"name": "mfcc", "params": {"n_mfcc": 3}}]}
    assert error_of(raw).startswith("r.yaml: features.1.key: two features use input key 'mfcc'")


def test_shipped_recipes_validate(registry):
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[1] / "recipes"
    core = ["demo.yaml", "emodb_compare_svm.yaml", "emodb_egemaps_mlp.yaml"]
    for name in core:
        load_recipe(root / name, registry=registry)

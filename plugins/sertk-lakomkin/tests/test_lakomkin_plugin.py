"""Discovery of the installed sertk-lakomkin plugin through its entry point."""
import subprocess
import sys

import pytest
import torch

from sertk import ConfigError, FeatureInfo, LabelSpace
from sertk.plugins import load_plugins
from sertk.registry import Registry

FEATURES = {"power_spectrogram", "mfcc_pitch"}
MODELS = {"ds2_asr", "lakomkin_baseline", "lakomkin_mp", "lakomkin_rnn", "lakomkin_progressive"}
ANALYZERS = {"tsne", "loudness_correlation"}


@pytest.fixture(scope="module")
def registry():
    loaded = load_plugins(builtins=False)
    assert not loaded.failures, [f"{p.name}: {p.error}" for p in loaded.failures]
    return Registry.from_plugins(loaded)


def test_entry_point_registers_features_models_and_analyzers_as_plugin_lakomkin(registry):
    features = {e.name: e for e in registry.entries("features") if e.plugin == "lakomkin"}
    models = {e.name: e for e in registry.entries("models") if e.plugin == "lakomkin"}
    analyzers = {e.name for e in registry.entries("analyzers") if e.plugin == "lakomkin"}
    assert set(features) == FEATURES and set(models) == MODELS and analyzers == ANALYZERS
    for entry in [*features.values(), *models.values()]:
        assert "Lakomkin et al. 2017" in entry.summary, entry.name


def test_registry_builds_from_recipe_params_with_derived_args(registry):
    feature = registry.build("features", {"name": "power_spectrogram", "params": {"utterance_norm": "global"}})
    assert feature.utterance_norm == "global"
    inputs = {"power_spectrogram": FeatureInfo("power_spectrogram", 161, "frame", 100.0)}
    labels = LabelSpace(classes={"emotion": ("anger", "sadness")})
    spec = {"name": "lakomkin_mp", "params": {"layer": 2, "asr_channels": [2, 2], "asr_hidden": 8}}
    model = registry.build("models", spec, inputs=inputs, labels=labels).eval()
    with torch.no_grad():
        assert model({"power_spectrogram": torch.randn(2, 30, 161)})["emotion"].shape == (2, 2)


def test_registry_rejects_a_wrong_param_type_and_a_missing_layer(registry):
    with pytest.raises(ConfigError, match="model.params.layer"):
        registry.check("models", {"name": "lakomkin_rnn", "params": {"layer": "third"}}, "model")
    with pytest.raises(ConfigError, match="layer"):
        registry.check("models", {"name": "lakomkin_mp", "params": {}}, "model")


def test_plugin_module_imports_neither_torch_nor_librosa():
    """Discovery stays cheap: the hooks import the heavy modules when they are called."""
    code = "import sys, sertk_lakomkin.plugin; print('torch' in sys.modules, 'librosa' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"

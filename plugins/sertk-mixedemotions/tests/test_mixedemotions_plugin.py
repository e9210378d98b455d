"""Discovery of the installed sertk-mixedemotions plugin through its entry point; every component
cites MixedEmotions D4.2 and builds from recipe params."""
import subprocess
import sys
import typing

import pytest
import torch

from sertk import ConfigError, FeatureInfo, LabelSpace

COMPONENTS = {"features": {"smile_windows", "lld_functionals", "corrupted_mfcc"},
              "models": {"e2e_crnn", "lstm_drnn", "frame_linear", "rda_backend", "logistic_regression", "mapped_mlp"},
              "strategies": {"svr_grid", "rda_enhance", "cooperative_learning", "cca_align", "sae_transfer"},
              "analyzers": {"postprocess", "cell_correlation", "cooperative_curves"}}


def test_entry_point_registers_every_component_as_plugin_mixedemotions(registry):
    for kind, names in COMPONENTS.items():
        entries = {e.name: e for e in registry.entries(kind) if e.plugin == "mixedemotions"}
        assert set(entries) == names, kind
        for entry in entries.values():
            assert "D4.2" in entry.summary, entry.name
            assert "D4.2" in (entry.cls.__doc__ or ""), entry.name
            typing.get_type_hints(entry.cls.__init__)


def test_core_components_of_the_issue_are_there(registry):
    from sertk.builtins.losses import ConcordanceLoss

    assert {"ccc", "sse", "mse"} <= set(registry.names("losses"))
    assert {"ccc", "pearson", "kendall", "rmse"} <= set(registry.names("metrics"))
    assert "mediaeval" in registry.names("corpora") and "recola" in registry.names("corpora")
    assert registry.build("losses", {"name": "ccc", "params": {"form": "sum"}}).form == "sum"
    assert isinstance(registry.build("losses", "ccc"), ConcordanceLoss)


def test_models_build_from_recipe_params_with_derived_args(registry):
    labels = LabelSpace(contours=("arousal", "valence"))
    inputs = {"smile_windows": FeatureInfo("smile_windows", 88, "frame", 25.0)}
    spec = {"name": "lstm_drnn", "params": {"targets": ["valence"], "hidden": 4, "layers": 2, "input_noise": 0.1}}
    model = registry.build("models", spec, inputs=inputs, labels=labels).eval()
    with torch.no_grad():
        assert model({"smile_windows": torch.randn(2, 9, 88)})["valence"].shape == (2, 9)
    with pytest.raises(ConfigError, match="model.params.hidden"):
        registry.check("models", {"name": "lstm_drnn", "params": {"hidden": "many"}}, "model")


def test_plugin_module_imports_neither_torch_nor_opensmile():
    code = "import sys, sertk_mixedemotions.plugin; print('torch' in sys.modules, 'opensmile' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"

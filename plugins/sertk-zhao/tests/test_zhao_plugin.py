"""Discovery of the installed sertk-zhao plugin through its entry point."""
import subprocess
import sys

import torch

from sertk import FeatureInfo, LabelSpace
from sertk.plugins import load_plugins
from sertk.registry import Registry


def zhao_registry():
    return Registry.from_plugins(load_plugins(builtins=False))


def test_entry_point_registers_both_models_as_plugin_zhao():
    entries = {e.name: e for e in zhao_registry().entries("models")}
    assert {"cnn1d_lstm", "cnn2d_lstm"} <= set(entries)
    assert entries["cnn1d_lstm"].plugin == entries["cnn2d_lstm"].plugin == "zhao"
    assert "Zhao et al. 2019" in entries["cnn2d_lstm"].summary


def test_registry_builds_from_recipe_params_with_derived_args():
    labels = LabelSpace(classes={"emotion": ("anger", "neutral", "sadness")})
    spec = {"name": "cnn2d_lstm", "params": {"filters": [4, 4, 8, 8], "lstm_units": 16, "time_pools": [2, 4, 4, 1]}}
    model = zhao_registry().build("models", spec, inputs={"logmel": FeatureInfo("logmel", 128, "frame")},
                                  labels=labels)
    assert model.heads[0].classes == ("anger", "neutral", "sadness")
    assert model({"logmel": torch.randn(2, 63, 128)})["emotion"].shape == (2, 3)


def test_registry_rejects_a_wrong_param_type():
    from sertk import ConfigError

    registry = zhao_registry()
    try:
        registry.check("models", {"name": "cnn1d_lstm", "params": {"lstm_units": "big"}}, "model")
    except ConfigError as exc:
        assert "model.params.lstm_units" in str(exc)
    else:
        raise AssertionError("a string lstm_units was accepted")


def test_plugin_module_does_not_import_torch():
    code = "import sys, sertk_zhao.plugin; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

"""Plugin discovery through faked entry points, broken plugins, built-ins."""
import importlib.metadata
import sys
import types

import pytest

from sertk import Loss, hookimpl
from sertk.errors import PluginError
from sertk.plugins import load_plugins
from sertk.registry import Registry


class Hinge(Loss):
    name = "hinge_test"
    kinds = ("classification",)

    def __call__(self, output, target, mask=None):
        return 0.0


class FakeDist:
    def __init__(self, name, version):
        self.name, self.version = name, version


class FakeEntryPoint:
    def __init__(self, name, module, dist=("sertk-fake", "1.2.3")):
        self.name, self.value, self.group = name, module, "sertk"
        self.dist = FakeDist(*dist)

    def load(self):
        return importlib.import_module(self.value)


@pytest.fixture
def fake_entry_points(monkeypatch):
    """Install modules and entry points that exist only for this test."""
    def install(*eps, modules=()):
        for name, module in modules:
            monkeypatch.setitem(sys.modules, name, module)
        real = importlib.metadata.entry_points  # other groups (torch's backends) stay real
        monkeypatch.setattr(importlib.metadata, "entry_points",
                            lambda group=None, **kw: list(eps) if group == "sertk" else real(group=group, **kw))
    return install


def plugin_module(name: str, **hooks) -> types.ModuleType:
    module = types.ModuleType(name)
    for hook, fn in hooks.items():
        setattr(module, hook, hookimpl(fn))
    return module


def test_entry_point_plugin_is_discovered_with_version(fake_entry_points):
    good = plugin_module("fake_good", sertk_register_losses=lambda register: register(Hinge))
    fake_entry_points(FakeEntryPoint("good", "fake_good"), modules=[("fake_good", good)])
    loaded = load_plugins()
    registry = Registry.from_plugins(loaded)
    assert registry.entry("losses", "hinge_test").plugin == "good"
    assert loaded.info("good").version == "1.2.3"
    assert registry.entry("losses", "cross_entropy").plugin == "sertk"


def test_broken_plugin_is_reported_and_others_still_load(fake_entry_points):
    good = plugin_module("fake_good2", sertk_register_losses=lambda register: register(Hinge))
    fake_entry_points(FakeEntryPoint("broken", "fake_missing_module_xyz"), FakeEntryPoint("good", "fake_good2"),
                      modules=[("fake_good2", good)])
    loaded = load_plugins()
    assert [p.name for p in loaded.failures] == ["broken"]
    assert "ModuleNotFoundError" in loaded.failures[0].error
    assert "hinge_test" in Registry.from_plugins(loaded).names("losses")


def test_misspelled_hook_in_entry_point_plugin_fails_naming_it(fake_entry_points):
    typo = plugin_module("fake_typo", sertk_register_loss=lambda register: None)
    fake_entry_points(FakeEntryPoint("typo", "fake_typo"), modules=[("fake_typo", typo)])
    with pytest.raises(PluginError, match="'typo'"):
        load_plugins()


def test_builtins_only():
    registry = Registry.from_plugins(load_plugins(entry_points=False))
    for kind, name in [("corpora", "synthetic"), ("corpora", "emodb"), ("features", "mfcc"), ("models", "mlp"),
                       ("losses", "ccc"), ("metrics", "ua"), ("protocols", "loso")]:
        assert registry.entry(kind, name).plugin == "sertk"


def test_every_plugin_under_plugins_has_a_unique_entry_point_name():
    import pathlib
    import tomllib

    root = pathlib.Path(__file__).resolve().parents[1]
    names = []
    for pyproject in sorted(root.glob("plugins/*/pyproject.toml")):
        eps = tomllib.loads(pyproject.read_text())["project"]["entry-points"]["sertk"]
        names.extend(eps)
    assert len(names) == len(set(names)) and "sertk" not in names

"""The registry: plugin registration, duplicates, param checks against signatures."""
from typing import Literal, Optional

import numpy as np
import pluggy
import pytest

from sertk import Feature, hookimpl
from sertk.errors import ConfigError, PluginError
from sertk.plugins import new_plugin_manager, LoadedPlugins
from sertk.registry import Registry


class Energy(Feature):
    """Frame energy."""

    name = "energy"
    level = "frame"

    def __init__(self, hop: int = 160, log: bool = True, mode: Literal["rms", "peak"] = "rms",
                 floor: Optional[float] = None, bands: list[int] = [1]):
        self.hop, self.log, self.mode, self.floor, self.bands = hop, log, mode, floor, bands

    def __call__(self, signal, sample_rate):
        return np.zeros((1, 1))


class Needy(Feature):
    name = "needy"

    def __init__(self, size: int):
        self.size = size

    def __call__(self, signal, sample_rate):
        return np.zeros((1, 1))


class FirstPlugin:
    @hookimpl
    def sertk_register_features(self, register):
        register(Energy)
        register(Needy)


class SecondPlugin:
    @hookimpl
    def sertk_register_features(self, register):
        register(Energy)


def registry_of(**plugins) -> Registry:
    pm = new_plugin_manager()
    for name, plugin in plugins.items():
        pm.register(plugin, name=name)
    return Registry.from_plugins(LoadedPlugins(pm))


def test_registration_records_the_plugin():
    registry = registry_of(first=FirstPlugin())
    entry = registry.entry("features", "energy")
    assert entry.cls is Energy and entry.plugin == "first" and entry.summary == "Frame energy."


def test_duplicate_names_fail_naming_both_plugins():
    with pytest.raises(PluginError) as err:
        registry_of(first=FirstPlugin(), second=SecondPlugin())
    assert "'first'" in str(err.value) and "'second'" in str(err.value) and "energy" in str(err.value)


def test_registering_a_non_component_fails():
    class Bad:
        @hookimpl
        def sertk_register_models(self, register):
            register(dict)

    with pytest.raises(PluginError, match="bad"):
        registry_of(bad=Bad())


def test_unknown_name_suggests_closest():
    registry = registry_of(first=FirstPlugin())
    with pytest.raises(ConfigError) as err:
        registry.check("features", {"name": "enrgy"}, "features.0")
    assert str(err.value).startswith("features.0.name: unknown feature 'enrgy'; did you mean 'energy'?")


@pytest.mark.parametrize("params, key, fragment", [
    ({"hops": 3}, "features.0.params.hops", "did you mean 'hop'"),
    ({"hop": "ten"}, "features.0.params.hop", "expected int, got str"),
    ({"hop": 2.5}, "features.0.params.hop", "expected int"),
    ({"log": "yes"}, "features.0.params.log", "expected bool"),
    ({"mode": "mean"}, "features.0.params.mode", "one of 'rms', 'peak'"),
    ({"bands": [1, "x"]}, "features.0.params.bands", "expected list"),
])
def test_bad_params_name_the_key(params, key, fragment):
    registry = registry_of(first=FirstPlugin())
    with pytest.raises(ConfigError) as err:
        registry.check("features", {"name": "energy", "params": params}, "features.0")
    assert str(err.value).startswith(key + ":") and fragment in str(err.value)


def test_good_params_pass_and_build():
    registry = registry_of(first=FirstPlugin())
    built = registry.build("features", {"name": "energy", "params": {"hop": 80, "floor": 1, "bands": [2, 3]}})
    assert (built.hop, built.floor, built.bands) == (80, 1, [2, 3])


def test_missing_required_param():
    registry = registry_of(first=FirstPlugin())
    with pytest.raises(ConfigError, match=r"features.0.params.size: required parameter of needy is missing"):
        registry.check("features", {"name": "needy"}, "features.0")


def test_derived_params_are_passed_only_when_accepted():
    registry = registry_of(first=FirstPlugin())
    built = registry.build("features", {"name": "energy"}, inputs={"x": 1}, labels="ignored")
    assert not hasattr(built, "inputs")


def test_misspelled_hook_is_rejected_by_check_pending():
    class Typo:
        @hookimpl
        def sertk_register_model(self, register):  # missing the trailing "s"
            pass

    pm = new_plugin_manager()
    pm.register(Typo(), name="typo")
    with pytest.raises(pluggy.PluginValidationError):
        pm.check_pending()

"""Lazy registration: ``"module:Class"`` references are described from their source and imported on first use."""
import subprocess
import sys
import textwrap

import pytest

from sertk import hookimpl
from sertk.builtins.plugin import BUILTINS
from sertk.builtins.features import Raw
from sertk.errors import PluginError
from sertk.plugins import LoadedPlugins, load_plugins, new_plugin_manager
from sertk.registry import Registry

BUILTINS_LISTED = [(kind, name) for kind, names in BUILTINS.items() for name in names]

SOURCE = '''
from typing import Literal

from sertk import Feature


class Energy(Feature):
    """Frame energy."""

    name = "energy"

    def __init__(self, hop: int = 160, mode: Literal["rms", "peak"] = "rms"):
        self.hop, self.mode = hop, mode

    def __call__(self, signal, sample_rate):
        return signal[:1]
'''


@pytest.fixture(autouse=True)
def lazy_module(tmp_path, monkeypatch):
    """``lazy_energy:Energy``, importable but not imported."""
    (tmp_path / "lazy_energy.py").write_text(SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "lazy_energy", raising=False)


def registry_of(**hooks) -> Registry:
    pm = new_plugin_manager()
    for name, hook in hooks.items():
        plugin = type(name, (), {"sertk_register_features": staticmethod(hookimpl(hook))})
        pm.register(plugin, name=name)
    return Registry.from_plugins(LoadedPlugins(pm))


def test_lazy_reference_is_listed_from_source_and_imported_on_use():
    registry = registry_of(lazy=lambda register: register("lazy_energy:Energy", name="energy"))
    entry = registry.entry("features", "energy")
    assert (entry.plugin, entry.summary, entry.loaded) == ("lazy", "Frame energy.", False)
    assert [(p.name, p.default) for p in entry.params()] == [("hop", 160), ("mode", "rms")]
    assert "lazy_energy" not in sys.modules and not entry.loaded
    assert registry.build("features", {"name": "energy", "params": {"hop": 80}}).hop == 80 and entry.loaded


def test_broken_import_path_fails_on_first_use_naming_the_plugin():
    registry = registry_of(broken=lambda register: register("no_such_module_xyz:Thing", name="thing"))
    assert registry.names("features") == ["thing"]
    with pytest.raises(PluginError) as err:
        registry.build("features", {"name": "thing"})
    message = str(err.value)
    assert "\n" not in message and "plugin 'broken'" in message and "no_such_module_xyz:Thing" in message


def test_lazy_name_must_match_the_class():
    registry = registry_of(wrong=lambda register: register("lazy_energy:Energy", name="power"))
    with pytest.raises(PluginError, match="'power', but its `name` is 'energy'"):
        registry.get("features", "power")


@pytest.mark.parametrize("call, fragment", [
    (lambda register: register("lazy_energy:Energy"), "needs name="),
    (lambda register: register("not a path", name="x"), "package.module:Class"),
    (lambda register: register(Raw, name="raw"), "lazy"),
])
def test_bad_registrations_fail_naming_the_plugin(call, fragment):
    with pytest.raises(PluginError, match=fragment) as err:
        registry_of(bad=call)
    assert "'bad'" in str(err.value)


def test_eager_and_lazy_duplicates_fail_naming_both_plugins():
    with pytest.raises(PluginError) as err:
        registry_of(first=lambda register: register(Raw),
                    second=lambda register: register("sertk.builtins.features:Raw", name="raw"))
    assert "'first'" in str(err.value) and "'second'" in str(err.value)


def test_lazy_duplicates_fail_naming_both_plugins():
    with pytest.raises(PluginError) as err:
        registry_of(first=lambda register: register("lazy_energy:Energy", name="energy"),
                    second=lambda register: register("lazy_energy:Energy", name="energy"))
    assert "'first'" in str(err.value) and "'second'" in str(err.value)


def test_every_builtin_is_a_lazy_reference_that_resolves_to_its_class():
    registry = Registry.from_plugins(load_plugins(entry_points=False))
    entries = registry.entries()
    assert len(entries) == len(BUILTINS_LISTED) and not any(e.loaded for e in entries)
    assert {e.name for e in entries} >= {"emodb", "mfcc", "mlp", "linear_svm", "cross_entropy", "ua", "loso", "gain"}
    for entry in entries:
        assert entry.summary and entry.cls.name == entry.name


def leaves_imported(code: str, module: str = "torch") -> bool:
    """Whether running ``code`` in a fresh interpreter leaves ``module`` in ``sys.modules``."""
    code = textwrap.dedent(code) + f"\nimport sys\nprint({module!r} in sys.modules)\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1] == "True"


CLI = """
from sertk.cli import main
try:
    main({argv!r})
except SystemExit as exc:
    assert not exc.code, exc.code
"""


def test_list_imports_neither_torch_nor_numpy():
    assert not leaves_imported(CLI.format(argv=["list"]))
    assert not leaves_imported(CLI.format(argv=["list"]), "numpy")


def test_describing_a_model_does_not_import_torch():
    assert not leaves_imported("""
        from sertk.plugins import load_plugins
        from sertk.registry import Registry
        entry = Registry.from_plugins(load_plugins()).entry("models", "mlp")
        assert entry.doc.startswith("A multilayer perceptron") and "hidden" in [p.name for p in entry.params()]
    """)


def test_show_does_not_import_torch():
    assert not leaves_imported(CLI.format(argv=["show", "models", "mlp"]))


def test_a_warm_estimator_run_imports_neither_torch_nor_scikit_learn_nor_opensmile(tmp_path):
    """An SVM on cached functionals is numpy only: the second run of the same recipe loads
    none of the heavy packages (the first computes the openSMILE features)."""
    recipe = tmp_path / "svm.yaml"
    recipe.write_text(textwrap.dedent(f"""
        corpus: {{name: synthetic, params: {{n_speakers: 3, n_per_class: 3}}}}
        data: {{cache_dir: {tmp_path / 'cache'}, workers: 1}}
        features: [{{name: opensmile, params: {{feature_set: eGeMAPSv02}}}}]
        model: {{name: linear_svm}}
        protocol: loso
        metrics: [ua]
        output: {{dir: {tmp_path / 'runs'}}}
    """))
    code = CLI.format(argv=["run", str(recipe)]) + "\nimport sys\nprint(sorted({'torch', 'sklearn', 'opensmile'} & set(sys.modules)))\n"
    loaded = []
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        loaded.append(done.stdout.strip().splitlines()[-1])
    assert loaded == ["['opensmile']", "[]"]

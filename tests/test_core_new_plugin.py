"""``sertk new-plugin``: the scaffold is a working plugin that keeps to the public API, and (slow) it installs
with ``pip install -e`` into a fresh environment, shows in ``sertk list`` there and passes its own tests, while
the main environment never sees it."""
import ast
import importlib
import importlib.util
import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from sertk import FeatureInfo, LabelSpace
from sertk.cli import main
from sertk.errors import ConfigError
from sertk.plugins import load_plugins
from sertk.registry import SINGULAR, Registry
from sertk.scaffold import PARTS, parse_kinds, scaffold

ROOT = Path(__file__).resolve().parents[1]


def _walls():
    """tests/test_core_walls.py as a module, for its import parser."""
    spec = importlib.util.spec_from_file_location("_sertk_walls", ROOT / "tests" / "test_core_walls.py")
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)  # dataclasses look it up there
    spec.loader.exec_module(module)
    return module


WALLS = _walls()


def cli(*args):
    return CliRunner().invoke(main, ["new-plugin", *map(str, args)], catch_exceptions=False)


def functions(path: Path) -> list[str]:
    return [n.name for n in ast.parse(path.read_text()).body if isinstance(n, ast.FunctionDef)]


def test_default_scaffold_is_a_feature_and_a_model(tmp_path):
    done = cli("demo_plugin", "--dir", tmp_path)
    assert done.exit_code == 0, done.output
    folder = tmp_path / "sertk-demo_plugin"
    written = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert written == ["README.md", "pyproject.toml", "sertk_demo_plugin/__init__.py",
                       "sertk_demo_plugin/features.py", "sertk_demo_plugin/models.py", "sertk_demo_plugin/plugin.py",
                       "tests/test_demo_plugin.py"]
    pyproject = (folder / "pyproject.toml").read_text()
    assert '[project.entry-points.sertk]\ndemo_plugin = "sertk_demo_plugin.plugin"' in pyproject
    assert 'name = "sertk-demo-plugin"' in pyproject
    plugin = (folder / "sertk_demo_plugin" / "plugin.py").read_text()
    assert functions(folder / "sertk_demo_plugin" / "plugin.py") == ["sertk_register_features", "sertk_register_models"]
    assert 'register("sertk_demo_plugin.features:Energy", name="demo_plugin_energy")' in plugin
    assert functions(folder / "tests" / "test_demo_plugin.py") == [
        "test_every_registration_names_its_class", "test_energy_on_a_sine", "test_probe_output_shape_ignores_padding"]
    readme = (folder / "README.md").read_text()
    assert "`demo_plugin_energy`" in readme and "`demo_plugin_probe`" in readme and "$" not in readme
    for source in (folder / "sertk_demo_plugin").glob("*.py"):
        assert "$" not in source.read_text(), source


def test_every_kind_has_a_template_and_kinds_parse():
    assert set(PARTS) == set(SINGULAR.values())
    assert parse_kinds("features, model,feature") == ["feature", "model"]
    assert parse_kinds("corpora,all") == ["corpus", *[k for k in PARTS if k != "corpus"]]


def test_generated_code_keeps_to_the_public_api(tmp_path):
    folder = scaffold("walls_demo", tmp_path, list(PARTS))
    package = folder / "sertk_walls_demo"
    found = [imp for path in sorted([*package.glob("*.py"), *folder.glob("tests/*.py")])
             for imp in WALLS.imports(path, path.parent if path.parent.name == "tests" else folder)]
    sertk = {i.target for i in found if WALLS.top(i) == "sertk"}
    assert sertk and sertk <= WALLS.PUBLIC_MODULES, sertk - WALLS.PUBLIC_MODULES
    assert {WALLS.top(i) for i in found if WALLS.top(i).startswith("sertk_")} == {"sertk_walls_demo"}
    assert not {WALLS.top(i) for i in found} & WALLS.TERMINAL_LIBRARIES
    plugin_imports = {i.target for i in WALLS.imports(package / "plugin.py", folder)}
    assert plugin_imports == {"sertk"}  # the entry point stays light: every class is a lazy reference


@pytest.fixture
def on_path(tmp_path, monkeypatch):
    """Scaffold ``path_demo`` (every kind) importable from tmp_path; its modules are forgotten afterwards."""
    folder = scaffold("path_demo", tmp_path, ["all"])
    monkeypatch.syspath_prepend(str(folder))
    yield folder
    for name in [m for m in sys.modules if m.split(".")[0] == "sertk_path_demo"]:
        del sys.modules[name]


def test_registry_reads_the_scaffold_lazily_then_builds_it(on_path):
    loaded = load_plugins(entry_points=False)
    loaded.pm.register(importlib.import_module("sertk_path_demo.plugin"), name="path_demo")
    registry = Registry.from_plugins(loaded)
    ours = [e for e in registry.entries() if e.plugin == "path_demo"]
    assert sorted(SINGULAR[e.kind] for e in ours) == sorted(PARTS)
    energy = registry.entry("features", "path_demo_energy")
    assert energy.summary.startswith("frame log-energy") and "Cite the paper here" in energy.doc
    assert [(p.name, p.default) for p in energy.params()] == [("win_ms", 25.0), ("hop_ms", 10.0)]
    assert not any(e.loaded for e in ours)  # described from the source, nothing imported
    assert "sertk_path_demo.features" not in sys.modules
    feature = registry.build("features", {"name": "path_demo_energy", "params": {"hop_ms": 20}})
    assert feature(np.zeros(8000, np.float32) + 0.1, 16000).shape == (1 + (8000 - 400) // 320, 2)
    with pytest.raises(ConfigError, match="hop_ms"):
        registry.check("features", {"name": "path_demo_energy", "params": {"hop_ms": "fast"}}, "features.0")
    model = registry.build("models", "path_demo_probe", inputs={"x": FeatureInfo("x", 2, "frame", 50.0)},
                           labels=LabelSpace(classes={"emotion": ("a", "b")}))
    assert model({"x": torch.zeros(3, 7, 2)}, {"x": torch.tensor([7, 5, 1])})["emotion"].shape == (3, 2)


@pytest.mark.parametrize("name", ["Demo", "1demo", "demo-plugin", "class", "sertk", "démo"])
def test_a_bad_name_is_one_line_and_writes_nothing(tmp_path, name):
    done = cli(name, "--dir", tmp_path)
    assert done.exit_code == 2
    assert done.output.startswith("error: new-plugin NAME") and done.output.count("\n") == 1
    assert not list(tmp_path.iterdir())


def test_an_unknown_kind_names_the_closest(tmp_path):
    done = cli("demo", "--dir", tmp_path, "--kinds", "feature,modle")
    assert done.exit_code == 2 and "unknown component kind 'modle'; did you mean 'model'?" in done.output
    assert not list(tmp_path.iterdir())


def test_an_existing_folder_is_never_overwritten(tmp_path):
    existing = tmp_path / "sertk-demo"
    existing.mkdir()
    (existing / "mine.txt").write_text("keep")
    done = cli("demo", "--dir", tmp_path)
    assert done.exit_code == 2 and "already exists" in done.output
    assert [p.name for p in existing.iterdir()] == ["mine.txt"] and (existing / "mine.txt").read_text() == "keep"
    assert [p.name for p in tmp_path.iterdir()] == ["sertk-demo"]  # no staging folder left behind


def run(command, cwd=None):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    done = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=240,
                          env={**env, "OMP_NUM_THREADS": "1", "PIP_NO_INDEX": "1"})
    assert done.returncode == 0, f"{command}:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.mark.slow
def test_scaffold_installs_in_a_fresh_environment_only(tmp_path):
    folder = scaffold("demo_plugin", tmp_path)
    venv = tmp_path / "venv"
    run([sys._base_executable, "-m", "venv", "--without-pip", venv])  # pip comes from the main venv's packages
    python = venv / "bin" / "python"
    site = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).stdout.strip())
    main_site = sysconfig.get_path("purelib")
    assert site != Path(main_site)
    (site / "sertk_main_venv.pth").write_text(f"import site; site.addsitedir({main_site!r})\n")
    run([python, "-m", "pip", "--disable-pip-version-check", "-q", "install", "--no-deps", "--no-build-isolation",
         "--no-cache-dir", "-e", folder])
    listed = json.loads(run([python, "-m", "sertk.cli", "list", "--json"]).stdout)
    ours = {(r["kind"], r["name"], r["version"]) for r in listed if r["plugin"] == "demo_plugin"}
    assert ours == {("feature", "demo_plugin_energy", "0.1.0"), ("model", "demo_plugin_probe", "0.1.0")}
    tests = run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_demo_plugin.py"], cwd=folder)
    assert "3 passed" in tests.stdout, tests.stdout
    here = json.loads(run([sys.executable, "-m", "sertk.cli", "list", "--json"]).stdout)
    assert here and not [r for r in here if r["plugin"] == "demo_plugin"]

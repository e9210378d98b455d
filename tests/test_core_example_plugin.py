"""A third-party plugin installed into the environment is listed and usable from a recipe."""
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PLUGIN = ROOT / "tests" / "example_plugin"
SERTK = [sys.executable, "-m", "sertk.cli"]


def pip(*args):
    return subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def installed_example(tmp_path_factory):
    """pip-install the example plugin (no network: no build isolation, no deps), uninstall after."""
    source = tmp_path_factory.mktemp("plugin") / "example_plugin"
    shutil.copytree(PLUGIN, source, ignore=shutil.ignore_patterns("*.egg-info", "build", "__pycache__"))
    done = pip("install", "--no-deps", "--no-build-isolation", str(source))
    assert done.returncode == 0, done.stderr
    yield
    pip("uninstall", "-y", "sertk-example-plugin")


def test_example_plugin_appears_in_sertk_list(installed_example):
    listed = subprocess.run([*SERTK, "list"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert listed.returncode == 0, listed.stderr
    rows = [line for line in listed.stdout.splitlines() if "rms_energy" in line or "linear_probe" in line]
    assert len(rows) == 2 and all("example" in row for row in rows)
    plugins = subprocess.run([*SERTK, "list", "--plugins"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert "sertk-example-plugin" in plugins.stdout and "0.0.1" in plugins.stdout


def test_example_plugin_components_run_from_a_recipe(installed_example, tmp_path):
    recipe = tmp_path / "example.yaml"
    recipe.write_text(
        "corpus: {name: synthetic, params: {n_speakers: 3, n_per_class: 6}}\n"
        "features: [{name: rms_energy, params: {hop_ms: 20}}]\n"
        "model: linear_probe\n"
        "train: {epochs: 3, batch_size: 16}\n"
        "protocol: loso\n"
        "metrics: [ua]\n"
        "output: {name: example}\n")
    env_cache = {"SERTK_CACHE": str(tmp_path / "cache")}
    done = subprocess.run([*SERTK, "run", str(recipe), "--out", str(tmp_path / "runs")], capture_output=True,
                          text=True, timeout=300, cwd=ROOT, env={**os.environ, **env_cache})
    assert done.returncode == 0, done.stderr
    metrics = json.loads((tmp_path / "runs" / "example" / "metrics.json").read_text())
    assert len(metrics["folds"]) == 3 and metrics["heads"]["emotion"]["n"] == 3 * 4 * 6
    provenance = json.loads((tmp_path / "runs" / "example" / "run.json").read_text())
    assert provenance["versions"]["plugins"]["example"] == "0.0.1"

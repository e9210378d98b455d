"""Hyperparameter tuning: search space parsing, resumable trials, a runnable best recipe."""
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest
import yaml

from sertk.engine.tune import search_space, tune_recipe, with_values
from sertk.errors import ConfigError
from sertk.plugins import load_plugins
from sertk.recipe import load_recipe, parse_recipe
from sertk.registry import Registry

TINY = {
    "corpus": {"name": "synthetic", "params": {"n_speakers": 3, "n_per_class": 6}},
    "features": [{"name": "mfcc", "params": {"n_mfcc": 8}}],
    "model": {"name": "mlp", "params": {"hidden": [8]}},
    "train": {"epochs": 2, "batch_size": 16, "threads": 1},
    "protocol": {"name": "holdout_speakers", "params": {"n": 1}},
    "metrics": ["ua"],
    "tune": {"trials": 2, "space": {"train.optimizer.lr": {"loguniform": [1.0e-4, 1.0e-1]},
                                    "model.params.hidden": {"choice": [[8], [16, 8]]},
                                    "train.batch_size": {"quniform": [8, 32, 8]}}},
}


@pytest.fixture(scope="module")
def registry():
    return Registry.from_plugins(load_plugins(entry_points=False))


def write_recipe(folder: pathlib.Path) -> pathlib.Path:
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump({**TINY, "output": {"dir": str(folder / "runs")}}))
    return path


def test_search_space_rejects_unknown_distributions():
    with pytest.raises(ConfigError, match=r"tune.space.train.epochs: unknown distribution 'normal'"):
        search_space({"train.epochs": {"normal": [0, 1]}})
    with pytest.raises(ConfigError, match="must be positive"):
        search_space({"train.optimizer.lr": {"loguniform": [0, 1]}})


def test_loguniform_bounds_are_natural_units():
    from hyperopt.pyll.stochastic import sample

    space = search_space({"lr": {"loguniform": [1e-4, 1e-2]}})
    draws = [sample(space)["lr"] for _ in range(200)]
    assert 1e-4 <= min(draws) and max(draws) <= 1e-2


def test_with_values_sets_dotted_keys_without_touching_the_original():
    out = with_values(TINY, {"train.optimizer.lr": 0.01, "model.params.hidden": [16, 8]})
    assert out["train"]["optimizer"]["lr"] == 0.01 and out["model"]["params"]["hidden"] == [16, 8]
    assert "optimizer" not in TINY["train"]


def test_tune_resumes_and_writes_a_runnable_best_recipe(tmp_path, monkeypatch, registry):
    monkeypatch.setenv("SERTK_CACHE", str(tmp_path / "cache"))
    recipe = load_recipe(write_recipe(tmp_path), registry=registry)
    first = tune_recipe(recipe, registry, trials=1)
    assert first.n_trials == 1
    trials_dir = first.best_recipe.parent / "trials"
    assert [p.name for p in trials_dir.iterdir()] == ["trial-000"]
    resumed = tune_recipe(recipe, registry)
    assert resumed.n_trials == 2 and len(list(trials_dir.iterdir())) == 2
    assert resumed.best_score >= first.best_score
    best = load_recipe(resumed.best_recipe, registry=registry)
    assert best.train.optimizer.lr == pytest.approx(resumed.best_params["train.optimizer.lr"])
    assert best.train.batch_size in (8, 16, 24, 32) and isinstance(best.train.batch_size, int)


def test_killed_tuning_continues_from_saved_trials(tmp_path):
    recipe = write_recipe(tmp_path)
    env = {**os.environ, "SERTK_CACHE": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "sertk.cli", "tune", str(recipe), "--trials", "3"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    state = tmp_path / "runs" / "tiny-tune" / "trials-state.json"
    deadline = time.time() + 240
    while not state.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert state.exists(), "the first trial never finished"
    done_before = len(list((tmp_path / "runs" / "tiny-tune" / "trials").iterdir()))
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    trials = sorted((tmp_path / "runs" / "tiny-tune" / "trials").iterdir())
    assert done_before >= 1 and [p.name for p in trials] == ["trial-000", "trial-001", "trial-002"]
    assert all((p / "metrics.json").is_file() for p in trials)
    assert "best ua" in finished.stdout
    assert parse_recipe(yaml.safe_load((tmp_path / "runs" / "tiny-tune" / "best.yaml").read_text()))

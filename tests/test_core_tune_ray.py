"""Parallel tuning on Ray Tune: two local workers, TPE suggestions, ASHA, the sequential tuner's outputs."""
import json
import pathlib
import sys

import pytest
import yaml
from click.testing import CliRunner

from sertk.cli import main
from sertk.engine.tune_ray import tune_recipe_ray
from sertk.errors import SertkError
from sertk.plugins import load_plugins
from sertk.recipe import load_recipe
from sertk.registry import Registry

pytest.importorskip("ray.tune")

TINY = {
    "corpus": {"name": "synthetic", "params": {"n_speakers": 3, "n_per_class": 6}},
    "features": [{"name": "mfcc", "params": {"n_mfcc": 8}}],
    "model": {"name": "mlp", "params": {"hidden": [8]}},
    "train": {"epochs": 3, "batch_size": 16, "threads": 1, "device": "cpu"},
    "protocol": {"name": "holdout_speakers", "params": {"n": 1}},
    "metrics": ["ua"],
    "tune": {"trials": 4, "space": {"train.optimizer.lr": {"loguniform": [1.0e-4, 1.0e-1]},
                                    "model.params.hidden": {"choice": [[8], [16, 8]]}}},
}


def write_recipe(folder):
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump({**TINY, "output": {"dir": str(folder / "runs")}}))
    return path


def test_two_workers_run_trials_in_parallel_and_write_the_best_recipe(tmp_path, monkeypatch):
    monkeypatch.setenv("SERTK_CACHE", str(tmp_path / "cache"))
    registry = Registry.from_plugins(load_plugins(entry_points=False))
    recipe = load_recipe(write_recipe(tmp_path), registry=registry)
    result = tune_recipe_ray(recipe, registry, workers=2)
    folder = tmp_path / "runs" / "tiny-tune"
    rows = json.loads((folder / "trials.json").read_text())
    assert result.n_trials == len(rows) == 4
    assert {r["status"] for r in rows} <= {"complete", "stopped"} and "complete" in {r["status"] for r in rows}
    for r in rows:
        assert 1e-4 <= r["values"]["train.optimizer.lr"] <= 1e-1 and r["values"]["model.params.hidden"] in ([8], [16, 8])
        assert r["epochs"] >= 1 and r["run_dir"].startswith(str(folder / "trials" / "trial-"))
        if r["status"] == "complete":
            assert (pathlib.Path(r["run_dir"]) / "metrics.json").is_file() and 0 <= r["score"] <= 1
    spans = [(r["started"], r["ended"]) for r in rows]
    assert any(a[0] < b[1] and b[0] < a[1] for i, a in enumerate(spans) for b in spans[i + 1:]), \
        f"no two trials overlapped in time: {spans}"
    complete = [r for r in rows if r["status"] == "complete"]
    assert result.best_score == max(r["score"] for r in complete)
    best = load_recipe(folder / "best.yaml", registry=registry)
    assert set(result.best_params) == set(TINY["tune"]["space"])
    assert best.train.optimizer.lr == pytest.approx(result.best_params["train.optimizer.lr"])
    assert best.model["params"]["hidden"] == result.best_params["model.params.hidden"]


def test_ray_engine_without_ray_is_a_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails as if it were not installed
    outcome = CliRunner().invoke(main, ["tune", str(write_recipe(tmp_path)), "--engine", "ray"])
    assert outcome.exit_code == 2
    assert outcome.output.strip().splitlines() == ["error: --engine ray needs Ray Tune: pip install sertk[distributed]"]
    with pytest.raises(SertkError, match=r"pip install sertk\[distributed\]"):
        registry = Registry.from_plugins(load_plugins(entry_points=False))
        tune_recipe_ray(load_recipe(write_recipe(tmp_path), registry=registry), registry)

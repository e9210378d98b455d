"""Shared checks of command-line behaviour, tone recordings and tiny finished runs."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
import yaml
from click.testing import CliRunner

from sertk.cli import main

RATE = 16000


def invoke(*args):
    """``sertk ARGS...`` in this process."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def one_line_error(result, *words) -> str:
    """The command failed with exit 2 and one line (no traceback) containing ``words``."""
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]  # besides progress bars
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def tone(path: Path, freq: float, seconds: float = 0.4, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * RATE)) / RATE
    noise = np.random.default_rng(seed).normal(0, 0.02, len(t))
    sf.write(path, (0.3 * np.sin(2 * np.pi * freq * t) + noise).astype(np.float32), RATE, subtype="PCM_16")
    return path


def manifest(root: Path, speakers=("s1", "s2", "s3"), per_class: int = 4, extra_rows=()) -> Path:
    """Two tone 'emotions' per speaker in the CSV layout of the ``manifest`` corpus."""
    rows = ["path,speaker,emotion"]
    for s, speaker in enumerate(speakers):
        for c, (label, freq) in enumerate((("low", 150.0), ("high", 400.0))):
            for k in range(per_class):
                name = f"wav/{s}_{label}_{k}.wav"
                tone(root / name, freq * (1 + 0.03 * k), seed=100 * s + 10 * c + k)
                rows.append(f"{name},{speaker},{label}")
    rows += list(extra_rows)
    (root / "manifest.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return root / "manifest.csv"


def recipe_file(tmp_path: Path, corpus_root: Path, estimator: bool = False, **sections) -> Path:
    raw = {
        "corpus": {"name": "manifest", "params": {"root": str(corpus_root)}},
        "data": {"cache_dir": str(tmp_path / "cache")},
        "features": [{"name": "opensmile", "params": {"feature_set": "eGeMAPSv02", "level": "func"}}]
        if estimator else [{"name": "mfcc", "params": {"n_mfcc": 13}}],
        "model": {"name": "linear_svm"} if estimator else {"name": "mlp", "params": {"hidden": [16]}},
        "train": {"epochs": 15, "threads": 1, "optimizer": {"name": "adam", "lr": 0.01}},
        "protocol": "loso",
        "metrics": ["ua"],
        "output": {"dir": str(tmp_path / "runs")},
    }
    for key, value in sections.items():
        raw[key] = {**raw.get(key, {}), **value} if isinstance(value, dict) else value
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def finished_run(tmp_path: Path, estimator: bool = False, **sections) -> Path:
    corpus = manifest(tmp_path / "corpus")
    result = invoke("run", recipe_file(tmp_path, corpus, estimator, **sections))
    assert result.exit_code == 0, result.output
    return next((tmp_path / "runs").iterdir())

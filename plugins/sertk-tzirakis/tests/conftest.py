"""Shared fixtures of the sertk-tzirakis tests: one torch thread, the plugin registry, a
generated SEWA tree (AVEC 2017 layout) whose arousal follows the loudness of its audio, and
an in-process ``sertk run``."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

torch.set_num_threads(1)

WORDS = ["ja", "nein", "genau", "super", "das", "ist", "gut", "schlecht", "werbung", "toll"]


@pytest.fixture(scope="session")
def registry():
    from sertk.plugins import load_plugins
    from sertk.registry import Registry

    loaded = load_plugins()
    assert not loaded.failures, [f"{p.name}: {p.error}" for p in loaded.failures]
    return Registry.from_plugins(loaded)


def build_sewa(root: Path, recordings: dict[str, float], rate: int = 8000) -> Path:
    """``audio/<id>.wav``, ``labels/<id>.csv`` (``instance;time;arousal;valence;liking`` every
    100 ms: arousal the level curve of the audio, valence its negative, liking a constant
    per recording) and ``transcriptions/<id>.csv`` (``start;end;'text'`` turns of 2-4 words
    every 1.5 s, as the authors' files quote the text)."""
    for index, (rec, seconds) in enumerate(recordings.items()):
        rng = np.random.default_rng(index)
        knots = np.arange(0, seconds + 1.0, 0.5)
        walk = np.tanh(np.cumsum(rng.normal(0, 0.6, len(knots))))
        t = np.arange(int(seconds * rate)) / rate
        level = np.interp(t, knots, walk)
        audio = 0.1 * 10 ** (0.6 * level) * np.sin(2 * np.pi * 150 * t) + 0.003 * rng.standard_normal(len(t))
        for folder in ("audio", "labels", "transcriptions"):
            (root / folder).mkdir(parents=True, exist_ok=True)
        sf.write(root / "audio" / f"{rec}.wav", (0.9 * audio / np.abs(audio).max()).astype(np.float32), rate)
        times = np.arange(int(seconds * 10)) / 10
        arousal = np.interp(times, knots, walk)
        lines = [f"{rec};{x:.1f};{a:.4f};{-a:.4f};{0.1 * index:.1f}" for x, a in zip(times, arousal)]
        (root / "labels" / f"{rec}.csv").write_text("\n".join(lines) + "\n")
        turns = [f"{s:.2f};{s + 1.2:.2f};'{' '.join(rng.choice(WORDS, rng.integers(2, 5)))}'"
                 for s in np.arange(0.2, seconds - 1.3, 1.5)]
        (root / "transcriptions" / f"{rec}.csv").write_text("start;end;text\n" + "\n".join(turns) + "\n")
    return root


@pytest.fixture(scope="session")
def sewa_tree(tmp_path_factory):
    """Four training, one development and one test recording of 4 s."""
    names = [f"Train_{i:02d}" for i in range(1, 5)] + ["Devel_01", "Test_01"]
    return build_sewa(tmp_path_factory.mktemp("sewa"), {n: 4.0 for n in names})


@pytest.fixture(scope="session")
def run_file():
    """``sertk run PATH --set ...`` in-process: a function returning the RunResult."""
    from sertk.engine.run import run_recipe
    from sertk.recipe import load_recipe

    return lambda path, registry, out, overrides: run_recipe(load_recipe(path, overrides, registry), registry,
                                                             out_dir=str(out))

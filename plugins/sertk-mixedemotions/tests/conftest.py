"""Shared fixtures of the sertk-mixedemotions tests: the plugin registry, one thread for torch,
and generated corpus trees in the RECOLA (AVEC 2016) and MediaEval 2013 (emoMusic) layouts
whose contours follow the loudness of their audio."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def registry():
    from sertk.plugins import load_plugins
    from sertk.registry import Registry

    loaded = load_plugins()
    assert not loaded.failures, [f"{p.name}: {p.error}" for p in loaded.failures]
    return Registry.from_plugins(loaded)


def loud_audio(seconds: float, rate: int, seed: int) -> tuple[np.ndarray, callable]:
    """A harmonic tone in noise whose level follows a slow random curve; returns the signal
    and the curve (a function of time in seconds, values in -1..1)."""
    rng = np.random.default_rng(seed)
    knots = np.arange(0, seconds + 1.0, 0.5)
    walk = np.tanh(np.cumsum(rng.normal(0, 0.6, len(knots))))
    curve = lambda t: np.interp(t, knots, walk)  # noqa: E731
    t = np.arange(int(seconds * rate)) / rate
    f0 = 150 + 30 * curve(t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    tone = sum(np.sin(k * phase) / k for k in range(1, 6))
    signal = 0.1 * 10 ** (curve(t) * 0.6) * tone + 0.003 * rng.standard_normal(len(t))
    return (0.9 * signal / np.abs(signal).max()).astype(np.float32), curve


def build_recola(root: Path, recordings: dict[str, float], rate: int = 16000) -> Path:
    """``recordings_audio/<id>.wav`` and ``ratings_gold_standard/{arousal,valence}/<id>.arff`` (AVEC 2016),
    gold standard every 40 ms: arousal follows the loudness curve, valence its negative."""
    for index, (rec, seconds) in enumerate(recordings.items()):
        audio, curve = loud_audio(seconds, rate, index)
        (root / "recordings_audio").mkdir(parents=True, exist_ok=True)
        sf.write(root / "recordings_audio" / f"{rec}.wav", audio, rate, subtype="PCM_16")
        times = np.arange(int(round(seconds / 0.04))) * 0.04
        for dim, sign in (("arousal", 1.0), ("valence", -0.5)):
            folder = root / "ratings_gold_standard" / dim
            folder.mkdir(parents=True, exist_ok=True)
            lines = ["@relation GoldStandard", "", "@attribute Instance_name string", "@attribute frameTime numeric",
                     "@attribute GoldStandard numeric", "", "@data", ""]
            lines += [f"'{rec}',{t:.6f},{sign * curve(t):.6f}" for t in times]
            (folder / f"{rec}.arff").write_text("\n".join(lines) + "\n")
    return root


def build_mediaeval(root: Path, songs: dict[int, str], seconds: float = 20.0, rate: int = 22050) -> Path:
    """The emoMusic layout: ``clips_45seconds/<id>.mp3`` (here ``seconds`` long) and the annotation
    CSVs under ``annotations/``, continuous ratings every 500 ms from 15 s."""
    ann = root / "annotations"
    ann.mkdir(parents=True, exist_ok=True)
    (root / "clips_45seconds").mkdir(parents=True, exist_ok=True)
    times_ms = np.arange(15000, int(seconds * 1000), 500)
    info = ["song_id,file_name,Artist,Song title,start of the segment (min.sec),end of the segment (min.sec),Genre,"
            "Mediaeval 2013 set"]
    static = ["song_id,mean_arousal,std_arousal,mean_valence,std_valence"]
    cont = {dim: ["song_id," + ",".join(f"sample_{ms}ms" for ms in times_ms)] for dim in ("arousal", "valence")}
    for song, subset in songs.items():
        audio, curve = loud_audio(seconds, rate, song)
        sf.write(root / "clips_45seconds" / f"{song}.mp3", audio, rate)
        info.append(f"{song},{song}.mp3,Artist {song % 3},Song {song},0.00,0.45,Rock,{subset}")
        static.append(f"{song},5.0,1.0,5.0,1.0")
        for dim, sign in (("arousal", 1.0), ("valence", -1.0)):
            cont[dim].append(f"{song}," + ",".join(f"{sign * curve(ms / 1000):.4f}" for ms in times_ms))
    (ann / "songs_info.csv").write_text("\n".join(info) + "\n")
    (ann / "static_annotations.csv").write_text("\n".join(static) + "\n")
    for dim, lines in cont.items():
        (ann / f"{dim}_cont_average.csv").write_text("\n".join(lines) + "\n")
    return root


def run_recipe_file(path: Path, registry, out: Path, overrides: list[str]):
    """``sertk run PATH --set ...`` in-process; returns the RunResult."""
    from sertk.engine.run import run_recipe
    from sertk.recipe import load_recipe

    recipe = load_recipe(path, overrides, registry)
    return run_recipe(recipe, registry, out_dir=str(out))


@pytest.fixture(scope="session")
def trees():
    """The builders, for tests that make their own trees."""
    return {"recola": build_recola, "mediaeval": build_mediaeval, "run": run_recipe_file}


@pytest.fixture(scope="session")
def tiny_synthetic(tmp_path_factory):
    """Params of a small synthetic time-continuous corpus (4 speakers: 2 train, 1 dev, 1 test),
    rendered once per test session into a temporary cache."""
    return {"n_speakers": 4, "n_per_speaker": 3, "min_seconds": 3.0, "max_seconds": 4.0,
            "cache_dir": str(tmp_path_factory.mktemp("synthetic"))}

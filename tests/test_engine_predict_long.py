"""Prediction on long recordings (sliding windows read block by block), contours of
frame-level heads, and folder / manifest inputs."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sertk.engine.inputs import collect_inputs
from sertk.engine.predict import predict_files
from sertk.engine.trained import TrainedRun
from sertk.engine.windows import read_windows, window_starts
from sertk.errors import SertkError
from sertk.plugins import load_plugins
from sertk.registry import Registry
from tests.fakes.cli import RATE, finished_run, invoke, one_line_error, tone
from tests.fakes.loudness import Loudness, LoudnessPlugin
from tests.test_engine_bundle import csv_rows


@pytest.fixture(scope="module")
def mlp_run(tmp_path_factory) -> Path:
    return finished_run(tmp_path_factory.mktemp("mlp"))


def tones_recording(path: Path, seconds: float, block: float = 20.0, rate: int = 22050, channels: int = 2) -> Path:
    """Alternating 'low' (150 Hz) and 'high' (400 Hz) tones, ``block`` seconds each, written in pieces."""
    with sf.SoundFile(path, "w", rate, channels, "PCM_16") as f:
        rng = np.random.default_rng(0)
        for start in np.arange(0, seconds, block):
            t = np.arange(int(min(block, seconds - start) * rate)) / rate
            freq = 150.0 if int(start // block) % 2 == 0 else 400.0
            mono = 0.3 * np.sin(2 * np.pi * freq * t) + rng.normal(0, 0.02, len(t))
            f.write(np.repeat(mono[:, None], channels, axis=1).astype(np.float32))
    return path


# ------------------------------------------------------------------ windows
def test_window_starts_cover_the_recording():
    assert window_starts(100, 100, 50) == [0]
    assert window_starts(250, 100, 50) == [0, 50, 100, 150]  # the last window reaches the end
    assert window_starts(251, 100, 50) == [0, 50, 100, 150, 200]  # ... and is shorter when it must be
    with pytest.raises(SertkError):
        window_starts(100, 0, 10)


def test_windows_are_read_one_at_a_time_as_mono_at_the_model_rate(tmp_path):
    path = tones_recording(tmp_path / "long.wav", 10.5, block=5.0)
    windows = list(read_windows(str(path), RATE, 2.0, 1.0))
    assert [w.start_s for w in windows] == pytest.approx(list(range(10)))
    assert windows[-1].end_s == pytest.approx(10.5) and windows[-2].end_s == pytest.approx(10.0)
    assert {len(w.signal) for w in windows[:-1]} == {2 * RATE} and len(windows[-1].signal) == int(1.5 * RATE)
    # the 150-Hz block, resampled from 22.05 kHz to 16 kHz, keeps its frequency
    spectrum = np.abs(np.fft.rfft(windows[1].signal))
    assert np.fft.rfftfreq(2 * RATE, 1 / RATE)[spectrum.argmax()] == pytest.approx(150, abs=1)


def test_a_long_recording_gives_a_time_continuous_output_and_plot(mlp_run, tmp_path):
    path = tones_recording(tmp_path / "three_minutes.wav", 180.0)
    short = tone(tmp_path / "short.wav", 400.0)
    result = invoke("predict", mlp_run, path, short, "--window", 2, "--hop", 1, "--batch-size", 32,
                    "--out", tmp_path / "p.csv")
    assert result.exit_code == 0, result.output
    assert "179 windows of 2 s every 1 s" in result.output
    rows = csv_rows(tmp_path / "p_windows.csv")
    assert len(rows) == 179 and list(rows[0])[:5] == ["file", "start_s", "end_s", "head", "prediction"]
    assert [float(r["start_s"]) for r in rows] == pytest.approx(list(range(179)))
    assert [float(r["end_s"]) for r in rows] == pytest.approx([s + 2.0 for s in range(179)])
    # windows inside a 20-s block of one tone predict that tone's class
    inside = [(r["prediction"], "low" if int(float(r["start_s"]) // 20) % 2 == 0 else "high") for r in rows
              if float(r["start_s"]) % 20 <= 18]
    assert np.mean([p == t for p, t in inside]) > 0.9
    per_file = {r["file"]: r for r in csv_rows(tmp_path / "p.csv")}
    assert per_file[str(short)]["prediction"] == "high" and str(path) in per_file
    assert (tmp_path / "p_three_minutes.png").stat().st_size > 10_000

    assert invoke("predict", mlp_run, path, "--window", 2, "--hop", 1, "--out", tmp_path / "p.json").exit_code == 0
    saved = json.loads((tmp_path / "p.json").read_text())
    assert saved["window_s"] == 2 and saved["hop_s"] == 1 and saved["score"] == "probability"
    windows = saved["files"][0]["windows"]
    assert len(windows) == 179 and windows[0]["emotion"]["prediction"] == rows[0]["prediction"]
    assert sum(windows[5]["emotion"]["probability"].values()) == pytest.approx(1, abs=1e-5)


def test_silent_windows_are_left_out_and_hop_may_not_exceed_the_window(mlp_run, tmp_path):
    path = tmp_path / "gap.wav"
    t = np.arange(6 * RATE) / RATE
    signal = (0.3 * np.sin(2 * np.pi * 400 * t)).astype(np.float32)
    signal[2 * RATE:4 * RATE] = 0  # the window 2–4 s is digital silence
    sf.write(path, signal, RATE)
    outputs, window, hop = predict_files(TrainedRun(mlp_run, registry_()), [str(path)], 2.0, 2.0)
    assert (window, hop) == (2.0, 2.0) and list(outputs[0].starts) == [0.0, 4.0]
    one_line_error(invoke("predict", mlp_run, path, "--window", 2, "--hop", 3), "--hop")
    import torch

    if not torch.cuda.is_available():
        one_line_error(invoke("predict", mlp_run, path, "--device", "cuda"), "--device cuda", "not available")


def registry_(*plugins) -> Registry:
    loaded = load_plugins(entry_points=False)
    for plugin in plugins:
        loaded.pm.register(plugin)
    return Registry.from_plugins(loaded)


# ------------------------------------------------------------------ inputs
def test_folders_and_manifests_name_the_recordings(mlp_run, tmp_path):
    files = [tone(tmp_path / "in" / sub / f"{k}.wav", 150.0 if k % 2 else 400.0, seed=k)
             for sub, k in (("a", 0), ("a/deep", 1), ("b", 2))]
    (tmp_path / "in" / "notes.txt").write_text("not audio")
    assert collect_inputs([str(tmp_path / "in")]) == sorted(str(f) for f in files)
    (tmp_path / "list.csv").write_text("path,speaker\nin/b/2.wav,x\n" + f"{files[1]},y\n")
    assert collect_inputs([str(tmp_path / "list.csv"), str(files[2])]) == [str(tmp_path / "in/b/2.wav"), str(files[1])]
    result = invoke("predict", mlp_run, tmp_path / "in", tmp_path / "list.csv", "--out", tmp_path / "p.csv")
    assert result.exit_code == 0, result.output
    predicted = {Path(r["file"]).name: r["prediction"] for r in csv_rows(tmp_path / "p.csv")}
    assert predicted == {"0.wav": "high", "1.wav": "low", "2.wav": "high"}
    (tmp_path / "bad.csv").write_text("file\nx.wav\n")
    one_line_error(invoke("predict", mlp_run, tmp_path / "bad.csv"), "bad.csv", "'path' column")
    (tmp_path / "missing.csv").write_text("path\nnowhere.wav\n")
    one_line_error(invoke("predict", mlp_run, tmp_path / "missing.csv"), "missing.csv", "not found")
    (tmp_path / "empty").mkdir()
    one_line_error(invoke("predict", mlp_run, tmp_path / "empty"), "no audio files")


# ------------------------------------------------------------------ frame-level heads
class LongLoudness(Loudness):
    """Three labelled speakers, recordings of 1.0–2.4 s."""

    name = "loudness_long"
    speakers, shortest, unlabelled = 3, 1.0, None


def test_frame_level_heads_are_predicted_as_contours_over_windows(tmp_path):
    from sertk.engine.run import run_recipe
    from sertk.recipe import parse_recipe

    registry = registry_(LoudnessPlugin(LongLoudness))
    recipe = parse_recipe({
        "corpus": "loudness_long", "data": {"sample_rate": 8000, "cache": False},
        "features": [{"name": "frame_level", "normalize": "standard"}],
        "model": {"name": "blstm", "params": {"hidden": 16, "layers": 1, "targets": ["arousal"]}},
        "loss": "ccc", "train": {"epochs": 25, "batch_size": 8, "optimizer": {"name": "adam", "lr": 0.01},
                                 "device": "cpu", "threads": 1, "select": "last"},
        "protocol": {"name": "speakers", "params": {"test_speakers": ["s2"]}}, "metrics": ["ccc"],
    }, "loudness.yaml", registry)
    run = TrainedRun(run_recipe(recipe, registry, out_dir=str(tmp_path)).dir, registry)
    seconds = 30.0
    t = np.arange(int(seconds * 8000)) / 8000
    envelope = 0.5 + 0.4 * np.sin(2 * np.pi * 0.2 * t)
    sf.write(tmp_path / "long.wav", (envelope * np.random.default_rng(1).standard_normal(len(t)) * 0.1
                                     ).astype(np.float32), 8000)
    (out,), window, hop = predict_files(run, [str(tmp_path / "long.wav")], 4.0, 2.0, batch_size=4)
    assert len(out.starts) == 14 and not out.windows  # no utterance-level head: contours only
    times, values = out.contours["arousal"]
    assert np.all(np.diff(times) > 0) and times[0] == 0 and times[-1] > seconds - 0.1
    assert np.diff(times).max() < 0.02  # continuous at the model's 100 frames/s
    assert np.corrcoef(values, np.interp(times, t, envelope))[0, 1] > 0.8
    from sertk.engine.predict_out import write_predictions

    written = write_predictions(tmp_path / "p.csv", [out], run.heads, run.score_name, window, hop)
    assert [p.name for p in written] == ["p_contours.csv", "p_long.png"]
    with open(tmp_path / "p_contours.csv") as f:
        assert sum(1 for _ in csv.DictReader(f)) == len(times)

"""Model bundles: export, weights-only loading with checksums, ONNX, and predictions equal to the run's."""
from __future__ import annotations

import csv
import hashlib
import json
import os
import pathlib
import pickle
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sertk.engine.bundle import Bundle, export_bundle
from sertk.engine.trained import TrainedRun
from sertk.plugins import load_plugins
from sertk.registry import Registry
from tests.fakes.cli import RATE, finished_run, invoke, one_line_error, tone

EMODB = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "emodb"


@pytest.fixture(scope="module")
def mlp_run(tmp_path_factory) -> Path:
    return finished_run(tmp_path_factory.mktemp("mlp"))


@pytest.fixture(scope="module")
def svm_run(tmp_path_factory) -> Path:
    return finished_run(tmp_path_factory.mktemp("svm"), estimator=True)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.from_plugins(load_plugins(entry_points=False))


def new_files(folder: Path) -> list[Path]:
    return [tone(folder / f"new_{f:.0f}.wav", f, 0.5, seed=int(f)) for f in (140.0, 170.0, 380.0, 420.0)]


def csv_rows(path: Path) -> list[dict]:
    return list(csv.DictReader(path.open(encoding="utf-8")))


def reseal(bundle: Path, name: str) -> None:
    """Update one file's checksum in bundle.json, as a forger would."""
    meta = json.loads((bundle / "bundle.json").read_text())
    meta["files"][name] = hashlib.sha256((bundle / name).read_bytes()).hexdigest()
    (bundle / "bundle.json").write_text(json.dumps(meta))


class Pwn:
    def __init__(self, target: Path):
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


# ------------------------------------------------------------------ round trip
def test_bundle_describes_itself_and_predicts_as_the_run(mlp_run, registry, tmp_path):
    bundle = export_bundle(mlp_run, str(tmp_path / "bundle"), registry)
    meta = json.loads((bundle / "bundle.json").read_text())
    run = TrainedRun(mlp_run, registry)
    assert meta["format_version"] == 1 and meta["versions"]["sertk"] == "0.1.0"
    assert meta["folds"] == run.folds == ["speaker-s1", "speaker-s2", "speaker-s3"]
    assert meta["features"] == [{"name": "mfcc", "params": {"n_mfcc": 13}, "key": "mfcc", "normalize": "standard"}]
    assert meta["sample_rate"] == 16000 and meta["segment"]["policy"] == "whole"
    assert meta["heads"] == [{"name": "emotion", "kind": "classification", "level": "utterance",
                              "label_key": "emotion", "classes": ["high", "low"]}]
    assert meta["normalizers"]["speaker-s2"] == "folds/speaker-s2/normalizer.npz"
    listed = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()} - {"bundle.json"}
    assert set(meta["files"]) == listed and "folds/speaker-s1/model.pt" in listed
    for name, digest in meta["files"].items():
        assert hashlib.sha256((bundle / name).read_bytes()).hexdigest() == digest

    files = [str(p) for p in new_files(tmp_path)]
    from_run, from_bundle = run.predict(files), Bundle(bundle, registry).predict(files)
    assert set(from_run) == set(from_bundle) == set(files)
    for f in files:
        np.testing.assert_allclose(from_bundle[f]["emotion"], from_run[f]["emotion"], atol=1e-6)
    # far above chance: 150 and 170 Hz are 'low', 380 and 420 Hz 'high'
    assert [run.heads[0].classes[int(from_run[f]["emotion"].argmax())] for f in files] == ["low", "low", "high", "high"]

    for source, name in ((mlp_run, "run.csv"), (bundle, "bundle.csv")):
        result = invoke("predict", source, *files, "--out", tmp_path / name)
        assert result.exit_code == 0, result.output
    run_rows, bundle_rows = csv_rows(tmp_path / "run.csv"), csv_rows(tmp_path / "bundle.csv")
    assert [r["prediction"] for r in run_rows] == [r["prediction"] for r in bundle_rows] == ["low", "low", "high", "high"]
    assert list(run_rows[0]) == ["file", "head", "prediction", "probability", "probability_high", "probability_low"]
    for r in bundle_rows:
        assert float(r["probability_high"]) + float(r["probability_low"]) == pytest.approx(1, abs=2e-4)


def test_export_refuses_a_non_empty_target(mlp_run, tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x").write_text("x")
    one_line_error(invoke("export", mlp_run, "--out", tmp_path / "b"), "not empty")


def test_onnx_and_torchscript_graphs_equal_pytorch(mlp_run, registry, tmp_path):
    import onnxruntime
    import torch

    from sertk.engine.graphs import example_inputs

    onnx_bundle = export_bundle(mlp_run, str(tmp_path / "onnx"), registry, "onnx")
    ts_bundle = export_bundle(mlp_run, str(tmp_path / "ts"), registry, "torchscript")
    run = TrainedRun(mlp_run, registry)
    names, example = example_inputs(run.inputs, batch=5, frames=37)  # other sizes than at export
    assert names == ["mfcc", "mfcc_lengths"] and example[1].tolist() == [37, 22, 22, 22, 22]
    for fold in run.folds:
        with torch.no_grad():
            expected = run.model(fold)({"mfcc": example[0]}, {"mfcc": example[1]})["emotion"].softmax(-1).numpy()
        session = onnxruntime.InferenceSession(str(onnx_bundle / "folds" / fold / "model.onnx"))
        (got,) = session.run(["emotion"], {n: t.numpy() for n, t in zip(names, example)})
        assert got.shape == (5, 2)
        np.testing.assert_allclose(got, expected, atol=1e-4)
        scripted = torch.jit.load(str(ts_bundle / "folds" / fold / "model.ts"))
        np.testing.assert_allclose(scripted(*example)[0].detach().numpy(), expected, atol=1e-5)
    assert "folds/speaker-s1/model.onnx" in json.loads((onnx_bundle / "bundle.json").read_text())["files"]


# ------------------------------------------------------------------ estimators
def test_an_svm_run_exports_arrays_and_predicts_as_the_run(svm_run, registry, tmp_path):
    result = invoke("export", svm_run, "--out", tmp_path / "bundle")
    assert result.exit_code == 0, result.output
    bundle = tmp_path / "bundle"
    assert sorted(p.name for p in (bundle / "folds" / "speaker-s1").iterdir()) == ["model.npz", "normalizer.npz"]
    assert json.loads((bundle / "bundle.json").read_text())["score"] == "score"
    files = [str(p) for p in new_files(tmp_path)]
    for source, name in ((svm_run, "run.csv"), (bundle, "bundle.csv")):
        assert invoke("predict", source, *files, "--out", tmp_path / name).exit_code == 0
    run_rows, bundle_rows = csv_rows(tmp_path / "run.csv"), csv_rows(tmp_path / "bundle.csv")
    assert [(r["prediction"], r["score"]) for r in run_rows] == [(r["prediction"], r["score"]) for r in bundle_rows]
    assert [r["prediction"] for r in run_rows] == ["low", "low", "high", "high"]
    one_line_error(invoke("export", svm_run, "--out", tmp_path / "o", "--format", "onnx"), "plain arrays",
                   "--format native")


# ------------------------------------------------------------------ never unpickle, never trust a changed file
def test_a_planted_pickle_is_refused_and_never_runs(mlp_run, svm_run, registry, tmp_path):
    wav = tone(tmp_path / "new.wav", 400.0)
    pwned = tmp_path / "pwned"
    bundle = export_bundle(mlp_run, str(tmp_path / "b1"), registry)
    (bundle / "folds" / "speaker-s1" / "model.pt").write_bytes(pickle.dumps(Pwn(pwned)))
    reseal(bundle, "folds/speaker-s1/model.pt")  # even with a forged checksum, weights-only loading refuses it
    one_line_error(invoke("predict", bundle, wav), "model.pt", "cannot be loaded")

    bundle = export_bundle(svm_run, str(tmp_path / "b2"), registry)
    with open(bundle / "folds" / "speaker-s2" / "normalizer.npz", "wb") as handle:
        np.savez(handle, modes=np.array([Pwn(pwned)], dtype=object))
    reseal(bundle, "folds/speaker-s2/normalizer.npz")
    one_line_error(invoke("predict", bundle, wav), "normalizer.npz")

    bundle = export_bundle(svm_run, str(tmp_path / "b3"), registry)
    (bundle / "folds" / "speaker-s1" / "model.pkl").write_bytes(pickle.dumps(Pwn(pwned)))
    one_line_error(invoke("predict", bundle, wav), "model.pkl", "not part of the exported bundle")
    assert not pwned.exists()


def test_a_changed_file_fails_its_checksum(svm_run, registry, tmp_path):
    bundle = export_bundle(svm_run, str(tmp_path / "b"), registry)
    weights = bundle / "folds" / "speaker-s3" / "model.npz"
    data = bytearray(weights.read_bytes())
    data[-40] ^= 0xFF
    weights.write_bytes(bytes(data))
    one_line_error(invoke("predict", bundle, tone(tmp_path / "n.wav", 300.0)), "folds/speaker-s3/model.npz",
                   "checksum mismatch")
    data[-40] ^= 0xFF
    weights.write_bytes(bytes(data))
    (bundle / "recipe.yaml").unlink()
    one_line_error(invoke("predict", bundle, tmp_path / "n.wav"), "recipe.yaml", "missing")
    (bundle / "bundle.json").write_text("{")
    one_line_error(invoke("predict", bundle, tmp_path / "n.wav"), "bundle.json")


# ------------------------------------------------------------------ EmoDB
@pytest.mark.emodb
@pytest.mark.skipif(not (EMODB / "wav").is_dir(), reason=f"EmoDB copy not found at {EMODB}")
def test_emodb_bundle_predicts_the_classes_of_the_runs_fold_models(tmp_path, monkeypatch, registry):
    from sertk.engine.run import run_recipe
    from sertk.recipe import parse_recipe

    monkeypatch.setenv("SERTK_CACHE", str(tmp_path / "cache"))
    recipe = parse_recipe({
        "corpus": {"name": "emodb", "params": {"root": str(EMODB), "alignments": False}},
        "data": {"workers": 2},
        "features": [{"name": "opensmile", "params": {"feature_set": "eGeMAPSv02"}}],
        "model": {"name": "linear_svm", "params": {"C": 0.01}},
        "protocol": {"name": "speakers", "params": {"test_speakers": ["03", "08"]}},
        "metrics": ["ua"],
    }, "emodb-bundle", registry)
    run_dir = run_recipe(recipe, registry, out_dir=str(tmp_path / "runs")).dir
    bundle = export_bundle(run_dir, str(tmp_path / "bundle"), registry)
    files = [str(p) for p in sorted((EMODB / "wav").glob("*.wav"))[::9]]
    run = TrainedRun(run_dir, registry)
    from_run, from_bundle = run.predict(files), Bundle(bundle, registry).predict(files)
    classes = run.heads[0].classes
    run_classes = [classes[int(from_run[f]["emotion"].argmax())] for f in files]
    assert run_classes == [classes[int(from_bundle[f]["emotion"].argmax())] for f in files]
    assert len(set(run_classes)) >= 4  # a real classifier, not a constant
    result = invoke("predict", bundle, *files, "--out", tmp_path / "p.csv")
    assert result.exit_code == 0, result.output
    assert [r["prediction"] for r in csv_rows(tmp_path / "p.csv")] == run_classes

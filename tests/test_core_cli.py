"""The command line: exit codes, one-line errors, list/show/validate, a full run."""
import csv
import json
import pathlib

import pytest
from click.testing import CliRunner

from sertk.cli import main

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEMO = str(ROOT / "recipes" / "demo.yaml")


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_unknown_model_exits_2_with_one_line_naming_the_key():
    result = invoke("run", DEMO, "--set", "model.name=nope")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "model.name" in lines[0] and "did you mean 'mlp'" in lines[0]
    assert "Traceback" not in result.output


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("corpus: {name: synthetic}\nfeatures: [mfcc\n")
    result = invoke("validate", bad)
    assert result.exit_code == 2 and f"{bad}:3: YAML syntax error" in result.stderr


def test_bad_set_syntax():
    result = invoke("validate", DEMO, "--set", "train.epochs")
    assert result.exit_code == 2 and "expected KEY=VALUE" in result.stderr


def test_validate_ok():
    result = invoke("validate", DEMO)
    assert result.exit_code == 0 and "ok" in result.output


def test_list_shows_kinds_and_plugins():
    result = invoke("list")
    assert result.exit_code == 0
    for word in ("corpus", "feature", "model", "loss", "metric", "synthetic", "mfcc", "mlp", "ccc", "ua"):
        assert word in result.output
    plugins = invoke("list", "--plugins")
    assert plugins.exit_code == 0 and "sertk" in plugins.output and "0.1.0" in plugins.output


def test_show_lists_params_and_defaults():
    result = invoke("show", "features", "mfcc")
    assert result.exit_code == 0 and "n_mfcc" in result.output
    missing = invoke("show", "features", "mfc")
    assert missing.exit_code == 2 and "did you mean 'mfcc'" in missing.stderr


def test_corpus_info_on_missing_root_is_a_user_error(tmp_path):
    result = invoke("corpus", "info", "emodb", "--root", tmp_path / "nowhere")
    assert result.exit_code == 2 and "emodb" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_compare_needs_finished_runs(tmp_path):
    result = invoke("compare", tmp_path)
    assert result.exit_code == 2 and "not a finished sertk run" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_analyze_needs_a_run_directory(tmp_path):
    result = invoke("analyze", tmp_path, "saliency")
    assert result.exit_code == 2 and "not a finished sertk run" in result.stderr


@pytest.mark.slow
def test_demo_run_learns_above_chance_and_writes_reports(tmp_path, monkeypatch):
    monkeypatch.setenv("SERTK_CACHE", str(tmp_path / "cache"))
    result = invoke("run", DEMO, "--out", tmp_path / "runs", "--set", "output.name=demo")
    assert result.exit_code == 0, result.output
    run = tmp_path / "runs" / "demo"
    for name in ("recipe.yaml", "run.json", "metrics.json", "predictions.csv", "confusion.png", "confusion.csv",
                 "learning_curves.png", "folds.json"):
        assert (run / name).is_file(), name
    metrics = json.loads((run / "metrics.json").read_text())
    emotion = metrics["heads"]["emotion"]
    chance = 1 / len(emotion["classes"])
    assert emotion["pooled"]["ua"] > chance + 0.2
    assert emotion["ci95"]["ua"][0] <= emotion["pooled"]["ua"] <= emotion["ci95"]["ua"][1]
    assert "Results" in result.output
    for fold, scores in emotion["folds"].items():  # each fold is logged as it finishes
        assert f"fold {fold}: emotion ua {scores['ua']:.3f}" in result.stderr
    compared = invoke("compare", run, "--out", tmp_path / "compare.csv")
    assert compared.exit_code == 0 and "demo" in compared.output
    assert f"{100 * emotion['pooled']['ua']:.1f}" in compared.output  # classification metrics in percent
    row = next(csv.DictReader((tmp_path / "compare.csv").open()))
    assert (row["model"], row["head"]) == ("mlp", "emotion")
    assert float(row["ua"]) == pytest.approx(emotion["pooled"]["ua"], abs=1e-5)
    provenance = json.loads((run / "run.json").read_text())
    assert provenance["seed"] == 0 and provenance["versions"]["sertk"] == "0.1.0"

    # the run's fold models, averaged, predict files they were trained on far above chance
    wavs = sorted((tmp_path / "cache" / "synthetic").rglob("*.wav"))[::15]
    csv_path = tmp_path / "predictions.csv"
    predicted = invoke("predict", run, *wavs, "--out", csv_path)
    assert predicted.exit_code == 0, predicted.output
    rows = csv_path.read_text().splitlines()[1:]
    assert len(rows) == len(wavs) >= 16
    correct = [row.split(",")[0].rsplit("/", 1)[1].split("_")[1] == row.split(",")[2] for row in rows]
    assert sum(correct) / len(correct) > 0.5

"""Run comparison (Table 7 layout) and the percent confusion CSV (Tables 3–6 layout)."""
import csv
import json

import numpy as np
import pytest
import yaml

from sertk.engine.compare import compare_runs, write_comparison_csv
from sertk.engine.report import write_confusion_csv
from sertk.errors import SertkError


def fake_run(folder, model, protocol, ua, folds=2):
    folder.mkdir(parents=True)
    recipe = {"corpus": [{"name": "emodb", "params": {}}], "features": [{"name": "logmel"}],
              "model": {"name": model, "params": {}}, "protocol": {"name": protocol, "params": {}}}
    (folder / "recipe.yaml").write_text(yaml.safe_dump(recipe))
    head = {"kind": "classification", "n": 535, "pooled": {"ua": ua, "wa": ua + 0.05},
            "ci95": {"ua": [ua - 0.04, ua + 0.04], "wa": [ua, ua + 0.1]}}
    (folder / "metrics.json").write_text(json.dumps({"folds": [f"f{i}" for i in range(folds)],
                                                     "heads": {"emotion": head}}))
    return folder


def test_rows_name_what_was_run_and_keep_pooled_metrics(tmp_path):
    a = fake_run(tmp_path / "a", "cnn2d_lstm", "loso", 0.7, folds=10)
    b = fake_run(tmp_path / "b", "cnn1d_lstm", "random", 0.5, folds=1)
    metrics, rows = compare_runs([a, b])
    assert metrics == ["ua", "wa"]
    assert [(r["run"], r["corpus"], r["features"], r["model"], r["protocol"], r["folds"]) for r in rows] == [
        ("a", "emodb", "logmel", "cnn2d_lstm", "loso", 10), ("b", "emodb", "logmel", "cnn1d_lstm", "random", 1)]

    out = tmp_path / "table.csv"
    write_comparison_csv(out, metrics, rows)
    table = list(csv.DictReader(out.open()))
    assert float(table[0]["ua"]) == pytest.approx(0.7) and float(table[1]["wa_ci_high"]) == pytest.approx(0.6)


def test_a_folder_without_results_is_a_user_error(tmp_path):
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "recipe.yaml").write_text("corpus: {name: emodb}\n")
    with pytest.raises(SertkError, match="half: not a finished sertk run .no metrics.json"):
        compare_runs([tmp_path / "half"])


def test_confusion_csv_is_percent_of_each_true_class(tmp_path):
    cm = np.array([[3, 1, 0], [0, 0, 0], [2, 2, 4]])
    write_confusion_csv(tmp_path / "c.csv", cm, ["anger", "fear", "sadness"])
    rows = list(csv.reader((tmp_path / "c.csv").open()))
    assert rows[0] == ["true (% per row)", "anger", "fear", "sadness", "n"]
    assert rows[1] == ["anger", "75.00", "25.00", "0.00", "4"]
    assert rows[2] == ["fear", "0.00", "0.00", "0.00", "0"]
    assert rows[3] == ["sadness", "25.00", "25.00", "50.00", "8"]

"""Run comparison (Table 7 layout), the paired permutation test of two runs' folds,
and the percent confusion CSV (Tables 3–6 layout)."""
import csv
import itertools
import json

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from sertk.cli import main
from sertk.engine.compare import compare_runs, paired_significance, write_comparison_csv
from sertk.engine.report import write_confusion_csv
from sertk.engine.significance import paired_permutation_test
from sertk.errors import SertkError


def fake_run(folder, model, protocol, ua, folds=2, fold_ua=None):
    """A finished run's recipe.yaml and metrics.json; ``fold_ua`` maps fold names to
    per-fold UA (WA is UA + 0.05)."""
    folder.mkdir(parents=True)
    recipe = {"corpus": [{"name": "emodb", "params": {}}], "features": [{"name": "logmel"}],
              "model": {"name": model, "params": {}}, "protocol": {"name": protocol, "params": {}}}
    (folder / "recipe.yaml").write_text(yaml.safe_dump(recipe))
    fold_ua = fold_ua or {f"f{i}": ua for i in range(folds)}
    head = {"kind": "classification", "n": 535, "pooled": {"ua": ua, "wa": ua + 0.05},
            "ci95": {"ua": [ua - 0.04, ua + 0.04], "wa": [ua, ua + 0.1]},
            "folds": {f: {"ua": v, "wa": v + 0.05} for f, v in fold_ua.items()}}
    (folder / "metrics.json").write_text(json.dumps({"folds": list(fold_ua), "heads": {"emotion": head}}))
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


def _hand_p(d):
    """Two-sided sign-flip p-value by plain enumeration (the reference)."""
    flips = [abs(sum(s * x for s, x in zip(signs, d))) for signs in itertools.product((1, -1), repeat=len(d))]
    return sum(f >= abs(sum(d)) - 1e-12 for f in flips) / len(flips)


def test_exact_permutation_p_by_hand():
    # d = b − a = (1, 2, 3, −1), sum 5: flipping a subset of sum x gives 7 − 2x;
    # |7 − 2x| ≥ 5 for x ≤ 1 ({}, {1}, {1'}) or x ≥ 6 (their complements): 6 of 16
    a, b = [0.5, 0.5, 0.5, 0.5], [1.5, 2.5, 3.5, -0.5]
    assert paired_permutation_test(a, b) == pytest.approx(6 / 16)
    assert paired_permutation_test(b, a) == pytest.approx(6 / 16)
    assert paired_permutation_test([0, 0, 0, 0], [1, 2, 3, 4]) == pytest.approx(2 / 16)
    rng = np.random.default_rng(3)
    d = rng.normal(0.3, 1, 9)
    assert paired_permutation_test(np.zeros(9), d) == pytest.approx(_hand_p(d))


def test_permutation_p_identical_shifted_and_monte_carlo():
    rng = np.random.default_rng(0)
    a = rng.random(10)
    assert paired_permutation_test(a, a) == 1.0
    assert paired_permutation_test(a, a + 0.1 + 0.01 * rng.random(10)) == pytest.approx(2 / 2 ** 10)
    a = rng.random(30)
    assert paired_permutation_test(a, a) == 1.0
    assert paired_permutation_test(a, a + 0.1, resamples=2000) == pytest.approx(1 / 2001)
    # n = 17 runs Monte-Carlo: close to the exact p over all 2^17 sign flips
    d = rng.normal(0.4, 1, 17)
    signs = 1 - 2 * ((np.arange(2 ** 17)[:, None] >> np.arange(17)) & 1)
    exact = np.mean(np.abs(signs @ d) >= abs(d.sum()) - 1e-12)
    assert 0.01 < exact < 0.5
    assert paired_permutation_test(np.zeros(17), d, seed=1) == pytest.approx(exact, abs=0.02)
    assert paired_permutation_test(np.zeros(17), d, seed=1) == paired_permutation_test(np.zeros(17), d, seed=1)
    with pytest.raises(ValueError, match="at least 2 pairs"):
        paired_permutation_test([1.0], [2.0])
    with pytest.raises(ValueError, match="paired 1-D scores"):
        paired_permutation_test([1.0, 2.0], [2.0])


def test_folds_pair_by_name_including_repeats(tmp_path):
    first = {"spk-01": 0.50, "spk-02": 0.60, "spk-01@r2": 0.55, "spk-03": 0.40, "only-here": 0.9}
    second = {"spk-03": 0.45, "spk-01@r2": 0.70, "spk-02": 0.65, "spk-01": 0.58}
    a = fake_run(tmp_path / "a", "svm", "loso", 0.5, fold_ua=first)
    b = fake_run(tmp_path / "b", "mlp", "loso", 0.6, fold_ua=second)
    rows = paired_significance(a, b)
    assert [(r["run1"], r["run2"], r["head"], r["metric"], r["pairs"]) for r in rows] == [
        ("a", "b", "emotion", "ua", 4), ("a", "b", "emotion", "wa", 4)]
    diffs = [0.58 - 0.50, 0.65 - 0.60, 0.70 - 0.55, 0.45 - 0.40]  # by name, not position
    assert rows[0]["mean_difference"] == pytest.approx(np.mean(diffs))
    assert rows[0]["p_value"] == pytest.approx(_hand_p(diffs)) == pytest.approx(2 / 16)
    assert rows[1]["mean_difference"] == pytest.approx(np.mean(diffs))


def test_runs_without_common_folds_are_a_user_error(tmp_path):
    a = fake_run(tmp_path / "a", "svm", "loso", 0.5, folds=3)
    b = fake_run(tmp_path / "b", "mlp", "random", 0.6, fold_ua={"split-0": 0.6})
    with pytest.raises(SertkError, match="runs .*a and .*b have no fold in common") as info:
        paired_significance(a, b)
    assert "\n" not in str(info.value)


def _cli(*args):
    return CliRunner().invoke(main, ["compare", *map(str, args)], catch_exceptions=False)


def test_cli_compare_tests_two_runs_and_writes_the_significance_csv(tmp_path):
    a = fake_run(tmp_path / "a", "svm", "loso", 0.5, fold_ua={"s1": 0.5, "s2": 0.6, "s3": 0.4})
    b = fake_run(tmp_path / "b", "mlp", "loso", 0.6, fold_ua={"s1": 0.6, "s2": 0.7, "s3": 0.5})
    result = _cli(a, b, "--out", tmp_path / "table.csv")
    assert result.exit_code == 0, result.output
    assert "Paired permutation test" in result.output and "+10.0" in result.output  # percentage points
    rows = list(csv.DictReader((tmp_path / "table_significance.csv").open()))
    assert [(r["run1"], r["run2"], r["metric"], r["pairs"]) for r in rows] == [("a", "b", "ua", "3"),
                                                                               ("a", "b", "wa", "3")]
    assert float(rows[0]["mean_difference"]) == pytest.approx(0.1)
    assert float(rows[0]["p_value"]) == pytest.approx(2 / 8)
    assert (tmp_path / "table.csv").is_file()

    c = fake_run(tmp_path / "c", "mlp", "random", 0.6, fold_ua={"split-0": 0.6})
    noted = _cli(a, c)
    assert noted.exit_code == 0 and "no significance test" in noted.output
    assert "Paired permutation test" not in _cli(a, b, c).output
    failed = _cli(a, c, "--test")
    assert failed.exit_code == 2 and "have no fold in common" in failed.stderr
    assert _cli(a, "--test").exit_code == 2
    three = _cli(a, b, b, "--test")
    assert three.exit_code == 0 and three.output.count("emotion") >= 4

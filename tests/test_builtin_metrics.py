"""Built-in metrics against hand computation and scikit-learn."""
import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, recall_score

from sertk.builtins.metrics import (COMPONENTS, ConcordanceCorrelation, MacroF1, PearsonCorrelation,
                                    RootMeanSquaredError, UnweightedAverageRecall, WeightedAccuracy)


def test_classification_metrics_by_hand():
    y_true = np.array([0, 0, 0, 0, 1, 1, 2])
    y_pred = np.array([0, 0, 0, 1, 1, 2, 2])
    # recalls: 3/4, 1/2, 1/1
    assert UnweightedAverageRecall()(y_true, y_pred) == pytest.approx((0.75 + 0.5 + 1) / 3)
    assert WeightedAccuracy()(y_true, y_pred) == pytest.approx(5 / 7)
    # F1 per class: 2·3/(4+3), 2·1/(2+2), 2·1/(1+2)
    assert MacroF1()(y_true, y_pred) == pytest.approx((6 / 7 + 0.5 + 2 / 3) / 3)


def test_ua_ignores_classes_absent_from_truth_but_f1_counts_them():
    y_true, y_pred = np.array([0, 0, 1, 1]), np.array([0, 2, 1, 1])
    assert UnweightedAverageRecall()(y_true, y_pred) == pytest.approx((0.5 + 1) / 2)
    assert MacroF1()(y_true, y_pred) == pytest.approx((2 / 3 + 1 + 0) / 3)


@pytest.mark.parametrize("seed", range(5))
def test_classification_metrics_match_sklearn_on_random_data(seed):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 5, 200)
    y_pred = np.where(rng.random(200) < 0.4, y_true, rng.integers(0, 6, 200))
    assert UnweightedAverageRecall()(y_true, y_pred) == pytest.approx(
        recall_score(y_true, y_pred, labels=np.unique(y_true), average="macro"))
    assert WeightedAccuracy()(y_true, y_pred) == pytest.approx(accuracy_score(y_true, y_pred))
    assert MacroF1()(y_true, y_pred) == pytest.approx(f1_score(y_true, y_pred, average="macro", zero_division=0))


def test_regression_metrics_by_hand_and_against_numpy():
    t = np.array([1.0, 2.0, 3.0, 4.0])
    p = np.array([2.0, 2.0, 4.0, 5.0])
    # means 2.5 / 3.25, population variances 1.25 / 1.6875, covariance 1.375
    assert ConcordanceCorrelation()(t, p) == pytest.approx(2 * 1.375 / (1.25 + 1.6875 + 0.75 ** 2))
    assert RootMeanSquaredError()(t, p) == pytest.approx(np.sqrt(3 / 4))
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=100), rng.normal(size=100)
    assert PearsonCorrelation()(a, a + b) == pytest.approx(np.corrcoef(a, a + b)[0, 1])
    assert ConcordanceCorrelation()(a, a) == pytest.approx(1.0)
    assert ConcordanceCorrelation()(a - a.mean(), a.mean() - a) == pytest.approx(-1.0)
    assert ConcordanceCorrelation()(a, a + 1) < PearsonCorrelation()(a, a + 1) == pytest.approx(1.0)
    assert ConcordanceCorrelation()(np.ones(4), np.ones(4)) == 0.0
    assert PearsonCorrelation()(a[:4], np.ones(4)) == 0.0


def test_metric_declarations():
    names = {m.name: m for m in COMPONENTS}
    assert set(names) == {"ua", "wa", "f1", "ccc", "pearson", "rmse"}
    assert [n for n, m in names.items() if not m.greater_is_better] == ["rmse"]
    assert {n for n, m in names.items() if m.kind == "regression"} == {"ccc", "pearson", "rmse"}

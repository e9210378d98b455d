"""Built-in metrics against hand computation and scikit-learn."""
import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, recall_score

from sertk.builtins.metrics import (CharacterErrorRate, ConcordanceCorrelation, MacroF1,
                                    PearsonCorrelation, PhoneErrorRate, RootMeanSquaredError,
                                    UnweightedAverageRecall, WeightedAccuracy, WordErrorRate)
from sertk.interfaces import BLANK
from sertk.sequences import edit_distance, error_rate, greedy_decode, split_words
from tests.fakes.builtins import builtin_classes


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
    names = {m.name: m for m in builtin_classes("metrics")}
    assert set(names) == {"ua", "wa", "f1", "ccc", "pearson", "kendall", "rmse", "cer", "per", "wer"}
    assert [n for n, m in names.items() if not m.greater_is_better] == ["rmse", "cer", "per", "wer"]
    assert {n for n, m in names.items() if m.kind == "regression"} == {"ccc", "pearson", "kendall", "rmse"}
    assert {n for n, m in names.items() if m.kind == "sequence"} == {"cer", "per", "wer"}


def _levenshtein(a, b):
    """Textbook full-table dynamic programme, the reference for edit_distance."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
    return d[-1][-1]


def test_greedy_decode_collapses_repeats_then_drops_blanks():
    np.testing.assert_array_equal(greedy_decode(np.array([0, 1, 1, 0, 1, 2, 2, 0])), [1, 1, 2])
    np.testing.assert_array_equal(greedy_decode(np.array([3, 3, 3])), [3])
    np.testing.assert_array_equal(greedy_decode(np.array([2, 0, 0, 2]), blank=2), [0])
    assert greedy_decode(np.array([0, 0])).size == 0 and greedy_decode(np.array([], dtype=int)).size == 0
    with pytest.raises(ValueError, match="path must be 1-D"):
        greedy_decode(np.zeros((2, 3)))


def test_edit_distance_by_hand_and_against_the_full_table():
    assert edit_distance("kitten", "sitting") == 3  # k→s, e→i, +g
    assert edit_distance([1, 2, 3], [1, 2, 3]) == 0
    assert edit_distance([], [4, 5]) == 2 and edit_distance(np.array([4, 5]), []) == 2
    assert edit_distance(["the", "cat", "sat"], ["the", "sat", "down"]) == 2  # −cat, +down
    rng = np.random.default_rng(0)
    for _ in range(50):
        a, b = rng.integers(0, 4, rng.integers(0, 12)), rng.integers(0, 4, rng.integers(0, 12))
        assert edit_distance(a, b) == _levenshtein(list(a), list(b))


def test_error_rate_pools_edits_over_reference_lengths():
    # edits 1 + 2 over reference lengths 4 + 2, not the mean of 1/4 and 2/2
    assert error_rate([[1, 2, 3, 4], [5, 6]], [[1, 2, 3], []]) == pytest.approx(3 / 6)
    with pytest.raises(ValueError, match="at least one non-empty reference"):
        error_rate([], [])
    with pytest.raises(ValueError, match="pair up"):
        error_rate([[1]], [])


CLASSES = (BLANK, " ", "a", "c", "t", "s")  # indices: ' '=1 a=2 c=3 t=4 s=5


def test_cer_per_and_wer_by_hand():
    cat_sat = np.array([3, 2, 4, 1, 5, 2, 4])  # "cat sat"
    cut_sat = np.array([3, 4, 1, 5, 2, 4])  # "ct sat": one deletion
    assert split_words(cat_sat, CLASSES) == ["cat", "sat"]
    assert split_words(np.array([1, 3, 1, 1, 2, 1]), CLASSES) == ["c", "a"]
    refs, hyps = [cat_sat, np.array([2])], [cut_sat, np.array([2, 2])]
    assert CharacterErrorRate()(refs, hyps, CLASSES) == pytest.approx(2 / 8)  # 1 + 1 edits / 7 + 1 tokens
    assert PhoneErrorRate()(refs, hyps, CLASSES) == pytest.approx(2 / 8)
    assert WordErrorRate()(refs, hyps, CLASSES) == pytest.approx(2 / 3)  # cat→ct, a→aa / 3 words
    with pytest.raises(ValueError, match="wer needs a space token"):
        WordErrorRate()(refs, hyps, (BLANK, "a", "c", "t", "s"))


def test_chance_is_the_mean_score_of_uniform_guessing():
    rng = np.random.default_rng(0)
    y = rng.choice(5, size=400, p=[0.5, 0.2, 0.1, 0.1, 0.1])  # unbalanced: chance does not depend on priors
    for metric in (UnweightedAverageRecall(), WeightedAccuracy()):
        simulated = np.mean([metric(y, rng.integers(0, 5, size=len(y))) for _ in range(300)])
        assert metric.chance(5) == pytest.approx(0.2) and simulated == pytest.approx(0.2, abs=0.01)
    assert MacroF1().chance(5) is None  # no closed form: the report leaves it out


@pytest.mark.parametrize("name", ["ua", "wa", "f1"])
def test_scores_from_confusion_matrices_equal_the_scores_of_the_labels(name):
    """Class 5 never occurs and class 4 is only predicted; bootstrap resamples scored at once
    give the interval the loop over resamples gives."""
    from sertk.engine.scoring import bootstrap_ci, confusion_batch, resampled_confusions

    metric = {m.name: m for m in builtin_classes("metrics")}[name]()
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 4, 200)
    y_pred = np.where(rng.random(200) < 0.6, y_true, rng.integers(0, 5, 200))
    draws = rng.integers(0, 200, size=(50, 200))
    stacked = metric.from_confusion(resampled_confusions(y_true, y_pred, draws, 6))
    assert stacked.shape == (50,)
    assert np.allclose(stacked, [metric(y_true[d], y_pred[d]) for d in draws], rtol=0, atol=1e-12)
    loop = bootstrap_ci(lambda a, b: metric(a, b), y_true, y_pred, n=200)
    assert np.allclose(bootstrap_ci(lambda a, b: metric(a, b), y_true, y_pred, n=200,
                                    batch=confusion_batch(metric, 6)), loop, rtol=0, atol=1e-12)


def test_metrics_without_confusion_scores_are_bootstrapped_one_resample_at_a_time():
    from sertk.engine.scoring import confusion_batch

    assert confusion_batch(ConcordanceCorrelation(), 3) is None and confusion_batch(CharacterErrorRate(), 3) is None
    assert confusion_batch(UnweightedAverageRecall(), 3) is not None


def test_a_metric_whose_confusion_score_is_none_is_bootstrapped_one_resample_at_a_time():
    """``from_confusion`` may return None (its documented default) even when overridden."""
    from sertk.engine.scoring import bootstrap_ci, confusion_batch

    class Declines(UnweightedAverageRecall):
        def from_confusion(self, confusion):
            return None

    metric = Declines()
    rng = np.random.default_rng(4)
    y_true, y_pred = rng.integers(0, 3, 60), rng.integers(0, 3, 60)
    batch = confusion_batch(metric, 3)
    assert batch is not None
    assert bootstrap_ci(lambda a, b: metric(a, b), y_true, y_pred, n=100, batch=batch) == \
        bootstrap_ci(lambda a, b: metric(a, b), y_true, y_pred, n=100)

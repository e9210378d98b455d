"""Scoring helpers and report figures."""
import numpy as np
import pytest

from sertk.builtins.metrics import ConcordanceCorrelation, UnweightedAverageRecall, WeightedAccuracy
from sertk.engine.plots import plot_confusion, plot_curves
from sertk.engine.scoring import (aggregate_segments, bootstrap_ci, confusion_matrix, score, score_predictions,
                                  selector, summarize)
from sertk.engine.trainer import History, Predictions
from sertk.interfaces import Head

EMOTION = Head("emotion", "classification", ("anger", "joy", "sad"))
AROUSAL = Head("arousal", "regression")


def test_confusion_matrix_by_hand():
    cm = confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], 3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    with pytest.raises(ValueError, match="outside 0..2"):
        confusion_matrix([0, 3], [0, 1], 3)


def test_bootstrap_ci_contains_point_estimate_and_narrows_with_data():
    rng = np.random.default_rng(0)
    widths = []
    for n in (60, 600):
        y = rng.integers(0, 3, n)
        pred = np.where(rng.random(n) < 0.7, y, rng.integers(0, 3, n))
        ua = UnweightedAverageRecall()
        low, high = bootstrap_ci(ua, y, pred, n=300, seed=1)
        assert low < ua(y, pred) < high
        widths.append(high - low)
    assert widths[1] < widths[0] / 2
    assert bootstrap_ci(ua, y, pred, n=50, seed=2) == bootstrap_ci(ua, y, pred, n=50, seed=2)


def test_summarize_mean_and_population_std():
    out = summarize([{"ua": 0.5, "wa": 0.6}, {"ua": 0.7, "wa": 0.8}, {"ua": 0.9}])
    assert out["ua"]["mean"] == pytest.approx(0.7)
    assert out["ua"]["std"] == pytest.approx(np.sqrt((0.04 + 0 + 0.04) / 3))
    assert out["wa"] == pytest.approx({"mean": 0.7, "std": 0.1})


def test_score_uses_argmax_for_classification_and_skips_other_kinds():
    outputs = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.5, 0.4, 0.1]])
    result = score(EMOTION, [0, 1, 2, 1], outputs, [UnweightedAverageRecall(), WeightedAccuracy(),
                                                    ConcordanceCorrelation()])
    assert result == pytest.approx({"ua": (1 + 0.5 + 1) / 3, "wa": 0.75})


def test_score_masks_frame_level_heads_and_selector_reads_predictions():
    head = Head("arousal", "regression", level="frame")
    targets = np.array([[1.0, 2.0, 0.0], [3.0, 0.0, 0.0]])
    outputs = np.array([[1.0, 2.0, 99.0], [3.0, -99.0, 5.0]])
    mask = np.array([[True, True, False], [True, False, False]])
    assert score(head, targets, outputs, [ConcordanceCorrelation()], mask)["ccc"] == pytest.approx(1.0)
    pred = Predictions(["a", "b"], {"arousal": outputs}, {"arousal": targets}, {"arousal": mask})
    assert selector(head, ConcordanceCorrelation())(pred) == pytest.approx(1.0)
    assert score_predictions(pred, [head, EMOTION], [ConcordanceCorrelation()]) == {"arousal": {"ccc": 1.0}}
    with pytest.raises(ValueError, match="scores classification heads"):
        selector(head, WeightedAccuracy())


def test_aggregate_segments_averages_per_utterance_in_first_appearance_order():
    keys, mean = aggregate_segments(["b", "a", "b", "a", "c"],
                                    np.array([[1.0, 0.0], [0.2, 0.8], [0.0, 1.0], [0.4, 0.6], [0.9, 0.1]]))
    assert keys == ["b", "a", "c"]
    np.testing.assert_allclose(mean, [[0.5, 0.5], [0.3, 0.7], [0.9, 0.1]])
    keys, values = aggregate_segments([0, 0, 1], [1.0, 3.0, 5.0])
    assert keys == [0, 1] and values.tolist() == [2.0, 5.0]
    with pytest.raises(ValueError, match="3 segment keys for 2"):
        aggregate_segments([0, 0, 1], [1.0, 2.0])


def _is_png(path):
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plots_write_png_files_atomically(tmp_path):
    cm = np.array([[8, 2, 0], [1, 9, 0], [0, 0, 0]])
    plot_confusion(cm, EMOTION.classes, tmp_path / "figs" / "confusion.png", title="LOSO")
    plot_confusion(cm, EMOTION.classes, tmp_path / "counts.png", percent=False)
    histories = [History([{"emotion": 1.0}, {"emotion": 0.5}], [0.4, 0.6], [0.1, 0.1], best_epoch=2),
                 History([{"emotion": 1.2}], [None], [0.1], best_epoch=1).to_dict()]
    plot_curves(histories, tmp_path / "curves.png")
    for name in ("figs/confusion.png", "counts.png", "curves.png"):
        assert _is_png(tmp_path / name)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["confusion.png", "counts.png", "curves.png", "figs"]

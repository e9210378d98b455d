"""Confidence measures of MixedEmotions D4.2 §2.4: posteriors and margins against hand computation,
the AUROC used to compare them, and the learned-error and agreement estimators learning above
chance on synthetic tasks."""
import numpy as np
import pytest

from sertk import SertkError
from sertk_mixedemotions.confidence import (AgreementEstimator, ErrorEstimator, auroc, margin, max_posterior,
                                            posteriors, require_agreement, speaker_groups)


def test_posteriors_keep_probabilities_and_softmax_scores():
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    np.testing.assert_array_equal(posteriors(p), p)
    scores = np.array([[2.0, 0.0, 0.0], [-1.0, 1.0, 0.0]])
    expected = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(posteriors(scores), expected)


def test_margin_and_max_posterior_by_hand():
    p = np.array([[0.9, 0.05, 0.05], [0.4, 0.35, 0.25], [0.5, 0.5, 0.0]])
    np.testing.assert_allclose(margin(p), [0.85, 0.05, 0.0])
    np.testing.assert_allclose(max_posterior(p), [0.9, 0.4, 0.5])


def test_auroc_by_hand():
    # correct {0.9, 0.3} against wrong {0.8, 0.1}: 3 of 4 pairs ordered
    assert auroc([0.9, 0.8, 0.3, 0.1], [True, False, True, False]) == pytest.approx(0.75)
    assert auroc([0.5, 0.5], [True, False]) == pytest.approx(0.5)  # ties count half
    assert np.isnan(auroc([0.1, 0.2], [True, True]))


def error_task(n: int, seed: int):
    """Features whose first dimension decides where a recogniser errs (x0 > 0.5: wrong 80 %,
    else 10 %), with uninformative posteriors."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 6))
    errors = rng.random(n) < np.where(x[:, 0] > 0.5, 0.8, 0.1)
    p = rng.dirichlet(np.ones(4), n)
    return x, p, errors


def test_learned_error_estimator_predicts_errors_better_than_chance():
    x, p, errors = error_task(400, 0)
    estimator = ErrorEstimator().fit(x, p, errors)
    x_new, p_new, errors_new = error_task(400, 1)
    confidence = estimator.confidence(x_new, p_new)
    assert confidence.shape == (400,) and ((confidence >= 0) & (confidence <= 1)).all()
    assert auroc(confidence, ~errors_new) > 0.75  # chance: 0.5


def test_learned_error_estimator_without_held_out_errors_is_constant():
    x, p, _ = error_task(20, 2)
    np.testing.assert_allclose(ErrorEstimator().fit(x, p, np.zeros(20, bool)).confidence(x, p), 1.0)


def test_agreement_estimator_learns_the_raters_agreement():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((300, 5))
    agreement = np.clip(0.6 + 0.2 * x[:, 1] + 0.05 * rng.standard_normal(300), 0, 1)
    estimator = AgreementEstimator().fit(x[:200], agreement[:200])
    predicted = estimator.confidence(x[200:])
    assert np.corrcoef(predicted, agreement[200:])[0, 1] > 0.9


def test_agreement_needs_the_label():
    with pytest.raises(SertkError, match="agreement"):
        require_agreement(np.array([np.nan, np.nan]), "agreement")


def test_held_out_groups_are_whole_speakers_and_cover_every_item():
    speakers = ["a", "a", "b", "c", "c", "d", "e"]
    groups = speaker_groups(speakers, 3, seed=0)
    assert len(groups) == 3
    assert sorted(np.concatenate(groups).tolist()) == list(range(7))
    for g in groups:
        inside = {speakers[i] for i in g}
        assert all(speakers[i] not in inside for i in set(range(7)) - set(g.tolist()))

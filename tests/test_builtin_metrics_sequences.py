"""Sequence-level regression scores of MixedEmotions D4.2 §4.5 (Weninger et al., IJCAI 2016):
Kendall's τ against scipy and by hand, and the per-sequence means E{τ} and E{CCC}, which the
report computes for frame-level heads as ``per_recording`` (so no separate metric duplicates them)."""
from dataclasses import dataclass, field

import numpy as np
import pytest
from scipy.stats import kendalltau

from sertk.builtins.metrics import ConcordanceCorrelation, KendallTau, PearsonCorrelation
from sertk.engine.report import head_summary, per_recording
from sertk.interfaces import Head
from tests.fakes.builtins import builtin_classes


def test_kendall_tau_by_hand_and_against_scipy():
    # pairs of (1, 2, 3, 4) with (1, 3, 2, 4): 5 concordant, 1 discordant of 6
    assert KendallTau()(np.array([1, 2, 3, 4]), np.array([1, 3, 2, 4])) == pytest.approx(4 / 6)
    assert KendallTau()(np.arange(5.0), -np.arange(5.0)) == pytest.approx(-1.0)
    rng = np.random.default_rng(0)
    for _ in range(5):
        t = rng.normal(size=60)
        p = np.round(t + rng.normal(size=60), 1)  # ties in the predictions: τ-b
        assert KendallTau()(t, p) == pytest.approx(kendalltau(t, p).statistic)


def test_kendall_tau_of_constant_or_short_series_is_zero():
    assert KendallTau()(np.ones(5), np.arange(5.0)) == 0.0
    assert KendallTau()(np.arange(5.0), np.full(5, 2.0)) == 0.0
    assert KendallTau()(np.array([1.0]), np.array([2.0])) == 0.0


def test_kendall_is_a_registered_regression_metric():
    kendall = next(m for m in builtin_classes("metrics") if m.name == "kendall")
    assert kendall is KendallTau and kendall.kind == "regression" and kendall.greater_is_better


@dataclass
class Outcome:
    """The part of a fold's outcome the report reads for a frame-level head."""

    name: str
    targets: dict
    outputs: dict
    masks: dict
    unit_ids: list = field(default_factory=list)
    repeat: int = 0


def _outcomes(seed=0):
    """Two folds of padded recordings of different lengths (each fold: (N, T) targets, outputs, masks)."""
    rng = np.random.default_rng(seed)
    outcomes, sequences = [], []
    for f, lengths in enumerate([(30, 12, 21), (17, 25)]):
        t_max = max(lengths)
        y, out = np.zeros((len(lengths), t_max)), np.full((len(lengths), t_max), 99.0)
        mask = np.zeros((len(lengths), t_max), dtype=bool)
        for i, n in enumerate(lengths):
            gold = np.cumsum(rng.normal(size=n))
            pred = 0.6 * gold + rng.normal(size=n) + rng.normal()
            y[i, :n], out[i, :n], mask[i, :n] = gold, pred, True
            sequences.append((gold, pred))
        ids = [f"f{f}_r{i}" for i in range(len(lengths))]
        outcomes.append(Outcome(f"fold{f}", {"arousal": y}, {"arousal": out}, {"arousal": mask}, ids))
    return outcomes, sequences


def test_per_recording_means_are_e_tau_and_e_ccc():
    head = Head("arousal", "regression", level="frame", rate=25.0)
    outcomes, sequences = _outcomes()
    metrics = [ConcordanceCorrelation(), KendallTau(), PearsonCorrelation()]
    means = per_recording(head, outcomes, metrics)
    assert means["kendall"] == pytest.approx(np.mean([kendalltau(g, p).statistic for g, p in sequences]))
    assert means["ccc"] == pytest.approx(np.mean([ConcordanceCorrelation()(g, p) for g, p in sequences]))
    # pooled: all valid frames concatenated over recordings (the AV+EC convention), padding (99) never counted
    summary = head_summary(head, outcomes, metrics, seed=0)
    gold, pred = np.concatenate([g for g, _ in sequences]), np.concatenate([p for _, p in sequences])
    assert summary["pooled"]["kendall"] == pytest.approx(kendalltau(gold, pred).statistic)
    assert summary["pooled"]["pearson"] == pytest.approx(np.corrcoef(gold, pred)[0, 1])
    assert summary["per_recording"]["kendall"] == pytest.approx(means["kendall"])
    assert summary["n"] == len(gold)

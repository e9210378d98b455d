"""Cooperative learning of MixedEmotions D4.2 §2.3: which items are asked and which are labelled
by the machine (hand-made posteriors through a stand-in session), and the strategy end to end on
the synthetic corpus, writing its curves and the items to label."""
import csv
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from sertk import Part
from sertk_mixedemotions.confidence import Confidence, margin
from sertk_mixedemotions.curves import gains_over_random
from sertk_mixedemotions.cooperative import (CooperativeLearning, Pool, confident, cooperative_split,
                                             least_confident, unweighted_accuracy)

RECIPE = Path(__file__).resolve().parents[3] / "recipes" / "emodb_cooperative.yaml"
HEAD = SimpleNamespace(name="emotion", kind="classification", level="utterance", classes=("a", "b", "c"))


def test_least_confident_items_are_queried():
    p = np.array([[0.9, 0.05, 0.05], [0.4, 0.35, 0.25], [0.5, 0.5, 0.0], [0.75, 0.2, 0.05]])
    margins = margin(p)  # 0.85, 0.05, 0.0, 0.55
    assert least_confident(margins, 2).tolist() == [2, 1]
    assert confident(margins, 0.5).tolist() == [0, 3]


def test_cooperative_split_asks_only_below_threshold():
    conf = np.array([0.85, 0.05, 0.0, 0.5, 0.3])
    asked, machine = cooperative_split(conf, 2, 0.5)
    assert asked.tolist() == [2, 1] and machine.tolist() == [0, 3]
    asked, _ = cooperative_split(conf, 10, 0.5)  # fewer than k below the threshold: only those
    assert sorted(asked.tolist()) == [1, 2, 4]


def test_unweighted_accuracy_by_hand():
    assert unweighted_accuracy([0, 0, 0, 1], [0, 0, 1, 1]) == pytest.approx((2 / 3 + 1) / 2)


def test_logistic_regression_posteriors_unseen_classes_and_saved_state(registry):
    from sertk import FeatureInfo, LabelSpace

    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(-2, 0.5, (20, 2)), rng.normal(2, 0.5, (20, 2))])
    y = np.repeat([0, 2], 20)  # class "b" never seen
    build = lambda: registry.build("models", {"name": "logistic_regression", "params": {"C": 1.0}},  # noqa: E731
                                   inputs={"f": FeatureInfo("f", 2, "utterance")},
                                   labels=LabelSpace({"emotion": ("a", "b", "c")}))
    model = build()
    model.fit(x, {"emotion": y})
    p = model.predict(np.array([[-2.0, -2.0], [2.0, 2.0], [0.0, 0.0]]))["emotion"]
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert (p[:, 1] == 0).all() and p[0].argmax() == 0 and p[1].argmax() == 2 and p[0, 0] > 0.9
    again = build()
    again.load_state(model.state())
    np.testing.assert_allclose(again.predict(x)["emotion"], model.predict(x)["emotion"])


def test_gain_over_random_is_paired_and_averages_repeats_first():
    rows = [{"fold": f, "seed": s, "mode": m, "round": 0, "ua": ua} for f, s, m, ua in [
        ("s1", 0, "random", 0.5), ("s1", 0, "active", 0.6), ("s1", 1, "random", 0.4), ("s1", 1, "active", 0.6),
        ("s2", 0, "random", 0.7), ("s2", 0, "active", 0.6), ("s2", 1, "random", 0.7), ("s2", 1, "active", 0.6)]]
    (point,) = gains_over_random(rows)["active"]
    # fold s1 gains (0.1 + 0.2) / 2 = 0.15 over its two repeats, fold s2 loses 0.1: mean 0.025
    assert point["gain"] == pytest.approx(0.025) and point["folds_gaining"] == 1 and point["folds"] == 2
    assert point["se"] == pytest.approx(np.std([0.15, -0.1], ddof=1) / np.sqrt(2))


class FakeSession:
    """Segments 0-7 of training speakers a/b, 8 a test speaker's item leaked into training,
    9-11 the test part, 12-13 unlabelled audio; every model predicts the fixed posteriors P."""

    SPEAKERS = ["a"] * 4 + ["b"] * 4 + ["t"] * 4 + ["u"] * 2
    GOLD = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, -1, -1]
    P = np.array([[0.95, 0.03, 0.02], [0.4, 0.35, 0.25], [0.1, 0.2, 0.7], [0.34, 0.33, 0.33],
                  [0.05, 0.9, 0.05], [0.3, 0.3, 0.4], [0.8, 0.1, 0.1], [0.2, 0.45, 0.35],
                  [0.99, 0.005, 0.005], [0.6, 0.2, 0.2], [0.2, 0.6, 0.2], [0.2, 0.2, 0.6],
                  [0.02, 0.96, 0.02], [0.36, 0.34, 0.3]])

    def __init__(self):
        self.speakers, self.heads = self.SPEAKERS, [HEAD]
        self.train = Part(list(range(9)), {"emotion": self.GOLD[:9]})
        self.test = Part([9, 10, 11], {"emotion": self.GOLD[9:12]})
        self.unlabelled = Part([12, 13])
        self.config, self.fold, self.history = SimpleNamespace(seed=0), SimpleNamespace(name="f"), None
        self.data = SimpleNamespace(
            utterances=[SimpleNamespace(id=f"u{i}", path=f"/audio/u{i}.wav", speaker=s, labels={})
                        for i, s in enumerate(self.SPEAKERS)],
            extracted=SimpleNamespace(segments=[SimpleNamespace(utt_index=i, id=f"u{i}#0") for i in range(14)]))
        self.fits = []

    def new_model(self):
        return SimpleNamespace(heads=[HEAD])

    def fit(self, model, train, validation, description=None):
        self.fits.append(train)

    def predict(self, model, part):
        return SimpleNamespace(outputs={"emotion": self.P[part.segments]},
                               targets={"emotion": np.asarray([self.GOLD[s] for s in part.segments])})


def simulate(mode, **params):
    session = FakeSession()
    pool = Pool(session, "emotion")
    strategy = CooperativeLearning(mode=mode, compare=[mode], seed_per_class=1, rounds=1, **params)
    rows, asked, _, human, _ = strategy.simulate(session, pool, Confidence(session, "emotion", "margin"), mode,
                                                 [pool.part.segments.index(s) for s in (0, 4, 2)])
    return session, pool, rows, asked, human


def test_pool_holds_no_test_speaker_and_unlabelled_audio_is_never_asked():
    session = FakeSession()
    pool = Pool(session, "emotion")
    assert 8 not in pool.part.segments and {12, 13} <= set(pool.part.segments)
    assert pool.gold[pool.part.segments.index(12)] == -1


def test_self_training_adds_only_items_above_threshold_and_no_test_speaker():
    session, pool, rows, _, _ = simulate("self_training", batch=1, threshold=0.5)
    human_fit, combined = session.fits[0], session.fits[1]
    assert human_fit.segments == [0, 4, 2]
    margins = dict(enumerate(margin(FakeSession.P)))
    machine = combined.segments[3:]
    # remaining pool items 1, 3, 5, 6, 7, 12, 13: margins 0.05, 0.01, 0.1, 0.7, 0.1, 0.94, 0.02
    assert sorted(machine) == [6, 12]
    assert all(margins[s] >= 0.5 for s in machine) and 8 not in machine  # 8 (test speaker) is confident too
    assert combined.targets["emotion"][3:] == [int(FakeSession.P[s].argmax()) for s in machine]
    assert rows[0]["machine_labels"] == 2 and rows[0]["machine_label_accuracy"] == 1.0  # 12 has no gold


def test_active_learning_asks_the_least_confident_labelled_items():
    session, pool, rows, asked, human = simulate("active", batch=2, threshold=0.5)
    # labelled remaining items 1, 3, 5, 6, 7 have margins 0.05, 0.01, 0.1, 0.7, 0.1; 13 (0.02) is unlabelled
    assert [a["id"] for a in asked] == ["u3", "u1"]
    assert [pool.part.segments[i] for i in human] == [0, 4, 2, 3, 1]
    assert asked[0]["path"] == "/audio/u3.wav" and asked[0]["label"] == "a" and asked[0]["round"] == 1
    assert [r["human_labels"] for r in rows] == [3, 5] and all(r["machine_labels"] == 0 for r in rows)


def test_cooperative_asks_only_below_threshold():
    session, pool, rows, asked, _ = simulate("cooperative", batch=10, threshold=0.08)
    # below 0.08 among the labelled remaining items: 1 (0.05) and 3 (0.01); 5 and 7 (0.1) are self-labelled
    assert sorted(a["id"] for a in asked) == ["u1", "u3"]
    assert sorted(session.fits[1].segments[3:]) == [5, 6, 7, 12]


def test_strategy_params_are_checked():
    with pytest.raises(ValueError, match="mode"):
        CooperativeLearning(mode="passive")
    with pytest.raises(ValueError, match="batch"):
        CooperativeLearning(batch=0)


def test_cooperative_learning_runs_on_the_synthetic_corpus_and_writes_its_curves(registry, trees, tmp_path):
    overrides = ["corpus.name=synthetic", "corpus.params={n_speakers: 3, n_per_class: 4}",
                 "data.cache=false", "data.workers=1", "train.repeats=1", "strategy.params.rounds=2",
                 "strategy.params.batch=3", "strategy.params.seed_per_class=1"]
    result = trees["run"](RECIPE, registry, tmp_path / "runs", overrides)
    out = result.dir / "analysis" / "cooperative_curves"
    assert (out / "curves.png").stat().st_size > 1000
    curve = list(csv.DictReader(open(out / "curves.csv")))
    assert len(curve) == 3 * 4 * 3  # folds x modes x (rounds + 1)
    assert {r["mode"] for r in curve} == {"random", "active", "self_training", "cooperative"}
    assert [int(r["human_labels"]) for r in curve[:3]] == [4, 7, 10]
    folds = json.loads((result.dir / "folds.json").read_text())
    test_ids = {f: set(v["test"]) for f, v in folds.items()}
    queries = list(csv.DictReader(open(out / "queries.csv")))
    assert queries and all(Path(q["path"]).is_file() for q in queries)
    assert not any(q["id"] in test_ids[q["fold"]] for q in queries)
    summary = json.loads((out / "curves.json").read_text())
    assert set(summary["labels_to_reach_random_final_ua"]) == {"random", "active", "self_training", "cooperative"}
    assert {"margin", "posterior", "learned_error"} <= set(summary["confidence_auroc_mean"])
    assert [p["round"] for p in summary["gain_over_random"]["cooperative"]] == [0, 1, 2]
    assert summary["gain_over_random"]["active"][0]["gain"] == 0  # round 0: the same seed set

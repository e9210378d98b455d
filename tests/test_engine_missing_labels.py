"""``data.missing_labels: mask``: corpora with different label sets train one model; a missing
label changes no gradient of its head and is left out of that head's scores (§2.5 of
MixedEmotions D4.2); the default ``drop`` keeps only fully labelled utterances."""
import numpy as np
import pytest
import torch

from sertk import Corpus, FeatureInfo, LabelSpace, Model, Utterance
from sertk.data.batching import collate
from sertk.data.targets import MISSING_CLASS, FrameTarget, segment_target
from sertk.engine.components import build_model
from sertk.engine.experiment import prepare_data, usable
from sertk.engine.run import resolve_folds
from sertk.engine.scoring import confusion_matrix, score, score_predictions
from sertk.engine.session import FitSession
from sertk.engine.trainer import SkipMissing
from sertk.interfaces import Head
from sertk.nn import mean_std_pool, target_head
from sertk.plugins import load_plugins
from sertk.recipe import load_recipe
from sertk.registry import Registry

torch.set_num_threads(1)
RATE = 16000


def tone(f0: float, level: float, rng: np.random.Generator, seconds: float = 0.6) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    harmonics = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 5))
    return (level * harmonics + 0.01 * rng.standard_normal(len(t))).astype(np.float32)


class EmotionTones(Corpus):
    """Only categorical emotion: loud high tones are anger, soft low ones sadness."""

    name = "test_emotion_tones"

    def utterances(self):
        rng = np.random.default_rng(1)
        return [Utterance(f"e{s}_{i}", f"e{s}", audio=tone(*((230, 0.5) if i % 2 else (110, 0.08)), rng),
                          sample_rate=RATE, labels={"emotion": "anger" if i % 2 else "sadness"})
                for s in range(4) for i in range(8)]


class ArousalTones(Corpus):
    """Only an arousal value, which sets the tone's pitch and level."""

    name = "test_arousal_tones"

    def utterances(self):
        rng = np.random.default_rng(2)
        values = rng.uniform(-1, 1, 32)
        return [Utterance(f"a{i // 8}_{i}", f"a{i // 8}", audio=tone(160 + 60 * a, 0.1 * 10 ** (0.6 * a), rng),
                          sample_rate=RATE, labels={"arousal": float(a)}) for i, a in enumerate(values)]


class TwoHeads(Model):
    """A pooled-MFCC trunk with an emotion and an arousal head."""

    name = "test_two_heads"

    def __init__(self, inputs: dict, labels: LabelSpace, hidden: int = 16):
        super().__init__()
        self.key, info = next(iter(inputs.items()))
        self.heads = [target_head(labels, "emotion", self.name), target_head(labels, "arousal", self.name)]
        self.trunk = torch.nn.Sequential(torch.nn.Linear(2 * info.dim, hidden), torch.nn.Tanh())
        self.emotion = torch.nn.Linear(hidden, len(self.heads[0].classes))
        self.arousal = torch.nn.Linear(hidden, 1)

    def forward(self, inputs, lengths=None):
        h = self.trunk(mean_std_pool(inputs[self.key], (lengths or {}).get(self.key)))
        return {"emotion": self.emotion(h), "arousal": self.arousal(h).squeeze(-1)}


@pytest.fixture(scope="module")
def registry():
    registry = Registry.from_plugins(load_plugins(entry_points=False))
    for kind, cls in (("corpora", EmotionTones), ("corpora", ArousalTones), ("models", TwoHeads)):
        registry.add(kind, cls, "test")
    return registry


RECIPE = """
corpus: [{name: test_emotion_tones}, {name: test_arousal_tones}]
data: {missing_labels: mask, cache: false}
features: [{name: mfcc, params: {n_mfcc: 13}}]
model: {name: test_two_heads}
train: {epochs: 25, batch_size: 8, optimizer: {name: adam, lr: 0.01}, threads: 1, seed: 0,
        early_stopping: {patience: 25}}
protocol: {name: random, params: {test_fraction: 0.25}}
metrics: [ua, wa, ccc]
"""

EMOTION = Head("emotion", "classification", ("anger", "sadness"))
AROUSAL = Head("arousal", "regression")


def test_missing_labels_get_placeholders_and_batch_masks():
    utt = Utterance("u", "s", labels={"emotion": "anger"})
    assert segment_target(utt, EMOTION, 0, 1) == 0
    assert segment_target(utt, Head("emotion", "classification", ("anger", "happiness", "sadness"), target="x"),
                          0, 1) == MISSING_CLASS
    assert np.isnan(segment_target(utt, AROUSAL, 0, 1))
    contour = segment_target(utt, Head("valence", "regression", level="frame", rate=25.0), 0, 1)
    assert isinstance(contour, FrameTarget) and len(contour.values) == 0
    items = [("a", {"x": np.zeros(3, np.float32)}, {"emotion": 1, "arousal": 0.5}, 1.0),
             ("b", {"x": np.zeros(3, np.float32)}, {"emotion": MISSING_CLASS, "arousal": float("nan")}, 1.0)]
    batch = collate(items)
    assert batch.target_masks["emotion"].tolist() == [True, False]
    assert batch.target_masks["arousal"].tolist() == [True, False]
    full = collate(items[:1])
    assert "emotion" not in full.target_masks and "arousal" not in full.target_masks  # as before, without gaps


def test_usable_drop_keeps_fully_labelled_and_mask_keeps_any_label():
    utts = [Utterance("both", "s", labels={"emotion": "anger", "arousal": 0.1}),
            Utterance("emotion", "s", labels={"emotion": "anger"}),
            Utterance("arousal", "s", labels={"arousal": 0.3}),
            Utterance("none", "s")]
    assert usable(utts, [EMOTION, AROUSAL]) == [0]
    assert usable(utts, [EMOTION, AROUSAL], "mask") == [0, 1, 2]
    ctc = Head("transcript", "sequence", ("<blank>", "a"), level="frame")
    utts[1].transcript = "a"
    assert usable(utts, [EMOTION, AROUSAL, ctc], "mask") == [1]  # a sequence head's target stays required


def _gradients(model, batch, losses):
    model.zero_grad()
    sum(model.head_losses(model(batch.inputs, batch.lengths), batch, losses).values()).backward()
    return {n: p.grad.clone() for n, p in model.named_parameters()}


def test_a_missing_label_changes_no_gradient_of_its_head():
    from sertk.builtins.losses import CrossEntropy, MeanSquaredError

    torch.manual_seed(0)
    labels = LabelSpace({"emotion": ("anger", "sadness")}, ("arousal",))
    model = TwoHeads({"x": FeatureInfo("x", 3, "frame", 100.0)}, labels)
    rng = np.random.default_rng(0)
    frames = [rng.normal(size=(5, 3)).astype(np.float32) for _ in range(6)]
    emotion, arousal = [0, 1, 1, 0, 1, 0], [0.3, -0.2, float("nan"), 0.8, float("nan"), float("nan")]
    batch = collate([(str(i), {"x": frames[i]}, {"emotion": emotion[i], "arousal": arousal[i]}, 0.0)
                     for i in range(6)])
    losses = {"emotion": SkipMissing(CrossEntropy()), "arousal": SkipMissing(MeanSquaredError())}
    masked = _gradients(model, batch, losses)
    # dummy values under the mask change nothing
    batch.targets["arousal"][torch.tensor([2, 4, 5])] = torch.tensor([5.0, -7.0, 3.0])
    assert all(torch.equal(masked[n], g) for n, g in _gradients(model, batch, losses).items())
    # the same as the emotion loss over all six plus the arousal loss over the three labelled ones, by hand
    model.zero_grad()
    out = model(batch.inputs, batch.lengths)
    keep = torch.tensor([0, 1, 3])
    (torch.nn.functional.cross_entropy(out["emotion"], batch.targets["emotion"])
     + torch.nn.functional.mse_loss(out["arousal"][keep], batch.targets["arousal"][keep])).backward()
    for n, p in model.named_parameters():
        torch.testing.assert_close(masked[n], p.grad, rtol=1e-6, atol=1e-7)
    # a batch of only unlabelled arousal rows: the arousal head gets exactly zero gradient
    only = collate([(str(i), {"x": frames[i]}, {"emotion": emotion[i], "arousal": float("nan")}, 0.0)
                    for i in (2, 4, 5)])
    grads = _gradients(model, only, losses)
    assert torch.count_nonzero(grads["arousal.weight"]) == 0 and torch.count_nonzero(grads["arousal.bias"]) == 0
    assert torch.count_nonzero(grads["emotion.weight"]) > 0


def test_scores_leave_missing_items_out():
    from sertk.builtins.metrics import ConcordanceCorrelation as CCC, UnweightedAverageRecall as UA

    y = np.array([0, 1, MISSING_CLASS, 1, MISSING_CLASS, 0])
    probs = np.array([[.9, .1], [.2, .8], [.1, .9], [.7, .3], [.6, .4], [.4, .6]])
    # labelled: true 0,1,1,0 predicted 0,1,0,1 -> recall 1/2 for each class
    assert score(EMOTION, y, probs, [UA()]) == {"ua": pytest.approx(0.5)}
    assert confusion_matrix(y, probs.argmax(1), 2).tolist() == [[1, 1], [1, 1]]
    gold, pred = np.array([0.5, np.nan, -0.5, 1.0]), np.array([0.4, 9.0, -0.2, 0.7])
    g, p = gold[[0, 2, 3]], pred[[0, 2, 3]]
    hand = 2 * np.mean((g - g.mean()) * (p - p.mean())) / (g.var() + p.var() + (g.mean() - p.mean()) ** 2)
    assert score(AROUSAL, gold, pred, [CCC()])["ccc"] == pytest.approx(hand)
    assert np.isnan(score(AROUSAL, np.full(3, np.nan), pred[:3], [CCC()])["ccc"])


def test_two_corpora_with_disjoint_label_sets_train_one_model(registry, tmp_path):
    from sertk.builtins.strategies import Supervised
    from sertk.progress import Silent

    path = tmp_path / "recipe.yaml"
    path.write_text(RECIPE)
    recipe = load_recipe(path, [], registry)
    data = prepare_data(recipe, registry)
    heads = build_model(recipe, registry, data.info, data.labels, 0).heads
    assert usable(data.utterances, heads) == []  # drop (the default): no utterance has both labels
    keep = usable(data.utterances, heads, recipe.data.missing_labels)
    assert len(keep) == 64
    fold = resolve_folds(recipe, registry, data, keep, heads)[0]
    metrics = [registry.build("metrics", m) for m in recipe.metrics]
    by_kind = {k: [m for m in metrics if m.kind == k] for k in ("classification", "regression")}
    session = FitSession(recipe, registry, data, fold, heads, by_kind, Silent())
    model = Supervised().fit(session)
    predicted = session.predict(model, session.test)
    scores = score_predictions(predicted, heads, metrics)
    y = predicted.targets["emotion"]
    assert (y == MISSING_CLASS).sum() > 0 and np.isnan(predicted.targets["arousal"]).sum() > 0
    labelled = y >= 0
    pred = predicted.outputs["emotion"].argmax(1)[labelled]
    hand_ua = np.mean([np.mean(pred[y[labelled] == c] == c) for c in (0, 1)])
    assert scores["emotion"]["ua"] == pytest.approx(hand_ua) and hand_ua >= 0.9
    gold = predicted.targets["arousal"]
    g, p = gold[~np.isnan(gold)], predicted.outputs["arousal"][~np.isnan(gold)]
    hand_ccc = 2 * np.mean((g - g.mean()) * (p - p.mean())) / (g.var() + p.var() + (g.mean() - p.mean()) ** 2)
    assert scores["arousal"]["ccc"] == pytest.approx(hand_ccc) and hand_ccc > 0.5

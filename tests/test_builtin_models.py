"""Built-in models: shapes, padding invariance and learning above chance."""
import numpy as np
import pytest
import torch

from sertk.builtins.losses import CrossEntropy
from sertk.builtins.models import MLP, LinearSVM
from sertk.nn import mean_std_pool
from sertk.settings import OptimizerConfig, TrainConfig
from sertk.engine.trainer import Trainer
from sertk.interfaces import FeatureInfo, LabelSpace
from sertk.model import Batch

LABELS = LabelSpace(classes={"emotion": ("anger", "joy", "sad")}, dimensions=("arousal",), contours=("valence_t",))
INPUTS = {"mfcc": FeatureInfo("mfcc", 4, "frame", 100.0), "egemaps": FeatureInfo("egemaps", 5, "utterance")}


def frame_batch(rng, lengths, t_max, pad=0.0):
    x = torch.tensor(rng.normal(size=(len(lengths), t_max, 4)), dtype=torch.float32)
    for b, n in enumerate(lengths):
        x[b, n:] = pad
    return x


def test_mean_std_pool_matches_numpy_over_valid_frames():
    rng = np.random.default_rng(0)
    x = frame_batch(rng, [5, 3], 6)
    pooled = mean_std_pool(x, torch.tensor([5, 3]))
    for b, n in enumerate([5, 3]):
        frames = x[b, :n].numpy()
        np.testing.assert_allclose(pooled[b].numpy(), np.concatenate([frames.mean(0), frames.std(0)]), rtol=1e-5)


def test_mlp_shapes_and_padding_does_not_change_output():
    rng = np.random.default_rng(1)
    model = MLP(INPUTS, LABELS, hidden=[8, 6], dropout=0.5).eval()
    assert [h.name for h in model.heads] == ["emotion"] and model.heads[0].classes == LABELS.classes["emotion"]
    x = frame_batch(rng, [7, 4, 2], 7)
    utt = torch.tensor(rng.normal(size=(3, 5)), dtype=torch.float32)
    lengths = {"mfcc": torch.tensor([7, 4, 2])}
    out = model({"mfcc": x, "egemaps": utt}, lengths)["emotion"]
    assert out.shape == (3, 3)
    longer = torch.cat([x, torch.full((3, 5, 4), 123.0)], dim=1)
    torch.testing.assert_close(model({"mfcc": longer, "egemaps": utt}, lengths)["emotion"], out)
    alone = model({"mfcc": x[2:, :2], "egemaps": utt[2:]}, {"mfcc": torch.tensor([2])})["emotion"]
    torch.testing.assert_close(alone, out[2:])


def test_mlp_regression_target_and_errors():
    model = MLP({"egemaps": INPUTS["egemaps"]}, LABELS, target="arousal")
    assert model.heads[0].kind == "regression"
    assert model({"egemaps": torch.zeros(4, 5)})["arousal"].shape == (4,)
    with pytest.raises(ValueError, match="is time-aligned"):
        MLP(INPUTS, LABELS, target="valence_t")
    with pytest.raises(ValueError, match="not a label of this corpus"):
        MLP(INPUTS, LABELS, target="dominance")
    with pytest.raises(ValueError, match="needs params.target"):
        MLP(INPUTS, LabelSpace(classes={"a": ("x", "y")}, dimensions=("b",)))
    with pytest.raises(ValueError, match="dropout"):
        MLP(INPUTS, LABELS, dropout=1.0)


def blob_batches(n, seed, size=20):
    """Three Gaussian classes in 5-D utterance-level features."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centres = np.array([[3, 0, 0, 0, 0], [0, 3, 0, 0, 0], [0, 0, 3, 0, 0]], dtype=float)
    x = (centres[y] + rng.normal(size=(n, 5))).astype(np.float32)
    return [Batch(ids=[str(i) for i in range(s, min(s + size, n))], inputs={"egemaps": torch.from_numpy(x[s:s + size])},
                  targets={"emotion": torch.from_numpy(y[s:s + size])}) for s in range(0, n, size)], y


def test_mlp_learns_blobs_above_chance():
    torch.manual_seed(0)
    model = MLP({"egemaps": INPUTS["egemaps"]}, LABELS, hidden=[16], dropout=0.1)
    train, _ = blob_batches(150, seed=2)
    test, y = blob_batches(90, seed=3)
    trainer = Trainer(TrainConfig(epochs=15, optimizer=OptimizerConfig(lr=0.01), device="cpu"))
    trainer.fit(model, {"emotion": CrossEntropy()}, train)
    accuracy = np.mean(trainer.predict(model, test).outputs["emotion"].argmax(1) == y)
    assert accuracy > 0.8


def test_linear_svm_learns_blobs_through_the_trainer():
    model = LinearSVM({"egemaps": INPUTS["egemaps"]}, LABELS)
    train, _ = blob_batches(150, seed=4)
    test, y = blob_batches(90, seed=5)
    trainer = Trainer(TrainConfig(device="cpu"))
    history = trainer.fit(model, {}, train)
    assert history.epochs == 0
    pred = trainer.predict(model, test)
    assert pred.outputs["emotion"].shape == (90, 3)
    assert np.mean(pred.outputs["emotion"].argmax(1) == y) > 0.8
    np.testing.assert_array_equal(pred.targets["emotion"], y)


def test_linear_svm_maps_scores_to_all_classes_when_training_lacks_one():
    rng = np.random.default_rng(6)
    x = np.concatenate([rng.normal(-3, 1, (20, 5)), rng.normal(3, 1, (20, 5))])
    model = LinearSVM({"egemaps": INPUTS["egemaps"]}, LABELS)
    model.fit(x, {"emotion": np.repeat([0, 2], 20)})
    scores = model.predict(x)["emotion"]
    assert scores.shape == (40, 3)
    np.testing.assert_array_equal(scores.argmax(1), np.repeat([0, 2], 20))


@pytest.mark.parametrize("n_classes", [2, 4])
def test_linear_svm_arrays_reproduce_libsvm_exactly(n_classes):
    from sklearn.svm import SVC

    rng = np.random.default_rng(n_classes)
    y = rng.integers(0, n_classes, 120)
    x = rng.normal(size=(120, 20))
    x[:, 0] += y
    labels = LabelSpace({"emotion": tuple("abcd"[:n_classes])}, default_target="emotion")
    model = LinearSVM({"egemaps": INPUTS["egemaps"]}, labels, C=0.1)
    model.fit(x, {"emotion": y})
    reference = SVC(kernel="linear", C=0.1, class_weight="balanced").fit(x, y)
    ours = model.predict(x)["emotion"]
    if n_classes > 2:
        np.testing.assert_allclose(ours, reference.decision_function(x), atol=1e-9)
    else:
        np.testing.assert_array_equal(ours.argmax(1), reference.predict(x))
    restored = LinearSVM({"egemaps": INPUTS["egemaps"]}, labels, C=0.1)
    restored.load_state(model.state())
    np.testing.assert_array_equal(restored.predict(x)["emotion"], ours)


def test_linear_svm_rejects_frame_level_inputs_and_dimensions():
    with pytest.raises(ValueError, match=r"utterance-level features \(functionals\), but \['mfcc'\]"):
        LinearSVM(INPUTS, LABELS)
    with pytest.raises(ValueError, match="'arousal' is a dimension"):
        LinearSVM({"egemaps": INPUTS["egemaps"]}, LABELS, target="arousal")

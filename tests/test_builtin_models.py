"""Built-in models: shapes, padding invariance and learning above chance."""
import numpy as np
import pytest
import torch

from sertk.builtins.losses import CrossEntropy
from sertk.builtins.models import MLP
from sertk.builtins.svm import LinearSVM
from sertk.nn import mean_std_pool
from sertk.settings import OptimizerConfig, TrainConfig
from sertk.engine.trainer import Trainer
from sertk.interfaces import FeatureInfo, LabelSpace
from sertk.errors import SertkError
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


def test_linear_svm_learns_blobs_through_the_estimator_path():
    from sertk.engine.estimate import fit_estimator, predict_estimator
    from sertk.progress import Silent

    model = LinearSVM({"egemaps": INPUTS["egemaps"]}, LABELS)
    train, _ = blob_batches(150, seed=4)
    test, y = blob_batches(90, seed=5)

    def part(batches):
        rows = [r for b in batches for r in b.inputs["egemaps"].numpy()]
        return {"egemaps": rows}, {"emotion": [int(t) for b in batches for t in b.targets["emotion"]]}

    history = fit_estimator(model, *part(train), Silent(), "fit")
    assert history.epochs == 0
    pred = predict_estimator(model, [str(i) for i in range(90)], *part(test))
    assert pred.outputs["emotion"].shape == (90, 3)
    assert np.mean(pred.outputs["emotion"].argmax(1) == y) > 0.8
    np.testing.assert_array_equal(pred.targets["emotion"], y)
    with pytest.raises(SertkError, match="feature 'mfcc' is frame-level"):
        fit_estimator(model, {"mfcc": [np.zeros((4, 2))]}, {"emotion": [0]}, Silent(), "fit")


def test_linear_svm_maps_scores_to_all_classes_when_training_lacks_one():
    rng = np.random.default_rng(6)
    x = np.concatenate([rng.normal(-3, 1, (20, 5)), rng.normal(3, 1, (20, 5))])
    model = LinearSVM({"egemaps": INPUTS["egemaps"]}, LABELS)
    model.fit(x, {"emotion": np.repeat([0, 2], 20)})
    scores = model.predict(x)["emotion"]
    assert scores.shape == (40, 3)
    np.testing.assert_array_equal(scores.argmax(1), np.repeat([0, 2], 20))


@pytest.mark.parametrize("n_classes", [2, 4])
def test_linear_svm_solves_libsvms_problem(n_classes):
    """At a tight tolerance both solvers reach the same optimum: libsvm's decision values
    within 1e-6; at libsvm's default tolerance the same classes."""
    from sklearn.svm import SVC

    rng = np.random.default_rng(n_classes)
    y = rng.integers(0, n_classes, 120)
    x = rng.normal(size=(120, 20))
    x[:, 0] += y
    labels = LabelSpace({"emotion": tuple("abcd"[:n_classes])}, default_target="emotion")
    for tol, atol in ((1e-10, 1e-6), (1e-3, None)):
        model = LinearSVM({"egemaps": INPUTS["egemaps"]}, labels, C=0.1, tol=tol)
        model.fit(x, {"emotion": y})
        reference = SVC(kernel="linear", C=0.1, class_weight="balanced", tol=tol).fit(x, y)
        ours = model.predict(x)["emotion"]
        if n_classes > 2:
            if atol:
                np.testing.assert_allclose(ours, reference.decision_function(x), atol=atol)
            np.testing.assert_array_equal(ours.argmax(1), reference.decision_function(x).argmax(1))
        else:
            np.testing.assert_array_equal(ours.argmax(1), reference.predict(x))
    restored = LinearSVM({"egemaps": INPUTS["egemaps"]}, labels, C=0.1)
    restored.load_state(model.state())
    np.testing.assert_array_equal(restored.predict(x)["emotion"], ours)


def test_linear_svm_box_constraints_bind_like_libsvm():
    """Overlapping classes with a small C: many αᵢ sit at their (class-weighted) bound."""
    from sklearn.svm import SVC

    rng = np.random.default_rng(9)
    y = np.repeat([0, 1, 2], [60, 30, 15])
    x = rng.normal(size=(len(y), 8)) + 0.5 * y[:, None]
    labels = LabelSpace({"emotion": ("a", "b", "c")}, default_target="emotion")
    model = LinearSVM({"egemaps": INPUTS["egemaps"]}, labels, C=0.05, tol=1e-10)
    model.fit(x, {"emotion": y})
    reference = SVC(kernel="linear", C=0.05, class_weight="balanced", tol=1e-10).fit(x, y)
    assert (np.abs(reference.dual_coef_) >= 0.05 * 0.999).sum() > 10  # bounds are active
    np.testing.assert_allclose(model.predict(x)["emotion"], reference.decision_function(x), atol=1e-6)


def test_linear_svm_rejects_frame_level_inputs_and_dimensions():
    with pytest.raises(ValueError, match=r"utterance-level features \(functionals\), but \['mfcc'\]"):
        LinearSVM(INPUTS, LABELS)
    with pytest.raises(ValueError, match="'arousal' is a dimension"):
        LinearSVM({"egemaps": INPUTS["egemaps"]}, LABELS, target="arousal")



def test_smo_converges_when_many_multipliers_sit_on_their_bounds():
    """Overlapping classes with a small C put most αᵢ on their bounds; rounding must not leave
    one a hair below its bound to be picked again and again (8 of these 40 problems stalled
    before bounds were snapped)."""
    from sertk.builtins.smo import solve_pairs

    for seed in range(40):
        rng = np.random.default_rng(seed)
        y = rng.integers(0, 2, 110)
        x = (rng.normal(size=(110, 88)) + 0.3 * y[:, None]).astype(np.float32)
        kernel = (x @ x.T).astype(np.float64)[None]
        signs = np.where(y == 1, 1.0, -1.0)[None]
        upper = (0.001 * len(y) / (2 * np.bincount(y))[y])[None]
        alpha, _ = solve_pairs(kernel, signs, upper, 1e-3, max_iter=20000)
        score = -signs * (np.einsum("pij,pj->pi", kernel * signs[:, :, None] * signs[:, None, :], alpha) - 1)
        up = ((signs > 0) & (alpha < upper)) | ((signs < 0) & (alpha > 0))
        low = ((signs > 0) & (alpha > 0)) | ((signs < 0) & (alpha < upper))
        assert score[up].max() - score[low].min() < 1e-3, seed  # libsvm's stopping rule holds

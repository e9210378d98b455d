"""The rDA and its linear back end (MixedEmotions D4.2 §3.3, §3.4.2): window and utterance moments
by hand, the model's shapes and checks, the rDA lowering the MSE to clean features of generated
noisy tones below the noisy input's, and SVM weights copied into the model giving sklearn's
predictions."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from sertk import FeatureInfo, LabelSpace
from sertk.signals import mfcc
from sertk_mixedemotions.corruption import CorruptedMFCC
from sertk_mixedemotions.enhancement import RDAEnhance, masked_mse, svm_weights
from sertk_mixedemotions.rda import RDABackend, utterance_moments, window_moments

RATE = 16000
STREAMS = ("mfcc", "noisy_train", "noisy_devel", "noisy_test")


def streams(dim: int = 13, rate: float = 100.0) -> dict[str, FeatureInfo]:
    return {k: FeatureInfo(k, dim, "frame", rate) for k in STREAMS}


def backend(labels: LabelSpace, **params) -> RDABackend:
    args = {"clean": "mfcc", "train": ["noisy_train"], "devel": ["noisy_devel"], "test": "noisy_test", **params}
    return RDABackend(streams(), labels, **args)


def test_window_moments_by_hand():
    x = torch.arange(30, dtype=torch.float64).reshape(1, 10, 3) ** 1.5
    out = window_moments(x, torch.tensor([9]), rate=100.0, window_s=0.04, hop_s=0.03)
    assert out.shape == (1, 4, 6)  # ceil(10 frames / 100 Hz / 30 ms)
    rows = x[0].numpy()
    for k, lo in enumerate([0, 2, 5, 5]):  # centres 1.5, 4.5, 7.5, 10.5 frames; windows of 4 inside the 9 valid
        window = rows[lo:lo + 4]
        assert np.allclose(out[0, k].numpy(), np.concatenate([window.mean(0), window.var(0)]))
    short = window_moments(x, torch.tensor([3]), rate=100.0, window_s=8.0, hop_s=0.04)
    assert np.allclose(short[0, 0].numpy(), np.concatenate([rows[:3].mean(0), rows[:3].var(0)]))


def test_utterance_moments_ignore_padding():
    x = torch.randn(2, 7, 4)
    out = utterance_moments(x, torch.tensor([7, 4]))
    assert out.shape == (2, 8)
    assert torch.allclose(out[1], torch.cat([x[1, :4].mean(0), x[1, :4].var(0, unbiased=False)]), atol=1e-6)


def test_model_shapes_and_checks():
    contours = LabelSpace(contours=("arousal", "valence"))
    model = backend(contours, targets=["arousal", "valence"])
    assert [h.level for h in model.heads] == ["frame", "frame"] and model.heads[0].rate == 25.0
    assert sum(p.numel() for p in model.rda.parameters()) == 2 * 4 * 30 * (13 + 30 + 2) + 2 * 4 * 30 * (60 + 30 + 2) \
        + 60 * 13 + 13
    assert all(p.abs().max() <= 0.1 for p in model.rda.parameters())
    x = {k: torch.randn(2, 1000, 13) for k in STREAMS}
    out = model(x, {k: torch.tensor([1000, 600]) for k in STREAMS})
    assert out["arousal"].shape == (2, 250)  # 10 s at 25 frames/s
    emotions = LabelSpace(classes={"emotion": ("anger", "joy", "neutral")})
    model = backend(emotions)
    assert model(x, None)["emotion"].shape == (2, 3)
    with pytest.raises(ValueError, match="devel"):
        backend(emotions, devel=[])
    with pytest.raises(ValueError, match="noisy_x"):
        backend(emotions, test="noisy_x")
    assert backend(emotions, backend="clean", train=[], devel=[]).backend_input == "clean"


def tone(seconds: float, f0: float, rng) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.1 * np.sin(2 * np.pi * rng.uniform(0.5, 2) * t))) / RATE
    return (0.3 * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t)) * sum(np.sin(k * phase) / k for k in range(1, 6))) \
        .astype(np.float32)


def test_rda_lowers_the_mse_to_clean_features_below_the_noisy_input():
    rng = np.random.default_rng(0)
    tones = [tone(0.5, rng.uniform(100, 300), rng) for _ in range(24)]
    clean = [mfcc(x, RATE, 13, 25.0, 10.0, 40) for x in tones]
    noisy = {p: CorruptedMFCC(snr_db=0.0, noise="white", noise_part=p, room_ir=None, noise_seconds=6) for p in
             ("train", "devel")}
    train_in = [[noisy["train"](x, RATE) for x in tones[:18]]]
    val_in = [[noisy["devel"](x, RATE) for x in tones[18:]]]
    model = backend(LabelSpace(classes={"emotion": ("a", "b")}))
    frames = np.concatenate(train_in[0])
    with torch.no_grad():
        model.input_mean.copy_(torch.as_tensor(frames.mean(0))), model.input_std.copy_(torch.as_tensor(frames.std(0)))
    torch.manual_seed(0)
    strategy = RDAEnhance(optimizer="adam", lr=1e-2, max_epochs=20, patience=20, reduction="mean")
    session = SimpleNamespace(config=SimpleNamespace(seed=0), fold=SimpleNamespace(name="f"),
                              progress=SimpleNamespace(log=lambda message: None))
    strategy.train_rda(session, model, train_in, clean[:18], val_in, clean[18:])
    report = strategy.report["f/rda"]
    assert report["val_mse"] < 0.6 * report["val_mse_noisy_input"], report
    assert report["best_epoch"] > 1


def test_svm_weights_reproduce_sklearn_predictions():
    from sklearn.svm import LinearSVC

    rng = np.random.default_rng(1)
    x = rng.normal(size=(60, 5))
    for n_classes in (2, 4):
        y = rng.integers(n_classes, size=60)
        svm = LinearSVC(C=1.0, dual="auto").fit(x, y)
        w, b = svm_weights(svm, n_classes + 1)  # one class absent from the fold
        scores = x @ w.T + b
        assert np.array_equal(scores.argmax(1), svm.predict(x)) and scores[:, n_classes].max() < -1e8


def test_components_are_registered_and_cite_d42(registry):
    import typing

    for kind, name in (("features", "corrupted_mfcc"), ("models", "rda_backend"), ("strategies", "rda_enhance")):
        entry = {e.name: e for e in registry.entries(kind)}[name]
        assert entry.plugin == "mixedemotions" and "D4.2" in entry.summary and "D4.2" in entry.cls.__doc__
        typing.get_type_hints(entry.cls.__init__)


def test_masked_mse_mean_and_sum_by_hand():
    out, target = torch.zeros(2, 3, 2), torch.ones(2, 3, 2)
    target[1, 2] = 100.0  # a padded frame: ignored
    lengths = torch.tensor([3, 2])
    assert float(masked_mse(out, target, lengths)) == 1.0
    assert float(masked_mse(out, target, lengths, "sum")) == 10.0  # 5 valid frames x 2 dimensions

"""Guided-backpropagation saliency and activation maximisation, as functions and as analyzers."""
import json

import numpy as np
import pytest
import soundfile as sf
import torch
from torch import nn

from sertk import Batch, FeatureInfo, LabelSpace
from sertk_wieser.activation import ActivationMaximization, maximize_activation
from sertk_wieser.models import ELoR
from sertk_wieser.saliency import Saliency, correlations, guided_relus, pearson, saliency_maps

SR = 16000
LABELS = LabelSpace({"emotion": ("anger", "sadness")}, ("arousal", "valence"))


def tiny_elor(seed=0, targets=("valence", "arousal")):
    torch.manual_seed(seed)
    model = ELoR({"raw": FeatureInfo("raw", 1, "frame", float(SR))}, LABELS, filters=[6, 6, 6], kernels=[16, 8, 4],
                 pools=[4, 4, 2], time_steps=2, hidden=[8, 8], targets=list(targets))
    return model.eval()


class GateModel(nn.Module):
    """logit = Σ_t w_t · relu(x_t): the ReLU gate is closed wherever x_t <= 0."""

    def __init__(self, w):
        super().__init__()
        self.relu, self.w = nn.ReLU(), w

    def forward(self, inputs, lengths=None):
        h = self.relu(inputs["raw"][..., 0])
        return {"out": torch.stack([(h * self.w).sum(1), torch.full((len(h),), -100.0)], dim=1)}


def test_guided_backprop_zeroes_closed_gates_and_negative_gradients():
    x = torch.tensor([[1.0, -1.0, 2.0, -0.5, 0.3, 0.7]]).unsqueeze(-1)
    w = torch.tensor([0.5, 2.0, -1.0, 3.0, 4.0, -2.0])
    plain = saliency_maps(GateModel(w), {"raw": x}, "raw", guided=False)["out"][0, :, 0]
    guided = saliency_maps(GateModel(w), {"raw": x}, "raw")["out"][0, :, 0]
    # plain gradient: w where the gate is open (x > 0), 0 where it is closed
    assert plain.tolist() == [0.5, 0.0, -1.0, 0.0, 4.0, -2.0]
    # guided: additionally only positive gradients pass
    assert guided.tolist() == [0.5, 0.0, 0.0, 0.0, 4.0, 0.0]


def test_guided_saliency_of_elor_differs_from_the_plain_gradient():
    model = tiny_elor()
    x = 0.3 * torch.randn(2, 800, 1, generator=torch.Generator().manual_seed(0))
    with guided_relus(model) as n:
        assert n == 3
    guided = saliency_maps(model, {"raw": x}, "raw")
    plain = saliency_maps(model, {"raw": x}, "raw", guided=False)
    assert set(guided) == {"valence", "arousal"}
    for head in guided:
        assert guided[head].shape == x.shape
        assert guided[head].abs().sum() > 0
        assert not torch.allclose(guided[head], plain[head])
    # hooks are removed afterwards: the plain gradient is reproducible
    assert torch.equal(saliency_maps(model, {"raw": x}, "raw", guided=False)["valence"], plain["valence"])


def test_correlations_match_numpy():
    rng = np.random.default_rng(0)
    s, a, v = rng.standard_normal((3, 500))
    out = correlations(s, {"valence": v, "arousal": a})
    assert out["signal_valence"] == pytest.approx(np.corrcoef(s, v)[0, 1])
    assert out["signal_arousal_magnitude"] == pytest.approx(np.corrcoef(np.abs(s), np.abs(a))[0, 1])
    assert out["valence_arousal"] == pytest.approx(np.corrcoef(v, a)[0, 1])
    assert np.isnan(pearson(np.ones(5), s[:5]))


def test_activation_maximisation_increases_the_target_output():
    model = tiny_elor()
    before_params = [p.detach().clone() for p in model.parameters()]
    start = 0.01 * torch.randn(1, 800, 1, generator=torch.Generator().manual_seed(1))
    x, before, after = maximize_activation(model, "arousal", 3, start, "raw", steps=10, lr=0.2, lam=1e-4,
                                           optimizer="adam")
    with torch.no_grad():
        others = model({"raw": 0.3 * torch.randn(16, 800, 1, generator=torch.Generator().manual_seed(2))})
    assert after > before and after > float(others["arousal"][:, 3].max())
    with torch.no_grad():
        assert float(model({"raw": x})["arousal"][0, 3]) == pytest.approx(after)
    assert x.shape == start.shape and x.abs().max() <= 1.0
    assert all(torch.equal(a, b) for a, b in zip(before_params, model.parameters()))


def test_plain_gradient_ascent_steps_by_the_gradient_and_adam_by_the_learning_rate():
    """The regime behind Table 6's quiet signals: one SGD step moves x by lr·∇, one Adam
    step moves every sample by lr whatever its gradient."""
    model = tiny_elor().eval()
    start = 0.01 * torch.randn(1, 800, 1, generator=torch.Generator().manual_seed(1))
    x = start.clone().requires_grad_(True)
    grad, = torch.autograd.grad(model({"raw": x})["arousal"][0, 3] - 1e-4 * x.pow(2).sum(), x)
    sgd, _, _ = maximize_activation(model, "arousal", 3, start, "raw", steps=1, lr=0.01, optimizer="sgd")
    torch.testing.assert_close(sgd, start + 0.01 * grad)
    adam, _, _ = maximize_activation(model, "arousal", 3, start, "raw", steps=1, lr=0.01, optimizer="adam")
    moved = (adam - start).abs()[grad.abs() > 1e-5]  # Adam's first step is lr·g / (|g| + 1e-8)
    assert len(moved) > 400
    torch.testing.assert_close(moved, torch.full_like(moved, 0.01), rtol=1e-2, atol=1e-6)
    assert float((sgd - start).abs().max()) < 0.01


class FakeRun:
    """The part of a trained run the analyzers use: two folds of 3 test segments."""

    def __init__(self, root, targets=("valence", "arousal")):
        self.dir, self.folds, self.sample_rate = root, ["f1", "f2"], SR
        self.models = {f: tiny_elor(i, targets) for i, f in enumerate(self.folds)}
        self.heads = self.models["f1"].heads

    def model(self, fold):
        return self.models[fold]

    def network(self, fold, analyzer):
        return self.models[fold].eval()

    def batches(self, fold, split="test", batch_size=8):
        g = torch.Generator().manual_seed(len(fold))
        x = 0.3 * torch.randn(3, 800, 1, generator=g)
        yield Batch([f"{fold}/utt {i}" for i in range(3)], {"raw": x})

    def analysis_dir(self, name):
        path = self.dir / "analysis" / name
        path.mkdir(parents=True, exist_ok=True)
        return path


def test_saliency_analyzer_writes_correlations_and_fig4_plots(tmp_path):
    summary = Saliency(plots=2).analyze(FakeRun(tmp_path))
    out = tmp_path / "analysis" / "saliency"
    assert summary["utterances"] == 6
    assert summary["plots"] == ["f1_utt_0.png", "f1_utt_1.png"]
    for name in summary["plots"]:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = (out / "correlations.csv").read_text().splitlines()
    assert len(lines) == 7 and lines[0].startswith("fold,id,signal_valence")
    assert -1 <= summary["mean_correlation"]["valence_arousal"] <= 1
    json.dumps(summary)
    limited = Saliency(plots=0, max_utterances=4).analyze(FakeRun(tmp_path))
    assert limited["utterances"] == 4 and limited["plots"] == []


def test_activation_analyzer_writes_a_wav_plot_and_characterisation_per_unit(tmp_path):
    summary = ActivationMaximization(steps=3, lr=0.05, start="mean").analyze(FakeRun(tmp_path, ["emotion"]))
    out = tmp_path / "analysis" / "activation_maximization"
    assert [(u["head"], u["class"]) for u in summary["units"]] == [("emotion", "anger"), ("emotion", "sadness")]
    for cls in ("anger", "sadness"):
        audio, rate = sf.read(out / f"emotion_{cls}.wav")
        assert rate == SR and audio.shape == (800,)
        assert (out / f"emotion_{cls}.png").read_bytes()[:4] == b"\x89PNG"
    rows = (out / "characterisation.csv").read_text().splitlines()
    assert len(rows) == 3 and "loudness_dbfs" in rows[0] and "typical_pause_s" in rows[0]
    json.dumps(summary)


def test_activation_analyzer_defaults_to_the_ses03f_fold(tmp_path):
    run = FakeRun(tmp_path, ["emotion"])
    assert ActivationMaximization(steps=1).analyze(run)["fold"] == "f1"  # no IEMOCAP fold: the first
    run.folds = ["speaker-Ses01F", "speaker-Ses03F"]
    run.models = {f: tiny_elor(i, ["emotion"]) for i, f in enumerate(run.folds)}
    summary = ActivationMaximization(steps=1).analyze(run)
    assert summary["fold"] == "speaker-Ses03F" and summary["optimizer"] == "sgd"
    x0, _ = ActivationMaximization(start="zeros")._start(run, "speaker-Ses03F")
    assert x0.shape == (1, 800, 1) and not x0.any()
    with pytest.raises(ValueError, match="optimizer must be 'sgd'"):
        ActivationMaximization(optimizer="rmsprop")


def test_analyzers_name_a_missing_input_key(tmp_path):
    from sertk import SertkError

    with pytest.raises(SertkError, match="input_key"):
        Saliency(input_key="mfcc").analyze(FakeRun(tmp_path))
    with pytest.raises(SertkError, match="input_key"):
        ActivationMaximization(input_key="mfcc").analyze(FakeRun(tmp_path))

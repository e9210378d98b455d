"""Shapes and wiring of the recogniser and the four emotion models (Lakomkin et al. 2017, §3.1, Figs. 2-3)."""
import pytest
import torch

from sertk import FeatureInfo, LabelSpace
from sertk_lakomkin.ds2 import DS2Encoder, layer_names
from sertk_lakomkin.models import DS2ASR, LakomkinBaseline, LakomkinMP, LakomkinProgressive, LakomkinRNN

EMOTIONS = ("anger", "happiness", "neutral", "sadness")
LABELS = LabelSpace(classes={"emotion": EMOTIONS}, dimensions=("arousal",),
                    sequences={"phones": ("a", "b", "c"), "transcript": tuple(" abc")})
INPUTS = {"power_spectrogram": FeatureInfo("power_spectrogram", 161, "frame", 100.0),
          "mfcc_pitch": FeatureInfo("mfcc_pitch", 27, "frame", 100.0)}
TINY_ASR = {"asr_channels": [2, 2], "asr_hidden": 8, "asr_layers": 5}
EMOTION_MODELS = [(LakomkinMP, {}), (LakomkinRNN, {"units": 4}), (LakomkinProgressive, {"units": 4})]


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(before)


def batch(frames=(101, 60, 7)):
    """Zero-padded inputs of both features and their lengths."""
    lengths = torch.tensor(frames)
    inputs = {}
    for key, info in INPUTS.items():
        x = torch.randn(len(frames), max(frames), info.dim)
        x *= (torch.arange(max(frames))[None, :] < lengths[:, None]).unsqueeze(-1)
        inputs[key] = x
    return inputs, {key: lengths for key in INPUTS}


def tiny_asr(**params):
    return DS2ASR(INPUTS, LABELS, target="phones", channels=[2, 2], hidden=8, **params)


def test_paper_sized_recogniser_follows_deep_speech_2():
    """161 bins → 81 → 41 frequency rows of 32 filters (1312 per frame); time strided once by 2;
    five bidirectional GRU layers of 800, directions summed."""
    encoder = DS2Encoder(161)
    first, second = encoder.conv[0], encoder.conv[3]
    assert (first.out_channels, first.kernel_size, first.stride) == (32, (41, 11), (2, 2))
    assert (second.out_channels, second.kernel_size, second.stride) == (32, (21, 11), (2, 1))
    assert isinstance(encoder.conv[2], torch.nn.Hardtanh) and encoder.conv[2].max_val == 20.0
    assert encoder.conv_size == 32 * 41
    assert len(encoder.rnn) == 5 and all(layer.gru.bidirectional and layer.gru.hidden_size == 800
                                         for layer in encoder.rnn)
    assert encoder.rnn[0].norm is None and all(layer.norm is not None for layer in encoder.rnn[1:])
    with torch.no_grad():
        reps = encoder.eval()(torch.randn(1, 30, 161))
    assert [tuple(h.shape) for h, _ in reps.values()] == [(1, 15, 1312)] + [(1, 15, 800)] * 5


def test_asr_outputs_frame_log_probabilities_at_half_the_frame_rate():
    model = tiny_asr().eval()
    inputs, lengths = batch()
    with torch.no_grad():
        out = model(inputs, lengths)["phones"]
    assert out.shape == (3, 51, 4)  # ceil(101 / 2) frames; blank + 3 phones
    assert model.heads[0].kind == "sequence" and model.heads[0].classes[0] == "<blank>"
    assert model.heads[0].rate == 50.0
    torch.testing.assert_close(out.exp().sum(-1), torch.ones(3, 51))
    assert DS2ASR(INPUTS, LABELS, channels=[2, 2], hidden=8).heads[0].label_key == "transcript"


def test_asr_representations_name_every_layer_with_valid_frame_counts():
    model = tiny_asr(layers=5).eval()
    inputs, lengths = batch()
    with torch.no_grad():
        reps = model.representations(inputs, lengths)
    assert list(reps) == layer_names(5) == ["conv", "gru1", "gru2", "gru3", "gru4", "gru5"]
    for name, (h, n) in reps.items():
        assert h.shape == (3, 51, 2 * 41 if name == "conv" else 8)
        assert n.tolist() == [51, 30, 4]
        assert torch.all(h[1, 30:] == 0) and torch.all(h[2, 4:] == 0)  # zeros past the valid frames
    with torch.no_grad():
        unpadded = model.representations({"power_spectrogram": inputs["power_spectrogram"][:1]})
    assert [n.tolist() for _, n in unpadded.values()] == [[51]] * 6
    assert DS2Encoder.frames(torch.tensor([101, 60, 7, 1])).tolist() == [51, 30, 4, 1]


def test_an_utterance_gives_the_same_layers_alone_as_padded_in_a_batch():
    model = tiny_asr().eval()
    inputs, lengths = batch()
    with torch.no_grad():
        together = model.representations(inputs, lengths)
        alone = model.representations({"power_spectrogram": inputs["power_spectrogram"][1:2, :60]})
    for name in together:
        torch.testing.assert_close(alone[name][0][0], together[name][0][1, :30], atol=1e-5, rtol=1e-4)


def test_batch_norm_statistics_count_valid_frames_only():
    """Convolutional and recurrent batch norms see the valid frames only, so extra padding changes nothing."""
    inputs, lengths = batch((40, 10))
    wider = {k: torch.cat([v, torch.zeros(2, 30, v.shape[-1])], 1) for k, v in inputs.items()}
    stats = []
    for x in (inputs, wider):
        torch.manual_seed(1)
        model = tiny_asr().train()
        model(x, lengths)
        stats.append({k: v for k, v in model.state_dict().items() if "running" in k})
    assert len(stats[0]) == 2 * (2 + 4 + 1)  # mean and var: 2 conv, 4 recurrent, 1 output norm
    for key in stats[0]:
        torch.testing.assert_close(stats[1][key], stats[0][key], msg=key)


@pytest.mark.parametrize("cls, extra", EMOTION_MODELS, ids=lambda v: getattr(v, "name", ""))
@pytest.mark.parametrize("layer", [0, 1, 3, 5])
def test_emotion_models_run_the_recogniser_up_to_layer_x(cls, extra, layer):
    model = cls(INPUTS, LABELS, layer=layer, **TINY_ASR, **extra).eval()
    inputs, lengths = batch()
    with torch.no_grad():
        logits = model(inputs, lengths)["emotion"]
        reps = model.representations(inputs, lengths)
    assert logits.shape == (3, 4) and model.heads[0].classes == EMOTIONS
    assert list(reps) == layer_names(5)[:layer + 1]
    h, n = reps[layer_names(5)[layer]]
    assert h.shape == (3, 51, 82 if layer == 0 else 8) and n.tolist() == [51, 30, 4]
    assert len(model.asr.rnn) == 5  # every layer is held, so a trained recogniser loads strictly


def test_mp_is_a_softmax_layer_on_the_mean_of_layer_x():
    model = LakomkinMP(INPUTS, LABELS, layer=2, **TINY_ASR).eval()
    inputs, lengths = batch()
    with torch.no_grad():
        h, n = model.representations(inputs, lengths)["gru2"]
        mean = torch.stack([h[i, :n[i]].mean(0) for i in range(3)])
        torch.testing.assert_close(model(inputs, lengths)["emotion"], model.classifier(mean))
    assert model.dropout.p == 0.25


def test_progressive_joins_the_recogniser_and_a_baseline_branch():
    model = LakomkinProgressive(INPUTS, LABELS, layer=4, units=4, **TINY_ASR)
    assert model.classifier.in_features == 8 + 2 * 4
    assert len(model.encoder.layers) == 2
    baseline = LakomkinBaseline(INPUTS, LABELS, units=4)
    assert set(baseline.encoder.state_dict()) == set(model.encoder.state_dict())  # the same branch, same names


def test_baseline_exposes_both_gru_layers_and_averages_the_second():
    model = LakomkinBaseline(INPUTS, LABELS, units=4).eval()
    inputs, lengths = batch()
    with torch.no_grad():
        reps = model.representations(inputs, lengths)
        assert list(reps) == ["gru1", "gru2"]
        assert [tuple(h.shape) for h, _ in reps.values()] == [(3, 101, 8)] * 2
        assert reps["gru2"][1].tolist() == [101, 60, 7]
        h, n = reps["gru2"]
        mean = torch.stack([h[i, :n[i]].mean(0) for i in range(3)])
        torch.testing.assert_close(model(inputs, lengths)["emotion"], model.classifier(mean))
    assert model.dropout.p == 0.25 and LakomkinBaseline(INPUTS, LABELS).encoder.output_size == 256


def test_a_frozen_recogniser_runs_without_gradient():
    model = LakomkinRNN(INPUTS, LABELS, layer=2, units=4, **TINY_ASR)
    for p in model.asr.parameters():
        p.requires_grad_(False)
    inputs, lengths = batch()
    h, _ = model.representations(inputs, lengths)["gru2"]
    assert not h.requires_grad
    model(inputs, lengths)["emotion"].sum().backward()
    assert model.rnn.rnn.weight_ih_l0.grad is not None and model.classifier.weight.grad is not None


@pytest.mark.parametrize("build, message", [
    (lambda: LakomkinMP(INPUTS, LABELS, layer=6, **TINY_ASR), "layer must be in 0..5"),
    (lambda: LakomkinMP(INPUTS, LABELS, layer=2, target="arousal", **TINY_ASR), "target 'arousal' is regression"),
    (lambda: LakomkinMP(INPUTS, LABELS, layer=2, asr_feature="logmel", **TINY_ASR), "key 'logmel'"),
    (lambda: LakomkinBaseline(INPUTS, LABELS, dropout=1.0), "dropout"),
    (lambda: DS2ASR(INPUTS, LABELS, target="emotion", channels=[2, 2], hidden=8), "token sequences"),
    (lambda: DS2ASR(INPUTS, LABELS, target="phones", channels=[2], hidden=8), "two convolutions"),
    (lambda: LakomkinProgressive(INPUTS, LABELS, layer=1, feature="power_spectrogram", **TINY_ASR), "both"),
])
def test_bad_params_fail_clearly(build, message):
    with pytest.raises(ValueError, match=message):
        build()

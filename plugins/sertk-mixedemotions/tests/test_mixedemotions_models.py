"""The models of sertk-mixedemotions: the end-to-end network's layers at D4.2's sizes (§5.2.1),
the FFT convolution against the direct one, padding independence, the (B)LSTM-DRNN's input
noise and the per-frame linear model."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from sertk import FeatureInfo, LabelSpace
from sertk_mixedemotions.drnn import FrameLinear, LSTMDRNN
from sertk_mixedemotions.e2e import EndToEnd, fast_length, fft_conv1d_same, standardise

LABELS = LabelSpace(dimensions=("arousal",), contours=("arousal", "valence"))
RAW = {"raw": FeatureInfo("raw", 1, "frame", 16000.0)}


@pytest.mark.filterwarnings("ignore:Using padding=.same.")
@pytest.mark.parametrize("k", [1, 4, 41, 400])
def test_fft_convolution_equals_the_direct_same_convolution(k):
    rng = np.random.default_rng(k)
    x = torch.tensor(rng.normal(size=(2, 3, 517)))
    w, b = torch.tensor(rng.normal(size=(4, 3, k))), torch.tensor(rng.normal(size=4))
    expected = F.conv1d(x, w, b, padding="same")
    torch.testing.assert_close(fft_conv1d_same(x, w, b), expected, rtol=1e-9, atol=1e-9)


def test_fast_lengths_are_5_smooth_and_not_shorter():
    for n in [1, 7, 97, 1000, 52001]:
        m = fast_length(n)
        assert m >= n and m < 2 * n + 2
        for p in (2, 3, 5):
            while m % p == 0:
                m //= p
        assert m == 1


def test_standardise_uses_valid_samples_only():
    x = torch.tensor([[1.0, 2.0, 3.0, 50.0], [4.0, 4.0, 6.0, 6.0]])
    y = standardise(x, torch.tensor([3, 4]))
    assert y[0, 3] == 0 and torch.allclose(y[0, :3].mean(), torch.tensor(0.0), atol=1e-6)
    assert torch.allclose(y[1].std(unbiased=False), torch.tensor(1.0), atol=1e-3)


def test_paper_sizes_give_150_frames_of_640_values_per_six_seconds():
    model = EndToEnd(RAW, LABELS, targets=["arousal"]).eval()
    front = model.frontend
    assert (front.conv1.weight.shape, front.conv2.weight.shape) == ((40, 1, 80), (40, 40, 4000))
    assert front.output_size == 640 and front.samples_per_frame == 640
    assert model.encoder.rnn.hidden_size == 128 and model.encoder.rnn.num_layers == 2 and model.encoder.rnn.bidirectional
    assert model.dropout.p == 0.5 and model.heads[0].rate == 25.0 and model.heads[0].level == "frame"
    x = torch.randn(1, 6 * 16000, 1)
    with torch.no_grad():
        frames = front(x[..., 0], torch.tensor([6 * 16000]))
        out = model({"raw": x}, {"raw": torch.tensor([6 * 16000])})
    assert frames.shape == (1, 150, 640) and out["arousal"].shape == (1, 150)


def small(**kw):
    return EndToEnd(RAW, LABELS, targets=["arousal", "valence"], filters=[4, 4], kernel_ms=[5.0, 50.0],
                    channel_pool=2, hidden=8, layers=2, **kw).eval()


def test_a_recording_gives_the_same_frames_alone_and_padded_in_a_batch():
    torch.manual_seed(0)
    model = small(fft_above=100).double()  # the 400-tap kernel through the FFT; float64: exact up to rounding
    a, b = torch.randn(1, 16000 + 333, 1, dtype=torch.float64), torch.randn(1, 24000, 1, dtype=torch.float64)
    batch = torch.zeros(2, 24000, 1, dtype=torch.float64)
    batch[0, :a.shape[1]], batch[1] = a[0], b[0]
    with torch.no_grad():
        alone = model({"raw": a}, {"raw": torch.tensor([a.shape[1]])})["arousal"]
        padded = model({"raw": batch}, {"raw": torch.tensor([a.shape[1], 24000])})["arousal"]
    n = -(-a.shape[1] // 640)
    assert alone.shape[1] == n == 26
    torch.testing.assert_close(padded[0, :n], alone[0], rtol=1e-9, atol=1e-10)


def test_end_to_end_rejects_wrong_inputs_and_targets():
    with pytest.raises(ValueError, match="raw waveform"):
        EndToEnd({"mfcc": FeatureInfo("mfcc", 13, "frame", 100.0)}, LABELS, feature="mfcc")
    with pytest.raises(ValueError, match="contours"):
        EndToEnd(RAW, LabelSpace(classes={"emotion": ("a", "b")}), targets=["emotion"])
    with pytest.raises(ValueError, match="channel_pool must divide"):
        EndToEnd(RAW, LABELS, targets=["arousal"], channel_pool=7)
    with pytest.raises(ValueError, match="whole number of samples"):
        EndToEnd(RAW, LABELS, targets=["arousal"], frame_ms=40.01)


def test_lstm_drnn_adds_input_noise_only_while_training():
    inputs = {"f": FeatureInfo("f", 6, "frame", 25.0)}
    model = LSTMDRNN(inputs, LABELS, targets=["arousal", "valence"], hidden=5, layers=3, bidirectional=True,
                     input_noise=0.6)
    assert model.encoder.rnn.num_layers == 3 and model.encoder.output_size == 10
    assert [h.rate for h in model.heads] == [25.0, 25.0]
    x, n = torch.randn(2, 7, 6), {"f": torch.tensor([7, 4])}
    model.eval()
    with torch.no_grad():
        first, second = model({"f": x}, n)["arousal"], model({"f": x}, n)["arousal"]
    assert torch.equal(first, second)
    model.train()
    torch.manual_seed(1)
    with torch.no_grad():
        noisy = model({"f": x}, n)["arousal"]
    assert not torch.allclose(noisy, first)
    with pytest.raises(ValueError, match="input_noise"):
        LSTMDRNN(inputs, LABELS, input_noise=-1)


def test_frame_linear_is_a_linear_map_per_frame():
    inputs = {"f": FeatureInfo("f", 3, "frame", 25.0)}
    model = FrameLinear(inputs, LABELS, targets=["arousal", "valence"])
    with torch.no_grad():
        model.linear.weight.copy_(torch.tensor([[1.0, 2.0, 0.0], [0.0, 0.0, -1.0]]))
        model.linear.bias.copy_(torch.tensor([0.5, 0.0]))
        out = model({"f": torch.tensor([[[1.0, 1.0, 1.0], [0.0, 2.0, 3.0]]])})
    assert out["arousal"].tolist() == [[3.5, 4.5]] and out["valence"].tolist() == [[-1.0, -3.0]]
    assert "complexity" in model.state_dict() and model.heads[1].name == "valence"

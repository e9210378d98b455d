"""The built-in BLSTM: heads of every kind, padding that changes nothing, a frame regressor that learns."""
import pytest
import torch

from sertk.builtins.blstm import BLSTM
from sertk.interfaces import BLANK, FeatureInfo, LabelSpace
from sertk.nn import concordance
from tests.fakes.builtins import builtin_classes

LABELS = LabelSpace(classes={"emotion": ("a", "b")}, dimensions=("arousal",), contours=("valence",),
                    sequences={"phones": ("p", "t")})
MFCC = {"mfcc": FeatureInfo("mfcc", 13, "frame", 100.0)}
ALL = ["emotion", "arousal", "valence", "phones"]


def test_registered_and_default_target_is_emotion():
    assert BLSTM in builtin_classes("models") and BLSTM.name == "blstm"
    model = BLSTM(MFCC, LABELS)
    assert [(h.name, h.kind, h.level) for h in model.heads] == [("emotion", "classification", "utterance")]


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_heads_and_output_shapes_of_every_kind(cell):
    torch.manual_seed(0)
    model = BLSTM(MFCC, LABELS, hidden=8, layers=2, cell=cell, targets=ALL).eval()
    heads = {h.name: h for h in model.heads}
    assert [(heads[k].kind, heads[k].level, heads[k].rate) for k in ALL] == [
        ("classification", "utterance", None), ("regression", "utterance", None),
        ("regression", "frame", 100.0), ("sequence", "frame", 100.0)]
    assert heads["phones"].classes == (BLANK, "p", "t")
    out = model({"mfcc": torch.randn(3, 17, 13)}, {"mfcc": torch.tensor([17, 9, 4])})
    assert {k: tuple(v.shape) for k, v in out.items()} == {
        "emotion": (3, 2), "arousal": (3,), "valence": (3, 17), "phones": (3, 17, 3)}
    assert torch.allclose(out["phones"].exp().sum(-1), torch.ones(3, 17), atol=1e-5)  # log-probabilities


def test_padding_never_changes_valid_outputs():
    torch.manual_seed(1)
    model = BLSTM(MFCC, LABELS, hidden=8, layers=2, dropout=0.3, targets=ALL).eval()
    x = torch.randn(2, 12, 13)
    lengths = torch.tensor([12, 7])
    short = model({"mfcc": x}, {"mfcc": lengths})
    padded = torch.cat([x, 50 * torch.randn(2, 9, 13)], dim=1)  # loud garbage after every row's end
    padded[1, 7:12] = 50 * torch.randn(5, 13)
    long = model({"mfcc": padded}, {"mfcc": lengths})
    for key in ("emotion", "arousal"):
        assert torch.allclose(short[key], long[key], atol=1e-5)
    for key in ("valence", "phones"):
        assert torch.allclose(short[key][0], long[key][0, :12], atol=1e-5)
        assert torch.allclose(short[key][1, :7], long[key][1, :7], atol=1e-5)
    alone = model({"mfcc": x[1:, :7]}, {"mfcc": lengths[1:]})
    assert torch.allclose(alone["valence"][0], long["valence"][1, :7], atol=1e-5)
    assert not torch.allclose(model({"mfcc": padded})["arousal"], long["arousal"])  # lengths are what protects it


@pytest.fixture
def one_thread():
    """Small recurrent steps run several times faster on one thread than on two busy cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_frame_regressor_learns_a_smoothed_centred_copy_of_an_input_dimension(one_thread):
    """The target at frame t averages input dimension 0 over frames t-3..t+3 (needs both directions)."""
    torch.manual_seed(2)
    labels = LabelSpace(contours=("valence",))
    inputs = {"f": FeatureInfo("f", 4, "frame", 25.0)}
    model = BLSTM(inputs, labels, hidden=16, layers=1)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.03)
    for _ in range(120):
        x, lengths, y, mask = _batch(8, 30)
        loss = ((model({"f": x}, {"f": lengths})["valence"] - y)[mask] ** 2).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    x, lengths, y, mask = _batch(32, 60)  # longer sequences than in training
    with torch.no_grad():
        predicted = model.eval()({"f": x}, {"f": lengths})["valence"]
    assert float(concordance(predicted[mask], y[mask])) > 0.8


def _batch(batch, steps):
    """Random inputs of varied lengths and the smoothed-copy target, zero beyond each row's length."""
    lengths = torch.randint(steps // 2, steps + 1, (batch,))
    mask = torch.arange(steps)[None] < lengths[:, None]
    x = torch.randn(batch, steps, 4) * mask[..., None]
    y = torch.nn.functional.avg_pool1d(x[:, None, :, 0], 7, stride=1, padding=3, count_include_pad=True)[:, 0]
    return x, lengths, y, mask


@pytest.mark.parametrize("params, match", [
    ({"hidden": 0}, "hidden must be at least 1"),
    ({"layers": 0}, "layers must be at least 1"),
    ({"dropout": 1.0}, "dropout must be in"),
    ({"cell": "rnn"}, "cell must be 'lstm' or 'gru'"),
    ({"targets": []}, "targets must list"),
    ({"targets": ["valence", "valence"]}, "targets must list"),
    ({"targets": ["dominance"]}, "target 'dominance' is not a label"),
    ({"feature": "fbank"}, "key 'fbank'"),
])
def test_invalid_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        BLSTM(MFCC, LABELS, **params)


def test_frame_targets_need_a_frame_rate_but_utterance_targets_do_not():
    words = {"bert": FeatureInfo("bert", 8, "frame", None)}
    with pytest.raises(ValueError, match=r"frame-level targets \['valence'\] need a feature with a frame rate"):
        BLSTM(words, LABELS, targets=["emotion", "valence"])
    assert BLSTM(words, LABELS, targets=["emotion"]).heads[0].name == "emotion"
    with pytest.raises(ValueError, match="frame-level features"):
        BLSTM({"is09": FeatureInfo("is09", 384, "utterance")}, LABELS)

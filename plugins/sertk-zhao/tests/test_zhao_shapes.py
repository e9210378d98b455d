"""Layer output shapes of the two networks against Zhao et al. (2019), Tables 1–2."""
import pytest
import torch

from sertk import FeatureInfo, LabelSpace
from sertk_zhao.lflb import pooled_sizes
from sertk_zhao.models import CNN1DLSTM, CNN2DLSTM

LABELS = LabelSpace(classes={"emotion": ("anger", "boredom", "disgust", "fear", "happiness", "neutral", "sadness")},
                    dimensions=("arousal",))
RAW = {"raw": FeatureInfo("raw", 1, "frame", 16000.0)}
LOGMEL = {"logmel": FeatureInfo("logmel", 128, "frame", 31.25)}


def block_shapes(model, x):
    shapes = []
    with torch.no_grad():
        for block in model.blocks:
            x = block(x)
            shapes.append(tuple(x.shape[1:]))
    return shapes


def test_1d_blocks_follow_table_1_for_8_s():
    model = CNN1DLSTM(RAW, LABELS).eval()
    length = 8 * 16000
    shapes = block_shapes(model, torch.randn(1, length, 1))  # 1-D blocks take (B, T, C) sequences
    assert shapes == [(length // 4, 64), (length // 16, 64), (length // 64, 128), (length // 256, 128)]
    assert shapes[-1] == (500, 128)
    with torch.no_grad():
        assert model.sequence(torch.randn(1, length, 1)).shape == (1, 500, 128)
        assert model({"raw": torch.randn(2, length, 1)})["emotion"].shape == (2, 7)


def test_2d_blocks_follow_table_2_for_128_by_251():
    model = CNN2DLSTM(LOGMEL, LABELS).eval()
    m, n = 128, 251
    shapes = block_shapes(model, torch.randn(1, 1, m, n))
    expected = [(64, m // 2, n // 2), (64, m // 8, n // 8), (128, m // 32, n // 32), (128, m // 128, n // 128)]
    assert shapes == expected == [(64, 64, 125), (64, 16, 31), (128, 4, 7), (128, 1, 1)]
    with torch.no_grad():
        assert model.sequence(torch.randn(3, n, m)).shape == (3, 1, 128)
        assert model({"logmel": torch.randn(3, n, m)})["emotion"].shape == (3, 7)


def test_odd_sizes_are_floored_and_short_axes_end_at_one():
    assert pooled_sizes(251, [2, 4, 4, 4]) == [125, 31, 7, 1]
    assert pooled_sizes(63, [2, 4, 4, 4]) == [31, 7, 1, 1]
    assert pooled_sizes(3, [4, 4]) == [1, 1]
    model = CNN2DLSTM(LOGMEL, LABELS).eval()
    with torch.no_grad():
        assert model.sequence(torch.randn(2, 63, 128)).shape == (2, 1, 128)
        assert model({"logmel": torch.randn(2, 5, 128)})["emotion"].shape == (2, 7)


def test_time_pools_keep_a_time_sequence_for_the_lstm():
    model = CNN2DLSTM(LOGMEL, LABELS, time_pools=[2, 4, 4, 1]).eval()
    with torch.no_grad():
        assert model.sequence(torch.randn(1, 251, 128)).shape == (1, 7, 128)


def test_lengths_pick_the_last_valid_lstm_step():
    model = CNN1DLSTM(RAW, LABELS, filters=[2, 2, 2, 2], lstm_units=4)
    steps = model.sequence_lengths(128000, torch.tensor([128000, 50000, 10]), 3)
    assert steps.tolist() == [500, 50000 // 4 // 4 // 4 // 4, 1]
    assert model.sequence_lengths(128000, None, 2).tolist() == [500, 500]


def test_layer_values_are_params():
    model = CNN1DLSTM(RAW, LABELS, filters=[8, 16], kernel=5, pools=[2, 8], lstm_units=12, dropout=0.5).eval()
    assert block_shapes(model, torch.randn(1, 1600, 1)) == [(800, 8), (100, 16)]
    assert model.blocks[0].conv.kernel_size == (5,)
    assert model.lstm.hidden_size == 12 and model.dropout.p == 0.5


@pytest.mark.parametrize("params, message", [
    ({"filters": [64, 64], "pools": [4, 4, 4]}, "pools needs one positive window per block"),
    ({"filters": []}, "filters must be a non-empty list"),
    ({"kernel": 0}, "kernel must be at least 1"),
    ({"dropout": 1.0}, "dropout must be in"),
    ({"feature": "mfcc"}, "needs the feature with key 'mfcc'"),
    ({"target": "arousal"}, "target 'arousal' is regression"),
    ({"target": "speaker"}, "not a label of this corpus"),
])
def test_bad_params_fail_with_a_clear_message(params, message):
    with pytest.raises(ValueError, match=message):
        CNN1DLSTM(RAW, LABELS, **params)


def test_2d_needs_one_time_pool_per_block():
    with pytest.raises(ValueError, match="time_pools needs one window per block"):
        CNN2DLSTM(LOGMEL, LABELS, time_pools=[2, 4])


def test_utterance_level_input_is_rejected():
    with pytest.raises(ValueError, match="needs a frame-level feature"):
        CNN2DLSTM({"logmel": FeatureInfo("logmel", 128, "utterance")}, LABELS)


def test_floor_pooling_of_table_2_leaves_the_end_of_an_8_s_input_unseen():
    """251 frames floor-pool to 125, 31, 7, 1: the last map covers frames 0..127 (0..170 with
    the 3x3 margins), so frames from 171 on cannot change the output."""
    torch.manual_seed(0)
    model = CNN2DLSTM(LOGMEL, LABELS).eval()
    x = torch.randn(1, 251, 128)
    late, early = x.clone(), x.clone()
    late[:, 171:] = torch.randn(1, 80, 128)
    early[:, 160:171] = torch.randn(1, 11, 128)
    with torch.no_grad():
        out = model({"logmel": x})["emotion"]
        assert torch.equal(out, model({"logmel": late})["emotion"])
        assert not torch.allclose(out, model({"logmel": early})["emotion"])


def test_time_pools_2_2_2_1_let_the_end_of_a_2_s_input_count():
    torch.manual_seed(0)
    model = CNN2DLSTM(LOGMEL, LABELS, time_pools=[2, 2, 2, 1]).eval()
    x = torch.randn(1, 63, 128)
    changed = x.clone()
    changed[:, 50:56] = torch.randn(1, 6, 128)
    with torch.no_grad():
        assert not torch.allclose(model({"logmel": x})["emotion"], model({"logmel": changed})["emotion"])

"""Shapes and construction of the ELoR, LoM, FTR and ELoR+FTR networks."""
import pytest
import torch

from sertk import ConfigError, FeatureInfo, LabelSpace
from sertk.plugins import load_plugins
from sertk.registry import Registry
from sertk_wieser.blocks import ChannelMaxPool, ConvBlock
from sertk_wieser.models import ELoR, ELoRFTR, FTR, LoM

DIMS = LabelSpace({"emotion": ("anger", "joy", "neutral")}, ("arousal", "valence"))
INPUTS = {"raw": FeatureInfo("raw", 1, "frame", 16000.0), "mfcc": FeatureInfo("mfcc", 26, "frame", 100.0),
          "opensmile": FeatureInfo("opensmile", 1582, "utterance")}


def block_shapes(model, inputs):
    """Output shape of every ConvBlock and of every head for one forward pass."""
    shapes = []
    hooks = [m.register_forward_hook(lambda _m, _a, out: shapes.append(tuple(out.shape)))
             for m in model.modules() if isinstance(m, ConvBlock)]
    outputs = model(inputs)
    for h in hooks:
        h.remove()
    return shapes, {k: tuple(v.shape) for k, v in outputs.items()}


def test_elor_layer_shapes_for_a_six_second_input():
    # Paper-size kernels (4000 samples) are built on the meta device: shapes only, no arithmetic.
    with torch.device("meta"):
        model = ELoR(INPUTS, DIMS)
        shapes, heads = block_shapes(model, {"raw": torch.zeros(2, 96000, 1)})
    # conv k=80 keeps 95999 samples, pool 2 → 48000; k=4000 → 47999, pool 10 → 4800; k=40 → 4799, pool 10 → 480
    assert shapes == [(2, 40, 48000), (2, 40, 4800), (2, 40, 480)]
    assert model.cnn.out_dim == 40 * 6
    assert heads == {"valence": (2, 5), "arousal": (2, 5)}
    assert [h.classes for h in model.heads] == [("1", "2", "3", "4", "5")] * 2


def test_lom_layer_shapes_for_599_mfcc_frames():
    model = LoM(INPUTS, DIMS)
    shapes, heads = block_shapes(model, {"mfcc": torch.randn(2, 599, 26)})
    # k=5 keeps 599, pool 2 → 300; k=50 → 299, pool 2 → 150; k=5 → 150, pool 2 → 75
    assert shapes == [(2, 40, 300), (2, 40, 150), (2, 40, 75)]
    assert heads == {"valence": (2, 5), "arousal": (2, 5)}
    assert model.cnn.blocks[0].conv.in_channels == 26


def test_ftr_and_elor_ftr_feed_functionals_to_the_split_mlps():
    ftr = FTR(INPUTS, DIMS)
    assert ftr.mlps["valence"].layers[0].in_features == 1582
    assert tuple(ftr({"opensmile": torch.randn(3, 1582)})["arousal"].shape) == (3, 5)
    both = ELoRFTR(INPUTS, DIMS, kernels=[8, 8, 4], time_steps=2)
    assert both.mlps["arousal"].layers[0].in_features == 40 * 2 + 1582
    out = both({"raw": torch.randn(3, 1600, 1), "opensmile": torch.randn(3, 1582)})
    assert tuple(out["valence"].shape) == (3, 5)


def test_mlp_heads_are_sigmoid_with_dropout_and_glorot_init():
    model = FTR(INPUTS, DIMS, hidden=[64, 32], dropout=0.25)
    kinds = [type(m).__name__ for m in model.mlps["valence"].layers]
    assert kinds == ["Linear", "Sigmoid", "Dropout", "Linear", "Sigmoid", "Dropout", "Linear"]
    first = model.mlps["valence"].layers[0]
    bound = (6 / (1582 + 64)) ** 0.5
    assert first.weight.abs().max() <= bound and first.weight.abs().max() > 0.9 * bound
    assert model.mlps["valence"].layers[2].p == 0.25


def test_channel_max_pooling_takes_the_max_of_consecutive_channel_groups():
    x = torch.tensor([[[1.0, 5.0], [3.0, 2.0], [0.0, -1.0], [-2.0, 4.0]]])  # (1, 4 channels, 2 steps)
    assert ChannelMaxPool(2)(x).tolist() == [[[3.0, 5.0], [0.0, 4.0]]]
    model = ELoR(INPUTS, DIMS, kernels=[8, 8, 4], channel_pool=4, time_steps=3)
    assert model.cnn.out_dim == 40 // 4 * 3
    assert tuple(model({"raw": torch.randn(2, 1600, 1)})["valence"].shape) == (2, 5)
    with pytest.raises(ValueError, match="channel_pool 3"):
        ELoR(INPUTS, DIMS, kernels=[8, 8, 4], channel_pool=3)


def test_categorical_target_gives_one_head_over_its_classes():
    model = ELoR(INPUTS, DIMS, kernels=[8, 8, 4], targets=["emotion"])
    assert [(h.name, h.classes) for h in model.heads] == [("emotion", ("anger", "joy", "neutral"))]
    assert tuple(model({"raw": torch.randn(2, 800, 1)})["emotion"].shape) == (2, 3)


def test_bad_construction_names_the_problem():
    with pytest.raises(ValueError, match="'raw'"):
        ELoR({"mfcc": INPUTS["mfcc"]}, DIMS)
    with pytest.raises(ValueError, match="dominance"):
        FTR(INPUTS, DIMS, targets=["dominance"])
    with pytest.raises(ValueError, match="same length"):
        ELoR(INPUTS, DIMS, kernels=[80, 40])
    with pytest.raises(ValueError, match="utterance-level"):
        FTR(INPUTS, DIMS, functionals_key="mfcc")


def test_plugin_registers_models_and_analyzers_with_checked_params():
    registry = Registry.from_plugins(load_plugins())
    for kind, name in [("models", "elor"), ("models", "lom"), ("models", "ftr"), ("models", "elor_ftr"),
                       ("analyzers", "saliency"), ("analyzers", "activation_maximization")]:
        assert registry.entry(kind, name).plugin == "wieser"
    model = registry.build("models", {"name": "elor", "params": {"kernels": [8, 8, 4], "time_steps": 2}},
                           inputs=INPUTS, labels=DIMS)
    assert model.cnn.out_dim == 80
    with pytest.raises(ConfigError, match="model.params.kernels"):
        registry.check("models", {"name": "elor", "params": {"kernels": "80"}}, "model")

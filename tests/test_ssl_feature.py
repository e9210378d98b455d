"""The built-in ``ssl`` feature on a tiny randomly initialised wav2vec 2.0 network, and LayerWeightedSum."""
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
import torchaudio

from sertk.builtins.ssl import SSL
from sertk.data.cache import FeatureCache
from sertk.data.extract import extract_features
from sertk.data.segment import SegmentPolicy
from sertk.errors import ConfigError, SertkError
from sertk.interfaces import Utterance
from sertk.nn import LayerWeightedSum
from sertk.plugins import load_plugins
from sertk.registry import Registry

# torchaudio's standard CNN (receptive field 400 samples, hop 320) with tiny widths, 2 transformer layers
TINY = dict(extractor_mode="group_norm", extractor_conv_layer_config=[[8, 10, 5]] + [[8, 3, 2]] * 4 + [[8, 2, 2]] * 2,
            extractor_conv_bias=False, encoder_embed_dim=16, encoder_projection_dropout=0.0,
            encoder_pos_conv_kernel=16, encoder_pos_conv_groups=4, encoder_num_layers=2, encoder_num_heads=2,
            encoder_attention_dropout=0.0, encoder_ff_interm_features=32, encoder_ff_interm_dropout=0.0,
            encoder_dropout=0.0, encoder_layer_norm_first=False, encoder_layer_drop=0.0, aux_num_out=None)
SR = 16000


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """A network this small runs fastest on one thread (several spin-wait on a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The reference network and its checkpoint file."""
    torch.manual_seed(0)
    model = torchaudio.models.wav2vec2_model(**TINY).eval()
    path = tmp_path_factory.mktemp("ssl") / "tiny.pt"
    torch.save(model.state_dict(), path)
    return model, str(path)


@pytest.fixture(scope="module")
def registry():
    return Registry.from_plugins(load_plugins(entry_points=False))


def signal(seconds: float, seed: int = 0, sample_rate: int = SR) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return (0.3 * np.sin(2 * np.pi * 180 * t) + 0.05 * rng.standard_normal(len(t))).astype(np.float32)


def build(registry, path, **params) -> SSL:
    return registry.build("features", {"name": "ssl", "params": {"architecture": "wav2vec2_model",
                                                                  "checkpoint": path, "config": TINY, **params}})


def reference(model, x: np.ndarray) -> list[np.ndarray]:
    """Layers 0..L straight from torchaudio: the transformer's input, then extract_features."""
    with torch.inference_mode():
        wave = torch.from_numpy(x)[None]
        cnn, _ = model.feature_extractor(wave, None)
        projected = model.encoder.feature_projection(cnn)
        tr = model.encoder.transformer
        first = projected + tr.pos_conv_embed(projected)
        first = tr.layer_norm(first) if tr.layer_norm_first else first
        layers, _ = model.extract_features(wave)
    return [first[0].numpy(), *(layer[0].numpy() for layer in layers)]


def test_registered_with_its_geometry(registry, tiny):
    feature = build(registry, tiny[1], layer=2)
    assert isinstance(feature, SSL) and feature.level == "frame" and feature.frame_rate(SR) == 50.0
    assert (feature.n_layers, feature.dim) == (2, 16)
    assert build(registry, tiny[1], layer="all").dim == 3 * 16


def test_layers_equal_torchaudio_and_differ(registry, tiny):
    model, path = tiny
    x = signal(1.3)
    ref = reference(model, x)
    assert ref[0].shape == ((len(x) - 400) // 320 + 1, 16) == (64, 16)  # ≈ 50 frames per second
    outs = [build(registry, path, layer=k)(x, SR) for k in range(3)]
    for k in range(3):
        np.testing.assert_allclose(outs[k], ref[k], rtol=1e-5, atol=1e-5)
        assert outs[k].dtype == np.float32
    assert not np.allclose(outs[1], outs[2]) and not np.allclose(outs[0], outs[1])
    np.testing.assert_allclose(build(registry, path)(x, SR), np.mean(ref, axis=0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(build(registry, path, layer="all")(x, SR), np.concatenate(ref, axis=1),
                               rtol=1e-5, atol=1e-5)


def test_wavlm_layers_equal_torchaudio(tmp_path):
    config = {**TINY, "encoder_num_buckets": 8, "encoder_max_distance": 32}
    model = torchaudio.models.wavlm_model(**config).eval()
    path = tmp_path / "wavlm.pt"
    torch.save(model.state_dict(), path)
    x = signal(0.9, seed=3)
    np.testing.assert_allclose(SSL("wavlm_model", str(path), layer="all", config=config)(x, SR),
                               np.concatenate(reference(model, x), axis=1), rtol=1e-5, atol=1e-5)


def test_pool_is_the_mean_over_frames(registry, tiny):
    x = signal(1.0, seed=1)
    frames = build(registry, tiny[1], layer=1)(x, SR)
    pooled = build(registry, tiny[1], layer=1, pool=True)
    assert pooled.level == "utterance" and pooled.frame_rate(SR) is None
    np.testing.assert_allclose(pooled(x, SR), frames.mean(0), rtol=1e-5, atol=1e-6)


def test_other_rates_are_resampled_and_short_signals_give_a_frame(registry, tiny):
    feature = build(registry, tiny[1], layer=1)
    x8 = signal(1.0, sample_rate=8000)
    resampled = torchaudio.functional.resample(torch.from_numpy(x8)[None], 8000, SR)[0].numpy()
    np.testing.assert_allclose(feature(x8, 8000), feature(resampled, SR), rtol=1e-5, atol=1e-5)
    assert feature(np.zeros(100, dtype=np.float32), SR).shape == (1, 16)


def test_chunks_give_the_whole_signals_frames(registry, tiny):
    x = signal(3.1, seed=2)
    whole = build(registry, tiny[1], layer=1)(x, SR)
    chunked_feature = build(registry, tiny[1], layer=1, chunk_seconds=1.0)
    assert len(chunked_feature._chunks(len(x))) == 4
    chunked = chunked_feature(x, SR)
    assert chunked.shape == whole.shape
    np.testing.assert_allclose(build(registry, tiny[1], layer=1, chunk_seconds=5.0)(x, SR), whole, rtol=1e-5,
                               atol=1e-5)


def test_through_extraction_with_the_cache_and_pickling(registry, tiny, tmp_path):
    feature = build(registry, tiny[1], layer=2, pool=True)
    utts = [Utterance(id=f"u{i}", speaker="s", audio=signal(0.8 + 0.2 * i, seed=i), sample_rate=SR) for i in range(2)]
    cache = FeatureCache(tmp_path / "cache")
    first = extract_features(utts, [("w2v", feature)], SR, SegmentPolicy(), cache)
    assert first.info["w2v"].dim == 16 and first.info["w2v"].level == "utterance"
    clone = pickle.loads(pickle.dumps(feature))  # what spawned extraction workers receive
    assert clone._model is None and clone.cache_params() == feature.cache_params()
    again = extract_features(utts, [("w2v", clone)], SR, SegmentPolicy(), cache)
    assert clone._model is None  # served from the cache: the network was never loaded
    for a, b in zip(first.arrays["w2v"], again.arrays["w2v"]):
        np.testing.assert_array_equal(a, b)


def test_a_changed_checkpoint_changes_the_cache_key(registry, tiny, tmp_path):
    path = tmp_path / "w.pt"
    torch.save(tiny[0].state_dict(), path)
    before = build(registry, str(path)).cache_params()
    assert before == build(registry, str(path), device="cpu").cache_params()  # the device is not part of it
    torch.save({k: v + 1 for k, v in tiny[0].state_dict().items()}, path)
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # a clock too coarse to see the rewrite
    assert build(registry, str(path)).cache_params() != before


def one_line(message: str, path) -> str:
    assert "\n" not in message and str(path) in message
    return message


def test_missing_checkpoint_is_a_one_line_config_error(registry, tmp_path):
    path = tmp_path / "nope.pt"
    with pytest.raises(ConfigError) as err:
        build(registry, str(path))
    assert "does not exist" in one_line(str(err.value), path) and "torch.save" in str(err.value)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without a GPU")
def test_cuda_without_a_gpu_is_a_one_line_error(registry, tiny):
    with pytest.raises(SertkError, match="torch sees no GPU"):
        build(registry, tiny[1], device="cuda")(signal(0.5), SR)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_cuda_gives_the_cpu_values(registry, tiny):
    x = signal(2.0, seed=4)
    cpu = build(registry, tiny[1], layer="all", device="cpu")(x, SR)
    np.testing.assert_allclose(build(registry, tiny[1], layer="all", device="cuda")(x, SR), cpu, rtol=1e-3, atol=1e-3)


def test_wrong_keys_name_the_file_and_some_keys(registry, tiny, tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"encoder.layers.0.attention.k_proj.weight": torch.zeros(2, 2)}, path)
    with pytest.raises(SertkError) as err:
        build(registry, str(path))(signal(0.5), SR)
    message = one_line(str(err.value), path)
    assert "does not fit architecture wav2vec2_model" in message
    assert "encoder.layers.0.attention.k_proj.weight" in message and "feature_extractor.conv_layers" in message


def test_wrong_sizes_name_the_file(registry, tiny, tmp_path):
    path = tmp_path / "wide.pt"
    wider = torchaudio.models.wav2vec2_model(**{**TINY, "encoder_embed_dim": 24, "encoder_ff_interm_features": 8})
    torch.save({"state_dict": wider.state_dict()}, path)
    with pytest.raises(SertkError) as err:
        build(registry, str(path))(signal(0.5), SR)
    message = one_line(str(err.value), path)
    assert "does not fit architecture" in message and "in the file" in message


class Pickled:  # a pickle with code: weights_only refuses it
    pass


def test_pickle_with_code_is_refused_naming_the_file(registry, tmp_path):
    path = tmp_path / "code.pt"
    torch.save({"model": Pickled()}, path)
    with pytest.raises(SertkError) as err:
        build(registry, str(path))(signal(0.5), SR)
    assert "weights_only=True" in one_line(str(err.value), path)


def test_wrapped_and_prefixed_state_dicts_load(registry, tiny, tmp_path):
    path = tmp_path / "wrapped.pt"
    state = {f"module.{k}": v for k, v in tiny[0].state_dict().items()}
    torch.save({"model": {**state, "module.aux.weight": torch.zeros(3, 16), "module.aux.bias": torch.zeros(3)}}, path)
    x = signal(0.6)
    np.testing.assert_allclose(build(registry, str(path), layer=1)(x, SR), reference(tiny[0], x)[1], rtol=1e-5,
                               atol=1e-5)


@pytest.mark.parametrize("params, fragment", [
    ({"layer": 3}, "layer 3 does not exist"),
    ({"layer": "max"}, "expected"),
    ({"config": {**TINY, "encoder_dims": 3}}, "unknown config key"),
    ({"device": "gpu"}, "device must be"),
])
def test_bad_params_fail_before_any_audio(registry, tiny, params, fragment):
    with pytest.raises(ConfigError, match=fragment):
        build(registry, tiny[1], **params)


def test_standard_architectures_build_by_name(tmp_path):
    path = tmp_path / "w.pt"
    path.write_bytes(b"")
    base = SSL("wavlm_base", str(path), layer=12)
    assert (base.n_layers, base.dim, base.frame_rate(SR)) == (12, 768, 50.0)
    assert SSL("hubert_large", str(path), layer="all").dim == 25 * 1024
    with pytest.raises(ValueError, match="lacks"):
        SSL("wav2vec2_model", str(path))


def test_unpickling_the_feature_does_not_import_torch(registry, tiny):
    """Spawned extraction workers limit torch to one thread after unpickling their features: torch must
    not be imported before that."""
    data = pickle.dumps(build(registry, tiny[1]))
    code = "import pickle, sys; pickle.loads(sys.stdin.buffer.read()); assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], input=data, check=True)


def test_layer_weighted_sum_starts_as_the_mean_and_learns():
    torch.manual_seed(0)
    x = torch.randn(2, 5, 3 * 4)
    module = LayerWeightedSum(3, 4)
    torch.testing.assert_close(module(x), x.reshape(2, 5, 3, 4).mean(2))
    torch.testing.assert_close(module(x[:, 0]), x[:, 0].reshape(2, 3, 4).mean(1))  # pooled input (B, L*D)
    module(x).pow(2).sum().backward()
    assert module.weights.grad is not None and module.weights.grad.abs().sum() > 0
    assert torch.isclose(module.layer_weights.sum(), torch.tensor(1.0))
    with pytest.raises(ValueError, match="3 layers x 4"):
        module(torch.randn(2, 5, 10))

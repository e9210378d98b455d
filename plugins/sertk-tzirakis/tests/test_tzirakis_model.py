"""The model's parts against hand computation: Table 1's frame count and padding, the
attention weights of eqs. 5 and 7, the semantic stream's lookup, cutting and spreading, the
mean of the heads' losses (eq. 8), a saved model loading back, and the word-span feature."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from sertk import ConfigError, FeatureInfo, LabelSpace, SegmentContext, Word
from sertk_tzirakis.fusion import DisentangledAttention, QueryAttention
from sertk_tzirakis.model import TzirakisFusion
from sertk_tzirakis.paralinguistic import Paralinguistic
from sertk_tzirakis.words import WordSpans, word_hash

INPUTS = {"raw": FeatureInfo("raw", 1, "frame", 22050.0), "word_spans": FeatureInfo("word_spans", 3, "frame", None),
          "mfcc": FeatureInfo("mfcc", 13, "frame", 100.0)}
CONTOURS = LabelSpace(contours=("arousal", "valence", "liking"))


def model(**params) -> TzirakisFusion:
    torch.manual_seed(0)
    sizes = {"hidden": 8, "d_u": 6, "vocabulary": 4, "word_dim": 5, "speech_dim": 6}
    return TzirakisFusion(INPUTS, CONTOURS, targets=["arousal", "valence", "liking"], **{**sizes, **params}).eval()


def test_paralinguistic_frames_and_padding():
    cnn = Paralinguistic().eval()
    assert cnn.hop == 250 and cnn.output_size == 125
    assert [len(cnn.convs), *(c.kernel_size[0] for c in cnn.convs)] == [3, 8, 6, 6]
    signals = torch.randn(2, 2600)
    lengths = torch.tensor([2600, 1001])
    with torch.no_grad():
        both = cnn(signals, lengths)
        alone = cnn(signals[1:, :1001], lengths[1:])
    assert both.shape == (2, 11, 125) and cnn.frames(lengths).tolist() == [11, 5]  # ceil(2600/250), ceil(1001/250)
    torch.testing.assert_close(both[1, :5], alone[0], atol=1e-5, rtol=1e-5)


def test_attention_weights_sum_to_one_and_eq7_pairs():
    torch.manual_seed(0)
    attention = QueryAttention(4)
    items = torch.randn(2, 3, 5, 4)
    out, weights = attention(items)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3))
    torch.testing.assert_close(out, (weights.unsqueeze(-1) * items).sum(-2))
    fusion = DisentangledAttention(7, 5, 4, projections=3)
    fused = fusion(torch.randn(2, 3, 7), torch.randn(2, 3, 5))
    assert fused.shape == (2, 3, 8) and sorted(fusion.weights) == ["modalities", "pair0", "pair1"]
    for w in fusion.weights.values():
        assert w.shape == (2, 3, 2) and torch.allclose(w.sum(-1), torch.ones(2, 3))
    # eq. 7 by hand: Attention(a, l) and Attention(z, v)
    with torch.no_grad():
        p, s = torch.randn(1, 1, 7), torch.randn(1, 1, 5)
        u = torch.stack([fusion.project["p"](p), fusion.project["s"](s)], -2)
        z, _ = fusion.modalities(u)
        a, v, l = (layer(z) for layer in fusion.outputs)
        expected = torch.cat([fusion.pairs[0](torch.stack([a, l], -2))[0], fusion.pairs[1](torch.stack([z, v], -2))[0]],
                             -1)
        torch.testing.assert_close(fusion(p, s), expected)


def test_word2vec_stream_looks_words_up_and_spreads_them_over_frames():
    m = model(semantic="word2vec", paralinguistic=False, fusion="concat")
    vectors = np.arange(15, dtype=np.float32).reshape(3, 5) + 1
    assert m.semantic.install_words(["gut", "ja", "toll"], vectors) == 3
    spans = torch.tensor([[[0.0, 0.1, word_hash("ja")], [0.2, 0.3, word_hash("unbekannt")],
                           [0.25, 0.4, word_hash("toll")]]])
    frames = m.semantic(spans, torch.tensor([3]), steps=40, rate=100.0)
    assert frames.shape == (1, 40, 5)
    torch.testing.assert_close(frames[0, 5], torch.as_tensor(vectors[1]))      # 0.055 s: "ja"
    torch.testing.assert_close(frames[0, 15], torch.zeros(5))                  # 0.155 s: between words
    torch.testing.assert_close(frames[0, 22], torch.zeros(5))                  # 0.225 s: unknown word
    torch.testing.assert_close(frames[0, 27], torch.as_tensor(vectors[2]) / 2)  # overlap with the unknown word: mean
    torch.testing.assert_close(frames[0, 35], torch.as_tensor(vectors[2]))


def test_speech_streams_encode_the_words_mfcc_frames_and_map_them():
    m = model(semantic="aligned", paralinguistic=False, fusion="concat")
    mapping = np.random.default_rng(0).normal(size=(5, 6))
    m.semantic.install_mapping(mapping)
    mfcc = torch.randn(1, 50, 13)
    spans = torch.tensor([[[0.104, 0.25, 1.0], [0.3, 0.9, 2.0]]])  # frames 10..24 and 30..49 (cut at the end)
    with torch.no_grad():
        words = m.semantic.words(spans, torch.tensor([2]), mfcc, torch.tensor([50]))
        first = m.semantic.speech2vec.encode(mfcc[:, 10:25], torch.tensor([15]))
        second = m.semantic.speech2vec.encode(mfcc[:, 30:50], torch.tensor([20]))
    expected = torch.cat([first, second]) @ torch.as_tensor(mapping, dtype=torch.float32).T
    torch.testing.assert_close(words[0], expected, atol=1e-5, rtol=1e-5)


def test_training_step_averages_the_heads_losses():
    m = model(semantic="none", fusion="concat")
    m.train()
    from sertk import Batch

    batch = Batch(["a"], {"raw": torch.randn(1, 2500, 1)}, {"raw": torch.tensor([2500])},
                  targets={h: torch.zeros(1) for h in ("arousal", "valence", "liking")})
    losses = {name: (lambda value: lambda output, target, mask: 0 * output.sum() + value)(value)
              for name, value in (("arousal", 1.0), ("valence", 2.0), ("liking", 6.0))}
    seen = []
    m.head_losses = lambda outputs, batch, losses: {k: f(outputs[k], None, None) for k, f in losses.items()}
    assert m.training_step(batch, losses, lambda loss: seen.append(loss.detach())) == {"arousal": 1.0, "valence": 2.0,
                                                                                      "liking": 6.0}
    assert float(seen[0]) == pytest.approx(3.0)


def test_a_saved_model_loads_back_with_its_tables():
    m = model(semantic="word2vec", paralinguistic=True, fusion="attention")
    m.semantic.install_words(["ja", "nein"], np.ones((2, 5), np.float32))
    again = model(semantic="word2vec", paralinguistic=True, fusion="attention")
    again.load_state_dict(m.state_dict())
    x = {"raw": torch.randn(1, 5000, 1), "word_spans": torch.tensor([[[0.0, 0.2, word_hash("nein")]]])}
    lengths = {"raw": torch.tensor([5000]), "word_spans": torch.tensor([1])}
    with torch.no_grad():
        for key, value in m(x, lengths).items():
            torch.testing.assert_close(again(x, lengths)[key], value)
            assert value.shape == (1, 20)  # ceil(5000 / 250) frames at 88.2 /s


@pytest.mark.parametrize("params, key", [({"semantic": "none", "paralinguistic": False}, "semantic"),
                                         ({"semantic": "none", "fusion": "attention"}, "fusion"),
                                         ({"fusion": "sum"}, "fusion"), ({"level": "word"}, "level")])
def test_bad_params_name_their_key(params, key):
    with pytest.raises(ConfigError, match=f"model.params.{key}"):
        model(**params)


def test_word_spans_rows_and_exact_hashes():
    context = SegmentContext("u", 1.0, 3.0, words=(Word(0.1, 0.5, "Geht's"), Word(0.6, 0.9, "gut!"),
                                                   Word(1.0, 1.2, "--")))
    rows = WordSpans().extract(np.zeros(100, np.float32), 16000, context)
    assert rows.dtype == np.float32 and rows.shape == (2, 3)
    np.testing.assert_allclose(rows[:, :2], [[0.1, 0.5], [0.6, 0.9]], atol=1e-7)
    assert [int(h) for h in rows[:, 2]] == [word_hash("geht's"), word_hash("gut")]
    assert max(word_hash(w) for w in ("a", "zebra", "überhaupt")) < 2 ** 24
    assert WordSpans().extract(np.zeros(10, np.float32), 16000, SegmentContext("u", 0, 1)).shape == (0, 3)

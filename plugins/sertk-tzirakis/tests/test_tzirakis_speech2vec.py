"""Speech2Vec: padding, shapes, skip-gram pairs, type vectors, and learning on generated spoken words."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from sertk_tzirakis.speech2vec import Speech2Vec, embed, pad, skipgram_pairs, train_speech2vec, type_vectors

torch.set_num_threads(1)

SENTENCES = [["the", "cat", "sat", "down"], ["a", "dog", "ran", "off"], ["the", "dog", "sat", "off"],
             ["a", "cat", "ran", "down"]]


def spoken_corpus(speakers: int = 6, seed: int = 0):
    """Each sentence spoken by each speaker: a word is a pattern of frames (13 coefficients) made
    of its own two tones (a coefficient bump rising or falling over the word); a speaker adds its
    own offset and tempo, every instance its own noise."""
    rng = np.random.default_rng(seed)
    vocab = sorted({w for s in SENTENCES for w in s})
    tones = {w: (rng.integers(13, size=2), rng.normal(0, 1.5, 13)) for w in vocab}
    utterances, texts = [], []
    for speaker in range(speakers):
        offset, tempo = rng.normal(0, 0.5, 13), rng.uniform(0.8, 1.25)
        for sentence in SENTENCES:
            words = []
            for w in sentence:
                n = int(round(rng.integers(18, 26) * tempo))
                t = np.linspace(0, 1, n)[:, None]
                (a, b), colour = tones[w]
                frames = colour + offset + rng.normal(0, 0.3, (n, 13))
                frames[:, a] += 3 * t[:, 0]
                frames[:, b] -= 3 * (1 - t[:, 0])
                words.append(frames.astype(np.float32))
            utterances.append(words)
            texts.append(list(sentence))
    return utterances, texts


def test_padding_does_not_change_an_embedding():
    torch.manual_seed(0)
    model = Speech2Vec(n_input=13, dim=16).eval()
    rng = np.random.default_rng(0)
    segments = [rng.normal(size=(n, 13)).astype(np.float32) for n in (7, 20, 3)]
    batch, lengths = pad(segments)
    assert batch.shape == (3, 20, 13) and lengths.tolist() == [7, 20, 3]
    with torch.no_grad():
        together = model.encode(batch, lengths)
        alone = torch.cat([model.encode(torch.from_numpy(s)[None], torch.tensor([len(s)])) for s in segments])
    assert together.shape == (3, 16)
    torch.testing.assert_close(together, alone, atol=1e-6, rtol=0)
    # the embedding is the two directions' final states: forward after the last valid frame
    with torch.no_grad():
        out, (h, _) = model.encoder.rnn(torch.from_numpy(segments[0])[None])
    torch.testing.assert_close(together[0], torch.cat([h[0, 0], h[1, 0]]), atol=1e-6, rtol=0)


def test_pad_cuts_long_segments_and_shapes_are_checked():
    batch, lengths = pad([np.ones((150, 13))], max_frames=100)
    assert batch.shape == (1, 100, 13) and lengths.tolist() == [100]
    with pytest.raises(ValueError, match="13"):
        Speech2Vec(13, 8).encode(torch.zeros(2, 5, 12), torch.tensor([5, 5]))
    with pytest.raises(ValueError, match="even"):
        Speech2Vec(13, 7)


def test_skipgram_pairs_stay_inside_utterances_and_window():
    utts = [[None] * 4, [None] * 2]
    pairs = set(skipgram_pairs(utts, window=2))
    assert (0, 2) in pairs and (2, 0) in pairs and (0, 3) not in pairs
    assert (4, 5) in pairs and (3, 4) not in pairs and len(pairs) == 10 + 2


def test_same_word_types_are_nearer_after_brief_training():
    utterances, texts = spoken_corpus()
    losses = []
    model = train_speech2vec(utterances, dim=32, window=3, epochs=15, batch_size=32, seed=0,
                             progress=lambda epoch, loss: losses.append(loss))
    assert losses[-1] < 0.9 * losses[0]  # neighbours vary, so the loss has a floor well above 0
    vectors = embed(model, [w for u in utterances for w in u])
    labels = np.array([t for ts in texts for t in ts])
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cos = unit @ unit.T
    same = labels[:, None] == labels[None, :]
    np.fill_diagonal(same, False)
    other = labels[:, None] != labels[None, :]
    assert cos[same].mean() > cos[other].mean() + 0.2, (cos[same].mean(), cos[other].mean())
    np.fill_diagonal(cos, -np.inf)
    assert (labels[cos.argmax(1)] == labels).mean() > 0.9

    types = type_vectors(model, utterances, texts)
    assert sorted(types.words) == sorted(set(labels)) and types.vectors.shape == (len(types.words), 32)
    assert types.counts.sum() == len(labels) and types.counts[0] == types.counts.max()
    cat = types.index()["cat"]
    np.testing.assert_allclose(types.vectors[cat], vectors[labels == "cat"].mean(0), atol=1e-6)


def test_training_is_deterministic_given_the_seed():
    utterances, _ = spoken_corpus(speakers=1)
    a = train_speech2vec(utterances, dim=8, epochs=1, seed=1)
    b = train_speech2vec(utterances, dim=8, epochs=1, seed=1)
    segments = [w for u in utterances for w in u]
    np.testing.assert_array_equal(embed(a, segments), embed(b, segments))


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="two words"):
        train_speech2vec([[np.zeros((5, 13))]], epochs=1)
    with pytest.raises(ValueError, match="epochs"):
        train_speech2vec([[np.zeros((5, 13))] * 2], epochs=0)


def emodb_example():
    """The EmoDB example script as a module (its feature and retrieval functions)."""
    path = Path(__file__).resolve().parents[1] / "examples" / "speech2vec_emodb.py"
    spec = importlib.util.spec_from_file_location("speech2vec_emodb", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_emodb_words_are_retrieved_across_speakers_above_chance():
    example = emodb_example()
    if not (example.EMODB / "wav").is_dir():
        pytest.skip(f"the shared EmoDB copy is not at {example.EMODB}")
    utterances = [u for u in example.corpus_utterances(str(example.EMODB)) if u.id[2:5] in ("a01", "a02")]
    data = example.word_segments(utterances)
    segments = [s for u, _, _ in data for s in u]
    words = np.array([t for _, texts, _ in data for t in texts])
    speakers = np.array([s for u, _, s in data for _ in u])
    assert len(set(speakers)) == 10 and len(segments) > 300 and all(s.shape[1] == 13 for s in segments)
    model = train_speech2vec([u for u, _, _ in data], dim=32, epochs=1, seed=0)
    p1, ap, chance = example.retrieval(embed(model, segments), words, speakers)
    assert p1 > 4 * chance and ap > 2 * chance, (p1, ap, chance)

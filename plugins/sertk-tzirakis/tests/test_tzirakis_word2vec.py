"""Word2Vec (skip-gram, negative sampling): tokenising, corpus reading, vocabulary and learning."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from sertk import ConfigError
from sertk_tzirakis.word2vec import WordVectors, read_sentences, tokenize, train_word2vec, vocabulary

torch.set_num_threads(1)

TOPICS = [["apple", "pear", "plum", "cherry", "grape"],
          ["car", "truck", "bus", "train", "bike"],
          ["red", "blue", "green", "yellow", "black"],
          ["dog", "cat", "horse", "cow", "sheep"]]


def topic_text(n: int, seed: int = 0) -> list[list[str]]:
    """Sentences of 6 words, all from one topic group each."""
    rng = np.random.default_rng(seed)
    return [list(rng.choice(TOPICS[rng.integers(len(TOPICS))], 6)) for _ in range(n)]


def test_tokenize_lowercases_strips_punctuation_keeps_umlauts():
    assert tokenize("Heute Abend könnte ich es ihm sagen.") == [
        "heute", "abend", "könnte", "ich", "es", "ihm", "sagen"]
    assert tokenize("Das Holzstück, groß?! (Tüten) don't — 3 Äpfel") == [
        "das", "holzstück", "groß", "tüten", "don't", "3", "äpfel"]


def test_read_sentences(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("Der Lappen liegt.\n\n  Was sind denn das für Tüten?\n", encoding="utf-8")
    assert read_sentences(str(path)) == [["der", "lappen", "liegt"], ["was", "sind", "denn", "das", "für", "tüten"]]
    with pytest.raises(ConfigError, match="missing.txt") as error:
        read_sentences(str(tmp_path / "missing.txt"))
    assert "\n" not in str(error.value)


def test_vocabulary_is_most_frequent_first_with_min_count():
    words, counts = vocabulary([["b", "a", "b"], ["c", "b", "a"]], min_count=2)
    assert words == ["b", "a"] and counts.tolist() == [3, 2]
    vectors = WordVectors(words, np.zeros((2, 3), np.float32), counts)
    assert vectors.index() == {"b": 0, "a": 1}


def test_same_topic_words_are_nearer_after_training():
    sentences = topic_text(600)
    seen = []
    wv = train_word2vec(sentences, dim=20, window=3, epochs=5, min_count=1, subsample=0, seed=0,
                        progress=lambda epoch, loss: seen.append(loss))
    assert wv.vectors.shape == (20, 20) and wv.vectors.dtype == np.float32
    assert len(seen) == 5 and seen[-1] < seen[0]
    unit = wv.vectors / np.linalg.norm(wv.vectors, axis=1, keepdims=True)
    cos = unit @ unit.T
    group = {w: g for g, ws in enumerate(TOPICS) for w in ws}
    same = np.array([[group[a] == group[b] for b in wv.words] for a in wv.words])
    np.fill_diagonal(same, False)
    other = ~same
    np.fill_diagonal(other, False)
    within, across = cos[same].mean(), cos[other].mean()
    assert within > across + 0.3, (within, across)
    # every word's nearest other word is from its own topic
    np.fill_diagonal(cos, -np.inf)
    assert all(group[wv.words[i]] == group[wv.words[j]] for i, j in enumerate(cos.argmax(1)))


def test_training_is_deterministic_given_the_seed():
    sentences = topic_text(100)
    a = train_word2vec(sentences, dim=8, epochs=1, min_count=1, seed=3)
    b = train_word2vec(sentences, dim=8, epochs=1, min_count=1, seed=3)
    c = train_word2vec(sentences, dim=8, epochs=1, min_count=1, seed=4)
    assert np.array_equal(a.vectors, b.vectors) and not np.array_equal(a.vectors, c.vectors)


def test_bad_params_and_too_little_text_are_refused():
    with pytest.raises(ValueError, match="dim"):
        train_word2vec(topic_text(10), dim=0)
    with pytest.raises(ValueError, match="min_count"):
        train_word2vec([["a", "b"]], min_count=5)

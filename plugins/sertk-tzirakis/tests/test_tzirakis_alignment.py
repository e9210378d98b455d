"""Aligning two embedding spaces (MUSE): Procrustes, CSLS, adversarial mapping, refinement, accuracy."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from sertk_tzirakis.alignment import (adversarial_map, align, csls, identical_pairs, normalize, procrustes, refine,
                                      translation_accuracy)
from sertk_tzirakis.word2vec import WordVectors

torch.set_num_threads(1)


def rotation(d: int, seed: int, scale: float = 0.0) -> np.ndarray:
    """A random rotation; with ``scale`` > 0 one near the identity, exp(A) for a skew-symmetric A of
    entries ~ N(0, scale²) (adversarial training starts from the identity and searches locally)."""
    rng = np.random.default_rng(seed)
    if scale:
        from scipy.linalg import expm

        a = rng.normal(0, scale, (d, d))
        return expm(a - a.T)
    q, r = np.linalg.qr(rng.normal(size=(d, d)))
    return q * np.sign(np.diag(r))


def clustered(n: int, d: int, seed: int) -> np.ndarray:
    """Rows from a mixture of anisotropic clusters of unequal weight and spread, so the
    distribution has no symmetry an adversary could settle on instead of the true map."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 2.0, (6, d))
    weights = np.array([0.3, 0.25, 0.15, 0.12, 0.1, 0.08])
    which = rng.choice(6, n, p=weights)
    scales = rng.uniform(0.2, 1.0, (6, d))
    return centres[which] + rng.normal(size=(n, d)) * scales[which]


def spaces(n: int = 400, d: int = 8, noise: float = 0.01, seed: int = 0):
    """A source space and its rotated, slightly noisy copy; word i is the same word in both.  The
    rotation moves every word far past its nearest neighbours (identity accuracy ≈ 0)."""
    source = clustered(n, d, seed)
    R = rotation(d, seed + 1, scale=0.3)
    target = source @ R.T + np.random.default_rng(seed + 2).normal(0, noise, (n, d))
    words = [f"w{i}" for i in range(n)]
    counts = np.arange(n, 0, -1, dtype=np.int64)
    return (WordVectors(words, source.astype(np.float32), counts),
            WordVectors(words, target.astype(np.float32), counts), R)


def test_procrustes_recovers_a_known_rotation():
    rng = np.random.default_rng(0)
    source = rng.normal(size=(300, 20))
    R = rotation(20, 1)
    W = procrustes(source, source @ R.T)
    assert np.abs(W - R).max() < 1e-4
    np.testing.assert_allclose(W @ W.T, np.eye(20), atol=1e-10)


def test_procrustes_between_spaces_of_different_sizes_is_semi_orthogonal():
    rng = np.random.default_rng(0)
    source = rng.normal(size=(200, 6))
    Q = rotation(10, 2)[:, :6]                       # (10, 6), orthonormal columns
    W = procrustes(source, source @ Q.T)
    assert W.shape == (10, 6) and np.abs(W - Q).max() < 1e-4
    W = procrustes(source @ Q.T, source)             # 10 -> 6: orthonormal rows
    assert W.shape == (6, 10)
    np.testing.assert_allclose(W @ W.T, np.eye(6), atol=1e-10)
    with pytest.raises(ValueError, match="paired"):
        procrustes(source, source[:5])


def test_csls_by_hand():
    a = np.array([[1.0, 0.0], [0.0, 1.0]])
    b = np.array([[1.0, 0.0], [0.6, 0.8]])
    cos = a @ b.T                                    # [[1, .6], [0, .8]]
    r_t = cos.mean(1)                                # k=2: every target is a neighbour
    r_s = cos.mean(0)
    np.testing.assert_allclose(csls(a, b, neighbours=2), 2 * cos - r_t[:, None] - r_s[None, :])
    np.testing.assert_allclose(csls(a, b, neighbours=1), 2 * cos - cos.max(1)[:, None] - cos.max(0)[None, :])


def test_adversarial_mapping_then_refinement_find_the_rotation_between_spaces_of_different_sizes():
    source, target, _ = spaces()
    # the target space has two more dimensions (as Word2Vec may have more than Speech2Vec)
    target = WordVectors(target.words, np.concatenate([target.vectors, np.zeros((400, 2), np.float32)], 1),
                         target.counts)
    identity = translation_accuracy(np.eye(10, 8), source, target)
    W = adversarial_map(normalize(source.vectors), normalize(target.vectors), steps=800, hidden=64,
                        check_every=100, seed=0)
    assert W.shape == (10, 8)
    adversarial = translation_accuracy(W, source, target)
    refined_W = refine(W, source, target, k=400)
    refined = translation_accuracy(refined_W, source, target)
    assert identity < 0.05
    assert adversarial >= 0.5, (identity, adversarial)
    assert refined >= max(adversarial, 0.9), (adversarial, refined)
    singular = np.linalg.svd(W, compute_uv=False)                  # the orthogonalisation update held
    assert singular.min() > 0.8 and singular.max() < 1.2, singular
    np.testing.assert_allclose(refined_W.T @ refined_W, np.eye(8), atol=1e-8)


def test_align_is_adversarial_then_refinement_and_deterministic():
    source, target, _ = spaces(n=100, d=4)
    params = dict(steps=20, hidden=16, check_every=10)
    W = align(source, target, k=100, iterations=2, seed=1, **params)
    adversarial = adversarial_map(normalize(source.vectors), normalize(target.vectors), seed=1, **params)
    np.testing.assert_array_equal(W, refine(adversarial, source, target, k=100, iterations=2))
    other = adversarial_map(normalize(source.vectors), normalize(target.vectors), seed=2, **params)
    assert not np.array_equal(adversarial, other)


def test_identical_dictionary_and_accuracy_at_k():
    source, target, R = spaces(n=50, d=4)
    pairs = identical_pairs(source, target, k=10)
    assert pairs.tolist() == [[i, i] for i in range(10)]
    W = refine(np.eye(4), source, target, k=50, iterations=1, dictionary="identical")
    assert translation_accuracy(W, source, target) == 1.0
    shuffled = [(f"w{i}", f"w{(i + 1) % 50}") for i in range(50)]
    assert translation_accuracy(W, source, target, pairs=shuffled) < 0.2
    assert translation_accuracy(np.eye(4), source, target, k=50) == 1.0
    with pytest.raises(ValueError, match="dictionary"):
        refine(W, source, target, k=5, dictionary="csls")

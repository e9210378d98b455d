"""Word2Vec: skip-gram with negative sampling (T. Mikolov, I. Sutskever, K. Chen, G. Corrado,
J. Dean, "Distributed representations of words and phrases and their compositionality",
NIPS 2013, §2.2 negative sampling, §2.3 subsampling), the text-side embedding space of
Tzirakis et al., ICASSP 2021, §3.1.

Written in torch rather than taken from gensim: it is about sixty lines, adds no compiled
dependency, seeds and runs like the rest of sertk, and the transcripts of emotion corpora
are small.  Where Tzirakis et al. give no value the word2vec tool's own defaults are used
(``-size 100 -window 5 -negative 5 -sample 1e-3 -min-count 5 -alpha 0.025 -iter 5``; gensim
has the same): a reduced window drawn uniformly in 1..``window`` per centre word, noise
words drawn from the unigram distribution raised to 3/4, frequent words subsampled with
word2vec's keep probability (√(f/(s·N)) + 1)·s·N/f, the learning rate decaying linearly to
1e-4 of its start, input vectors drawn uniformly in ±0.5/dim and output vectors zero.
One deviation: the pairs are updated in mini-batches of ``batch_size`` (summed gradients,
plain SGD) instead of word2vec's one pair at a time.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from sertk import ConfigError

_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")


def tokenize(text: str) -> list[str]:
    """Lower-cased words of ``text``: punctuation stripped, umlauts and ß kept, inner
    apostrophes and hyphens kept (``don't``, ``holz-stück``)."""
    return _WORD.findall(text.lower())


def read_sentences(path: str) -> list[list[str]]:
    """A text corpus, one sentence per line, tokenised; empty lines are skipped."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise ConfigError("corpus", f"cannot read text corpus {path}: {reason}; give a UTF-8 text file, "
                                    f"one sentence per line") from None
    return [words for words in map(tokenize, text.splitlines()) if words]


@dataclass
class WordVectors:
    """Word embeddings: ``words`` most frequent first, ``vectors`` (V, d) float32 and
    ``counts`` (V,) int64, the occurrences (or spoken instances) of each word."""

    words: list[str]
    vectors: np.ndarray
    counts: np.ndarray

    def index(self) -> dict[str, int]:
        """Word → row."""
        return {w: i for i, w in enumerate(self.words)}


def vocabulary(sentences: Sequence[Sequence[str]], min_count: int) -> tuple[list[str], np.ndarray]:
    """Words seen at least ``min_count`` times, most frequent first (ties: first seen), and their counts."""
    counts = Counter(w for s in sentences for w in s)
    words = [w for w, c in sorted(counts.items(), key=lambda wc: -wc[1]) if c >= min_count]
    return words, np.asarray([counts[w] for w in words], dtype=np.int64)


def _pairs(sentences: list[np.ndarray], keep: np.ndarray, window: int, rng: np.random.Generator) -> np.ndarray:
    """(centre, context) index pairs of one epoch: subsampled tokens, reduced windows."""
    out = []
    for ids in sentences:
        ids = ids[rng.random(len(ids)) < keep[ids]]
        if len(ids) < 2:
            continue
        reach = rng.integers(1, window + 1, len(ids))
        for offset in range(1, window + 1):
            left, right = ids[:-offset], ids[offset:]
            forward = reach[:-offset] >= offset          # centre on the left, context to its right
            backward = reach[offset:] >= offset
            out.append(np.stack([left[forward], right[forward]], 1))
            out.append(np.stack([right[backward], left[backward]], 1))
    return np.concatenate(out) if out else np.zeros((0, 2), dtype=np.int64)


def train_word2vec(sentences: Sequence[Sequence[str]], dim: int = 100, window: int = 5, negatives: int = 5,
                   epochs: int = 5, min_count: int = 5, subsample: float = 1e-3, lr: float = 0.025,
                   batch_size: int = 64, seed: int = 0,
                   progress: Optional[Callable[[int, float], None]] = None) -> WordVectors:
    """Skip-gram with negative sampling on tokenised ``sentences``; deterministic given ``seed``.

    ``progress(epoch, mean loss)`` is called after each epoch when given.
    """
    import torch

    for key, value, low in (("dim", dim, 1), ("window", window, 1), ("negatives", negatives, 1),
                            ("epochs", epochs, 1), ("min_count", min_count, 1), ("batch_size", batch_size, 1)):
        if value < low:
            raise ValueError(f"{key} must be at least {low}, got {value}")
    words, counts = vocabulary(sentences, min_count)
    if len(words) < 2:
        raise ValueError(f"the text has {len(words)} word(s) seen at least min_count={min_count} times; "
                         f"give more text or lower min_count")
    index = {w: i for i, w in enumerate(words)}
    ids = [np.asarray([index[w] for w in s if w in index], dtype=np.int64) for s in sentences]
    total = counts.sum()
    if subsample > 0:
        threshold = subsample * total
        keep = np.minimum(1.0, (np.sqrt(counts / threshold) + 1) * threshold / counts)
    else:
        keep = np.ones(len(words))
    noise = torch.as_tensor(counts ** 0.75, dtype=torch.float64)

    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    w_in = ((torch.rand(len(words), dim, generator=gen) - 0.5) / dim).requires_grad_()
    w_out = torch.zeros(len(words), dim, requires_grad=True)
    epoch_pairs = [_pairs(ids, keep, window, rng) for _ in range(epochs)]
    steps = sum(-(-len(p) // batch_size) for p in epoch_pairs)
    done = 0
    for epoch, pairs in enumerate(epoch_pairs, 1):
        pairs = torch.as_tensor(pairs[rng.permutation(len(pairs))])
        losses = []
        for start in range(0, len(pairs), batch_size):
            batch = pairs[start:start + batch_size]
            centre, context = w_in[batch[:, 0]], batch[:, 1]
            neg = torch.multinomial(noise, len(batch) * negatives, replacement=True, generator=gen)
            pos_score = (centre * w_out[context]).sum(-1)
            neg_score = torch.bmm(w_out[neg].view(len(batch), negatives, dim), centre.unsqueeze(-1)).squeeze(-1)
            loss = -(torch.nn.functional.logsigmoid(pos_score).sum() + torch.nn.functional.logsigmoid(-neg_score).sum())
            w_in.grad = w_out.grad = None
            loss.backward()
            rate = lr * max(1e-4, 1 - done / steps)
            with torch.no_grad():
                w_in -= rate * w_in.grad
                w_out -= rate * w_out.grad
            done += 1
            losses.append(loss.item() / len(batch))
        if progress is not None:
            progress(epoch, float(np.mean(losses)) if losses else 0.0)
    return WordVectors(words, w_in.detach().numpy().astype(np.float32), counts)

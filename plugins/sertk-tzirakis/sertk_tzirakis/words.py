"""The word-sequence input of the semantic stream: each word's time span inside the
segment and a hash of its token, so that a model can look the word up in a Word2Vec
table (the Word2Vec-only ablation, Tzirakis et al., ICASSP 2021, Table 2) or cut the
word's MFCC frames for Speech2Vec (§3.1)."""
from __future__ import annotations

import zlib

import numpy as np

from sertk import Feature, SegmentContext

HASH_BITS = 24  # integers below 2**24 are exact in float32


def word_hash(token: str) -> int:
    """A 24-bit hash of a token (CRC-32 of its UTF-8 bytes, low 24 bits): exact in a
    float32 feature array.  Two tokens with the same hash are the same word to the
    model (about one collision per 16.7 million token pairs)."""
    return zlib.crc32(token.encode("utf-8")) & ((1 << HASH_BITS) - 1)


class WordSpans(Feature):
    """Timed words of a segment as (words, 3): start_s, end_s (relative to the segment)
    and :func:`word_hash` of each token (``sertk_tzirakis.word2vec.tokenize``; a word that
    gives several tokens gives one row per token with the word's span, one that gives
    none is left out).  Not normalised.  The word segments of Tzirakis et al., ICASSP 2021, §3.1."""

    name = "word_spans"
    summary = ("timed words of a segment (start_s, end_s, 24-bit token hash) for the semantic stream "
               "(Tzirakis et al. 2021)")
    level = "frame"
    normalize = "none"
    uses = ("words",)

    def extract(self, signal: np.ndarray, sample_rate: int, context: SegmentContext) -> np.ndarray:
        from .word2vec import tokenize

        rows = [(w.start, w.end, word_hash(token)) for w in context.words for token in tokenize(w.text)]
        return np.asarray(rows, dtype=np.float32).reshape(len(rows), 3)

"""The semantic stream of Tzirakis et al., ICASSP 2021, §3.1, inside the model: word
embeddings spread over the paralinguistic frames.

Each word of a segment (a ``word_spans`` row: start, end, token hash) gets an embedding

* ``word2vec``: its row of a Word2Vec table, found by the token hash (unknown words:
  zeros) — the only variant that reads the text at test time (Table 2's Word2Vec
  ablation);
* ``speech2vec``: the Speech2Vec encoding of its MFCC frames (the word's span cut from
  the segment's MFCCs, at most ``word_frames`` frames);
* ``aligned``: that encoding mapped into the Word2Vec space, ``W s`` (eqs. 1–3).

The speech-based variants use only audio and word times, as the paper: "the text
modality is used during training, but discarded during evaluation".  The embedding of
frame k (centred at (k + ½)/rate s) is that of the word spanning it (the mean where
spans overlap, zeros between words).  Tables and map are buffers of fixed size
(``vocabulary`` rows), the encoder a frozen sub-network, so a saved model loads back;
the training strategy fills them (:mod:`sertk_tzirakis.strategy`).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .speech2vec import Speech2Vec
from .words import HASH_BITS, word_hash

MODES = ("none", "word2vec", "speech2vec", "aligned")


def frame_bounds(starts: torch.Tensor, ends: torch.Tensor, rate: float, n_frames: torch.Tensor,
                 limit: int) -> tuple[torch.Tensor, torch.Tensor]:
    """First frame and frame count of word spans (s) in frames at ``rate`` of segments with
    ``n_frames`` frames: frames floor(start·rate) … ceil(end·rate) − 1, at least one, at most
    ``limit``, inside the segment (count 0 when the word starts after its last frame)."""
    first = torch.floor(starts * rate).long().clamp_min(0)
    last = torch.maximum(torch.ceil(ends * rate - 1e-6).long(), first + 1)
    count = (torch.minimum(last, n_frames) - first).clamp(0, limit)
    return first, count


class SemanticStream(nn.Module):
    """Word embeddings of one ``mode`` (see the module docstring) as a frame sequence."""

    def __init__(self, mode: str, vocabulary: int, word_dim: int, speech_dim: int, n_mfcc: int, mfcc_rate: float,
                 word_frames: int):
        super().__init__()
        self.mode, self.mfcc_rate, self.word_frames = mode, mfcc_rate, word_frames
        self.word_dim, self.speech_dim = word_dim, speech_dim
        if mode == "word2vec":
            sentinel = (1 << HASH_BITS) + torch.arange(vocabulary)  # above every hash: the rows stay sorted
            self.register_buffer("word_hashes", sentinel)
            self.register_buffer("word_table", torch.zeros(vocabulary, word_dim))
        else:
            self.speech2vec = Speech2Vec(n_mfcc, speech_dim).requires_grad_(False)
        if mode == "aligned":
            self.register_buffer("mapping", torch.zeros(word_dim, speech_dim))
        self.output_size = speech_dim if mode == "speech2vec" else word_dim

    # ------------------------------------------------------------ filled by the strategy
    def install_words(self, words: list[str], vectors: np.ndarray) -> int:
        """Fill the table with the first ``vocabulary`` words (most frequent first); a word whose
        hash an earlier word has is left out.  Returns the number of rows filled."""
        rows: dict[int, int] = {}
        for i, w in enumerate(words):
            if len(rows) == len(self.word_hashes):
                break
            rows.setdefault(word_hash(w), i)
        hashes = sorted(rows)
        self.word_hashes[:len(hashes)] = torch.as_tensor(hashes)
        self.word_table.zero_()
        self.word_table[:len(hashes)] = torch.as_tensor(np.asarray(vectors)[[rows[h] for h in hashes]])
        return len(hashes)

    def install_speech2vec(self, trained: Speech2Vec) -> None:
        self.speech2vec.load_state_dict(trained.state_dict())

    def install_mapping(self, mapping: np.ndarray) -> None:
        self.mapping.copy_(torch.as_tensor(mapping, dtype=self.mapping.dtype))

    def train(self, mode: bool = True):
        """The embedding sub-networks stay in evaluation mode (they are frozen)."""
        super().train(mode)
        if hasattr(self, "speech2vec"):
            self.speech2vec.eval()
        return self

    # ------------------------------------------------------------ forward
    def words(self, spans: torch.Tensor, n_words: torch.Tensor, mfcc=None, mfcc_lengths=None) -> torch.Tensor:
        """(B, W, 3) word spans with (B,) counts → (B, W, output_size) embeddings."""
        b, w, _ = spans.shape
        valid = torch.arange(w, device=spans.device)[None] < n_words.to(spans.device)[:, None]
        if self.mode == "word2vec":
            hashes = spans[..., 2].round().long()
            row = torch.searchsorted(self.word_hashes, hashes).clamp_max(len(self.word_hashes) - 1)
            found = (self.word_hashes[row] == hashes) & valid
            return self.word_table[row] * found.unsqueeze(-1)
        first, count = frame_bounds(spans[..., 0], spans[..., 1], self.mfcc_rate,
                                    mfcc_lengths.to(spans.device)[:, None], self.word_frames)
        take = valid & (count > 0)
        out = spans.new_zeros(b, w, self.speech_dim)
        if take.any():
            rows, cols = take.nonzero(as_tuple=True)
            lengths = count[rows, cols]
            steps = torch.arange(int(lengths.max()), device=spans.device)
            index = (first[rows, cols, None] + steps).clamp_max(mfcc.shape[1] - 1)
            frames = mfcc[rows[:, None], index] * (steps < lengths[:, None]).unsqueeze(-1)
            out[rows, cols] = self.speech2vec.encode(frames, lengths)
        return out @ self.mapping.T if self.mode == "aligned" else out

    def forward(self, spans, n_words, steps: int, rate: float, mfcc=None, mfcc_lengths=None) -> torch.Tensor:
        """The embeddings spread over ``steps`` frames at ``rate``: (B, steps, output_size)."""
        embedded = self.words(spans, n_words, mfcc, mfcc_lengths)
        times = (torch.arange(steps, device=spans.device, dtype=spans.dtype) + 0.5) / rate
        valid = torch.arange(spans.shape[1], device=spans.device)[None] < n_words.to(spans.device)[:, None]
        cover = ((spans[:, None, :, 0] <= times[None, :, None]) & (times[None, :, None] < spans[:, None, :, 1])
                 & valid[:, None]).to(embedded.dtype)
        return cover @ embedded / cover.sum(-1, keepdim=True).clamp_min(1)

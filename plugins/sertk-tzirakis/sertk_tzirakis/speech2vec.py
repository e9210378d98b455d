"""Speech2Vec: word embeddings learned from spoken word segments (Y.-A. Chung, J. Glass,
"Speech2Vec: A Sequence-to-Sequence Framework for Learning Word Embeddings from Speech",
Interspeech 2018, §2.3 skip-grams, §3.1 set-up), the speech-side space of Tzirakis et al.,
ICASSP 2021, §3.1.

Taken from Chung & Glass: 13 MFCCs every 10 ms over 25-ms windows as input; an RNN
encoder-decoder whose encoder (a single-layer bidirectional LSTM) reads one word segment
and whose decoder (a single-layer unidirectional LSTM) reconstructs each word within
``window`` = 3 words of it (skip-grams), trained with the mean squared error of the
frames; the embedding is the encoder's final state; a word type's embedding is the mean
of the embeddings of its spoken instances; embedding sizes 50-300 (``dim`` 100 here, the
size Word2Vec gets by default, so the two spaces match).

Chosen here, where the paper gives no detail: the final states of the two directions are
concatenated (``dim/2`` units each); one decoder serves every neighbour position, as
Word2Vec's output layer does; the decoder starts from the embedding as its hidden state and
reads the embedding at every step (no teacher forcing, so the reconstruction must come from
the embedding); a linear layer gives the frames; frames are z-scored with the training
set's statistics (kept in the model), segments are cut to ``max_frames`` (1 s), and a batch
holds pairs of similar lengths (less padding, the same loss).  Deviation:
Chung & Glass train with SGD at a fixed learning rate of 1e-3 for 500 epochs on
LibriSpeech; for CPU-sized runs the default here is Adam (lr 1e-3) for 20 epochs
(``optimizer="sgd", epochs=500`` gives theirs).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from typing import Callable, Literal, Optional, Sequence

import numpy as np
import torch
from torch import nn

from sertk.nn import RecurrentEncoder, frame_mask

from .word2vec import WordVectors


class Speech2Vec(nn.Module):
    """Speech2Vec's encoder-decoder (Chung & Glass 2018, §2.3): a bidirectional LSTM encoder
    whose final states are the ``dim``-sized embedding, an LSTM decoder that rebuilds a
    neighbouring word's frames from it."""

    def __init__(self, n_input: int = 13, dim: int = 100) -> None:
        super().__init__()
        if n_input < 1:
            raise ValueError(f"n_input must be at least 1, got {n_input}")
        if dim < 2 or dim % 2:
            raise ValueError(f"dim must be an even number of at least 2 (two directions of dim/2), got {dim}")
        self.n_input, self.dim = n_input, dim
        self.encoder = RecurrentEncoder(n_input, dim // 2, layers=1, bidirectional=True)
        self.decoder = nn.LSTM(dim, dim, batch_first=True)
        self.output = nn.Linear(dim, n_input)
        self.register_buffer("mean", torch.zeros(n_input))
        self.register_buffer("std", torch.ones(n_input))

    def encode(self, frames: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(N, T, n_input) padded word segments and their (N,) lengths → (N, dim): the forward
        direction's state after the last valid frame and the backward direction's after the first."""
        if frames.ndim != 3 or frames.shape[-1] != self.n_input:
            raise ValueError(f"expected (N, T, {self.n_input}) frames, got {tuple(frames.shape)}")
        lengths = lengths.clamp(1, frames.shape[1])
        out = self.encoder((frames - self.mean) / self.std, lengths)
        half = self.dim // 2
        last = out[torch.arange(len(out)), lengths.to(out.device) - 1, :half]
        return torch.cat([last, out[:, 0, half:]], dim=-1)

    def decode(self, embedding: torch.Tensor, steps: int) -> torch.Tensor:
        """(N, dim) embeddings → (N, steps, n_input) reconstructed (normalised) frames."""
        state = (embedding.unsqueeze(0), torch.zeros_like(embedding).unsqueeze(0))
        out, _ = self.decoder(embedding.unsqueeze(1).expand(-1, steps, -1).contiguous(), state)
        return self.output(out)

    def loss(self, source: torch.Tensor, source_lengths: torch.Tensor, target: torch.Tensor,
             target_lengths: torch.Tensor) -> torch.Tensor:
        """Mean squared error of the rebuilt target frames (valid frames only, normalised units)."""
        rebuilt = self.decode(self.encode(source, source_lengths), target.shape[1])
        mask = frame_mask(target_lengths, target.shape[1], device=target.device).unsqueeze(-1)
        error = (rebuilt - (target - self.mean) / self.std) ** 2 * mask
        return error.sum() / (mask.sum() * self.n_input).clamp_min(1)


def pad(segments: Sequence[np.ndarray], max_frames: Optional[int] = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Word segments (frames, n_input) → zero-padded (N, T, n_input) float32 tensor and (N,) lengths;
    segments longer than ``max_frames`` keep their first ``max_frames`` frames."""
    cut = [np.asarray(s, dtype=np.float32)[:max_frames] for s in segments]
    lengths = torch.as_tensor([max(len(s), 1) for s in cut])
    batch = torch.zeros(len(cut), int(lengths.max()) if cut else 1, cut[0].shape[1] if cut else 0)
    for row, seg in enumerate(cut):
        batch[row, :len(seg)] = torch.from_numpy(seg)
    return batch, lengths


def skipgram_pairs(utterances: Sequence[Sequence[np.ndarray]], window: int) -> list[tuple[int, int]]:
    """(centre, neighbour) pairs of flat segment indices: every two words at most ``window`` apart
    in one utterance, both ways."""
    pairs, base = [], 0
    for words in utterances:
        n = len(words)
        pairs += [(base + i, base + j) for i in range(n) for j in range(max(0, i - window), min(n, i + window + 1))
                  if j != i]
        base += n
    return pairs


def train_speech2vec(utterances: Sequence[Sequence[np.ndarray]], dim: int = 100, window: int = 3, epochs: int = 20,
                     lr: float = 1e-3, batch_size: int = 64, seed: int = 0, max_frames: int = 100,
                     optimizer: Literal["adam", "sgd"] = "adam",
                     progress: Optional[Callable[[int, float], None]] = None) -> Speech2Vec:
    """Train Speech2Vec skip-gram style on ``utterances`` (per utterance, its words' MFCC arrays
    (frames, n_input) in spoken order); deterministic given ``seed`` (CPU).

    ``progress(epoch, mean loss)`` is called after each epoch when given.
    """
    for key, value in (("window", window), ("epochs", epochs), ("batch_size", batch_size), ("max_frames", max_frames)):
        if value < 1:
            raise ValueError(f"{key} must be at least 1, got {value}")
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}")
    segments = [np.asarray(w, dtype=np.float32)[:max_frames] for words in utterances for w in words]
    pairs = skipgram_pairs(utterances, window)
    if not pairs:
        raise ValueError("no utterance has two words: Speech2Vec learns from neighbouring words")
    n_input = segments[0].shape[1]
    torch.manual_seed(seed)
    model = Speech2Vec(n_input, dim)
    frames = np.concatenate(segments)
    model.mean.copy_(torch.from_numpy(frames.mean(0)))
    model.std.copy_(torch.from_numpy(frames.std(0)).clamp_min(1e-5))
    make = torch.optim.Adam if optimizer == "adam" else torch.optim.SGD
    optim = make(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    pairs = torch.as_tensor(pairs)
    sizes = torch.as_tensor([len(s) for s in segments])
    model.train()
    for epoch in range(1, epochs + 1):
        total = 0.0
        for batch in batches(pairs, sizes, batch_size, gen):
            source = pad([segments[i] for i in batch[:, 0]])
            target = pad([segments[i] for i in batch[:, 1]])
            loss = model.loss(*source, *target)
            optim.zero_grad()
            loss.backward()
            optim.step()
            total += loss.item() * len(batch)
        if progress is not None:
            progress(epoch, total / len(pairs))
    return model.eval()


def batches(pairs: torch.Tensor, sizes: torch.Tensor, batch_size: int, gen: torch.Generator,
            pool: int = 50) -> list[torch.Tensor]:
    """One epoch's batches of (centre, neighbour) pairs: shuffled, then sorted by length within
    pools of ``pool`` batches so that a batch pads little, and the batches shuffled again."""
    order = pairs[torch.randperm(len(pairs), generator=gen)]
    out = []
    for start in range(0, len(order), batch_size * pool):
        chunk = order[start:start + batch_size * pool]
        chunk = chunk[torch.argsort(torch.maximum(sizes[chunk[:, 0]], sizes[chunk[:, 1]]), stable=True)]
        out += list(chunk.split(batch_size))
    return [out[i] for i in torch.randperm(len(out), generator=gen)]


@torch.no_grad()
def embed(model: Speech2Vec, segments: Sequence[np.ndarray], batch_size: int = 256,
          max_frames: Optional[int] = 100) -> np.ndarray:
    """(N, dim) float32 embeddings of word segments (cut to ``max_frames``, as in training), in batches."""
    model.eval()
    out = [model.encode(*pad(segments[i:i + batch_size], max_frames)) for i in range(0, len(segments), batch_size)]
    return torch.cat(out).numpy().astype(np.float32) if out else np.zeros((0, model.dim), np.float32)


def type_vectors(model: Speech2Vec, utterances: Sequence[Sequence[np.ndarray]],
                 texts: Sequence[Sequence[str]], max_frames: Optional[int] = 100) -> WordVectors:
    """Per word type (lower-cased text) the mean embedding of its spoken instances (Chung & Glass
    2018, §2.3); ``counts`` are the instances, most frequent type first."""
    if len(utterances) != len(texts) or any(len(u) != len(t) for u, t in zip(utterances, texts)):
        raise ValueError("texts must give one word per segment of each utterance")
    segments = [w for words in utterances for w in words]
    labels = [t.lower() for words in texts for t in words]
    vectors = embed(model, segments, max_frames=max_frames)
    rows = defaultdict(list)
    for row, label in enumerate(labels):
        rows[label].append(row)
    counts = Counter(labels)
    words = sorted(rows, key=lambda w: -counts[w])
    return WordVectors(words, np.stack([vectors[rows[w]].mean(0) for w in words]).astype(np.float32),
                       np.asarray([counts[w] for w in words], dtype=np.int64))

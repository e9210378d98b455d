"""The emotion model of Tzirakis et al., "Speech Emotion Recognition using Semantic
Information", ICASSP 2021, §3 (Fig. 1): a paralinguistic stream (§3.2, Table 1) and a
semantic stream (§3.1), fused (§3.3), one LSTM layer, and a linear output per target.

Frame level (the paper's SEWA set-up, §5.1): arousal, valence and liking at every
paralinguistic frame (88.2 frames/s at 22 050 Hz; the engine aligns them to the 10-Hz
labels).  Utterance level (a categorical variant; the paper names categorical corpora as
future work): the LSTM outputs averaged over the valid frames, a linear classifier per
target.

Training (§5.2): Adam at 1e-4, batches of 25 sequences, gradient norms clipped at 5.0,
dropout 0.5 on every non-recurrent connection (the fused features entering the LSTM) and
0.5 on the LSTM's output; these are the recipes' ``train`` values and the defaults here.
Loss (eq. 8): the mean over the output dimensions of 1 − CCC, so
:meth:`TzirakisFusion.training_step` averages the heads' losses (sertk sums them by
default).  "Sequence length 300" (§5.2) is not tied to a rate in the paper: 300 steps of
the 10-Hz labels are 30 s, 300 paralinguistic frames 3.4 s, and the 10-s sequences
of §3.2 are 100 label frames or 882 paralinguistic frames.  The SEWA recipes train on
10-s slices (882 LSTM steps, 100 label frames) and name this as an open reading.

Not given in the paper and chosen here: the LSTM size (``hidden`` 256, the size of
Tzirakis et al.'s end-to-end LSTM, ICASSP 2018), d_u (``d_u`` 128), and the raw audio
is not normalised (the paper says nothing; amplitude carries arousal).
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from sertk import ConfigError, FeatureInfo, LabelSpace, Model
from sertk.nn import RecurrentEncoder, frame_mask, input_of, masked_mean, target_head

from .fusion import DisentangledAttention
from .paralinguistic import Paralinguistic
from .semantic import MODES, SemanticStream


class TzirakisFusion(Model):
    """Paralinguistic CNN + semantic word embeddings, concatenated or fused by disentangled
    attention, one LSTM layer (Tzirakis et al., ICASSP 2021, §3, Table 1, eqs. 4–8).

    ``semantic``: ``none``, ``word2vec`` (a Word2Vec table looked up by the word hashes;
    text at test time), ``speech2vec`` (Speech2Vec on the words' MFCCs) or ``aligned``
    (Speech2Vec mapped into the Word2Vec space); ``paralinguistic``: use the raw-audio CNN;
    ``fusion``: ``concat`` or ``attention`` (needs both streams); ``channels``: the CNN's three
    widths (Table 1: 50, 125, 125); ``level``: ``frame``
    (contours) or ``utterance`` (labels, e.g. categorical emotion).  Reads the features
    ``audio`` (raw waveform; also the frame clock), ``words`` (``word_spans``) and ``mfcc``
    (13 MFCCs every 10 ms, for Speech2Vec).  ``vocabulary`` rows of ``word_dim`` and a
    Speech2Vec of ``speech_dim`` are filled by the ``tzirakis_semantic`` strategy; word
    segments are cut to ``word_frames`` MFCC frames.  Sub-networks: ``paralinguistic``,
    ``semantic`` (frozen), ``fusion``, ``encoder``, ``outputs``.
    """

    name = "tzirakis_fusion"
    summary = "paralinguistic CNN + (aligned) semantic embeddings, attention fusion, LSTM (Tzirakis et al. 2021)"

    def __init__(self, inputs: dict[str, FeatureInfo], labels: LabelSpace, targets: Optional[list[str]] = None,
                 level: str = "frame", semantic: str = "aligned", paralinguistic: bool = True,
                 fusion: str = "attention", channels: list[int] = [50, 125, 125], d_u: int = 128, hidden: int = 256,
                 dropout: float = 0.5, lstm_dropout: float = 0.5, projections: int = 3, vocabulary: int = 5000,
                 word_dim: int = 100,                 speech_dim: int = 100, word_frames: int = 100, audio: str = "raw", words: str = "word_spans",
                 mfcc: str = "mfcc"):
        super().__init__()
        for key, value, allowed in (("semantic", semantic, MODES), ("fusion", fusion, ("concat", "attention")),
                                    ("level", level, ("frame", "utterance"))):
            if value not in allowed:
                raise ConfigError(f"model.params.{key}", f"must be one of {', '.join(allowed)}, got {value!r}")
        if semantic == "none" and not paralinguistic:
            raise ConfigError("model.params.semantic", "with paralinguistic: false the model needs a semantic "
                                                       "stream (word2vec, speech2vec or aligned)")
        if fusion == "attention" and (semantic == "none" or not paralinguistic):
            raise ConfigError("model.params.fusion", "attention fuses two streams; use fusion: concat for one")
        for key, value in (("dropout", dropout), ("lstm_dropout", lstm_dropout)):
            if not 0 <= value < 1:
                raise ConfigError(f"model.params.{key}", f"must be in [0, 1), got {value}")
        clock = input_of(inputs, audio, self.name, "frame", param="audio")
        if clock.dim != 1 or not clock.frame_rate:
            raise ConfigError("model.params.audio", f"must name the raw waveform feature (samples, 1); "
                                                    f"{clock.key!r} has dim {clock.dim}")
        self.audio, self.words_key, self.mfcc_key, self.level = clock.key, words, mfcc, level
        try:
            cnn = Paralinguistic(channels)
        except ValueError as error:
            raise ConfigError("model.params.channels", str(error)) from None
        self.hop, self.rate = cnn.hop, clock.frame_rate / cnn.hop
        self.paralinguistic = cnn if paralinguistic else None
        self.semantic = None
        if semantic != "none":
            input_of(inputs, words, self.name, "frame", param="words")
            n_mfcc, mfcc_rate = 0, 0.0
            if semantic in ("speech2vec", "aligned"):
                info = input_of(inputs, mfcc, self.name, "frame", param="mfcc")
                n_mfcc, mfcc_rate = info.dim, info.frame_rate
            self.semantic = SemanticStream(semantic, vocabulary, word_dim, speech_dim, n_mfcc, mfcc_rate, word_frames)
        sizes = [s.output_size for s in (self.paralinguistic, self.semantic) if s is not None]
        self.fusion = DisentangledAttention(*sizes, d_u, projections) if fusion == "attention" else None
        width = self.fusion.output_size if self.fusion is not None else sum(sizes)
        self.dropout, self.lstm_dropout = nn.Dropout(dropout), nn.Dropout(lstm_dropout)
        self.encoder = RecurrentEncoder(width, hidden, layers=1, bidirectional=False, cell="lstm")
        rate = self.rate if level == "frame" else None
        self.heads = [target_head(labels, t, self.name, level=level, rate=rate) for t in (targets or [None])]
        self.outputs = nn.ModuleList(nn.Linear(hidden, max(len(h.classes), 1) if h.kind == "classification" else 1)
                                     for h in self.heads)

    def forward(self, inputs, lengths=None):
        lengths = lengths or {}
        signal = inputs[self.audio][..., 0]
        n = lengths.get(self.audio)
        n = torch.full((signal.shape[0],), signal.shape[1], device=signal.device) if n is None else n.to(signal.device)
        steps = -(-signal.shape[1] // self.hop)
        valid = torch.div(n + self.hop - 1, self.hop, rounding_mode="floor").clamp(1, steps)
        streams = []
        if self.paralinguistic is not None:
            streams.append(self.paralinguistic(signal, n))
        if self.semantic is not None:
            spans = inputs[self.words_key]
            semantic = self.semantic(spans, lengths.get(self.words_key, torch.full(spans.shape[:1], spans.shape[1])),
                                     steps, self.rate, inputs.get(self.mfcc_key), lengths.get(self.mfcc_key))
            streams.append(semantic * frame_mask(valid, steps, device=signal.device).unsqueeze(-1))
        fused = self.fusion(*streams) if self.fusion is not None else torch.cat(streams, dim=-1)
        hidden = self.lstm_dropout(self.encoder(self.dropout(fused), valid))
        if self.level == "utterance":
            hidden = masked_mean(hidden, valid)
        return {h.name: (layer(hidden) if h.kind == "classification" else layer(hidden).squeeze(-1))
                for h, layer in zip(self.heads, self.outputs)}

    def training_step(self, batch, losses, step):
        """Eq. 8: the mean (not the sum) of the heads' losses, e.g. of 1 − CCC over arousal,
        valence and liking."""
        per_head = self.head_losses(self(batch.inputs, batch.lengths), batch, losses)
        step(sum(per_head.values()) / len(per_head))
        return {k: float(v.detach()) for k, v in per_head.items()}

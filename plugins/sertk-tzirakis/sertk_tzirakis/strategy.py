"""The training pipeline of Tzirakis et al., ICASSP 2021, §3.1 and §5: the semantic
extractor is built first, on the fold's training part only, then frozen inside the
emotion model, which is trained with the recipe's settings.

Per fold: Word2Vec on the training transcripts (or a text file, ``text``; the authors
used the German Spoken Wikipedia Corpus); Speech2Vec on the training word segments (the
MFCC frames inside each word's span); the map of Speech2Vec into the Word2Vec space
(adversarial, then Procrustes refinement; eqs. 1–3); these go into the model from
``session.new_model()`` as frozen buffers and sub-network, and ``session.fit`` trains the
rest.  Only the parts the model's ``semantic`` mode needs are built.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from sertk import SertkError, Strategy


def _given(**values: Any) -> dict[str, Any]:
    """The keyword arguments that are not None (None: the function's own default)."""
    return {k: v for k, v in values.items() if v is not None}


class SemanticPretraining(Strategy):
    """Word2Vec, Speech2Vec and their alignment on the fold's training part, frozen into
    a ``tzirakis_fusion`` model, then supervised training (Tzirakis et al., ICASSP 2021,
    §3.1, §5).  ``text``: a UTF-8 file, one sentence per line, for Word2Vec instead of the
    training transcripts.  The other params override the defaults of
    ``train_word2vec`` (``word2vec_epochs``, ``min_count``), ``train_speech2vec``
    (``speech2vec_epochs``) and ``align`` (``align_k``, the k most frequent words of the
    Procrustes refinement; ``align_steps`` and ``align_hidden``, the adversarial training's
    steps and discriminator width); None keeps them."""

    name = "tzirakis_semantic"
    summary = ("train Word2Vec, Speech2Vec and their alignment per fold, freeze them, train the model "
               "(Tzirakis et al. 2021, §3.1)")

    def __init__(self, text: Optional[str] = None, word2vec_epochs: Optional[int] = None,
                 min_count: Optional[int] = None, speech2vec_epochs: Optional[int] = None,
                 align_k: Optional[int] = None, align_steps: Optional[int] = None,
                 align_hidden: Optional[int] = None):
        self.text = text
        self.word2vec = _given(epochs=word2vec_epochs, min_count=min_count)
        self.speech2vec = _given(epochs=speech2vec_epochs)
        self.alignment = _given(k=align_k, steps=align_steps, hidden=align_hidden)

    def fit(self, session):
        from .model import TzirakisFusion

        model = session.new_model()
        if not isinstance(model, TzirakisFusion):
            raise SertkError(f"tzirakis_semantic trains a tzirakis_fusion model; the recipe's model is "
                             f"{type(model).__name__}")
        if model.semantic is not None:
            self._build(session, model, model.semantic)
        session.fit(model)
        return model

    def _build(self, session, model, stream) -> None:
        """Train what ``stream`` needs and write it in; logs what was built."""
        from .word2vec import read_sentences

        seed = session.config.seed
        report: dict[str, Any] = {}
        written = None
        if stream.mode in ("word2vec", "aligned"):
            from .word2vec import train_word2vec

            sentences = read_sentences(self.text) if self.text else transcripts(session)
            written = train_word2vec(sentences, dim=stream.word_dim, seed=seed, **self.word2vec)
            report["word2vec_vocabulary"] = len(written.words)
            if stream.mode == "word2vec":
                report["table_rows"] = stream.install_words(written.words, written.vectors)
        if stream.mode in ("speech2vec", "aligned"):
            from .speech2vec import train_speech2vec, type_vectors

            segments, tokens = word_segments(session, model)
            if not segments:
                raise SertkError("tzirakis_semantic: the training part has no timed words (the corpus gives "
                                 "Utterance.words; SEWA: transcriptions or a words pattern)")
            trained = train_speech2vec(segments, dim=stream.speech_dim, seed=seed, max_frames=stream.word_frames,
                                       **self.speech2vec)
            stream.install_speech2vec(trained)
            report["speech2vec_instances"] = sum(len(s) for s in segments)
            if stream.mode == "aligned":
                from .alignment import align, translation_accuracy

                spoken = type_vectors(trained, segments, tokens, max_frames=stream.word_frames)
                mapping = align(spoken, written, seed=seed, **self.alignment)
                stream.install_mapping(mapping)
                report["translation_p@1"] = translation_accuracy(mapping, spoken, written)
        facts = ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in report.items())
        session.progress.log(f"tzirakis_semantic {session.fold.name}: {facts}")


def training_utterances(session) -> list:
    """The utterances of the fold's training segments, in order, once each."""
    segments, utterances = session.data.extracted.segments, session.data.utterances
    return [utterances[i] for i in dict.fromkeys(segments[s].utt_index for s in session.train.segments)]


def transcripts(session) -> list[list[str]]:
    """Tokenised transcripts (or word texts) of the training utterances, one sentence each."""
    from .word2vec import tokenize

    texts = [u.transcript or " ".join(w.text for w in u.words) for u in training_utterances(session)]
    return [words for words in map(tokenize, texts) if words]


def word_segments(session, model) -> tuple[list[list[np.ndarray]], list[list[str]]]:
    """Per training segment, the MFCC frames of each timed word (as the model cuts them) and
    its token; segments without words are left out."""
    import torch

    from .semantic import frame_bounds
    from .word2vec import tokenize
    from .words import word_hash

    names = {word_hash(t): t for u in training_utterances(session) for w in u.words for t in tokenize(w.text)}
    arrays = session.arrays(session.train)
    stream = model.semantic
    segments, tokens = [], []
    for spans, mfcc in zip(arrays[model.words_key], arrays[model.mfcc_key]):
        spans = torch.as_tensor(spans)
        first, count = frame_bounds(spans[:, 0], spans[:, 1], stream.mfcc_rate, torch.tensor(len(mfcc)),
                                    stream.word_frames)
        keep = [i for i in range(len(spans)) if count[i] > 0]
        if keep:
            segments.append([mfcc[int(first[i]):int(first[i] + count[i])] for i in keep])
            tokens.append([names[int(spans[i, 2])] for i in keep])
    return segments, tokens

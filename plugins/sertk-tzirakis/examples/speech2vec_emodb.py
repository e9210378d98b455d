"""Speech2Vec on the real EmoDB word segments, scored by same-word retrieval across speakers.

Every spoken word of EmoDB (word times from the corpus's syllable labels, as sertk's
``emodb`` corpus fills ``Utterance.words``; words cut off by a shortened copy's audio
are left out) becomes 13 MFCCs every 10 ms over 25-ms windows at 16 kHz.  Speech2Vec
is trained on them skip-gram style (Chung & Glass 2018), then every instance is a query
against the instances of the *other* speakers: precision@1 is the share of queries whose
nearest candidate (cosine) is the same word, mean average precision ranks all candidates.
Chance is the share of same-word candidates (P@1) and a random ranking (MAP).  Baselines:
the mean MFCC frame of the segment (z-scored with the corpus statistics, as Speech2Vec's
input is) and the untrained encoder (the same initial weights).

    OMP_NUM_THREADS=1 .venv/bin/python plugins/sertk-tzirakis/examples/speech2vec_emodb.py --epochs 16
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

RATE, WIN, HOP = 16000, 400, 160          # 25-ms windows every 10 ms at 16 kHz
EMODB = Path(__file__).resolve().parents[3].parent / "shared" / "corpora" / "emodb"


def corpus_utterances(root: str):
    """EmoDB's utterances through the plugin registry (docs/architecture.md, 'Plugin loading')."""
    from sertk.plugins import load_plugins
    from sertk.registry import Registry

    registry = Registry.from_plugins(load_plugins())
    return registry.build("corpora", {"name": "emodb", "params": {"root": root}}).utterances()


def word_segments(utterances):
    """Per utterance its words' MFCC arrays (frames, 13), their texts and the speaker; a frame
    belongs to a word when its centre lies inside the word."""
    import librosa

    from sertk import load_audio

    out = []
    for utt in utterances:
        signal, _ = load_audio(utt.path, RATE)
        mfcc = librosa.feature.mfcc(y=signal, sr=RATE, n_mfcc=13, n_fft=WIN, win_length=WIN, hop_length=HOP,
                                    center=False).T.astype(np.float32)
        centres = (np.arange(len(mfcc)) * HOP + WIN / 2) / RATE
        segments, texts = [], []
        for word in utt.words:
            if word.end > len(signal) / RATE:
                break                                   # cut off by the copy's shortened audio
            inside = (centres >= word.start) & (centres < word.end)
            if inside.sum() >= 3:
                segments.append(mfcc[inside])
                texts.append(word.text.lower())
        if segments:
            out.append((segments, texts, utt.speaker))
    return out


def retrieval(vectors: np.ndarray, words: np.ndarray, speakers: np.ndarray) -> tuple[float, float, float]:
    """(precision@1, mean average precision, chance P@1) of same-word retrieval among other speakers' instances."""
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    cos = unit @ unit.T
    hits, aps, chance = [], [], []
    for q in range(len(words)):
        candidates = np.flatnonzero(speakers != speakers[q])
        relevant = words[candidates] == words[q]
        if not relevant.any():
            continue
        ranked = relevant[np.argsort(-cos[q, candidates], kind="stable")]
        hits.append(ranked[0])
        found = np.cumsum(ranked)
        aps.append((found[ranked] / (np.flatnonzero(ranked) + 1)).mean())
        chance.append(relevant.mean())
    return float(np.mean(hits)), float(np.mean(aps)), float(np.mean(chance))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(EMODB))
    parser.add_argument("--epochs", type=int, default=16)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import torch

    from sertk_tzirakis.speech2vec import Speech2Vec, embed, train_speech2vec

    torch.set_num_threads(1)
    start = time.time()
    data = word_segments(corpus_utterances(args.root))
    utterances = [segments for segments, _, _ in data]
    words = np.array([t for _, texts, _ in data for t in texts])
    speakers = np.array([s for segments, _, s in data for _ in segments])
    segments = [s for u in utterances for s in u]
    print(f"{len(data)} utterances, {len(segments)} word instances of {len(set(words))} words, "
          f"{len(set(speakers))} speakers; features in {time.time() - start:.0f} s", flush=True)

    trained = time.time()
    model = train_speech2vec(utterances, dim=args.dim, epochs=args.epochs, seed=args.seed,
                             progress=lambda e, loss: print(f"  epoch {e}: loss {loss:.4f} "
                                                            f"({time.time() - trained:.0f} s)", flush=True))
    torch.manual_seed(args.seed)
    untrained = Speech2Vec(model.n_input, model.dim)
    untrained.load_state_dict({k: v for k, v in model.state_dict().items() if k in ("mean", "std")}, strict=False)
    frames = np.concatenate(segments)
    mean, std = frames.mean(0), frames.std(0)
    pooled = np.stack([((s - mean) / std).mean(0) for s in segments])
    rng = np.random.default_rng(args.seed)
    rows = [("Speech2Vec", embed(model, segments, max_frames=100)),
            ("untrained encoder", embed(untrained, segments, max_frames=100)),
            ("mean MFCC", pooled), ("random ranking", rng.normal(size=(len(segments), 8)))]
    print(f"{'embedding':<18} {'P@1':>6} {'MAP':>6}   (queries: every instance; candidates: other speakers)")
    for name, vectors in rows:
        p1, ap, chance = retrieval(vectors, words, speakers)
        print(f"{name:<18} {p1:6.3f} {ap:6.3f}")
    print(f"chance P@1 {chance:.3f}; total {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()

"""Feature extraction with a cold versus a warm feature cache.

Extracts MFCC + Δ and log-mel features from generated 3-s utterances twice
into a fresh cache and prints the measured times and their ratio (a warm run
decodes no audio: the cache's index knows each unchanged file).  Run on demand:

    python benchmarks/bench_feature_cache.py [--utterances 40] [--workers 1]
"""
import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from sertk.builtins.features import MFCC, LogMel
from sertk.data.cache import FeatureCache
from sertk.data.extract import extract_features
from sertk.data.segment import SegmentPolicy
from sertk.interfaces import Utterance

RATE = 16000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=40)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    features = [("mfcc", MFCC(deltas=1)), ("logmel", LogMel())]
    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(0)
        utts = []
        for i in range(args.utterances):
            path = Path(tmp) / f"u{i}.wav"
            sf.write(path, 0.1 * rng.standard_normal(3 * RATE), RATE)
            utts.append(Utterance(f"u{i}", "s", path=str(path)))
        features[0][1](np.zeros(RATE, np.float32), RATE)  # librosa's one-off compilation is not the cache's cost
        cache = FeatureCache(Path(tmp) / "cache")
        times = []
        for _ in range(2):
            start = time.perf_counter()
            extract_features(utts, features, RATE, SegmentPolicy(), cache, workers=args.workers)
            times.append(time.perf_counter() - start)
    cold, warm = times
    print(f"{args.utterances} utterances x 3 s, mfcc+logmel, workers={args.workers}: "
          f"cold {cold:.2f} s, warm {warm:.2f} s, ratio cold/warm {cold / warm:.1f}x")


if __name__ == "__main__":
    main()

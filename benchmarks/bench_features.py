"""Feature throughput: sertk's MFCC / log-mel / spectrogram against a plain librosa
loop on the same signals, and openSMILE eGeMAPS extraction with 1 versus 2 workers.

Prints × real time (seconds of audio per second of wall time) and CPU seconds for
each, and their ratios, all measured in one run.  Run on demand:

    python benchmarks/bench_features.py [--utterances 80] [--seconds 3]
"""
import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from sertk.builtins.features import MFCC, LogMel, OpenSmile, Spectrogram
from sertk.data.cache import FeatureCache
from sertk.data.extract import extract_features
from sertk.data.segment import SegmentPolicy
from sertk.interfaces import Utterance

RATE = 16000


def _librosa(name: str):
    """The same features as a plain per-file librosa pipeline."""
    import librosa

    def db(power):
        return librosa.power_to_db(power, ref=1.0, amin=1e-10, top_db=None)

    return {
        "mfcc": lambda y: librosa.feature.mfcc(S=db(librosa.feature.melspectrogram(
            y=y, sr=RATE, n_fft=512, hop_length=160, win_length=400, n_mels=40)), n_mfcc=13),
        "logmel": lambda y: db(librosa.feature.melspectrogram(y=y, sr=RATE, n_fft=2048, hop_length=512, n_mels=128)),
        "spectrogram": lambda y: db(np.abs(librosa.stft(y, n_fft=512, hop_length=160)) ** 2),
    }[name]


def _timed(run) -> tuple[float, float]:
    """(wall, CPU of this process and its finished children) seconds of ``run()``."""
    def cpu():
        return sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
                   for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))

    wall, used = time.perf_counter(), cpu()
    run()
    return time.perf_counter() - wall, cpu() - used


def _signals(count: int, seconds: float) -> list[np.ndarray]:
    """Speech-like utterances: a gliding harmonic tone with a syllable envelope and noise."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * RATE)) / RATE
    out = []
    for _ in range(count):
        f0 = rng.uniform(90, 250)
        voiced = sum(np.sin(2 * np.pi * h * f0 * (t + 0.02 * np.sin(2 * np.pi * 3 * t))) / h for h in range(1, 8))
        out.append((0.2 * voiced * np.abs(np.sin(2 * np.pi * rng.uniform(1.5, 4) * t))
                    + 0.01 * rng.standard_normal(len(t))).astype(np.float32))
    return out


def frame_features(signals: list[np.ndarray], audio: float) -> None:
    for name, feature in [("mfcc", MFCC()), ("logmel", LogMel()), ("spectrogram", Spectrogram())]:
        rates = []
        for compute in (lambda y: feature(y, RATE), _librosa(name)):
            compute(signals[0])  # one-off imports and JIT compilation are not throughput
            wall, cpu = _timed(lambda: [compute(y) for y in signals])
            rates.append(audio / wall)
            print(f"  {name:<12} {'sertk' if len(rates) == 1 else 'librosa':<8} {audio / wall:8.0f}x real time "
                  f"({wall:.2f} s wall, {cpu:.2f} s CPU)")
        print(f"  {name:<12} sertk / librosa: {rates[0] / rates[1]:.2f}x")


def fresh_process() -> None:
    """Seconds for a new process to import and make its first MFCC (what each spawned worker pays)."""
    zeros = "np.zeros(16000, np.float32)"
    for name, code in [("sertk", f"from sertk.builtins.features import MFCC; MFCC()({zeros}, 16000)"),
                       ("librosa", f"import librosa; librosa.feature.mfcc(y={zeros}, sr=16000)")]:
        wall, cpu = _timed(lambda: subprocess.run([sys.executable, "-c", f"import numpy as np; {code}"], check=True))
        print(f"  first mfcc in a fresh process, {name:<8} {wall:.2f} s wall, {cpu:.2f} s CPU")


def workers(signals: list[np.ndarray], audio: float, label: str, features: list) -> None:
    """Cold-cache extraction of ``features`` from wav files with 1 and then 2 worker processes."""
    with tempfile.TemporaryDirectory() as tmp:
        utts = []
        for i, y in enumerate(signals):
            sf.write(Path(tmp) / f"u{i}.wav", y, RATE)
            utts.append(Utterance(f"u{i}", "s", path=str(Path(tmp) / f"u{i}.wav")))
        walls = []
        for n in (1, 2):
            cache = FeatureCache(Path(tmp) / f"cache{n}")
            wall, cpu = _timed(lambda: extract_features(utts, features, RATE, SegmentPolicy(), cache, workers=n))
            walls.append(wall)
            print(f"  {label} workers={n}: {audio / wall:6.0f}x real time ({wall:.2f} s wall, {cpu:.2f} s CPU incl. "
                  f"workers)")
        print(f"  {label} speed-up 2 vs 1 workers: {walls[0] / walls[1]:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=80)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    signals = _signals(args.utterances, args.seconds)
    audio = args.utterances * args.seconds
    print(f"{args.utterances} utterances x {args.seconds:g} s at {RATE} Hz, one process:")
    frame_features(signals, audio)
    fresh_process()
    print("through sertk.data.extract.extract_features (cold cache, files decoded):")
    workers(signals, audio, "mfcc+logmel", [("mfcc", MFCC()), ("logmel", LogMel())])
    workers(signals, audio, "opensmile eGeMAPS", [("egemaps", OpenSmile())])


if __name__ == "__main__":
    main()

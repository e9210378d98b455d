"""Wall time and peak memory of ``sertk predict`` on a long recording versus a short one.

Trains a small run (MFCC pooled into an MLP, leave-one-speaker-out over 3 generated
speakers of two tone 'emotions'), exports it as a bundle, writes a ``--minutes``-minute
recording (alternating 20-s tones, 16 kHz mono, written block by block) and a 1-minute
one into a temporary folder, then runs ``sertk predict BUNDLE FILE --out p.csv`` on each
in a child process (default window 10 s, hop 5 s).  Prints wall time, peak RSS, their
ratios and the number of windows written.  Run on demand:

    python benchmarks/bench_predict_long.py [--minutes 30] [--window 10] [--hop 5]
"""
import argparse
import csv
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import yaml

RATE = 16000


def tones(path: Path, seconds: float, block: float = 20.0) -> Path:
    rng = np.random.default_rng(0)
    with sf.SoundFile(path, "w", RATE, 1, "PCM_16") as f:
        for k, start in enumerate(np.arange(0, seconds, block)):
            t = np.arange(int(min(block, seconds - start) * RATE)) / RATE
            freq = 150.0 if k % 2 == 0 else 400.0
            f.write((0.3 * np.sin(2 * np.pi * freq * t) + rng.normal(0, 0.02, len(t))).astype(np.float32))
    return path


def small_run(root: Path) -> Path:
    rows = ["path,speaker,emotion"]
    for s in range(3):
        for label, freq in (("low", 150.0), ("high", 400.0)):
            for k in range(4):
                name = f"wav/{s}_{label}_{k}.wav"
                (root / "corpus" / "wav").mkdir(parents=True, exist_ok=True)
                t = np.arange(int(0.5 * RATE)) / RATE
                sf.write(root / "corpus" / name, (0.3 * np.sin(2 * np.pi * freq * (1 + 0.03 * k) * t)).astype(np.float32),
                         RATE)
                rows.append(f"{name},s{s},{label}")
    (root / "corpus" / "manifest.csv").write_text("\n".join(rows) + "\n")
    recipe = {"corpus": {"name": "manifest", "params": {"root": str(root / "corpus")}},
              "data": {"cache_dir": str(root / "cache")},
              "features": [{"name": "mfcc", "params": {"n_mfcc": 13}}],
              "model": {"name": "mlp", "params": {"hidden": [16]}},
              "train": {"epochs": 10, "threads": 1}, "protocol": "loso", "metrics": ["ua"],
              "output": {"dir": str(root / "runs")}}
    (root / "recipe.yaml").write_text(yaml.safe_dump(recipe))
    subprocess.run([sys.executable, "-m", "sertk.cli", "run", str(root / "recipe.yaml")], check=True,
                   capture_output=True)
    run = next((root / "runs").iterdir())
    subprocess.run([sys.executable, "-m", "sertk.cli", "export", str(run), "--out", str(root / "bundle")],
                   check=True, capture_output=True)
    return root / "bundle"


def predict(bundle: Path, audio: Path, out: Path, extra: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of ``sertk predict`` in a fresh process."""
    code = ("import resource, sys\nfrom sertk.cli import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code, "predict", str(bundle), str(audio), "--out", str(out), *extra],
                          capture_output=True, text=True, check=True)
    return time.monotonic() - started, int(done.stderr.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--window", type=float, default=None)
    parser.add_argument("--hop", type=float, default=None)
    args = parser.parse_args()
    extra = [*(["--window", str(args.window)] if args.window else []), *(["--hop", str(args.hop)] if args.hop else [])]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bundle = small_run(root)
        figures = {}
        for name, minutes in (("1 min", 1.0), (f"{args.minutes:g} min", args.minutes)):
            audio = tones(root / f"{minutes:g}min.wav", minutes * 60)
            out = root / f"p{minutes:g}.csv"
            seconds, rss = predict(bundle, audio, out, extra)
            with open(out.with_name(f"{out.stem}_windows.csv")) as f:
                windows = sum(1 for _ in csv.DictReader(f))
            figures[name] = (seconds, rss, windows)
            print(f"{name:>8}: {windows:5d} windows, wall {seconds:6.1f} s, peak RSS {rss:6.0f} MB")
        (s1, r1, _), (s2, r2, _) = figures.values()
        print(f"ratio {args.minutes:g} min / 1 min: wall {s2 / s1:.1f}x, peak RSS {r2 / r1:.2f}x "
              f"(audio {args.minutes:g}x longer)")


if __name__ == "__main__":
    main()

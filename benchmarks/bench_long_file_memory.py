"""Peak memory of a run with one very long recording among short ones.

Runs the same small recipe (MFCC + Δ pooled into an MLP, leave-one-speaker-out over
3 generated speakers, ``segment: whole``, batch 16) in child processes: on 24
utterances of 2 s; on the same 24 plus one recording of ``--minutes`` minutes; and
that again with the padding bound switched off.  Batches are cut so that
zero-padding stays within 8 × batch size × the median segment
(``sertk.data.batching.BoundedBatches``): the long file is batched alone instead of
padding 15 others to its length.  Prints the three peak RSS figures and their
ratios.  Run on demand:

    python benchmarks/bench_long_file_memory.py [--minutes 10]
"""
import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import yaml

RATE = 16000


def write_corpus(root: Path, minutes: float) -> None:
    rng = np.random.default_rng(0)
    rows = ["path,speaker,emotion"]
    for s in range(3):
        for k in range(8):
            label, freq = ("low", 150.0) if k % 2 else ("high", 400.0)
            t = np.arange(2 * RATE) / RATE
            sf.write(root / f"{s}_{k}.wav", 0.3 * np.sin(2 * np.pi * freq * t) + 0.02 * rng.standard_normal(len(t)),
                     RATE)
            rows.append(f"{s}_{k}.wav,s{s},{label}")
    if minutes:
        sf.write(root / "long.wav", 0.1 * rng.standard_normal(int(minutes * 60 * RATE)), RATE)
        rows.append("long.wav,s0,low")
    (root / "manifest.csv").write_text("\n".join(rows) + "\n")


def peak_rss_mb(folder: Path, minutes: float, bounded: bool = True) -> float:
    corpus = folder / "corpus"
    corpus.mkdir(parents=True)
    write_corpus(corpus, minutes)
    recipe = {"corpus": {"name": "manifest", "params": {"root": str(corpus)}},
              "data": {"segment": {"policy": "whole"}, "cache_dir": str(folder / "cache")},
              "features": [{"name": "mfcc", "params": {"n_mfcc": 20, "deltas": 1}}],
              "model": {"name": "mlp", "params": {"hidden": [64]}},
              "train": {"epochs": 2, "batch_size": 16, "threads": 1, "validation": {"policy": "none"},
                        "select": "last"},
              "protocol": "loso", "metrics": ["ua"], "output": {"dir": str(folder / "runs")}}
    (folder / "recipe.yaml").write_text(yaml.safe_dump(recipe))
    bound = "8" if bounded else "float('inf')"
    code = ("import resource, sys; from sertk.cli import main; import sertk.data.batching as b\n"
            f"b.PADDING_BOUND = {bound}\n"
            "try:\n    main([sys.argv[1], sys.argv[2]])\nexcept SystemExit:\n    pass\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code, "run", str(folder / "recipe.yaml")], capture_output=True,
                         text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        short = peak_rss_mb(Path(tmp) / "short", 0)
        long = peak_rss_mb(Path(tmp) / "long", args.minutes)
        unbounded = peak_rss_mb(Path(tmp) / "unbounded", args.minutes, bounded=False)
    print(f"peak RSS: 24 x 2 s {short:.0f} MB; with one {args.minutes:g}-min recording {long:.0f} MB "
          f"({long / short:.2f}x); the same without the padding bound {unbounded:.0f} MB ({unbounded / short:.2f}x)")


if __name__ == "__main__":
    main()

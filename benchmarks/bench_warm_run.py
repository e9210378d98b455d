"""Wall time of a cold versus a warm run of the EmoDB ComParE + linear SVM recipe.

Runs ``sertk run recipes/emodb_compare_svm.yaml`` into a fresh temporary feature
cache: once to fill it (cold), five times reading it (warm), and five times more warm with
one fold at a time (``--jobs 1``; the recipe trains two at once).  Prints the cold and the
median warm wall times, their ratio, the speed-up of parallel folds and the pooled UA of
every run (one value when they all agree).  Needs EmoDB at
``../shared/corpora/emodb`` (skipped otherwise).  Run on demand:

    python benchmarks/bench_warm_run.py
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "recipes" / "emodb_compare_svm.yaml"
CORPUS = ROOT.parent / "shared" / "corpora" / "emodb"
WARM_RUNS = 5


def timed_run(out: Path, cache: Path, *extra: str) -> tuple[float, float]:
    """Wall seconds of one ``sertk run`` and its pooled UA."""
    before = set(out.iterdir()) if out.is_dir() else set()
    command = [str(Path(sys.executable).with_name("sertk")), "run", str(RECIPE), "--out", str(out),
               "--set", f"data.cache_dir={cache}", "--set", f"corpus.params.root={CORPUS}", *extra]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"sertk run failed:\n{done.stderr[-3000:]}")
    run_dir, = set(out.iterdir()) - before
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return wall, metrics["heads"]["emotion"]["pooled"]["ua"]


def main() -> None:
    if not CORPUS.is_dir():
        print(f"skipped: EmoDB not found at {CORPUS}")
        return
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    with tempfile.TemporaryDirectory() as tmp:
        runs, cache = Path(tmp) / "runs", Path(tmp) / "cache"
        cold, cold_ua = timed_run(runs, cache)
        warm = [timed_run(runs, cache) for _ in range(WARM_RUNS)]
        one = [timed_run(runs, cache, "--jobs", "1") for _ in range(WARM_RUNS)]
    warm_s, one_s = (statistics.median(seconds for seconds, _ in r) for r in (warm, one))
    uas = sorted({f"{ua:.3f}" for _, ua in [(cold, cold_ua), *warm, *one]})
    print(f"EmoDB ComParE + linear SVM, LOSO: cold {cold:.1f} s, warm {warm_s:.1f} s (median of {WARM_RUNS}: "
          f"{', '.join(f'{w:.1f}' for w, _ in warm)}), warm/cold {warm_s / cold:.2f}; warm with one fold at a "
          f"time {one_s:.1f} s (median of {WARM_RUNS}), 2 vs 1 jobs {one_s / warm_s:.2f}x; UA {', '.join(uas)}")


if __name__ == "__main__":
    main()

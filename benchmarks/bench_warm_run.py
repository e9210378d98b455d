"""Wall time of a cold versus a warm run of the EmoDB ComParE + linear SVM recipe.

Runs ``sertk run recipes/emodb_compare_svm.yaml`` twice into a fresh temporary
feature cache (the first run fills it, the second reads it) and prints both wall
times, their ratio and each run's pooled UA; then a third, warm run with one fold at
a time (``--jobs 1``; the recipe trains two at once) for the speed-up of parallel folds.  Needs EmoDB at
``../shared/corpora/emodb`` (skipped otherwise).  Run on demand:

    python benchmarks/bench_warm_run.py
"""
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "recipes" / "emodb_compare_svm.yaml"
CORPUS = ROOT.parent / "shared" / "corpora" / "emodb"


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
        (cold, cold_ua), (warm, warm_ua) = (timed_run(Path(tmp) / "runs", Path(tmp) / "cache") for _ in range(2))
        one, one_ua = timed_run(Path(tmp) / "runs", Path(tmp) / "cache", "--jobs", "1")
    print(f"EmoDB ComParE + linear SVM, LOSO: cold {cold:.1f} s (UA {cold_ua:.3f}), "
          f"warm {warm:.1f} s (UA {warm_ua:.3f}), warm/cold {warm / cold:.2f}; "
          f"warm with one fold at a time {one:.1f} s (UA {one_ua:.3f}), 2 vs 1 jobs {one / warm:.2f}x")


if __name__ == "__main__":
    main()

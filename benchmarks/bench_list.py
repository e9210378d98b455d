"""`sertk list` wall time in a fresh process (median of 5) and whether it imported torch.

Run: ``python benchmarks/bench_list.py``. The target is 0.5 s; the ratio printed is
the median over that target, measured in this run.
"""
import os
import statistics
import subprocess
import sys
import time

RUNS = 5
TARGET_S = 0.5
CODE = """
import sys
from sertk.cli import main
try:
    main(["list"])
except SystemExit as exc:
    if exc.code:
        raise
print("torch" in sys.modules, file=sys.stderr)
"""


def run_once() -> tuple[float, bool]:
    start = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # cached bytecode, as installed
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True, env=env)
    return time.perf_counter() - start, done.stderr.strip().splitlines()[-1] == "True"


def main() -> None:
    run_once()  # writes the bytecode caches
    runs = [run_once() for _ in range(RUNS)]
    median = statistics.median(t for t, _ in runs)
    torch = any(imported for _, imported in runs)
    print(f"sertk list: median {median:.3f} s over {RUNS} fresh processes "
          f"({median / TARGET_S:.2f} x the {TARGET_S} s target); torch imported: {torch}")


if __name__ == "__main__":
    main()

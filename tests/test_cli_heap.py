"""The sertk executable keeps freed memory for reuse (glibc), unless the user tunes malloc."""
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")

PROBE = """
import os, sys
import numpy as np
from sertk.cli.heap import keep_freed_memory
applied = keep_freed_memory() if sys.argv[1] == "keep" else False
rss = lambda: int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
before = rss()
block = np.ones(64 << 20, np.uint8)
del block
print(applied, (rss() - before) >> 20)
"""


def probe(mode: str, **env: str) -> tuple[str, int]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", PROBE, mode], env={**clean, **env}, capture_output=True, text=True,
                         check=True).stdout.split()
    return out[0], int(out[1])


def test_freed_blocks_stay_with_the_process_for_reuse():
    applied, kept_mib = probe("keep")
    assert applied == "True" and kept_mib >= 60  # the 64 MiB block stays mapped for the next one


def test_by_default_a_freed_large_block_goes_back_to_the_system():
    assert probe("default")[1] < 8


def test_the_users_own_malloc_tuning_wins():
    applied, kept_mib = probe("keep", MALLOC_ARENA_MAX="2")
    assert applied == "False" and kept_mib < 8

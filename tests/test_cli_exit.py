"""The sertk executable ends at once after its exit handlers, with the command's status and
all of its output, and ends the usual way under a profiler."""
import subprocess
import sys
from pathlib import Path

import pytest

from sertk.cli import _exit_status

SERTK = Path(sys.executable).with_name("sertk")
pytestmark = pytest.mark.skipif(not SERTK.exists(), reason="the sertk executable is not installed here")


def test_output_and_status_of_a_finished_command_come_through():
    done = subprocess.run([str(SERTK), "list"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "linear_svm" in done.stdout and done.stdout.endswith("\n")


def test_a_user_error_keeps_exit_status_2_and_its_one_line(tmp_path):
    done = subprocess.run([str(SERTK), "validate", str(tmp_path / "missing.yaml")], capture_output=True, text=True)
    assert done.returncode == 2
    assert [line for line in done.stderr.splitlines() if line.startswith("error:")] == done.stderr.splitlines()[:1]


def test_exit_handlers_still_run(tmp_path):
    marker = tmp_path / "handled"
    code = ("import atexit, sys\n"
            f"atexit.register(lambda: open({str(marker)!r}, 'w').close())\n"
            "sys.argv = ['sertk', 'list']\n"
            "from sertk.cli import console\nconsole()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert marker.exists()


def test_under_a_profiler_the_process_ends_the_usual_way(tmp_path):
    stats = tmp_path / "list.prof"
    done = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(stats), "-m", "sertk.cli", "list"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert stats.stat().st_size > 0  # written when cProfile's run returns


@pytest.mark.parametrize("code, status", [(None, 0), (0, 0), (2, 2), (130, 130), ("stopped", 1)])
def test_exit_status_follows_sys_exit(code, status, capsys):
    assert _exit_status(code) == status
    assert capsys.readouterr().err == ("stopped\n" if code == "stopped" else "")

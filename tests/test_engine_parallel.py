"""Folds trained at once in forked processes (``train.jobs``, ``sertk run --jobs``)."""
import multiprocessing
import os

import numpy as np
import pytest

from sertk.engine.parallel import ForkedPool
from sertk.errors import SertkError
from tests.fakes.cli import invoke, manifest, recipe_file

SHARED = np.arange(1_000_000, dtype=np.float64)  # read by the workers through the fork, never pickled


def _sum_slice(i, log):
    log.log(f"task {i} ran in {os.getpid()}")
    return i, float(SHARED[i::7].sum()), os.getpid()


def test_every_task_runs_once_in_a_worker_with_its_log_lines():
    with ForkedPool(_sum_slice, jobs=2) as pool:
        results = list(pool.results(7))
    assert sorted(i for i, _, _ in results) == list(range(7))
    for i, (index, total, pid), lines in results:
        assert index == i and total == SHARED[i::7].sum()
        assert pid != os.getpid() and lines == [f"task {i} ran in {pid}"]
    assert not multiprocessing.active_children()


def _fail(kind):
    def work(i, log):
        if i == 1:
            if kind == "user":
                raise SertkError("fold two: the features are empty; fix the corpus")
            if kind == "bug":
                raise ValueError("a bug")
            if kind == "unpicklable":
                return lambda: None
            os._exit(9)
        return i
    return work


@pytest.mark.parametrize("kind, error, text", [
    ("user", SertkError, "fold two: the features are empty; fix the corpus"),
    ("bug", RuntimeError, "ValueError: a bug"),
    ("unpicklable", RuntimeError, "pickle"),
    ("killed", SertkError, "exit code 9"),
])
def test_a_failing_task_stops_the_pool_with_its_message(kind, error, text):
    with pytest.raises(error) as caught:
        with ForkedPool(_fail(kind), jobs=2) as pool:
            list(pool.results(4))
    assert text in str(caught.value)
    assert not multiprocessing.active_children()


@pytest.mark.parametrize("estimator", [True, False], ids=["linear_svm", "mlp"])
def test_two_jobs_give_the_one_process_results(tmp_path, estimator):
    """The same folds, seeds and one thread each: identical predictions and fold files."""
    corpus = manifest(tmp_path / "corpus")
    runs = {}
    for jobs in (1, 2):
        root = tmp_path / f"jobs{jobs}"
        root.mkdir()
        recipe = recipe_file(root, corpus, estimator, data={"cache_dir": str(tmp_path / "cache")},
                             output={"dir": str(root / "runs")})
        result = invoke("run", recipe, "--jobs", jobs)
        assert result.exit_code == 0, result.output
        assert result.output.count("fold s") >= 3  # a line per fold
        runs[jobs] = next((root / "runs").iterdir())
    assert (runs[1] / "predictions.csv").read_text() == (runs[2] / "predictions.csv").read_text()
    one, two = (sorted(p.relative_to(r) for p in r.rglob("*") if p.is_file()) for r in (runs[1], runs[2]))
    assert one == two and not (runs[2] / "UNFINISHED").exists()


def test_jobs_must_be_positive(tmp_path):
    recipe = recipe_file(tmp_path, manifest(tmp_path / "corpus"), train={"jobs": 0})
    result = invoke("validate", recipe)
    assert result.exit_code == 2 and "train.jobs" in result.output


def _write(path, text):
    path.write_text(text)


def _die():
    os._exit(7)


def _no_axes():
    raise ValueError("no axes")


def test_the_drawing_process_draws_the_figures_sent_to_it(tmp_path):
    from functools import partial

    from sertk.engine.parallel import Drawing

    with Drawing() as drawing:
        wait = drawing.draw([partial(_write, tmp_path / "a.txt", "a"), partial(_write, tmp_path / "b.txt", "b")])
        wait()
        assert (tmp_path / "a.txt").read_text() == "a" and (tmp_path / "b.txt").read_text() == "b"
        wait = drawing.draw([partial(_write, tmp_path / "c.txt", "c")])  # it serves one batch after another
        wait()
    assert (tmp_path / "c.txt").read_text() == "c"
    assert not multiprocessing.active_children()


@pytest.mark.parametrize("broken, error, text", [
    (_no_axes, RuntimeError, "no axes"),
    (_die, SertkError, "exit code 7"),
])
def test_a_failing_figure_is_an_error_never_a_hang(broken, error, text):
    from sertk.engine.parallel import Drawing

    with pytest.raises(error, match=text):
        with Drawing() as drawing:
            drawing.draw([broken])()
    assert not multiprocessing.active_children()


def test_a_run_from_the_command_line_never_imports_matplotlib_itself(tmp_path):
    """The figures are drawn in the drawing process forked at the start of ``sertk run``."""
    import subprocess
    import sys

    recipe = recipe_file(tmp_path, manifest(tmp_path / "corpus"), True, output={"dir": str(tmp_path / "runs")})
    probe = ("import sys\nfrom sertk.cli import main\n"
             "try:\n    main(['run', sys.argv[1]])\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
             "print('matplotlib' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe, str(recipe)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"
    run = next((tmp_path / "runs").iterdir())
    assert (run / "confusion.png").read_bytes()[:4] == b"\x89PNG" and (run / "fold_scores.png").is_file()

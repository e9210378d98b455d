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

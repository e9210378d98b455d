"""Parallel hyperparameter search on Ray Tune (``sertk tune --engine ray``).

Trials run at once on Ray workers (a local Ray started for ``workers`` CPUs, or
the cluster at ``address``), suggested by hyperopt's TPE
(:class:`ray.tune.search.hyperopt.HyperOptSearch` over the same space as the
sequential tuner) and stopped early by ASHA, which compares the trials'
per-epoch validation scores at rungs of ``grace · eta^k`` epochs.  A trial is a
full run of the recipe, as in :mod:`sertk.engine.tune`; its objective is the
mean best validation score over folds.  Outputs match the sequential tuner:
``best.yaml``, ``trials.json`` (with each trial's status and times) and the
trials' run folders.  Ray is imported only here.
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import itertools
import logging
import math
import os
import time
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

from ..errors import SertkError
from ..progress import Progress, Silent
from ..recipe import Recipe, parse_recipe
from ..registry import Registry
from .tune import TuneResult, _plain, search_space, with_values, write_outcome

INSTALL = "--engine ray needs Ray Tune: pip install sertk[distributed]"


class _EpochReports:
    """A silent :class:`~sertk.progress.Progress` that reports every epoch's validation
    score to Ray Tune (the trainer updates its fit task with ``loss`` and ``score``
    once per epoch); ASHA decides on these reports."""

    def __init__(self, report, fields: dict[str, Any]):
        self.report, self.fields = report, fields

    @contextlib.contextmanager
    def task(self, description: str, total: Optional[int]) -> Iterator["_EpochReports"]:
        yield self

    def advance(self, n: int = 1) -> None:
        pass

    def update(self, **fields) -> None:
        score = fields.get("score")
        if "loss" in fields and score is not None and math.isfinite(score):
            self.report({"score": float(score), "reported": time.time(), **self.fields})

    def log(self, message: str) -> None:
        pass


def _trial(config: dict, base: dict, source: Optional[str], space: dict, registry: Registry, plugins: Sequence,
           folder: str) -> None:
    """One trial on a Ray worker: run the recipe with the sampled values, reporting each epoch."""
    from ray import tune

    from .run import run_recipe

    started = time.time()
    values = _values(config, space)
    trial = parse_recipe(with_values(base, values), source, registry)
    name = tune.get_context().get_trial_name()
    trial.output = type(trial.output)(dir=str(Path(folder) / "trials"), name=name)
    trial.train = dataclasses.replace(trial.train, jobs=1)  # ASHA needs every epoch's score, which workers keep
    run_dir = str(Path(folder) / "trials" / name)
    result = run_recipe(trial, registry, plugins, _EpochReports(tune.report, {"started": started, "run_dir": run_dir}))
    if result.validation_score is None:
        raise SertkError("tuning needs a validation score: set train.validation (e.g. policy fraction) "
                         "and use a gradient-trained model")
    tune.report({"score": result.validation_score, "objective": result.validation_score, "reported": time.time(),
                 "started": started, "run_dir": str(result.dir)})


def tune_recipe_ray(recipe: Recipe, registry: Registry, plugins: Sequence = (), progress: Progress = Silent(),
                    trials: Optional[int] = None, out_dir: Optional[str] = None, workers: int = 2,
                    address: Optional[str] = None, grace: int = 1, eta: int = 3,
                    gpus_per_trial: float = 0.0) -> TuneResult:
    """Run the search with ``workers`` trials at a time; return the best configuration found."""
    try:
        import ray
        from ray import tune
        from ray.tune.schedulers import ASHAScheduler
        from ray.tune.search import ConcurrencyLimiter
        from ray.tune.search.hyperopt import HyperOptSearch
    except ImportError:
        raise SertkError(INSTALL) from None
    if workers < 1:
        raise SertkError(f"--workers must be at least 1, got {workers}")
    total = trials or recipe.tune.trials
    metric = recipe.tune.metric or recipe.train.early_stopping.metric or recipe.metrics[0]["name"]
    base = copy.deepcopy(recipe.raw)
    base.setdefault("train", {}).setdefault("early_stopping", {})["metric"] = metric
    space = search_space(recipe.tune.space)
    greater = registry.get("metrics", metric).greater_is_better and recipe.train.select != "loss"
    mode = "max" if greater else "min"
    folder = Path(out_dir or Path(recipe.output.dir) / f"{recipe.stem}-tune").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["RAY_CHDIR_TO_TRIAL_DIR"] = "0"  # trials resolve the recipe's relative paths like `sertk run`
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # with verbose=0: no status tables; sertk reports
    logging.getLogger("ray.tune").setLevel(logging.WARNING)
    started_here = not ray.is_initialized()
    if started_here:
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    progress.log(f"Ray Tune: {workers} trials at a time on {address or 'this machine'}; ASHA grace {grace} "
                 f"epoch(s), reduction factor {eta}")
    searcher = ConcurrencyLimiter(HyperOptSearch(space, metric="score", mode=mode, random_state_seed=recipe.tune.seed),
                                  max_concurrent=workers)
    scheduler = ASHAScheduler(time_attr="training_iteration", max_t=10_000, grace_period=grace, reduction_factor=eta)
    trainable = tune.with_parameters(_trial, base=base, source=recipe.source, space=recipe.tune.space,
                                     registry=registry, plugins=list(plugins), folder=str(folder))
    resources = {"cpu": recipe.train.threads or 1, "gpu": gpus_per_trial}
    tuner = tune.Tuner(tune.with_resources(trainable, resources),
                       tune_config=tune.TuneConfig(metric="score", mode=mode, search_alg=searcher, scheduler=scheduler,
                                                   num_samples=total, reuse_actors=True,
                                                   trial_name_creator=lambda _, n=itertools.count(): f"trial-{next(n):03d}"),
                       run_config=tune.RunConfig(name="ray", storage_path=str(folder), verbose=0))
    try:
        with progress.task("Tuning (Ray)", total=None):
            grid = tuner.fit()
    finally:
        if started_here:
            ray.shutdown()
    rows = [_row(result, recipe.tune.space) for result in grid]
    rows.sort(key=lambda r: r["run_dir"] or "")
    finished = [r for r in rows if r["status"] == "complete"]
    if not finished:
        errors = [r["error"] for r in rows if r.get("error")]
        raise SertkError(f"{folder}: no trial finished" + (f"; the first error: {errors[0]}" if errors else ""))
    best = (max if greater else min)(finished, key=lambda r: r["score"])
    best_path = write_outcome(folder, recipe, metric, best, rows, len(finished))
    stopped = sum(r["status"] == "stopped" for r in rows)
    progress.log(f"{len(finished)} trials finished, {stopped} stopped early by ASHA")
    return TuneResult(metric, best["score"], best["values"], len(rows), best_path)


def _values(config: dict, space: dict) -> dict:
    """Sampled values in the recipe's YAML types (lists, not the tuples hyperopt gives for list choices)."""
    return {k: list(v) if isinstance(v, tuple) else _plain(v, space[k]) for k, v in config.items()}


def _row(result, space: dict) -> dict:
    """A trial's line in ``trials.json``: values, score, run folder, status (complete,
    stopped by ASHA, failed), epochs reported, start and last report times."""
    metrics = result.metrics or {}
    status = "complete" if "objective" in metrics else "failed" if result.error else "stopped"
    row = {"values": _values(result.config, space),
           "score": metrics.get("objective", metrics.get("score")), "run_dir": metrics.get("run_dir"),
           "status": status, "epochs": metrics.get("training_iteration", 0) - (status == "complete"),
           "started": metrics.get("started"), "ended": metrics.get("reported")}
    if result.error:
        row["error"] = str(result.error).strip().splitlines()[-1]
    return row

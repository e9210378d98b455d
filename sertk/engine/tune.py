"""Hyperparameter search over a recipe's ``tune.space`` with hyperopt TPE.

Each trial is a full run of the recipe with the sampled values set at their
dotted keys; its objective is the mean best validation score over folds (the
test folds are never looked at).  Trials are saved after each one finishes, so
an interrupted search resumes where it stopped; the best values are written
out as a ready-to-run recipe.  :mod:`sertk.engine.tune_ray` runs the same search
with parallel trials on Ray Tune.
"""
from __future__ import annotations

import copy
import math
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
import yaml

from ..atomic import write_json, write_text
from ..errors import ConfigError, SertkError
from ..progress import Progress, Silent
from ..recipe import Recipe, apply_overrides, parse_recipe
from ..registry import Registry

DISTRIBUTIONS = ("uniform", "loguniform", "quniform", "qloguniform", "choice", "randint")
LEGACY_STATE = "trials.pkl"


@dataclass
class TuneResult:
    metric: str
    best_score: float
    best_params: dict[str, Any]
    n_trials: int
    best_recipe: Path


def search_space(space: dict) -> dict:
    """hyperopt expressions from ``{dotted.key: {distribution: args}}``.

    Bounds are given in natural units, also for ``loguniform`` (converted to the
    log-space bounds hyperopt expects); ``quniform`` values of integer bounds
    come back as integers.
    """
    from hyperopt import hp

    if not space:
        raise ConfigError("tune.space", "is empty; give e.g. {train.optimizer.lr: {loguniform: [1.0e-4, 1.0e-2]}}")
    out = {}
    for key, spec in space.items():
        where = f"tune.space.{key}"
        if not isinstance(spec, dict) or len(spec) != 1:
            raise ConfigError(where, f"expected one of {{{', '.join(DISTRIBUTIONS)}: [...]}}")
        (dist, args), = spec.items()
        if dist not in DISTRIBUTIONS:
            from ..errors import unknown

            raise ConfigError(where, unknown("distribution", dist, DISTRIBUTIONS))
        if not isinstance(args, list) or not args:
            raise ConfigError(where, f"{dist} needs a list of arguments")
        if dist == "choice":
            out[key] = hp.choice(key, args)
        elif dist == "randint":
            out[key] = hp.randint(key, *args)
        elif dist in ("loguniform", "qloguniform"):
            if min(args[:2]) <= 0:
                raise ConfigError(where, f"{dist} bounds must be positive, got {args[:2]}")
            extra = args[2:]
            out[key] = getattr(hp, dist)(key, math.log(args[0]), math.log(args[1]), *extra)
        else:
            out[key] = getattr(hp, dist)(key, *args)
    return out


def _plain(value: Any, spec: dict) -> Any:
    """hyperopt floats back to the YAML type the space implies."""
    (dist, args), = spec.items()
    if dist in ("quniform", "qloguniform", "randint") and all(isinstance(a, int) for a in args):
        return int(round(value))
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


def with_values(raw: dict, values: dict[str, Any]) -> dict:
    """The recipe mapping with each dotted key set to its value."""
    return apply_overrides(raw, [f"{k}={yaml.safe_dump(v, default_flow_style=True).strip().removesuffix('...').strip()}"
                                 for k, v in values.items()])


def tune_recipe(recipe: Recipe, registry: Registry, plugins: Sequence = (), progress: Progress = Silent(),
                trials: Optional[int] = None, out_dir: Optional[str] = None) -> TuneResult:
    """Run (or resume) the search; return the best configuration found."""
    from hyperopt import STATUS_OK, fmin, tpe

    from .run import run_recipe
    from .tune_state import STATE_FILE, load_trials, save_trials

    total = trials or recipe.tune.trials
    metric = recipe.tune.metric or recipe.train.early_stopping.metric or recipe.metrics[0]["name"]
    base = copy.deepcopy(recipe.raw)
    base.setdefault("train", {}).setdefault("early_stopping", {})["metric"] = metric
    space = search_space(recipe.tune.space)
    folder = Path(out_dir or Path(recipe.output.dir) / f"{recipe.stem}-tune")
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / LEGACY_STATE).is_file():
        raise SertkError(f"{folder / LEGACY_STATE}: tuning state saved as a pickle is never loaded (opening it could "
                         f"run code); delete it, or tune into a new folder with --out")
    state = folder / STATE_FILE
    history = load_trials(state)

    def objective(sampled: dict) -> dict:
        values = {k: _plain(v, recipe.tune.space[k]) for k, v in sampled.items()}
        trial = parse_recipe(with_values(base, values), recipe.source, registry)
        name = f"trial-{len(history.trials) - 1:03d}"  # hyperopt has already appended this trial
        unfinished = folder / "trials" / name
        if unfinished.is_dir():  # left by an interrupted search: this trial starts again
            shutil.rmtree(unfinished)
        trial.output = type(trial.output)(dir=str(folder / "trials"), name=name)
        result = run_recipe(trial, registry, plugins, progress)
        if result.validation_score is None:
            raise SertkError("tuning needs a validation score: set train.validation (e.g. policy fraction) "
                             "and use a gradient-trained model")
        greater = registry.get("metrics", metric).greater_is_better
        return {"status": STATUS_OK, "loss": -result.validation_score if greater else result.validation_score,
                "score": result.validation_score, "values": values, "run_dir": str(result.dir)}

    done = len(history.trials)
    with progress.task("Tuning", total=total) as task:
        task.advance(min(done, total))
        while len(history.trials) < total:
            fmin(objective, space, algo=tpe.suggest, max_evals=len(history.trials) + 1, trials=history,
                 rstate=np.random.default_rng(recipe.tune.seed + len(history.trials)), show_progressbar=False)
            save_trials(state, history)
            task.advance()
    ok = [t["result"] for t in history.trials if t["result"].get("status") == STATUS_OK]
    if not ok:
        raise SertkError(f"{folder}: no finished trial to choose from")
    best = min(ok, key=lambda r: r["loss"])
    rows = [{"values": r["values"], "score": r["score"], "run_dir": r["run_dir"]} for r in ok]
    best_path = write_outcome(folder, recipe, metric, best, rows, len(ok))
    return TuneResult(metric, best["score"], best["values"], len(history.trials), best_path)


def write_outcome(folder: Path, recipe: Recipe, metric: str, best: dict, rows: list[dict], finished: int) -> Path:
    """``best.yaml`` (the recipe with the best trial's ``values``) and ``trials.json`` (``rows``)."""
    best_path = folder / "best.yaml"
    write_text(best_path, f"# best of {finished} trials: validation {metric} {best['score']:.4f}\n"
                          + yaml.safe_dump(with_values(recipe.raw, best["values"]), sort_keys=False))
    write_json(folder / "trials.json", rows)
    return best_path


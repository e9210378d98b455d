"""Fused runs: finished runs fused into a new run folder (``sertk fuse``), and recipes with
a ``fusion`` section (each system run inside the fused run's folder, under ``systems/``,
then fused)."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional, Sequence

from ..atomic import write_text
from ..errors import ConfigError, SertkError
from ..progress import Progress, Silent
from ..recipe import Recipe, resolved
from ..registry import Registry
from ..settings import OutputConfig
from .fusion import read_member, write_fused
from .layout import RunLayout
from .report_html import write_run_report
from .rundir import create_run_dir, write_provenance

UNFINISHED = "this run has not finished: it was interrupted, failed or is still running\n"


def fuse_runs(run_dirs: Sequence[str | Path], method: str, registry: Registry,
              weights: Optional[Sequence[float]] = None, out_dir: str = "runs", name: Optional[str] = None,
              plugins: Sequence = ()):
    """Fuse finished runs into a new run folder ``out_dir/name`` whose recipe.yaml lists the
    members' recipes as the systems of a fusion recipe."""
    if len(run_dirs) < 2:
        raise SertkError(f"fusion needs at least two finished runs, got {len(run_dirs)}")
    members = [read_member(d) for d in run_dirs]
    first = members[0].recipe
    metrics = [m if isinstance(m, dict) else {"name": m, "params": {}} for m in first.get("metrics") or
               ["ua", "wa", "f1"]]
    layout = RunLayout(create_run_dir(out_dir, name, f"fusion-{method}"))
    write_text(layout.unfinished, UNFINISHED)
    recipe = {"corpus": first.get("corpus"), "protocol": first.get("protocol"), "metrics": metrics,
              "fusion": {"method": method, "weights": list(weights) if weights is not None else None,
                         "systems": [str((m.dir / "recipe.yaml").resolve()) for m in members]}}
    write_provenance(layout, recipe, "", plugins, seed=0)
    result = write_fused(layout, members, method, metrics, registry, weights)
    layout.unfinished.unlink()
    write_run_report(layout.dir)
    return result


def run_fusion(recipe: Recipe, registry: Registry, plugins: Sequence = (), progress: Progress = Silent(),
               out_dir: Optional[str] = None):
    """Run every system of a fusion recipe (features come from the shared cache), then fuse them."""
    from .run import run_recipe

    layout = RunLayout(create_run_dir(out_dir or recipe.output.dir, recipe.output.name, recipe.stem))
    write_text(layout.unfinished, UNFINISHED)
    write_provenance(layout, resolved(recipe), recipe.source, plugins, recipe.train.seed)
    progress.log(f"run directory: {layout.dir}")
    dirs = []
    for i, (name, system) in enumerate(recipe.members):
        progress.log(f"system {i + 1}/{len(recipe.members)}: {name}")
        system = dataclasses.replace(system, output=OutputConfig(str(layout.dir / "systems"), name))
        try:
            dirs.append(run_recipe(system, registry, plugins, progress).dir)
        except ConfigError as exc:
            raise SertkError(f"fusion system {name}: {exc}") from None
    fusion = recipe.fusion
    progress.log(f"fusing {len(dirs)} systems: {fusion.method}")
    result = write_fused(layout, [read_member(d) for d in dirs], fusion.method, recipe.metrics, registry,
                         fusion.weights, recipe.train.seed)
    layout.unfinished.unlink()
    progress.log(f"report: {write_run_report(layout.dir)}")
    return result

"""Finished runs side by side: one row per run and head, pooled metrics and their
95% CI — the layout of the accuracy summary in Zhao et al. 2019, Table 7
(network × protocol × corpus)."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Sequence

from ..atomic import write_text
from ..errors import SertkError
from ..recipe import read_yaml
from .report import METRICS_FILE
from .rundir import RECIPE_FILE, require_run_files

COLUMNS = ("run", "corpus", "features", "model", "protocol", "folds", "head", "n")


def _read(run_dir: Path) -> tuple[dict, dict]:
    require_run_files(run_dir, (RECIPE_FILE, METRICS_FILE))
    try:
        metrics = json.loads((run_dir / METRICS_FILE).read_text())
    except json.JSONDecodeError as exc:
        raise SertkError(f"{run_dir / METRICS_FILE}: unreadable ({exc.msg}); rerun the recipe") from None
    return read_yaml(run_dir / RECIPE_FILE), metrics


def _name(section: Any) -> str:
    return section.get("name", "") if isinstance(section, dict) else str(section or "")


def run_rows(run_dir: str | Path) -> list[dict[str, Any]]:
    """One row per head of a finished run: what was run, and its pooled metrics."""
    run_dir = Path(run_dir)
    recipe, metrics = _read(run_dir)
    corpora = recipe.get("corpus")
    corpus = "+".join(_name(c) for c in corpora) if isinstance(corpora, list) else _name(corpora)
    rows = []
    for head, summary in metrics["heads"].items():
        rows.append({"run": run_dir.name, "corpus": corpus,
                     "features": "+".join(_name(f) for f in recipe.get("features") or []),
                     "model": _name(recipe.get("model")), "protocol": _name(recipe.get("protocol")),
                     "folds": len(metrics["folds"]), "head": head, "n": summary["n"], "kind": summary["kind"],
                     "pooled": summary["pooled"], "ci95": summary["ci95"]})
    return rows


def compare_runs(run_dirs: Sequence[str | Path]) -> tuple[list[str], list[dict[str, Any]]]:
    """Rows of every run, and the metric names in the order they first appear."""
    rows = [row for d in run_dirs for row in run_rows(d)]
    metrics: list[str] = []
    for row in rows:
        metrics += [m for m in row["pooled"] if m not in metrics]
    return metrics, rows


def write_comparison_csv(path: str | Path, metrics: Sequence[str], rows: Sequence[dict]) -> None:
    """The comparison as CSV: fractions (not percent), each metric with its CI bounds."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([*COLUMNS, *[f"{m}{s}" for m in metrics for s in ("", "_ci_low", "_ci_high")]])
    for row in rows:
        values = []
        for m in metrics:
            value, (low, high) = row["pooled"].get(m), row["ci95"].get(m, (None, None))
            values += ["" if v is None else f"{v:.6g}" for v in (value, low, high)]
        writer.writerow([*(row[c] for c in COLUMNS), *values])
    write_text(path, buf.getvalue())

"""Finished runs side by side: one row per run and head, pooled metrics and their
95% CI — the layout of the accuracy summary in Zhao et al. 2019, Table 7
(network × protocol × corpus) — and a paired permutation test of two runs'
per-fold scores.  Every row carries the run's protocol labels (speaker-independent or not,
what is transductive)."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from ..atomic import write_text
from ..errors import SertkError
from ..recipe import read_yaml
from ..registry import Registry
from .layout import RunLayout
from .protocol_labels import recorded_labels
from .significance import paired_permutation_test

COLUMNS = ("run", "corpus", "features", "model", "protocol", "folds", "head", "n")
LABEL_COLUMNS = ("speaker_independent", "transductive")
SIGNIFICANCE_COLUMNS = ("run1", "run2", "head", "metric", "pairs", "mean_difference", "p_value")


def _read(run_dir: Path) -> tuple[dict, dict]:
    layout = RunLayout(run_dir)
    layout.require((layout.recipe, layout.metrics))
    metrics = layout.read_json(layout.metrics)
    if not isinstance(metrics, dict) or not isinstance(metrics.get("heads"), dict):
        raise SertkError(f"{layout.metrics}: damaged or not written by this sertk (no heads); run the recipe again")
    return read_yaml(layout.recipe), metrics


def _name(section: Any) -> str:
    return section.get("name", "") if isinstance(section, dict) else str(section or "")


def run_rows(run_dir: str | Path, registry: Optional[Registry] = None) -> list[dict[str, Any]]:
    """One row per head of a finished run: what was run, its protocol labels (``labels``;
    derived from the recipe with ``registry`` for runs that did not record them) and its
    pooled metrics."""
    run_dir = Path(run_dir)
    recipe, metrics = _read(run_dir)
    labels = recorded_labels(metrics, recipe, registry)
    corpora = recipe.get("corpus")
    corpus = "+".join(_name(c) for c in corpora) if isinstance(corpora, list) else _name(corpora)
    rows = []
    layout = RunLayout(run_dir)
    with layout.reading(layout.metrics):
        for head, summary in metrics["heads"].items():
            rows.append({"run": run_dir.name, "corpus": corpus,
                         "features": "+".join(_name(f) for f in recipe.get("features") or []),
                         "model": _name(recipe.get("model")), "protocol": _name(recipe.get("protocol")),
                         "folds": len(metrics["folds"]), "head": head, "n": summary["n"], "kind": summary["kind"],
                         "pooled": dict(summary["pooled"]), "ci95": summary["ci95"], "labels": labels})
    return rows


def compare_runs(run_dirs: Sequence[str | Path],
                 registry: Optional[Registry] = None) -> tuple[list[str], list[dict[str, Any]]]:
    """Rows of every run, and the metric names in the order they first appear."""
    rows = [row for d in run_dirs for row in run_rows(d, registry)]
    metrics: list[str] = []
    for row in rows:
        metrics += [m for m in row["pooled"] if m not in metrics]
    return metrics, rows


def write_comparison_csv(path: str | Path, metrics: Sequence[str], rows: Sequence[dict]) -> None:
    """The comparison as CSV: fractions (not percent), each metric with its CI bounds; the
    protocol labels (``transductive``: the reasons, ``;``-separated, empty when none; both
    label columns empty when the run did not record them)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([*COLUMNS, *LABEL_COLUMNS, *[f"{m}{s}" for m in metrics for s in ("", "_ci_low", "_ci_high")]])
    for row in rows:
        values = []
        for m in metrics:
            value, (low, high) = row["pooled"].get(m), row["ci95"].get(m, (None, None))
            values += ["" if v is None else f"{v:.6g}" for v in (value, low, high)]
        labels = row.get("labels")
        flags = [labels["speaker_independent"], "; ".join(labels["transductive"])] if labels else ["", ""]
        writer.writerow([*(row[c] for c in COLUMNS), *flags, *values])
    write_text(path, buf.getvalue())


def paired_significance(run1: str | Path, run2: str | Path, seed: int = 0) -> list[dict[str, Any]]:
    """Per head and metric of both runs: the per-fold scores paired by fold name
    (``heads.<head>.folds.<fold>.<metric>`` in metrics.json; repeats such as
    ``speaker-03@r2`` pair with the same repeat), their mean difference run2 − run1
    and the two-sided paired permutation p-value (None with a single pair)."""
    run1, run2 = Path(run1), Path(run2)
    heads1, heads2 = _read(run1)[1]["heads"], _read(run2)[1]["heads"]
    with RunLayout(run1).reading(Path(f"{run1 / 'metrics.json'} or {run2 / 'metrics.json'}")):
        rows = _paired_rows(run1, run2, heads1, heads2, seed)
    if not rows:
        raise SertkError(f"runs {run1} and {run2} have no fold in common (per-fold scores are paired by fold name "
                         f"and head); compare runs made with the same protocol")
    return rows


def _paired_rows(run1: Path, run2: Path, heads1: dict, heads2: dict, seed: int) -> list[dict[str, Any]]:
    rows = []
    for head in (h for h in heads1 if h in heads2):
        folds1, folds2 = heads1[head].get("folds", {}), heads2[head].get("folds", {})
        common = [f for f in folds1 if f in folds2]
        for metric in dict.fromkeys(m for f in common for m in folds1[f]):
            pairs = np.array([(folds1[f][metric], folds2[f][metric]) for f in common
                              if metric in folds1[f] and metric in folds2[f]],
                             dtype=float).reshape(-1, 2)
            pairs = pairs[np.isfinite(pairs).all(1)]
            if len(pairs):
                rows.append({"run1": run1.name, "run2": run2.name, "head": head, "metric": metric,
                             "kind": heads1[head]["kind"], "pairs": len(pairs),
                             "mean_difference": float(np.mean(pairs[:, 1] - pairs[:, 0])),
                             "p_value": paired_permutation_test(pairs[:, 0], pairs[:, 1], seed)
                             if len(pairs) > 1 else None})
    return rows


def write_significance_csv(path: str | Path, rows: Sequence[dict]) -> None:
    """The paired tests as CSV, one row per run pair, head and metric."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(SIGNIFICANCE_COLUMNS)
    for row in rows:
        writer.writerow([*(row[c] for c in SIGNIFICANCE_COLUMNS[:5]), f"{row['mean_difference']:.6g}",
                         "" if row["p_value"] is None else f"{row['p_value']:.6g}"])
    write_text(path, buf.getvalue())

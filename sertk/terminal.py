"""Everything sertk draws on the terminal: rich progress bars and result tables."""
from __future__ import annotations

import contextlib
import sys
from typing import TYPE_CHECKING, Iterator, Optional

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from rich.progress import Progress

console = Console(stderr=True)
out = Console(width=None if sys.stdout.isatty() else 1000)  # a pipe gets whole lines, never cut cells


class RichTask:
    def __init__(self, progress: Progress, task_id):
        self._progress, self._id = progress, task_id

    def advance(self, n: int = 1) -> None:
        self._progress.advance(self._id, n)

    def update(self, **fields) -> None:
        info = "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                         for k, v in fields.items() if v is not None)
        self._progress.update(self._id, info=info)


class RichProgress:
    """Nested rich progress bars on stderr; log lines printed above them."""

    def __init__(self, console_: Console = console):
        self._console = console_
        self._bars: Optional[Progress] = None
        self._depth = 0

    @contextlib.contextmanager
    def task(self, description: str, total: Optional[int]) -> Iterator[RichTask]:
        if self._bars is None:
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                       TimeRemainingColumn)

            self._bars = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  TimeElapsedColumn(), TimeRemainingColumn(), TextColumn("{task.fields[info]}"),
                                  console=self._console, transient=False)
            self._bars.start()
        self._depth += 1
        task_id = self._bars.add_task(description, total=total, info="")
        try:
            yield RichTask(self._bars, task_id)
        finally:
            self._depth -= 1
            if self._depth:
                self._bars.remove_task(task_id)
            else:
                self._bars.stop()
                self._bars = None

    def log(self, message: str) -> None:
        (self._bars.console if self._bars else self._console).print(f"[dim]{message}[/dim]", highlight=False)


def results_table(summary: dict) -> Table:
    """One row per head and metric: pooled figure with its bootstrap 95% CI, mean ± std
    over folds (and over repeats), the mean per recording (frame-level heads), and the
    baselines: chance (the expected score of a uniform guess, where it has a closed
    form) and the most frequent test label (Wieser et al. 2020, Table 5), or a
    blank-only output (CTC).  The caption gives the protocol labels (speaker-independent or
    not, and what is transductive) recorded in the summary."""
    from .engine.protocol_labels import label_line

    heads = summary["heads"].values()
    extra = [(key, title) for key, title in (("over_repeats", "over repeats"), ("per_recording", "per recording"))
             if any(key in h for h in heads)]
    table = Table(title=f"Results over {len(summary['folds'])} fold(s)", caption=label_line(summary.get("protocol")),
                  caption_justify="left")
    for col in ("head", "metric", "pooled [95% CI]", "over folds", *[t for _, t in extra], "chance", "majority"):
        table.add_column(col, justify="left" if col in ("head", "metric") else "right", no_wrap=True)
    for head, h in summary["heads"].items():
        base = h.get("baselines", {})
        for metric, value in h["pooled"].items():
            lo, hi = h["ci95"][metric]
            over = h["over_folds"][metric]
            cells = []
            for key, _ in extra:
                found = h.get(key, {}).get(metric)
                cells.append("" if found is None else f"{found['mean']:.3f} ± {found['std']:.3f}"
                             if isinstance(found, dict) else f"{found:.3f}")
            chance = base.get("chance", {}).get(metric, h.get("blank_only", {}).get(metric))
            table.add_row(head, metric, f"{value:.3f} [{lo:.3f}, {hi:.3f}]", f"{over['mean']:.3f} ± {over['std']:.3f}",
                          *cells, "" if chance is None else f"{chance:.3f}",
                          f"{base['most_frequent'][metric]:.3f}" if base else "")
    return table


def comparison_table(metrics: list[str], rows: list[dict]) -> Table:
    """Finished runs side by side (Zhao et al. 2019, Table 7 layout): pooled figures,
    classification metrics in percent; corpus and head columns only where they vary; the
    protocol with its labels (rows' ``labels``), the transductive reasons in the caption."""
    from .engine.protocol_labels import short_label

    varying = [c for c in ("corpus", "head") if len({row[c] for row in rows}) > 1]
    table = Table(title="Pooled results (classification metrics in %)")
    for col in ("run", *varying, "model", "protocol", "folds"):
        table.add_column(col, justify="right" if col == "folds" else "left", overflow="fold")
    for metric in metrics:
        table.add_column(metric, justify="right", no_wrap=True)
    for row in rows:
        scale, fmt = (100, "{:.1f}") if row["kind"] == "classification" else (1, "{:.3f}")
        cells = [fmt.format(scale * row["pooled"][m]) if m in row["pooled"] else "" for m in metrics]
        table.add_row(row["run"], *(str(row[c]) for c in varying), row["model"],
                      f"{row['protocol']} ({short_label(row.get('labels'))})", str(row["folds"]), *cells)
    reasons = {row["run"]: row["labels"]["transductive"] for row in rows
               if (row.get("labels") or {}).get("transductive")}
    if reasons:
        table.caption = "\n".join(f"{run} is transductive: {'; '.join(why)}" for run, why in reasons.items())
        table.caption_justify = "left"
    return table


def components_table(rows: list[tuple[str, ...]], columns: tuple[str, ...], title: str) -> Table:
    """A table whose columns are never cut: on a narrow terminal only the last one wraps."""
    table = Table(title=title)
    for i, col in enumerate(columns):
        if i == len(columns) - 1:
            table.add_column(col, overflow="fold")
        else:
            width = max([len(col), *(len(str(r[i])) for r in rows)])
            table.add_column(col, no_wrap=True, min_width=width)
    for row in rows:
        table.add_row(*row)
    return table

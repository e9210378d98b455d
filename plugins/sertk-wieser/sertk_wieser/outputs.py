"""Writing analysis results: CSV tables, figures, file-name-safe ids."""
from __future__ import annotations

import csv
import re
from pathlib import Path

from sertk import atomic_path


def safe_name(text: str) -> str:
    """A file-name-safe version of an utterance or class name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def write_csv(path: Path, rows: list[dict]) -> None:
    """Write dict rows (keys of the first row as header) atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def pyplot():
    """matplotlib's pyplot on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: Path) -> None:
    """Save a figure as PNG atomically and close it."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    pyplot().close(fig)

"""Figures for reports and analyzers: matplotlib without a display, saved atomically.

matplotlib is imported on first use, so importing this module stays cheap.
"""
from __future__ import annotations

import io
import sys

from .atomic import PathLike, atomic_path


def pyplot():
    """matplotlib's pyplot on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def warm_up() -> None:
    """Import matplotlib and draw a small figure with text to PNG in memory, so that the
    Agg backend, the PNG writer and the default font are loaded before processes that
    draw are forked from here (each would load them again)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(1, 1))
    fig.add_subplot().set_title("0.0")
    fig.savefig(io.BytesIO(), format="png", dpi=10)


def save_figure(fig, path: PathLike, dpi: int = 110, tight: bool = False) -> None:
    """Save a figure as PNG atomically; a pyplot figure is closed afterwards."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close(fig)

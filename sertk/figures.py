"""Figures for reports and analyzers: matplotlib without a display, saved atomically.

matplotlib is imported on first use, so importing this module stays cheap.
"""
from __future__ import annotations

import sys

from .atomic import PathLike, atomic_path


def pyplot():
    """matplotlib's pyplot on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: PathLike, dpi: int = 110, tight: bool = False) -> None:
    """Save a figure as PNG atomically; a pyplot figure is closed afterwards."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close(fig)

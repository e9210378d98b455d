"""Figures for reports and analyzers: matplotlib without a display, saved atomically.

matplotlib is imported on first use, so importing this module stays cheap;
:func:`preload` imports it in the background ahead of that use.
"""
from __future__ import annotations

import importlib
import sys
import threading

from .atomic import PathLike, atomic_path


def pyplot():
    """matplotlib's pyplot on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


_PRELOAD: list[threading.Thread] = []


def preload() -> None:
    """Import matplotlib's figure module in a background thread, so that the import
    overlaps work that releases the GIL (e.g. a compiled solver) instead of delaying the
    first figure."""
    thread = threading.Thread(target=importlib.import_module, args=("matplotlib.figure",), daemon=True,
                              name="sertk-preload-matplotlib")
    thread.start()
    _PRELOAD.append(thread)


def loaded() -> None:
    """Wait until a :func:`preload` has finished, then import matplotlib's figure module
    here (done before forking, so that no import is half done in the child)."""
    while _PRELOAD:
        _PRELOAD.pop().join()
    importlib.import_module("matplotlib.figure")


def save_figure(fig, path: PathLike, dpi: int = 110, tight: bool = False) -> None:
    """Save a figure as PNG atomically; a pyplot figure is closed afterwards."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close(fig)

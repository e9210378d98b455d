"""The run directory's layout: every file name and path of a run, in one place.

::

    UNFINISHED                                       present until the run has finished
    recipe.yaml  run.json  folds.json  data.json       written before training
    folds/<fold>/model.pt  folds/<fold>/normalizer.npz  per fold (repeats: <fold>@r<k>)
    metrics.json  predictions.csv  frames.csv  history.json   reports
    confusion[_<head>].png|csv  fold_scores.png  learning_curves.png  contours_<head>.png
    analysis/<analyzer>/...                          analyzers
"""
from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..atomic import safe_name
from ..errors import SertkError


def fold_name(fold: str, repeat: int, repeats: int) -> str:
    """A fold's name in one repeat: ``speaker-03`` alone, ``speaker-03@r2`` for the second of several."""
    return fold if repeats == 1 else f"{fold}@r{repeat + 1}"


@dataclass(frozen=True)
class RunLayout:
    """Paths inside one run directory."""

    dir: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "dir", Path(self.dir))

    @property
    def unfinished(self) -> Path:
        return self.dir / "UNFINISHED"

    @property
    def recipe(self) -> Path:
        return self.dir / "recipe.yaml"

    @property
    def run(self) -> Path:
        return self.dir / "run.json"

    @property
    def folds(self) -> Path:
        return self.dir / "folds.json"

    @property
    def data(self) -> Path:
        return self.dir / "data.json"

    @property
    def metrics(self) -> Path:
        return self.dir / "metrics.json"

    @property
    def predictions(self) -> Path:
        return self.dir / "predictions.csv"

    @property
    def frames(self) -> Path:
        return self.dir / "frames.csv"

    @property
    def history(self) -> Path:
        return self.dir / "history.json"

    @property
    def learning_curves(self) -> Path:
        return self.dir / "learning_curves.png"

    @property
    def fold_scores(self) -> Path:
        return self.dir / "fold_scores.png"

    def confusion(self, head: str, several_heads: bool, suffix: str) -> Path:
        return self.dir / (f"confusion_{safe_name(head)}{suffix}" if several_heads else f"confusion{suffix}")

    def contours_plot(self, head: str) -> Path:
        return self.dir / f"contours_{safe_name(head)}.png"

    def fold_dir(self, fold: str) -> Path:
        return self.dir / "folds" / safe_name(fold)

    def model(self, fold: str) -> Path:
        return self.fold_dir(fold) / "model.pt"

    def estimator(self, fold: str) -> Path:
        return self.fold_dir(fold) / "model.npz"

    def normalizer(self, fold: str) -> Path:
        return self.fold_dir(fold) / "normalizer.npz"

    def analysis(self, name: str) -> Path:
        path = self.dir / "analysis" / safe_name(name)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def require(self, paths: Iterable[Path]) -> None:
        """A user error unless the run has finished and every path exists."""
        if self.unfinished.is_file():
            raise SertkError(f"{self.dir}: an unfinished run (interrupted, failed or still running); "
                             f"run the recipe again")
        for path in paths:
            if not path.is_file():
                raise SertkError(f"{self.dir}: not a finished sertk run (no {path.relative_to(self.dir)}); "
                                 f"pass a folder made by sertk run")

    def read_json(self, path: Path) -> Any:
        """A JSON file of the run, or a user error naming it when it is damaged."""
        with self.reading(path):
            return json.loads(path.read_text(encoding="utf-8"))

    @contextlib.contextmanager
    def reading(self, path: Path) -> Iterator[None]:
        """Turn a damaged or foreign run file (unparsable, or missing what sertk wrote) into one line."""
        try:
            yield
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
            raise SertkError(f"{path}: damaged or not written by this sertk ({type(exc).__name__}: "
                             f"{str(exc)[:120]}); run the recipe again") from None

"""The run directory: its name, and the provenance written before any work."""
from __future__ import annotations

import platform
import subprocess
import time
from pathlib import Path
from typing import Optional

import yaml

from ..atomic import write_json, write_text
from ..errors import SertkError

RECIPE_FILE = "recipe.yaml"
RUN_FILE = "run.json"


def create_run_dir(base: str, name: Optional[str], stem: str) -> Path:
    """A fresh folder ``base/name`` (``stem-YYYYmmdd-HHMMSS`` by default), never an existing one."""
    root = Path(base)
    candidate = root / (name or f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}")
    path, n = candidate, 1
    while path.exists():
        n += 1
        path = candidate.with_name(f"{candidate.name}-{n}")
    path.mkdir(parents=True)
    return path


def require_run_files(run_dir: Path, names) -> None:
    """A user error unless ``run_dir`` holds every file in ``names`` (a finished run)."""
    for name in names:
        if not (run_dir / name).is_file():
            raise SertkError(f"{run_dir}: not a finished sertk run (no {name}); pass a folder made by sertk run")


def git_commit(folder: Path) -> Optional[str]:
    """The commit of the git checkout holding ``folder``, if any."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def write_provenance(run_dir: Path, resolved_recipe: dict, source: str, plugins, seed: int) -> None:
    """The resolved recipe, package and plugin versions, git commit and seed."""
    import torch

    from .. import __version__

    write_text(run_dir / RECIPE_FILE, yaml.safe_dump(resolved_recipe, sort_keys=False))
    write_json(run_dir / RUN_FILE, {
        "recipe": source,
        "seed": seed,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "git_commit": git_commit(Path(source).resolve().parent if source else Path.cwd()),
        "versions": {"sertk": __version__, "python": platform.python_version(), "torch": torch.__version__,
                     "plugins": {p.name: p.version for p in plugins}},
    })
